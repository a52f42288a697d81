"""Loss landscapes: the loss as a function of a flat weight vector.

A landscape answers four questions, for one vector or for a batch of vectors (one per
row): the loss, and the loss with its gradient. "The loss" is always the average over the
whole data set (docs/method.md); the data are processed in chunks so that memory stays bounded
for any data size, and per-chunk sums are added up before the single division by the
number of images.

Batches of vectors (the points of a path) are evaluated together: a network landscape
calls the network's batched forms (large matmuls and grouped convolutions over all
vectors at once, see models.py), a function landscape ``torch.func.vmap``; never a
Python loop over the vectors.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
from torch.func import vmap

from .models import FlatNetwork

# The shape of one forward/backward pass of a batched call, per network: at most this
# many vector-image rows, from at most this many vectors. The activations kept for the
# backward pass grow with the rows, so they bound memory for any number of vectors and
# images. The values were measured (bench/pathfinder.py and variants): passes small
# enough for their activations to stay near the caches, but with enough images that the
# per-vector matmuls (inner dimension: the images) run at speed. The LSTM goes one vector
# at a time through torch's fused kernel (models.PermutedLSTM.forward_batched), whose
# per-image cost doubled between 334 and 500 images a call on the 2-core machine: 256.
# These are the fallback: measure_pass_shape picks a shape on the machine at hand.
PASS_SHAPES = {"fcp": (48_000, 48), "autoencoder": (12_000, 12), "lenet": (1_200, 48), "lstm": (256, 1)}
# A researcher's own network (models.FlatNetwork.from_module), evaluated by vmap: a middle
# shape; paths.pass_shape: measured picks one on the machine.
CUSTOM_PASS_SHAPE = (4_096, 16)
# On a GPU the caches do not set the shape, its memory does (device_pass_shape): a pass
# holds as many vector-image rows as fit in a fraction of the free memory, at about this
# many bytes each. Estimates from the layers' widths (float32): the activations a pass keeps
# for its backward pass per row (LeNet: 6x28x28 + 6x14x14 + 16x10x10 + 16x5x5 + 214 values;
# the LSTM: 28 steps x (4 gates + h + c) x 48; the autoencoder: its 784 outputs, kept per
# block; FCP: a few hundred values, its gradients formed in the forward pass) times about
# three for the backward's temporaries of the same size, and rounded up. The images
# themselves are held once, not per row. bench/gpu_check.py measures a pass's peak
# memory on the device against them.
BYTES_PER_ROW = {"fcp": 4_000, "autoencoder": 20_000, "lenet": 160_000, "lstm": 100_000}
# The largest single tensor of a pass, in values per row: kept under 2**31 values, so that
# no kernel needs 64-bit indexing (LeNet: its first convolution's output, 6x28x28).
VALUES_PER_ROW = {"fcp": 100, "autoencoder": 784, "lenet": 6 * 28 * 28, "lstm": 28 * 4 * 48}
# Share of the device's free memory (when the landscape is built) that one pass may take;
# the rest is for the allocator's slack, the path's own tensors and other processes.
MEMORY_FRACTION = 0.5
# The shapes measure_pass_shape tries: the fallback's rows scaled by these, with its points
# per pass and (where that is more than one) a quarter of them. On a GPU only the scales up
# to 1: its rows are already what its memory holds (row_scales).
ROW_SCALES = (0.25, 0.5, 1, 2, 4)


class Landscape:
    """Interface shared by network landscapes and plain functions (the 2D toy)."""

    n_params: int
    n: int | None = None  # images in the data set; None for a plain function

    def losses(self, weights: torch.Tensor) -> torch.Tensor:
        """Loss at each row of ``weights`` [K, P] -> [K], without gradients."""
        raise NotImplementedError

    def losses_and_grads(self, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Loss [K] and gradient [K, P] at each row of ``weights``."""
        raise NotImplementedError

    def loss(self, w: torch.Tensor) -> float:
        return float(self.losses(w.unsqueeze(0))[0])

    def loss_and_grad(self, w: torch.Tensor) -> tuple[float, torch.Tensor]:
        value, grad = self.losses_and_grads(w.unsqueeze(0))
        return float(value[0]), grad[0]

    def subset(self, indices: torch.Tensor) -> "Landscape":
        """The landscape of a subset of the data (mini-batches); only data landscapes have one."""
        raise TypeError(f"{type(self).__name__} has no data set to draw a subset from")

    def with_chunk_size(self, chunk_size: int | None) -> "Landscape":
        """The same landscape evaluated in chunks of at most ``chunk_size`` images."""
        return self  # a plain function has no data to chunk


