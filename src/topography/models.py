"""The four networks of the study, and how to evaluate them at a flat weight vector.

Every later stage (training, paths, geometry) works on flat float32 vectors. A
:class:`FlatNetwork` turns such a vector back into the network's named parameters and
evaluates the module with ``torch.func.functional_call``, so one module serves any
number of weight vectors without copying parameters in and out.

Each module also has ``forward_batched(params, x)``: the same function at K weight
vectors at once (every parameter with a leading K axis), written with large matmuls,
batched matmuls, grouped convolutions and, for FCP's whole pass, LeNet's activation and
pooling and the autoencoder's output layer, hand-written backward passes. Path finding
evaluates ~50 vectors on the same images at every step; this is faster than a loop over
the vectors or a generic ``vmap`` (bench/pathfinder.py measures by how much; tests check
it equals the loop). The LSTM is the exception: its ``forward_batched`` loops over the
vectors with torch's fused LSTM kernel, which is faster than any batched form measured
(see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .design import NETWORKS, PARAMETER_COUNTS  # noqa: F401  (re-exported: the networks built here)

ACTIVATIONS = {"softplus": F.softplus, "relu": F.relu}


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
        h = self.act(_shared_linear(x.reshape(-1, 784), p["fc1.weight"]))
        h = self.act(_batched_linear(h, p["fc2.weight"]))
        return _batched_linear(h, p["fc3.weight"])

    def loss_sums_batched(self, p, x, y):
        """Summed cross-entropies of the n images [K], the whole network fused with the loss."""
        return _FCPCrossEntropySums.apply(p["fc1.weight"], p["fc2.weight"], p["fc3.weight"], x.reshape(-1, 784), y,
                                          self.activation)


class _FCPCrossEntropySums(torch.autograd.Function):
    """sum_n cross_entropy(FCP_k(x_n), y_n) for K weight vectors at once -> [K], forward and
    backward written out.

    The first layer is one large matmul of the shared images by all K first-layer
    matrices, [n, 784] x [784, K*50], and its weight gradient one more, [K*50, n] x
    [n, 784]: nearly all of the flops, near the machine's matmul rate. Everything
    between those two runs on ``block`` images at a time, small enough to stay in the
    caches: the activations, the two small layers (batched matmuls), the loss, its
    gradient and the backward pass to the first layer's pre-activations, which are
    written straight into the [n, K*50] buffer that the weight-gradient matmul reads.
    Autograd through the same pass keeps [K, n, 50] activations in a transposed layout
    and walks them several times more (layout copies, softplus' backward on mixed
    strides). As in _SigmoidMSESums the gradients are formed in the forward pass and
    scaled by the incoming per-vector gradient in backward().
    """

    block = 128  # images per block: [128, K*50] floats, 1.2 MB at K = 48

    @staticmethod
    def forward(ctx, w1, w2, w3, x, y, activation):
        # w1 [K, H, I], w2 [K, H, H], w3 [K, C, H], x [n, I], y [n] -> [K]
        k, hidden, _ = w1.shape
        n = x.shape[0]
        with_grads = any(ctx.needs_input_grad[:3])
        pre1 = (x @ w1.reshape(k * hidden, -1).T).view(n, k, hidden)  # [n, K, H]
        sums = x.new_zeros(k)
        if with_grads:
            grad_pre1 = torch.empty_like(pre1)
            grad_w2, grad_w3 = torch.zeros_like(w2), torch.zeros_like(w3)
        for start in range(0, n, _FCPCrossEntropySums.block):
            # The first layer's pre-activations [B, K, H] are contiguous: elementwise work on
            # them runs there, and the batched matmuls read the [K, B, H] transposed views.
            z1 = pre1[start : start + _FCPCrossEntropySums.block]
            labels = y[start : start + _FCPCrossEntropySums.block]
            h1 = ACTIVATIONS[activation](z1).transpose(0, 1)
            z2 = torch.bmm(h1, w2.transpose(1, 2))
            h2 = ACTIVATIONS[activation](z2)
            # Classes first, [K, C, B]: the softmax then reduces over C rows of B contiguous
            # images, vectorised along the images (over the last axis of 10 it is not).
            logits = torch.bmm(w3, h2.transpose(1, 2))
            log_probs = torch.log_softmax(logits, dim=1)
            at_label = labels.view(1, 1, -1).expand(k, 1, -1)
            picked = log_probs.gather(1, at_label)  # log p_y [K, 1, B]
            sums -= picked.sum(dim=(1, 2))
            if not with_grads:
                continue
            # d/dlogits of the summed cross-entropy: softmax - one-hot, i.e. p_y - 1 at the label.
            grad_logits = log_probs.exp_().scatter_(1, at_label, picked.exp_().sub_(1))
            grad_w3.baddbmm_(grad_logits, h2)
            grad_z2 = torch.bmm(grad_logits.transpose(1, 2), w3).mul_(_slope(z2, activation))
            grad_w2.baddbmm_(grad_z2.transpose(1, 2), h1)
            grad_h1 = torch.bmm(grad_z2, w2)
            torch.mul(grad_h1.transpose(0, 1), _slope(z1, activation), out=grad_pre1[start : start + len(labels)])
        if with_grads:
            grad_w1 = (grad_pre1.view(n, k * hidden).T @ x).view_as(w1)
            ctx.save_for_backward(grad_w1, grad_w2, grad_w3)
        return sums

    @staticmethod
    def backward(ctx, grad_sums):
        scale = grad_sums.view(-1, 1, 1)
        return *(g * scale for g in ctx.saved_tensors), None, None, None


def _slope(z, activation):
    """The activation's derivative at z: softplus' = sigmoid, relu' = [z > 0]."""
    return torch.sigmoid(z) if activation == "softplus" else (z > 0).to(z.dtype)


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
        h = _ActPool.apply((patches.view(n * 784, 26) @ filters.T).view(n, 28, 28, k * 6), self.activation)
        h = F.conv2d(h, p["conv2.weight"].reshape(k * 16, 6, 5, 5), p["conv2.bias"].reshape(k * 16), groups=k)
        h = _ActPool.apply(h.permute(0, 2, 3, 1), self.activation)  # a view: h is channels-last
        # Back to NCHW so that each vector's 400 features are in the order fc1 expects.
        h = h.contiguous().view(n, k, 400).transpose(0, 1)
        h = self.act(_batched_linear(h, p["fc1.weight"], p["fc1.bias"]))
        h = self.act(_batched_linear(h, p["fc2.weight"], p["fc2.bias"]))
        return _batched_linear(h, p["fc3.weight"], p["fc3.bias"])


