"""FourierPathFinder: a low-loss path between two weight vectors (docs/method.md).

The path is the straight line plus a truncated sine series, which keeps both ends fixed,

    w(t) = (1 - t) w_a + t w_b + sum_{n=1..N_F} b_n sin(n pi t),   t in [0, 1],

discretised at M points t_m = linspace(0, 1, M). Adam minimises over the b_n

    L = sum_m loss(w(t_m)) + lam * sum_m |w(t_{m+1}) - w(t_m)|^2,

and the height of the path is H = max_m loss(w(t_m)) on the full landscape.

Which path is reported (``PathConfig.keep``): ``best``, the default, keeps the path with
the lowest objective L seen over the steps, as the authors' code does; ``last`` keeps the
path after the last step. With the whole data set at every step (the paper's mode) each
step evaluates the loss at every point anyway, so the height of the path at every step is
recorded too (``PathResult.heights``): how the barrier depends on the optimisation budget.
With mini-batches the objective is a mini-batch's, so neither is meaningful: the last
path is kept and no per-step heights are recorded.

Works on any :class:`~topography.landscape.Landscape`: a network on a data set, the 2D
toy, a user's own function. Every step evaluates the M - 2 inner points in one batched
call that returns their loss gradients; the points are linear in the b_n, so the chain
rule to the b_n is one product in closed form, and so is the length term's gradient
(``_PathAlgebra``): no autograd through the path. The two ends do not depend on the b_n
(sin(0) = sin(n pi) = 0), so their losses are measured once and never differentiated.

    from topography.pathfinder import PathConfig, find_path
    result = find_path(landscape, w_a, w_b, PathConfig(steps=100))
    result.height, result.straight_height, result.to_dict()
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .landscape import Landscape


@dataclass(frozen=True)
class PathConfig:
    """Settings of FourierPathFinder; defaults are the paper's (network landscapes).

    chunk_size: at most this many images per forward pass (None: the landscape's own
    setting; a NetworkLandscape bounds the memory of a pass by itself, see
    ``PASS_SHAPES``, so None is safe for any data size and M). batch_size: None uses the whole data set at every step, as the
    paper does; an int draws a fresh seeded mini-batch of that many images per step (a
    cheap approximation; heights are still measured on the whole landscape).
    In mini-batch mode the objective's inner-point losses are the mini-batch's.
    grad_noise: std of Gaussian noise added to the gradient at every step (the authors'
    toy run uses 1). seed: the mini-batches and the noise. keep: 'best' (the path of lowest
    objective over the steps; full-batch only, mini-batch runs keep the last) or 'last'.
    """

    n_fourier: int = 10
    points: int = 50
    lam: float = 1e-4
    steps: int = 100
    lr: float = 1e-3
    chunk_size: int | None = None
    batch_size: int | None = None
    grad_noise: float = 0.0
    seed: int = 0
    keep: str = "best"

    def __post_init__(self):
        checks = {
            "n_fourier": self.n_fourier >= 1,
            "points": self.points >= 3,  # fewer than 3 points have no inner point to move
            "lam": self.lam >= 0,
            "steps": self.steps >= 0,
            "lr": self.lr > 0,
            "chunk_size": self.chunk_size is None or self.chunk_size >= 1,
            "batch_size": self.batch_size is None or self.batch_size >= 1,
            "grad_noise": self.grad_noise >= 0,
            "keep": self.keep in ("best", "last"),
        }
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"PathConfig.{key} = {getattr(self, key)!r} is out of range")


    @property
    def full_batch(self) -> bool:
        return self.batch_size is None

    @property
    def keeps_best(self) -> bool:
        return self.keep == "best" and self.full_batch


class FourierPath(nn.Module):
    """w(t) = (1 - t) w_a + t w_b + sum_n b_n sin(n pi t); the b_n are the only parameters."""

    def __init__(self, w_a: torch.Tensor, w_b: torch.Tensor, n_fourier: int):
        super().__init__()
        if w_a.shape != w_b.shape or w_a.dim() != 1:
            raise ValueError(f"endpoints must be flat vectors of one length, got {tuple(w_a.shape)} and {tuple(w_b.shape)}")
        self.register_buffer("w_a", w_a)
        self.register_buffer("w_b", w_b)
        self.coefficients = nn.Parameter(torch.zeros(n_fourier, len(w_a), dtype=w_a.dtype, device=w_a.device))

    def basis(self, t: torch.Tensor) -> torch.Tensor:
        """sin(n pi t) [M, N_F], exactly zero at t = 0 and t = 1 (in floating point
        sin(n pi) is ~1e-16, not 0, which would move the end w_b)."""
        t = t.to(torch.float64)
        n = torch.arange(1, len(self.coefficients) + 1, dtype=torch.float64, device=t.device)
        values = torch.sin(math.pi * t[:, None] * n)
        values = torch.where(((t == 0) | (t == 1))[:, None], 0.0, values)
        return values.to(self.coefficients)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """The points w(t) [M, P] at the times t [M]."""
        s = t.to(self.w_a)[:, None]
        return (1 - s) * self.w_a + s * self.w_b + self.basis(t) @ self.coefficients


@dataclass
class PathResult:
    """One optimised path. Profiles and heights are on the full landscape."""

    t: np.ndarray
    losses: np.ndarray  # loss along the optimised path
    straight_losses: np.ndarray  # loss along the straight line
    height: float  # max of losses
    straight_height: float
    length: float  # sum of the segment norms |w(t_{m+1}) - w(t_m)|
    straight_length: float  # |w_b - w_a|
    objective: list[float]  # L at each step, before that step's update
    seconds: float
    config: PathConfig
    coefficients: np.ndarray  # the b_n [N_F, P] of the kept path; not in to_dict (large)
    # Full batch only (else empty): the height after k steps, k = 0 (the straight line) ..
    # steps, and the number of steps the kept path had taken.
    heights: list[float] = dataclasses.field(default_factory=list)
    kept_step: int = -1

    def to_dict(self) -> dict:
        return {
            "t": self.t.tolist(),
            "losses": self.losses.tolist(),
            "straight_losses": self.straight_losses.tolist(),
            "height": self.height,
            "straight_height": self.straight_height,
            "length": self.length,
            "straight_length": self.straight_length,
            "objective": list(self.objective),
            "heights": list(self.heights),
            "kept_step": self.kept_step,
            # no wall time: results are byte-identical across reruns (it is in the job's
            # log and in benchmarks/)
            "config": dataclasses.asdict(self.config),
        }


def find_path(
    landscape: Landscape,
    w_a,
    w_b,
    config: PathConfig = PathConfig(),
    progress: Callable[[int, float], None] | None = None,
) -> PathResult:
    """Optimise a Fourier path from ``w_a`` to ``w_b`` on ``landscape``.

    ``w_a``, ``w_b``: flat vectors (tensors or arrays) in the landscape's dtype and device.
    ``progress(step, objective)``, if given, is called after every Adam step (e.g. to
    update a tqdm bar), with the objective as a 0-d float64 tensor on the landscape's
    device: ``float(objective)`` reads it, which on a GPU waits for the step to finish, so
    a caller that shows it should do so now and then, not at every step.

    Nothing in the loop waits for the device: the objectives, heights and the kept path's
    choice stay on it, and are read once, at the end. Where the loop draws on the host (a
    mini-batch's images, gradient noise: drawn there so that a seed gives the same draws on
    every device) each step copies them over.
    """
    start = time.perf_counter()
    w_a = torch.as_tensor(w_a)
    w_b = torch.as_tensor(w_b, dtype=w_a.dtype, device=w_a.device)
    if len(w_a) != landscape.n_params:
        raise ValueError(f"endpoints have {len(w_a)} components, the landscape {landscape.n_params}")
    if config.batch_size is not None and landscape.n is None:
        raise ValueError("PathConfig.batch_size needs a landscape over a data set (mini-batches)")
    if config.chunk_size is not None:
        landscape = landscape.with_chunk_size(config.chunk_size)
    path = FourierPath(w_a, w_b, config.n_fourier)
    t = torch.linspace(0, 1, config.points, dtype=torch.float64)
    with torch.no_grad():
        straight = landscape.losses(path(t))
    # Constant in the b_n: measured once. float64 0-d tensors on the device: added to a
    # step's float32 sums, they round as the Python floats did, without reading the device.
    end_losses = straight[[0, -1]].sum().double()
    end_height = straight[[0, -1]].max().double()

    algebra = _PathAlgebra(path, t)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = Adam(path.coefficients, lr=config.lr)
    objective, heights = [], []
    kept = _Kept()
    for step in range(config.steps):
        value, inner_losses = _objective_and_grad(path, algebra, landscape, end_losses, config, generator)
        objective.append(value)
        if config.full_batch:  # the losses at every point of the current path: its height
            heights.append(_height(end_height, inner_losses))
            if config.keeps_best:
                kept.offer(value, step, path.coefficients, inner_losses)
        optimizer.step()
        if progress is not None:
            progress(step, value)

    with torch.no_grad():
        points = path(t)
        inner = landscape.losses(points[1:-1])
        if config.full_batch:  # the path after the last step is one more to record and offer
            heights.append(_height(end_height, inner))
            value = (inner.sum() + config.lam * points.diff(dim=0).pow(2).sum()).double() + end_losses
            if config.keeps_best:
                kept.offer(value, config.steps, path.coefficients, inner)
        kept_step = config.steps
        # The kept step is -1 when no objective was finite (a diverged path): the last path
        # stays, its non-finite losses for the caller to report.
        best_step = int(kept.step) if config.keeps_best else -1  # the loop's one read of the device
        if best_step not in (-1, config.steps):
            path.coefficients.copy_(kept.coefficients)
            points, inner, kept_step = path(t), kept.losses, best_step
        losses = torch.cat([straight[:1], inner, straight[-1:]])
    return PathResult(
        **profile_fields(t, losses, straight, points, w_a, w_b),
        objective=_floats(objective),
        seconds=time.perf_counter() - start,
        config=config,
        coefficients=_numpy(path.coefficients.detach()),
        heights=_floats(heights),
        kept_step=kept_step if config.full_batch else -1,
    )


def profile_fields(t, losses, straight, points, w_a, w_b) -> dict:
    """What every path result reports of its profile: the times, the losses along the path
    and along the straight line, both heights and both lengths."""
    return dict(
        t=t.numpy(),
        losses=_numpy(losses),
        straight_losses=_numpy(straight),
        height=float(losses.max()),
        straight_height=float(straight.max()),
        length=float(torch.linalg.vector_norm(points.diff(dim=0).double(), dim=1).sum()),
        straight_length=float(torch.linalg.vector_norm((w_b - w_a).double())),
    )


def _height(end_height: torch.Tensor, inner_losses: torch.Tensor) -> torch.Tensor:
    """The path's height from its ends' and inner points' losses, as a float64 0-d tensor.
    As Python's max(end_height, inner max): a NaN inner max gives the ends' height."""
    inner = inner_losses.max().double()
    return torch.where(inner > end_height, inner, end_height)


def _floats(values: list[torch.Tensor]) -> list[float]:
    """0-d tensors -> Python floats, in one read of the device."""
    return torch.stack(values).tolist() if values else []


class _Kept:
    """The lowest-objective path offered so far (the first one wins ties): its
    coefficients and its inner points' losses, so it need not be evaluated again.

    Chosen on the device (torch.where) with no read of the objective: a read per step
    would make a GPU finish each step before the host queues the next. The price is a
    copy of the coefficients per step, small beside a step's pass over the data.
    """

    def __init__(self):
        self.value, self.step, self.coefficients, self.losses = None, None, None, None

    def offer(self, value: torch.Tensor, step: int, coefficients: torch.Tensor, losses: torch.Tensor) -> None:
        coefficients, losses = coefficients.detach(), losses.detach()
        if self.value is None:  # nothing kept yet: an infinite objective, step -1
            self.value = torch.full_like(value, math.inf)
            self.step = torch.full((), -1, dtype=torch.int64, device=value.device)
            self.coefficients, self.losses = coefficients.clone(), losses.clone()
        better = value < self.value  # False for NaN, as in Python
        self.value = torch.where(better, value, self.value)
        self.step = torch.where(better, step, self.step)
        self.coefficients = torch.where(better, coefficients, self.coefficients)
        self.losses = torch.where(better, losses, self.losses)


def _objective_and_grad(path, algebra, landscape, end_losses, config, generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The objective at the current b_n (a float64 0-d tensor on the device) and its
    gradient in ``path.coefficients.grad`` (with the configured noise); also the inner
    points' losses. No update is made."""
    if config.batch_size is not None:
        landscape = landscape.subset(torch.randperm(landscape.n, generator=generator)[: config.batch_size])
    path.coefficients.grad = None
    inner_losses, length_term = _backward(path, algebra, landscape, config.lam)
    value = (inner_losses.sum() + length_term).double() + end_losses
    if config.grad_noise:
        noise = torch.randn(path.coefficients.shape, generator=generator, dtype=path.coefficients.dtype)
        path.coefficients.grad += config.grad_noise * noise.to(path.coefficients.device)
    return value, inner_losses