class FunctionLandscape(Landscape):
    """A landscape given by a function of one flat vector (a toy surface, a user's own)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], n_params: int):
        self.fn = fn
        self.n_params = n_params
        self._batched = vmap(fn)

    def losses(self, weights):
        with torch.no_grad():
            return self._batched(weights)

    def losses_and_grads(self, weights):
        weights = weights.detach().requires_grad_(True)
        with torch.enable_grad():
            values = self._batched(weights)
            (grads,) = torch.autograd.grad(values.sum(), weights)
        return values.detach(), grads


class NetworkLandscape(Landscape):
    """A network's mean loss over a data set (images ``x``, labels ``y``).

    ``chunk_size`` caps the images per forward pass (None: no cap). Batched calls on K
    vectors take them in groups of at most ``points_per_pass`` and keep the vectors times
    the images of a pass below ``rows_per_pass`` (defaults: ``device_pass_shape`` on the
    images' device: ``PASS_SHAPES`` on the CPU, sized from the memory on a GPU).
    """

    def __init__(
        self,
        net: FlatNetwork,
        x: torch.Tensor,
        y: torch.Tensor,
        chunk_size: int | None = None,
        rows_per_pass: int | None = None,
        points_per_pass: int | None = None,
    ):
        if len(x) != len(y):
            raise ValueError(f"{len(x)} images but {len(y)} labels")
        self.net = net
        self.x = x
        self.y = y
        self.n = len(x)
        self.n_params = net.n_params
        self.chunk_size = chunk_size or self.n
        if not (rows_per_pass and points_per_pass):  # a GPU is asked its memory only when needed
            rows, points = device_pass_shape(net.name, x.device)
        self.rows_per_pass = rows_per_pass or rows
        self.points_per_pass = points_per_pass or points

    def chunks(self, size: int | None = None):
        size = size or self.chunk_size
        for start in range(0, self.n, size):
            yield self.x[start : start + size], self.y[start : start + size]

    def subset(self, indices):
        return self._like(self.x[indices], self.y[indices], self.chunk_size)

    def with_chunk_size(self, chunk_size):
        return self._like(self.x, self.y, chunk_size)

    def with_pass_shape(self, rows_per_pass: int, points_per_pass: int) -> "NetworkLandscape":
        """The same landscape evaluated in passes of this shape (see PASS_SHAPES)."""
        return NetworkLandscape(self.net, self.x, self.y, self.chunk_size, rows_per_pass, points_per_pass)

    def _like(self, x, y, chunk_size):
        return NetworkLandscape(self.net, x, y, chunk_size, self.rows_per_pass, self.points_per_pass)

    def _blocks(self, k: int):
        """(rows of the vectors, images per chunk) covering k vectors in passes of the set shape."""
        group = min(k, self.points_per_pass, self.rows_per_pass)
        images = max(1, min(self.chunk_size, self.rows_per_pass // group))
        for start in range(0, k, group):
            yield slice(start, start + group), images

    def losses(self, weights):
        total = weights.new_zeros(weights.shape[0])
        with torch.no_grad():
            for rows, images in self._blocks(len(weights)):
                params = self.net.unflatten_batched(weights[rows])
                for xc, yc in self.chunks(images):
                    total[rows] += self.net.params_loss_sums(params, xc, yc)
        return total / self.n

    def losses_and_grads(self, weights):
        total = weights.new_zeros(weights.shape[0])
        grads = torch.empty_like(weights)
        for rows, images in self._blocks(len(weights)):
            # One leaf per parameter: each chunk's backward() adds into the leaves' own
            # .grad, and the flat gradient is assembled once per block, not per chunk.
            params = self.net.unflatten_batched(weights[rows].detach())
            leaves = [params[name].requires_grad_(True) for name in self.net.names]
            with torch.enable_grad():
                for xc, yc in self.chunks(images):
                    sums = self.net.params_loss_sums(params, xc, yc)
                    # The rows are independent, so the gradient of the summed losses holds
                    # every row's own gradient; dividing the scalar by n scales the whole
                    # backward pass at no cost, where dividing the gradients is a pass of its own.
                    (sums.sum() / self.n).backward()
                    total[rows] += sums.detach()
            torch.cat([leaf.grad.flatten(1) for leaf in leaves], dim=1, out=grads[rows])
        return total / self.n, grads

    # Single vectors skip the batched forms: a plain forward/backward is what training needs.
    def loss(self, w):
        with torch.no_grad():
            return float(sum(self.net.loss_sum(w, xc, yc) for xc, yc in self.chunks()) / self.n)

    # The chunks' sums are added on the device, in float64 as the Python floats were (the
    # same roundings, so the same bytes), and read once: a read per chunk would make a GPU
    # wait for each chunk before the next is queued.
    def loss_and_grad(self, w):
        w = w.detach().requires_grad_(True)
        total = w.new_zeros((), dtype=torch.float64)
        grad = torch.zeros_like(w)
        with torch.enable_grad():
            for xc, yc in self.chunks():
                s = self.net.loss_sum(w, xc, yc)
                (g,) = torch.autograd.grad(s, w)
                total += s.detach().double()
                grad += g
        return float(total) / self.n, grad / self.n

    def loss_and_accuracy(self, w) -> tuple[float, float]:
        """Mean loss and, for a classifier, accuracy (else NaN), from one forward pass per chunk."""
        total = w.new_zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64, device=w.device)
        with torch.no_grad():
            for xc, yc in self.chunks():
                out = self.net.outputs(w, xc)
                total += self.net.losses_from_outputs(out, xc, yc).sum().double()
                if self.net.task == "classify":
                    correct += (out.argmax(dim=1) == yc).sum()
        accuracy = int(correct) / self.n if self.net.task == "classify" else math.nan
        return float(total) / self.n, accuracy

    def accuracy(self, w) -> float:
        with torch.no_grad():
            correct = sum(self.net.correct(w, xc, yc) for xc, yc in self.chunks())
        return int(correct) / self.n


def device_pass_shape(network: str, device: torch.device | str,
                      memory_bytes: int | None = None) -> tuple[int, int]:
    """The pass shape (rows_per_pass, points_per_pass) of ``network``'s landscape on ``device``.

    On the CPU: PASS_SHAPES, tuned for its caches (a researcher's own network:
    CUSTOM_PASS_SHAPE, on any device). Elsewhere (a GPU) a pass is sized from
    the device's memory, ``memory_bytes`` (default: the free memory now, as the driver
    reports it; given, e.g. in a test, nothing is asked of the device): as many
    vector-image rows as MEMORY_FRACTION of it holds at BYTES_PER_ROW each, no tensor over
    2**31 values, and never fewer rows than on the CPU. Points per pass are then not capped
    (a path's inner points all go in one pass, the images split to fit), except the LSTM's
    one, which goes one vector at a time through the fused kernel (cuDNN's on a GPU).
    """
    device = torch.device(device)
    rows, points = PASS_SHAPES.get(network, CUSTOM_PASS_SHAPE)
    if device.type == "cpu" or network not in BYTES_PER_ROW:
        return rows, points  # a researcher's own network: no estimate of its bytes per row
    if memory_bytes is None:
        memory_bytes = _free_memory(device)
    by_memory = int(memory_bytes * MEMORY_FRACTION) // BYTES_PER_ROW[network]
    by_indexing = (2**31 - 1) // VALUES_PER_ROW[network]
    rows = max(rows, min(by_memory, by_indexing))
    return rows, (1 if network == "lstm" else rows)


def _free_memory(device: torch.device) -> int:
    """Bytes free on a CUDA device (the driver's count: other processes' use is off it)."""
    if device.type != "cuda":
        raise ValueError(f"no memory figure for a {device.type} device: give memory_bytes")
    free, _total = torch.cuda.mem_get_info(device)
    return free


def measure_pass_shape(landscape: NetworkLandscape, weights: torch.Tensor, repeats: int = 2,
                       clock: Callable[[], float] = time.perf_counter) -> tuple[tuple[int, int], dict]:
    """The fastest pass shape (rows_per_pass, points_per_pass) of ``landscape`` for
    ``losses_and_grads`` on ``weights`` [K, P] (e.g. a path's inner points), timed here and
    now; and every candidate's cost, seconds per image and vector, for the log.

    Candidates: the landscape's own shape with its rows scaled by ROW_SCALES, and with a
    quarter of its points per pass; those that would make the same passes on K vectors
    are timed once. Each is timed on one pass of its own: its vectors per pass (the first
    of ``weights``) on its images per chunk (the first of the data), once to warm up (oneDNN
    builds its primitives per shape), then the best of ``repeats`` (other load only slows),
    divided by the images times the vectors. All of it costs three evaluations of the
    candidates' passes, about one path step on the whole set or less (docs/performance.md),
    paid once by a path job for all its pairs.

    The shape sets how many images a pass sums over, so another choice changes the results
    by float rounding: a job that measures is reproducible given the shape it chose (which
    it logs and records), not across machines.
    """
    rows, points = landscape.rows_per_pass, landscape.points_per_pass
    k = len(weights)

    def blocks(shape):  # (vectors per pass, images per chunk): what the shape does to k vectors
        group = min(k, shape[1], shape[0])
        return group, max(1, min(landscape.chunk_size, landscape.n, shape[0] // group))

    candidates, seen = [], set()
    for p in dict.fromkeys((points, max(1, points // 4))):
        for scale in row_scales(landscape.x.device):
            shape = (max(1, round(rows * scale)), p)
            if blocks(shape) not in seen:  # shapes that make the same passes are timed once
                seen.add(blocks(shape))
                candidates.append(shape)
    cost = {}
    wait = synchronizer(landscape.x.device)
    for shape in candidates:
        group, images = blocks(shape)
        trial = landscape.subset(torch.arange(images, device=landscape.x.device)).with_pass_shape(*shape)
        trial.losses_and_grads(weights[:group])  # warm-up
        times = []
        for _ in range(repeats):
            wait()
            start = clock()
            trial.losses_and_grads(weights[:group])
            wait()
            times.append(clock() - start)
        cost[shape] = min(times) / (images * group)
    best = min(candidates, key=lambda shape: (cost[shape], candidates.index(shape)))
    return best, cost


def row_scales(device: torch.device | str) -> tuple[float, ...]:
    """The scales of the rows per pass that measure_pass_shape tries on ``device``."""
    if torch.device(device).type == "cpu":
        return ROW_SCALES
    return tuple(scale for scale in ROW_SCALES if scale <= 1)


def synchronizer(device: torch.device | str) -> Callable[[], None]:
    """What makes the host wait for the work queued on ``device``, for a clock to time it:
    nothing on the CPU (its ops return when done); on a GPU, whose kernels run after the
    call that queues them returns, torch.cuda.synchronize."""
    device = torch.device(device)
    if device.type == "cpu":
        return lambda: None
    if device.type != "cuda":
        raise ValueError(f"no way to wait for a {device.type} device")
    return lambda: torch.cuda.synchronize(device)