class _ActPool(torch.autograd.Function):
    """avg_pool2d(act(z), 2) of channels-last pre-activations z [n, H, W, C] -> [n, C, H/2, W/2]
    (channels-last memory): both of LeNet's convolutions are followed by this.

    The convolutions' outputs of all K vectors are the largest tensors of LeNet's batched
    pass; autograd's backward through pooling and the activation walks them five times
    (zero fill, scatter, layout copies, the activation's derivative). Here the
    activation's slope is kept from the forward pass, and the backward pass spreads each
    pooled gradient over its 2x2 window and multiplies by the slope in one broadcast
    multiply, in place, in the layout the convolution's backward wants.
    """

    @staticmethod
    def forward(ctx, z, activation):
        if ctx.needs_input_grad[0]:  # the slope is needed only for gradients
            ctx.save_for_backward(_slope(z, activation))
        out = ACTIVATIONS[activation](z)
        # The permuted view is channels-last, and so is avg_pool2d's output.
        return F.avg_pool2d(out.permute(0, 3, 1, 2), 2)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        n, height, width, c = slope.shape
        # Each pooled value is the mean of a 2x2 window: a quarter of its gradient
        # reaches each of the four, broadcast over the window's axes.
        window = grad.permute(0, 2, 3, 1).mul(0.25).reshape(n, height // 2, 1, width // 2, 1, c)
        return slope.reshape(n, height // 2, 2, width // 2, 2, c).mul_(window).view(n, height, width, c), None


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

    def forward_batched(self, p, x):
        return torch.sigmoid(_batched_linear(self._decoder_input(p, x), p["dec2.weight"]))

    def loss_sums_batched(self, p, x, y):
        """Summed reconstruction errors of the n images [K], the output layer fused with the loss."""
        return _SigmoidMSESums.apply(self._decoder_input(p, x), p["dec2.weight"], x.reshape(-1, 784))

    def _decoder_input(self, p, x):
        h = self.act(_shared_linear(x.reshape(-1, 784), p["enc1.weight"]))
        h = self.act(_batched_linear(h, p["enc2.weight"]))
        return self.act(_batched_linear(h, p["dec1.weight"]))


class _SigmoidMSESums(torch.autograd.Function):
    """sum_n mean_j (sigmoid(h_n W^T)_j - x_nj)^2 for K weight matrices W at once -> [K].

    The [K, n, 784] outputs are the largest tensors of the autoencoder's batched pass.
    Here they exist only for ``block`` images at a time, small enough to stay in the
    caches: each block's outputs, its gradient factor s (1 - s) (s - x) and both of
    its gradient products (by W, and by h) are formed back to back, and only the
    gradients, [K, n, i] and [K, 784, i], are kept. Since the loss of each vector is
    one number, the incoming gradient is one scale per vector, applied in backward().
    """

    block = 128  # images per block: [K, 128, 784] floats, ~5 MB at K = 12

    @staticmethod
    def forward(ctx, h, weight, x):
        # h [K, n, i], weight [K, P, i], x [n, P] -> [K]
        k, n, _ = h.shape
        pixels = x.shape[-1]
        with_grads = any(ctx.needs_input_grad[:2])
        sums = h.new_zeros(k)
        if with_grads:
            grad_h, grad_weight = torch.empty_like(h), torch.zeros_like(weight)
        block = _SigmoidMSESums.block
        outputs = h.new_empty(k, min(n, block), pixels)
        diffs = torch.empty_like(outputs)
        for start in range(0, n, block):
            h_block = h[:, start : start + block]
            rows = h_block.shape[1]
            s = torch.bmm(h_block, weight.transpose(1, 2), out=outputs[:, :rows]).sigmoid_()
            diff = torch.sub(s, x[start : start + rows], out=diffs[:, :rows])
            sums += torch.linalg.vector_norm(diff.reshape(k, -1), dim=1).square_()
            if with_grads:
                factor = s.addcmul_(s, s, value=-1).mul_(diff)  # s (1 - s) (s - x), in place
                torch.bmm(factor, weight, out=grad_h[:, start : start + rows])
                grad_weight.baddbmm_(factor.transpose(1, 2), h_block)
        if with_grads:
            ctx.save_for_backward(grad_h, grad_weight)
        return sums / pixels

    @staticmethod
    def backward(ctx, grad_sums):
        grad_h, grad_weight = ctx.saved_tensors
        scale = (grad_sums * (2 / grad_weight.shape[1])).view(-1, 1, 1)  # d mean_j / d s_j: 2 (s - x) / P
        return grad_h * scale, grad_weight * scale, None


class PermutedLSTM(nn.Module):
    """Permuted sequential MNIST: one LSTM layer (hidden 48) over 28 steps of 28 pixels.

    The cell is written out with matmuls instead of ``nn.LSTM`` so that it works under
    ``torch.func`` transforms; parameter names, shapes, gate order (input, forget, cell,
    output) and initialisation are those of ``nn.LSTM``.
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
        # unbind, not gates_in[:, t]: the backward of 28 separate indexings writes 28
        # full-size zero tensors, which made the backward pass quadratic in the steps.
        gates_in = (x @ self.weight_ih.T + (self.bias_ih + self.bias_hh)).unbind(1)
        h = x.new_zeros(x.shape[0], self.hidden)
        c = torch.zeros_like(h)
        for gates_t in gates_in:
            h, c = _lstm_cell(gates_t + h @ self.weight_hh.T, c)
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


def _lstm_cell(gates, c):
    """One LSTM step from the summed gate pre-activations (order i, f, g, o)."""
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _shared_linear(x, weight):
    """Input ``x`` [n, i] shared by K weight matrices [K, o, i] -> [K, n, o].

    The K matrices are stacked into one [K*o, i] matrix, so all K products are a single
    large matmul, which runs near the machine's peak rate (K separate ones do not).
    """
    k, o, i = weight.shape
    return (x @ weight.reshape(k * o, i).T).view(-1, k, o).transpose(0, 1)


def _batched_linear(h, weight, bias=None):
    """Inputs [K, n, i], one weight matrix [K, o, i] each -> [K, n, o]."""
    if bias is None:
        return torch.bmm(h, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))


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

    ``loss(w, x, y)`` is the mean loss of docs/method.md (cross-entropy for the classifiers,
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
        return self.module.forward_batched(self.unflatten_batched(weights), x)

    def sample_losses(self, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._losses(self.forward(w, x), x, y)

    def params_sample_losses(self, params: dict[str, torch.Tensor], x, y) -> torch.Tensor:
        """Per-image losses [K, n] for named parameters with a leading K axis."""
        return self._losses(self.module.forward_batched(params, x), x, y)

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
        """Per-image losses from outputs [..., n, d] (any leading axes)."""
        if self.task == "reconstruct":
            return (out - x.reshape(-1, out.shape[-1])).pow(2).mean(dim=-1)
        flat = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.expand(out.shape[:-1]).reshape(-1), reduction="none")
        return flat.view(out.shape[:-1])

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
