"""Curvature of a landscape at one weight vector, from Hessian-vector products alone.

The Hessian of a network's loss has P^2 entries (P up to 61,706 here), so it is never
formed. Everything below needs only products H v, computed exactly (up to rounding) by
differentiating the gradient along v (double backward), summed over chunks of the data
set like every other evaluation of the full landscape:

- the top eigenvalues by the Lanczos method with full reorthogonalisation, and for each
  the residual |H y - theta y| of its Ritz pair, measured with one more product;
- the trace by Hutchinson's estimator, tr H = E[z^T H z] over Rademacher probes z, with
  the standard error of the mean over the probes;
- two scale-aware measures beside the raw ones: the top eigenvalue times the squared
  norm of the weight vector, and the trace of the element-wise normalised Hessian
  diag(|w|) H diag(|w|) (the "adaptive" curvature of Kwon et al. 2021), which a
  rescaling of the weights that leaves a homogeneous network's function unchanged
  leaves unchanged too.

The largest eigenvalues are the largest algebraic ones (the most positive curvature);
away from a minimum the Hessian also has negative eigenvalues, which they do not show.

    from topography.curvature import CurvatureConfig, measure_curvature
    record = measure_curvature(landscape, w, CurvatureConfig(lanczos_iterations=20))
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.linalg import eigh_tridiagonal

from .landscape import FunctionLandscape, Landscape, NetworkLandscape

# A Lanczos step whose new direction is shorter than this, relative to the largest
# |alpha| or beta seen, has found an invariant subspace: the Ritz values are then exact.
BREAKDOWN = 1e-10

Matvec = Callable[[torch.Tensor], torch.Tensor]  # rows v [k, P] -> rows H v [k, P]


@dataclass(frozen=True)
class CurvatureConfig:
    """eigenvalues: how many of the largest eigenvalues to report (k). lanczos_iterations:
    Lanczos steps, one Hessian-vector product each (at least k). probes: Rademacher
    vectors of Hutchinson's estimator (at least 2, for a standard error). chunk_size: at
    most this many images per pass (None: the landscape's own chunk size); memory stays
    bounded by it whatever the data size and the number of probes.
    seed: the Lanczos start vector and the probes."""

    eigenvalues: int = 5
    lanczos_iterations: int = 20
    probes: int = 10
    chunk_size: int | None = None
    seed: int = 0

    def __post_init__(self):
        checks = {
            "eigenvalues": self.eigenvalues >= 1,
            "lanczos_iterations": self.lanczos_iterations >= self.eigenvalues,
            "probes": self.probes >= 2,
            "chunk_size": self.chunk_size is None or self.chunk_size >= 1,
        }
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"CurvatureConfig.{key} = {getattr(self, key)!r} is out of range")


# ---------------------------------------------------------------------------------------
# Hessian-vector products


def hessian_matvec(landscape: Landscape, w: torch.Tensor, chunk_size: int | None = None) -> Matvec:
    """v rows [k, P] -> H v rows [k, P], H the Hessian of ``landscape``'s loss at ``w``.

    A network landscape sums the products of its chunks of at most ``chunk_size`` images
    (None: the landscape's own chunk size) and divides once by the number of images, as
    its losses do; only one chunk's graph is alive at a time, so memory is bounded by the
    chunk whatever the data size and the number of vectors.
    """
    w = w.detach()
    if isinstance(landscape, NetworkLandscape):
        return _network_matvec(landscape, w, chunk_size or landscape.chunk_size)
    if isinstance(landscape, FunctionLandscape):
        return lambda vectors: _products(landscape.fn, w, vectors.to(w))
    raise TypeError(f"no Hessian-vector product for a {type(landscape).__name__}")


def _products(fn: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Rows H v of the Hessian of a scalar function ``fn`` at ``w``, by double backward:
    the gradient is computed once with its graph, then differentiated along each v.

    Forward-over-reverse (torch.func.jvp of torch.func.grad, vmapped over the v) gives
    the same products; on the CPU it measured 10-40% slower per product for all four
    networks, and its first call in a process costs ~2 s more (bench/curvature.py)."""
    w = w.detach().requires_grad_(True)
    with torch.enable_grad():
        (gradient,) = torch.autograd.grad(fn(w), w, create_graph=True)
        if not gradient.requires_grad:  # the gradient is constant: fn is linear, H = 0
            return torch.zeros_like(vectors)
        last = len(vectors) - 1
        rows = [torch.autograd.grad(gradient, w, v, retain_graph=k < last)[0] for k, v in enumerate(vectors)]
    return torch.stack(rows)


def _network_matvec(landscape: NetworkLandscape, w: torch.Tensor, images: int) -> Matvec:
    net = landscape.net

    def matvec(vectors: torch.Tensor) -> torch.Tensor:
        vectors = vectors.to(w)
        total = torch.zeros_like(vectors)
        for x, y in landscape.chunks(images):
            # The per-vector forward (functional_call on the module): most batched forms
            # of models.py have hand-written backward passes, which cannot be
            # differentiated a second time.
            total += _products(lambda u, x=x, y=y: net.sample_losses(u, x, y).sum(), w, vectors)
        return total / landscape.n

    return matvec


# ---------------------------------------------------------------------------------------
# Lanczos


@dataclass
class Eigenpairs:
    """The largest Ritz values of a Lanczos run, largest first, with their residuals."""

    values: np.ndarray  # [k]
    residuals: np.ndarray  # [k] |H y - theta y| for unit Ritz vectors y, measured
    bounds: np.ndarray  # [k] beta_m |s_m|: the same residual from the tridiagonal alone
    vectors: torch.Tensor  # [k, P] unit Ritz vectors
    iterations: int  # Lanczos steps taken (fewer than asked on breakdown)


def lanczos(matvec: Matvec, dim: int, k: int, iterations: int, generator: torch.Generator,
            dtype=torch.float32, device=None) -> Eigenpairs:
    """The k largest eigenvalues of the symmetric operator ``matvec`` (on vectors of
    length ``dim``, in ``dtype``) by ``iterations`` Lanczos steps from a seeded random
    start, with full reorthogonalisation (each new direction is orthogonalised against
    all earlier ones, twice, in float64), so no spurious copies of converged values appear.
    """
    steps = min(iterations, dim)
    basis = torch.zeros(steps, dim, dtype=torch.float64, device=device)
    q = torch.randn(dim, generator=generator, dtype=torch.float64).to(device)
    q /= torch.linalg.vector_norm(q)
    alphas, betas = [], []
    scale = 0.0
    for j in range(steps):
        basis[j] = q
        z = matvec(q.to(dtype).unsqueeze(0))[0].double()
        alphas.append(float(z @ q))
        for _ in range(2):  # "twice is enough" (Parlett): the second pass removes the first's rounding
            z -= basis[: j + 1].T @ (basis[: j + 1] @ z)
        beta = float(torch.linalg.vector_norm(z))
        scale = max(scale, abs(alphas[-1]), beta)
        if j == steps - 1 or beta <= BREAKDOWN * scale:
            break
        betas.append(beta)
        q = z / beta
    m = len(alphas)
    theta, s = eigh_tridiagonal(np.array(alphas), np.array(betas[: m - 1]))
    top = np.argsort(theta)[::-1][:k]
    values, s = theta[top], s[:, top]
    vectors = torch.as_tensor(s.T.copy(), device=device) @ basis[:m]
    # beta_m |last component of s|: the residual in exact arithmetic (0 after a breakdown).
    bounds = (beta if m < dim and beta > BREAKDOWN * scale else 0.0) * np.abs(s[-1])
    # The residuals measured: one product of all k Ritz vectors, in the operator's dtype.
    products = matvec(vectors.to(dtype)).double()
    residuals = torch.linalg.vector_norm(products - torch.as_tensor(values.copy(), device=device)[:, None] * vectors, dim=1)
    return Eigenpairs(values, residuals.cpu().numpy(), bounds, vectors, m)


# ---------------------------------------------------------------------------------------
# Hutchinson


@dataclass
class TraceEstimate:
    value: float  # mean of the probe samples
    se: float  # standard error of that mean (sample std / sqrt(probes))
    samples: np.ndarray  # z^T A z for each probe z


def rademacher(probes: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """``probes`` random vectors [probes, dim] of independent +-1 entries, float64."""
    return torch.randint(0, 2, (probes, dim), generator=generator, dtype=torch.float64).mul_(2).sub_(1)


def hutchinson(matvec: Matvec, probes: torch.Tensor, scale: torch.Tensor | None = None,
               dtype=torch.float32) -> TraceEstimate:
    """Hutchinson's estimate of tr(H), or of tr(D H D) with D = diag(``scale``), from
    Rademacher ``probes`` z [p, P]: E[z^T A z] = tr A, and a sample's variance is
    2 sum_{i != j} A_ij^2, the least of any probe distribution. All p products in one call."""
    if len(probes) < 2:
        raise ValueError(f"Hutchinson's standard error needs at least 2 probes, got {len(probes)}")
    z = probes if scale is None else probes * scale.to(probes)
    samples = (matvec(z.to(dtype)).double() * z.to(torch.float64)).sum(dim=1).cpu().numpy()
    return TraceEstimate(float(samples.mean()), float(samples.std(ddof=1) / math.sqrt(len(samples))), samples)


# ---------------------------------------------------------------------------------------
# everything at one vector


def measure_curvature(landscape: Landscape, w, config: CurvatureConfig = CurvatureConfig()) -> dict:
    """The curvature of ``landscape`` at ``w``: one flat record (the table's columns).

    lambda_i, residual_i (i = 1..k): the k largest Hessian eigenvalues, largest first,
    and their measured residuals; trace, trace_se: Hutchinson; weight_norm2: |w|^2;
    lambda_1_x_norm2: lambda_1 |w|^2; adaptive_trace, adaptive_trace_se: Hutchinson's
    estimate of tr(diag(|w|) H diag(|w|)), from the same probes multiplied by |w|;
    loss, grad_norm: the loss and the gradient's norm at w; lanczos_steps, probes, hvps:
    Lanczos steps taken, probes, Hessian-vector products spent; seconds.
    """
    start = time.perf_counter()
    w = torch.as_tensor(w)
    if w.dim() != 1 or len(w) != landscape.n_params:
        raise ValueError(f"weight vector of shape {tuple(w.shape)}; the landscape has {landscape.n_params} parameters")
    matvec = hessian_matvec(landscape, w, config.chunk_size)
    generator = torch.Generator().manual_seed(config.seed)
    dim = landscape.n_params
    eig = lanczos(matvec, dim, config.eigenvalues, config.lanczos_iterations, generator, w.dtype, w.device)
    # Both traces from the same probes: tr H from z, tr(D H D) from D z.
    z = rademacher(config.probes, dim, generator).to(w.device)
    raw = hutchinson(matvec, z, dtype=w.dtype)
    adaptive = hutchinson(matvec, z, scale=w.abs(), dtype=w.dtype)
    norm2 = float(w.double().pow(2).sum())
    loss, gradient = landscape.loss_and_grad(w)
    # The gradient's norm says how near w is to a stationary point, where curvature
    # describes the minimum's shape; far from one it describes the slope's.
    record = {"loss": loss, "grad_norm": float(torch.linalg.vector_norm(gradient.double()))}
    for i in range(config.eigenvalues):
        found = i < len(eig.values)
        record[f"lambda_{i + 1}"] = float(eig.values[i]) if found else math.nan
        record[f"residual_{i + 1}"] = float(eig.residuals[i]) if found else math.nan
    record.update(
        trace=raw.value, trace_se=raw.se,
        weight_norm2=norm2, lambda_1_x_norm2=float(eig.values[0]) * norm2,
        adaptive_trace=adaptive.value, adaptive_trace_se=adaptive.se,
        lanczos_steps=eig.iterations, probes=config.probes,
        hvps=eig.iterations + len(eig.values) + 2 * config.probes,
        seconds=time.perf_counter() - start,
    )
    return record

