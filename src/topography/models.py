"""The four networks of the study, and how to evaluate them at a flat weight vector.

Every later stage (training, paths, geometry) works on flat float32 vectors. A
:class:`FlatNetwork` turns such a vector back into the network's named parameters and
evaluates the module with ``torch.func.functional_call``, so one module serves any
number of weight vectors without copying parameters in and out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

NETWORKS = ("fcp", "lenet", "autoencoder", "lstm")
ACTIVATIONS = {"softplus": F.softplus, "relu": F.relu}

# The parameter counts of PAPER.md; a test and build_network both hold the models to them.
PARAMETER_COUNTS = {"fcp": 42_200, "lenet": 61_706, "autoencoder": 52_224, "lstm": 15_456}


class FCP(nn.Module):
    """784 -> 50 -> 50 -> 10, fully connected, no biases."""

    def __init__(self, activation: str = "softplus"):
        super().__init__()
        self.act = ACTIVATIONS[activation]
        self.fc1 = nn.Linear(784, 50, bias=False)
        self.fc2 = nn.Linear(50, 50, bias=False)
        self.fc3 = nn.Linear(50, 10, bias=False)

    def forward(self, x):
        x = self.act(self.fc1(x.reshape(-1, 784)))
        x = self.act(self.fc2(x))
        return self.fc3(x)


class LeNet(nn.Module):
    """LeNet-5 with average pooling, as in the paper."""

    def __init__(self, activation: str = "softplus"):
        super().__init__()
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


class Autoencoder(nn.Module):
    """784 -> 32 -> 32 (encoder), 32 -> 32 -> 784 (decoder), no biases, sigmoid output."""

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


class PermutedLSTM(nn.Module):
    """Permuted sequential MNIST: one LSTM layer (hidden 48) over 28 steps of 28 pixels.

    The cell is written out with matmuls instead of ``nn.LSTM`` so that it works under
    ``torch.func.vmap`` (many weight vectors at once); parameter names, shapes, gate order
    (input, forget, cell, output) and initialisation are those of ``nn.LSTM``.
    """

    hidden = 48

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
        gates_in = x @ self.weight_ih.T + (self.bias_ih + self.bias_hh)
        h = x.new_zeros(x.shape[0], self.hidden)
        c = torch.zeros_like(h)
        for t in range(28):
            gates = gates_in[:, t] + h @ self.weight_hh.T
            i, f, g, o = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.fc(h)


_CLASSES = {"fcp": FCP, "lenet": LeNet, "autoencoder": Autoencoder, "lstm": PermutedLSTM}


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    activation: str = "softplus"
    lstm_permutation_seed: int = 1234

    @property
    def task(self) -> str:
        return "reconstruct" if self.name == "autoencoder" else "classify"


class FlatNetwork:
    """A network evaluated at flat weight vectors.

    ``loss(w, x, y)`` is the mean loss of PAPER.md (cross-entropy for the classifiers,
    squared reconstruction error averaged over pixels and images for the autoencoder);
    ``sample_losses`` gives the per-image losses so that callers can sum over chunks of a
    data set and divide once. The autoencoder ignores ``y`` (its target is the image).
    """

    def __init__(self, spec: NetworkSpec):
        self.spec = spec
        self.module = build_module(spec)
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
            module = build_module(self.spec)
        return torch.cat([p.detach().reshape(-1) for p in module.parameters()])

    def unflatten(self, w: torch.Tensor) -> dict[str, torch.Tensor]:
        chunks = torch.split(w, self.sizes)
        params = {n: c.view(s) for n, c, s in zip(self.names, chunks, self.shapes)}
        params.update(self.buffers)
        return params

    def forward(self, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.module, self.unflatten(w), (x,))

    def sample_losses(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.forward(w, x)
        if self.task == "reconstruct":
            return (out - x.reshape(out.shape)).pow(2).mean(dim=1)
        return F.cross_entropy(out, y, reduction="none")

    def loss(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.sample_losses(w, x, y).mean()

    def correct(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Number of correctly classified images (classifiers only)."""
        return (self.forward(w, x).argmax(dim=1) == y).sum()

    def to(self, device) -> "FlatNetwork":
        self.module.to(device)
        self.buffers = {k: v.to(device) for k, v in self.buffers.items()}
        return self


def build_module(spec: NetworkSpec) -> nn.Module:
    if spec.name not in _CLASSES:
        raise ValueError(f"unknown network {spec.name!r}; expected one of {', '.join(NETWORKS)}")
    if spec.activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {spec.activation!r}; expected one of {', '.join(ACTIVATIONS)}"
        )
    if spec.name == "lstm":
        return PermutedLSTM(spec.activation, spec.lstm_permutation_seed)
    return _CLASSES[spec.name](spec.activation)


def build_network(name: str, activation: str = "softplus", lstm_permutation_seed: int = 1234):
    net = FlatNetwork(NetworkSpec(name, activation, lstm_permutation_seed))
    assert net.n_params == PARAMETER_COUNTS[name], (name, net.n_params)
    return net
