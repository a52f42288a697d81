"""The four networks of the study, and how to evaluate them at a flat weight vector.

Every later stage (training, paths, geometry) works on flat float32 vectors. A
:class:`FlatNetwork` turns such a vector back into the network's named parameters and
evaluates the module with ``torch.func.functional_call``, so one module serves any
number of weight vectors without copying parameters in and out.

Each module also has ``forward_batched(params, x)``: the same function at K weight
vectors at once (every parameter with a leading K axis), written with large matmuls,
batched matmuls, grouped convolutions and, for FCP's whole pass, LeNet's activation and
pooling and the autoencoder's output layer, hand-written backward passes (kernels.py). Path finding
evaluates ~50 vectors on the same images at every step; this is faster than a loop over
the vectors or a generic ``vmap`` (bench/pathfinder.py measures by how much; tests check
it equals the loop). The LSTM is the exception: its ``forward_batched`` loops over the
vectors with torch's fused LSTM kernel, which is faster than any batched form measured
(see its docstring).

Any other ``torch.nn.Module`` is a network too (:meth:`FlatNetwork.from_module`, or a
config's ``custom_networks``, whose factory :func:`load_factory` imports): it is evaluated at
K vectors at once by ``torch.func.vmap`` over ``functional_call``, so that training, paths,
Bezier curves, curvature and geometry run on it unchanged.
"""

from __future__ import annotations

import copy
import importlib
import math
import os
import sys
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from .design import NETWORKS, PARAMETER_COUNTS  # noqa: F401  (re-exported: the networks built here)
from .kernels import (  # noqa: F401  (ACTIVATIONS re-exported: the activations a network takes)
    ACTIVATIONS, ActPool, FCPCrossEntropySums, SigmoidMSESums, batched_linear, lstm_cell, shared_linear,
)


class FCP(nn.Module):
    """784 -> 50 -> 50 -> 10, fully connected, no biases."""

    def __init__(self, activation: str = "softplus"):
        super().__init__()
        self.activation = activation
        self.act = ACTIVATIONS[activation]
        self.fc1 = nn.Linear(784, 50, bias=False)
        self.fc2 = nn.Linear(50, 50, bias=False)
        self.fc3 = nn.Linear(50, 10, bias=False)

    def forward(self, x):
        x = self.act(self.fc1(x.reshape(-1, 784)))
        x = self.act(self.fc2(x))
        return self.fc3(x)

    def forward_batched(self, p, x):
        h = self.act(shared_linear(x.reshape(-1, 784), p["fc1.weight"]))
        h = self.act(batched_linear(h, p["fc2.weight"]))
        return batched_linear(h, p["fc3.weight"])

    def loss_sums_batched(self, p, x, y):
        """Summed cross-entropies of the n images [K], the whole network fused with the loss."""
        return FCPCrossEntropySums.apply(p["fc1.weight"], p["fc2.weight"], p["fc3.weight"], x.reshape(-1, 784), y,
                                          self.activation)


class LeNet(nn.Module):
    """LeNet-5 with average pooling, as in the paper."""

    def __init__(self, activation: str = "softplus"):
        super().__init__()
        self.activation = activation
        self.act = ACTIVATIONS[activation]
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = x.reshape(-1, 1, 28, 28)
        x = F.avg_pool2d(self.act(self.conv1(x)), 2)
        x = F.avg_pool2d(self.act(self.conv2(x)), 2)
        x = x.flatten(1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)

    def forward_batched(self, p, x):
        k, n = p["conv1.weight"].shape[0], x.shape[0]
        # conv1 sees the same images for every vector: one matmul of the image patches
        # [n*784, 25], with a column of ones for the bias, by all K*6 filters (bias
        # included, so no pass adds it). Its output [n, 28, 28, K*6] is channels-last, the
        # layout in which oneDNN's grouped convolution (conv2, one group per vector) is
        # fastest; NCHW grouped convolution is several times slower on CPU.
        patches = x.new_ones(n, 784, 26)
        patches[..., :25] = F.unfold(x.reshape(n, 1, 28, 28), 5, padding=2).transpose(1, 2)
        filters = torch.cat([p["conv1.weight"].reshape(k * 6, 25), p["conv1.bias"].reshape(k * 6, 1)], dim=1)
        h = ActPool.apply((patches.view(n * 784, 26) @ filters.T).view(n, 28, 28, k * 6), self.activation)
        h = F.conv2d(h, p["conv2.weight"].reshape(k * 16, 6, 5, 5), p["conv2.bias"].reshape(k * 16), groups=k)
        h = ActPool.apply(h.permute(0, 2, 3, 1), self.activation)  # a view: h is channels-last
        # Back to NCHW so that each vector's 400 features are in the order fc1 expects.
        h = h.contiguous().view(n, k, 400).transpose(0, 1)
        h = self.act(batched_linear(h, p["fc1.weight"], p["fc1.bias"]))
        h = self.act(batched_linear(h, p["fc2.weight"], p["fc2.bias"]))
        return batched_linear(h, p["fc3.weight"], p["fc3.bias"])