class Adam:
    """Adam (Kingma & Ba) on one tensor, with torch.optim.Adam's defaults.

    Written out because constructing torch.optim.Adam imports torch._dynamo, which costs
    seconds per process; a path job is a process of its own, many of them short.
    """

    def __init__(self, param: torch.Tensor, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.param, self.lr, self.betas, self.eps = param, lr, betas, eps
        self.m = torch.zeros_like(param)
        self.v = torch.zeros_like(param)
        self.t = 0

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        self.t += 1
        grad = self.param.grad
        self.m.lerp_(grad, 1 - beta1)
        self.v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        m_hat = self.m / (1 - beta1**self.t)
        denom = (self.v / (1 - beta2**self.t)).sqrt_().add_(self.eps)
        self.param.addcdiv_(m_hat, denom, value=-self.lr)


def backward_objective(path: FourierPath, t: torch.Tensor, landscape: Landscape, lam: float) -> float:
    """The objective without its constant end terms, sum_{inner m} loss(w(t_m)) +
    lam * sum_m |w(t_{m+1}) - w(t_m)|^2; its gradient is added to path.coefficients.grad."""
    losses, length_term = _backward(path, _PathAlgebra(path, t), landscape, lam)
    return float(losses.sum() + length_term)


def _backward(path: FourierPath, algebra: "_PathAlgebra", landscape: Landscape, lam: float):
    """Put the objective's gradient into path.coefficients.grad (added to any there);
    return the inner points' losses and the length term (both detached). ``algebra``
    holds the path's constants at its times, built once per path."""
    coefficients = path.coefficients.detach()
    losses, grads = landscape.losses_and_grads(algebra.inner_points(coefficients))
    length_term, grad = algebra.length_term_and_grad(coefficients, lam)
    # d(sum_m loss(w_m))/db_n = sum_m sin(n pi t_m) grad loss(w_m): the points are linear in b.
    grad.addmm_(algebra.inner_basis.T, grads)
    if path.coefficients.grad is None:
        path.coefficients.grad = grad
    else:
        path.coefficients.grad += grad
    return losses, length_term


class _PathAlgebra:
    """The objective's path terms in closed form: everything but the landscape, without autograd.

    The points are w_m = s_m + B_m b, with s_m = (1 - t_m) w_a + t_m w_b on the straight
    line and B_m = sin(n pi t_m), so the chain rule to the b_n is one product B^T g with
    the points' loss gradients g. The segments are dw_m = delta_m d + dB_m b (d = w_b - w_a,
    delta_m = t_{m+1} - t_m, dB_m = B_{m+1} - B_m), so the length term is a quadratic in b,
        |d|^2 sum delta_m^2 + 2 (dB^T delta) . (b d) + <dB^T dB, b b^T>,
    whose value and gradient 2 (dB^T delta) d^T + 2 dB^T dB b need only F x F and F x P
    products: no [M, P] difference is formed. Autograd through the same terms walks
    several [M, P] temporaries per step, about a third of a small network's step. The
    inner straight points, constant over the steps, are computed once.
    """

    def __init__(self, path: FourierPath, t: torch.Tensor):
        w_a, w_b = path.w_a, path.w_b
        basis = path.basis(t)  # [M, F] in the coefficients' dtype, exact zeros at the ends
        self.inner_basis = basis[1:-1]
        s = t.to(w_a)[1:-1, None]
        self.inner_straight = (1 - s) * w_a + s * w_b
        self.d = w_b - w_a
        # The F x F and F-sized constants in float64: sums over the M segments.
        basis_steps = basis.double().diff(dim=0)
        delta = t.double().diff()
        self.basis_gram = basis_steps.T @ basis_steps
        self.basis_cross = basis_steps.T @ delta
        self.straight_term = float(delta.square().sum() * self.d.double().square().sum())

    def inner_points(self, coefficients: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.inner_straight, self.inner_basis, coefficients)

    def length_term_and_grad(self, coefficients: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
        b = coefficients.double()
        value = self.straight_term + 2 * self.basis_cross @ (b @ self.d.double()) + (self.basis_gram * (b @ b.T)).sum()
        grad = torch.mm(self.basis_gram.to(coefficients), coefficients).mul_(2 * lam)
        grad.addr_(self.basis_cross.to(coefficients), self.d, alpha=2 * lam)
        return (lam * value).to(coefficients.dtype), grad


def path_points(w_a, w_b, coefficients, t) -> torch.Tensor:
    """The points [M, P] at times ``t`` of the path with these coefficients (e.g. a
    PathResult's ``coefficients``, to redraw or re-evaluate an optimised path)."""
    w_a = torch.as_tensor(w_a)
    path = FourierPath(w_a, torch.as_tensor(w_b, dtype=w_a.dtype, device=w_a.device), len(coefficients))
    with torch.no_grad():
        path.coefficients.copy_(torch.as_tensor(coefficients))
        return path(torch.as_tensor(t))


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().double().numpy()