class Autoencoder(nn.Module):
    """784 -> 32 -> 32 (encoder), 32 -> 32 -> 784 (decoder), no biases, sigmoid output."""

    # Its batched form at one vector is faster than functional_call (FlatNetwork.loss_sum).
    single_by_batched = True

    def __init__(self, activation: str = "softplus"):
        super().__init__()
        self.act = ACTIVATIONS[activation]
        self.enc1 = nn.Linear(784, 32, bias=False)
        self.enc2 = nn.Linear(32, 32, bias=False)
        self.dec1 = nn.Linear(32, 32, bias=False)
        self.dec2 = nn.Linear(32, 784, bias=False)

    def forward(self, x):
        x = self.act(self.enc1(x.reshape(-1, 784)))
        x = self.act(self.enc2(x))
        x = self.act(self.dec1(x))
        return torch.sigmoid(self.dec2(x))

    def forward_batched(self, p, x):
        return torch.sigmoid(batched_linear(self._decoder_input(p, x), p["dec2.weight"]))

    def loss_sums_batched(self, p, x, y):
        """Summed reconstruction errors of the n images [K], the output layer fused with the loss."""
        return SigmoidMSESums.apply(self._decoder_input(p, x), p["dec2.weight"], x.reshape(-1, 784))

    def _decoder_input(self, p, x):
        h = self.act(shared_linear(x.reshape(-1, 784), p["enc1.weight"]))
        h = self.act(batched_linear(h, p["enc2.weight"]))
        return self.act(batched_linear(h, p["dec1.weight"]))


class PermutedLSTM(nn.Module):
    """Permuted sequential MNIST: one LSTM layer (hidden 48) over 28 steps of 28 pixels.

    The cell is written out with matmuls instead of ``nn.LSTM`` so that it works under
    ``torch.func`` transforms; parameter names, shapes, gate order (input, forget, cell,
    output) and initialisation are those of ``nn.LSTM``.
    """

    hidden = 48
    # torch's fused LSTM kernel (forward_batched) beats the written-out cell at one vector
    # too (FlatNetwork.loss_sum); the cell stays for torch.func transforms (curvature).
    single_by_batched = True

    def __init__(self, activation: str = "softplus", permutation_seed: int = 1234):
        super().__init__()
        del activation  # the LSTM's gates have their own fixed nonlinearities
        h = self.hidden
        self.weight_ih = nn.Parameter(torch.empty(4 * h, 28))
        self.weight_hh = nn.Parameter(torch.empty(4 * h, h))
        self.bias_ih = nn.Parameter(torch.empty(4 * h))
        self.bias_hh = nn.Parameter(torch.empty(4 * h))
        self.fc = nn.Linear(h, 10, bias=False)
        bound = 1.0 / math.sqrt(h)
        for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(p, -bound, bound)
        generator = torch.Generator().manual_seed(permutation_seed)
        self.register_buffer("permutation", torch.randperm(784, generator=generator))

    def forward(self, x):
        x = x.reshape(-1, 784)[:, self.permutation].reshape(-1, 28, 28)
        # The input projection of all 28 steps in one matmul; only the recurrence loops.
        # unbind, not gates_in[:, t]: the backward of 28 separate indexings writes 28
        # full-size zero tensors, which made the backward pass quadratic in the steps.
        gates_in = (x @ self.weight_ih.T + (self.bias_ih + self.bias_hh)).unbind(1)
        h = x.new_zeros(x.shape[0], self.hidden)
        c = torch.zeros_like(h)
        for gates_t in gates_in:
            h, c = lstm_cell(gates_t + h @ self.weight_hh.T, c)
        return self.fc(h)

    def forward_batched(self, p, x):
        """One vector at a time, by torch's fused LSTM kernel (nn.LSTM's; oneDNN on the CPU).

        Here, unlike for the other networks, batching over vectors gains nothing: each
        vector has its own recurrent weights, so K vectors cannot share a matmul larger
        than one vector's, and a batched cell written from torch ops spends as long again
        on its ~25 small elementwise ops per step. The fused kernel does the whole
        recurrence, forward and backward, in one call per vector; the landscape feeds it a
        few hundred images at a time (``landscape.PASS_SHAPES``), which keeps its
        per-step state in the caches (bench/pathfinder.py measures it against both).
        """
        n = x.shape[0]
        # index_select, not x[:, permutation]: the same columns, three times faster, and the
        # landscape calls this once per vector and chunk of images.
        seq = x.reshape(n, 784).index_select(1, self.permutation).reshape(n, 28, 28)
        zeros = seq.new_zeros(1, n, self.hidden)
        # train=False skips the kernel's workspace for the backward pass: only when none follows.
        train = torch.is_grad_enabled()
        outputs = []
        for w_ih, w_hh, b_ih, b_hh, w_fc in zip(p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"], p["fc.weight"]):
            _, h, _ = torch.lstm(seq, (zeros, zeros), [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, train, False, True)
            outputs.append(h[0] @ w_fc.T)
        return torch.stack(outputs)


_CLASSES = {"fcp": FCP, "lenet": LeNet, "autoencoder": Autoencoder, "lstm": PermutedLSTM}


# The losses a network can take: the classifiers' and the autoencoder's (docs/method.md).
LOSSES = {"cross_entropy": "classify", "reconstruction": "reconstruct"}


class NetworkError(ValueError):
    """A network that cannot be built or does not fit its loss or data; the message says why."""


@dataclass(frozen=True)
class NetworkSpec:
    """A network by name: one of the four built in, or, with ``factory`` ("module:function",
    importable from the working directory or an installed package) and ``loss`` (a key of
    LOSSES), a researcher's own."""

    name: str
    activation: str = "softplus"
    lstm_permutation_seed: int = 1234
    factory: str | None = None
    loss: str | None = None

    @property
    def task(self) -> str:
        if self.loss is not None:
            return LOSSES[self.loss]
        return "reconstruct" if self.name == "autoencoder" else "classify"

    @property
    def custom(self) -> bool:
        return self.factory is not None


def load_factory(factory: str) -> Callable[[], nn.Module]:
    """The function named by "package.module:function", imported from the working directory
    (where a workflow runs) or an installed package; NetworkError naming it if it cannot be."""
    module_name, sep, function = factory.partition(":")
    if not sep or not module_name or not function.isidentifier():
        raise NetworkError(f"factory {factory!r}: expected 'module:function', e.g. 'my_models:make_mlp'")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # an ImportError, or the module's own code failing
        raise NetworkError(f"factory {factory!r}: cannot import {module_name!r} from {cwd} or the installed "
                           f"packages ({type(err).__name__}: {err})") from err
    fn = getattr(module, function, None)
    if not callable(fn):
        raise NetworkError(f"factory {factory!r}: {module_name} has no function {function!r}")
    return fn


def _call_factory(factory: str) -> nn.Module:
    make = load_factory(factory)
    try:
        module = make()
    except Exception as err:
        raise NetworkError(f"factory {factory!r} failed: {type(err).__name__}: {err}") from err
    if not isinstance(module, nn.Module):
        raise NetworkError(f"factory {factory!r} returned {type(module).__name__}, expected a torch.nn.Module")
    if not any(True for _ in module.parameters()):
        raise NetworkError(f"factory {factory!r} returned a module without parameters")
    return module


class FlatNetwork:
    """A network evaluated at flat weight vectors.

    ``loss(w, x, y)`` is the mean loss of docs/method.md (cross-entropy for the classifiers,
    squared reconstruction error averaged over pixels and images for the autoencoder);
    ``sample_losses`` gives the per-image losses so that callers can sum over chunks of a
    data set and divide once. The autoencoder ignores ``y`` (its target is the image).
    """

    def __init__(self, spec: NetworkSpec, module: nn.Module | None = None):
        if spec.loss is not None and spec.loss not in LOSSES:
            raise NetworkError(f"network {spec.name!r}: loss {spec.loss!r}; expected one of {', '.join(LOSSES)}")
        self.spec = spec
        self.module = build_module(spec) if module is None else module
        # A module without its own batched form (a researcher's) is evaluated by vmap;
        # its template (the factory's or the caller's module) re-initialises for init_vector.
        self._template = None if spec.factory is not None or hasattr(self.module, "forward_batched") \
            else copy.deepcopy(self.module)
        self.names = [n for n, _ in self.module.named_parameters()]
        self.shapes = [p.shape for _, p in self.module.named_parameters()]
        self.sizes = [p.numel() for _, p in self.module.named_parameters()]
        self.buffers = dict(self.module.named_buffers())
        self.n_params = sum(self.sizes)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def task(self) -> str:
        return self.spec.task

    def init_vector(self, seed: int) -> torch.Tensor:
        """PyTorch's default initialisation of the module, drawn from ``seed``, flattened."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if self._template is None:
                module = build_module(self.spec)
            else:  # each submodule's own reset_parameters, as its constructor initialises it
                module = copy.deepcopy(self._template)
                for sub in module.modules():
                    if hasattr(sub, "reset_parameters"):
                        sub.reset_parameters()
        device = next(iter(self.module.parameters())).device
        return torch.cat([p.detach().reshape(-1) for p in module.parameters()]).to(device)

    @classmethod
    def from_module(cls, module: nn.Module, loss: str = "cross_entropy", name: str = "custom") -> "FlatNetwork":
        """A researcher's own module as a flat network: ``loss`` "cross_entropy" (outputs
        [n, classes], integer labels) or "reconstruction" (outputs the shape of the inputs,
        mean squared error per image). Its parameters at construction are not used:
        vectors come from :meth:`init_vector` (the module's own initialisation, seeded) or
        from the caller."""
        return cls(NetworkSpec(name, loss=loss), module)

    def unflatten(self, w: torch.Tensor) -> dict[str, torch.Tensor]:
        chunks = torch.split(w, self.sizes)
        params = {n: c.view(s) for n, c, s in zip(self.names, chunks, self.shapes)}
        params.update(self.buffers)
        return params

    def unflatten_batched(self, weights: torch.Tensor) -> dict[str, torch.Tensor]:
        """Rows of ``weights`` [K, P] -> named parameters with a leading K axis (views)."""
        chunks = torch.split(weights, self.sizes, dim=1)
        params = {n: c.view(-1, *s) for n, c, s in zip(self.names, chunks, self.shapes)}
        params.update(self.buffers)
        return params

    def forward(self, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.module, self.unflatten(w), (x,))

    def forward_batched(self, weights: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Outputs [K, n, ...] of the network at each row of ``weights`` [K, P]."""
        return self._forward_params(self.unflatten_batched(weights), x)

    def _forward_params(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        own = getattr(self.module, "forward_batched", None)
        if own is not None:
            return own(params, x)
        # Any module: functional_call vmapped over the parameters' leading K axis, the
        # buffers (not batched) and the images shared by every vector.
        weights = {n: params[n] for n in self.names}
        return vmap(lambda p: functional_call(self.module, (p, self.buffers), (x,)))(weights)

    def sample_losses(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._losses(self.forward(w, x), x, y)

    def params_sample_losses(self, params: dict[str, torch.Tensor], x, y) -> torch.Tensor:
        """Per-image losses [K, n] for named parameters with a leading K axis."""
        return self._losses(self._forward_params(params, x), x, y)

    def params_loss_sums(self, params: dict[str, torch.Tensor], x, y) -> torch.Tensor:
        """The losses summed over the n images [K], for named parameters with a leading K
        axis: what a landscape adds up, by the module's fused form where it has one."""
        fused = getattr(self.module, "loss_sums_batched", None)
        if fused is not None:
            return fused(params, x, y)
        return self.params_sample_losses(params, x, y).sum(dim=1)

    def losses_from_outputs(self, out, x, y):
        """Per-image losses from outputs [..., n, d] (any leading axes)."""
        return self._losses(out, x, y)

    def _losses(self, out, x, y):
        """Per-image losses from outputs [..., n, d] (any leading axes; a reconstruction may
        have the images' own shape, [..., n, *x.shape[1:]])."""
        if self.task == "reconstruct":
            n, d = x.shape[0], x[0].numel()
            # The image axis: the first of size n after which one image's values follow.
            k = next(i for i in range(out.dim()) if out.shape[i] == n and math.prod(out.shape[i:]) == n * d)
            return (out.reshape(*out.shape[:k], n, d) - x.reshape(n, d)).pow(2).mean(dim=-1)
        flat = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.expand(out.shape[:-1]).reshape(-1), reduction="none")
        return flat.view(out.shape[:-1])

    def loss(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.loss_sum(w, x, y) / len(x)

    def loss_sum(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The losses of the n images summed, at one vector, differentiable once (training's
        and the landscape's single-vector evaluations): by the module's batched form at K = 1
        where it says that is faster (the autoencoder's fused output layer and loss, the
        LSTM's fused kernel: a fraction of functional_call's time on a mini-batch), else by
        the per-vector module. Second derivatives (curvature) use ``sample_losses``."""
        if getattr(self.module, "single_by_batched", False):
            return self.params_loss_sums(self.unflatten_batched(w[None]), x, y)[0]
        return self.sample_losses(w, x, y).sum()

    def outputs(self, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``forward``'s outputs, by the faster of the two forms as in ``loss_sum`` (no
        second derivatives)."""
        if getattr(self.module, "single_by_batched", False):
            return self.forward_batched(w[None], x)[0]
        return self.forward(w, x)

    def correct(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Number of correctly classified images (classifiers only)."""
        return (self.outputs(w, x).argmax(dim=1) == y).sum()

    def to(self, device) -> "FlatNetwork":
        self.module.to(device)
        if self._template is not None:
            self._template.to(device)
        self.buffers = {k: v.to(device) for k, v in self.buffers.items()}
        return self


def build_module(spec: NetworkSpec) -> nn.Module:
    if spec.factory is not None:
        return _call_factory(spec.factory)
    if spec.name not in _CLASSES:
        raise ValueError(f"unknown network {spec.name!r}; expected one of {', '.join(NETWORKS)}, "
                         "or a factory (custom_networks in the config)")
    if spec.activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {spec.activation!r}; expected one of {', '.join(ACTIVATIONS)}"
        )
    if spec.name == "lstm":
        return PermutedLSTM(spec.activation, spec.lstm_permutation_seed)
    return _CLASSES[spec.name](spec.activation)


def build_network(name: str, activation: str = "softplus", lstm_permutation_seed: int = 1234,
                  factory: str | None = None, loss: str | None = None) -> FlatNetwork:
    """One of the four networks by name, or with ``factory`` and ``loss`` a researcher's own
    (the config's ``model`` section and ``custom_networks`` entry, as jobs pass them)."""
    net = FlatNetwork(NetworkSpec(name, activation, lstm_permutation_seed, factory, loss))
    if factory is None:
        assert net.n_params == PARAMETER_COUNTS[name], (name, net.n_params)
    return net


def check_network(net: FlatNetwork, x: torch.Tensor, y: torch.Tensor | None, where: str) -> None:
    """One forward pass on the first image of ``x``: the output fits the network's loss (and
    the labels ``y``, None when the data have none), and the same at two vectors at once;
    NetworkError naming ``where`` if not."""
    stateful = sorted({type(m).__name__ for m in net.module.modules()
                       if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd))})
    if stateful:
        raise NetworkError(f"{where}: the module holds {', '.join(stateful)}, whose output depends on more than "
                           "the weights (the batch, random draws); a loss landscape needs a function of the weights: "
                           "remove them or use a normalisation without running statistics (e.g. LayerNorm)")
    try:
        with torch.no_grad():
            w = net.init_vector(0)
            out = net.forward(w, x[:1])
    except Exception as err:
        raise NetworkError(f"{where}: one image of shape {list(x.shape[1:])} through the network failed "
                           f"({type(err).__name__}: {err})") from err
    try:
        with torch.no_grad():
            both = net.forward_batched(torch.stack([w, net.init_vector(1)]), x[:1])
    except Exception as err:
        raise NetworkError(f"{where}: the network cannot be evaluated at several weight vectors at once "
                           f"(torch.func.vmap over functional_call: {type(err).__name__}: {err})") from err
    if not torch.allclose(both[0], out, rtol=1e-4, atol=1e-6):
        raise NetworkError(f"{where}: the network's output at a weight vector differs when evaluated with "
                           "others (torch.func.vmap); its forward must depend on its inputs and weights alone")
    if net.task == "classify":
        if y is None:
            raise NetworkError(f"{where}: loss cross_entropy needs labels, but the data have none")
        classes = int(y.max()) + 1 if len(y) else 0
        if out.dim() != 2 or out.shape[0] != 1 or out.shape[1] < classes:
            raise NetworkError(f"{where}: output of shape {list(out.shape)} for one image; cross_entropy "
                               f"needs [1, C] with C >= {classes} (the labels run to {classes - 1})")
    elif out.numel() != x[:1].numel() or out.shape[0] != 1:
        raise NetworkError(f"{where}: output of shape {list(out.shape)} for one image of shape "
                           f"{list(x[:1].shape)}; reconstruction needs one value per input value")
