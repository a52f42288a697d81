"""A second path method: the quadratic Bezier curve of Garipov et al. (2018).

    w(t) = (1 - t)^2 w_a + 2 t (1 - t) theta + t^2 w_b,   t in [0, 1],

has one free bend point theta; the ends are w_a and w_b for any theta. theta starts at
the midpoint (w_a + w_b) / 2, where the curve is the straight line, and Adam moves it to
lower the loss averaged along the curve, E_{t ~ U(0, 1)} loss(w(t)), estimated at every
step from a few freshly drawn t on the whole data set. Unlike FourierPathFinder's
objective there is no length term: the curve's single bend point is what keeps it short.

The height of the trained curve is measured as FourierPathFinder's is, as the largest
loss at the same M points t_m = linspace(0, 1, M) on the full landscape, so the two
methods' heights can be set side by side pair by pair.

    from topography.bezier import BezierConfig, find_bezier_path
    result = find_bezier_path(landscape, w_a, w_b, BezierConfig(steps=50, points=12))
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .landscape import Landscape
from .pathfinder import Adam, _floats, _numpy, profile_fields


@dataclass(frozen=True)
class BezierConfig:
    """steps, lr: Adam on the bend point. samples_per_step: t drawn uniformly at each
    step (the objective is their mean loss). points: the M points at which the trained
    curve's height is measured. chunk_size: at most this many images per pass (None:
    the landscape's own). seed: the draws of t."""

    steps: int = 100
    lr: float = 1e-3
    samples_per_step: int = 4
    points: int = 50
    chunk_size: int | None = None
    seed: int = 0

    def __post_init__(self):
        checks = {
            "steps": self.steps >= 0,
            "lr": self.lr > 0,
            "samples_per_step": self.samples_per_step >= 1,
            "points": self.points >= 2,
            "chunk_size": self.chunk_size is None or self.chunk_size >= 1,
        }
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"BezierConfig.{key} = {getattr(self, key)!r} is out of range")


class BezierPath(nn.Module):
    """w(t) = (1 - t)^2 w_a + 2 t (1 - t) theta + t^2 w_b; theta is the only parameter,
    the ends are buffers."""

    def __init__(self, w_a: torch.Tensor, w_b: torch.Tensor):
        super().__init__()
        if w_a.shape != w_b.shape or w_a.dim() != 1:
            raise ValueError(f"endpoints must be flat vectors of one length, got {tuple(w_a.shape)} and {tuple(w_b.shape)}")
        self.register_buffer("w_a", w_a)
        self.register_buffer("w_b", w_b)
        self.bend = nn.Parameter((w_a + w_b) / 2)

    def basis(self, t: torch.Tensor) -> torch.Tensor:
        """The Bernstein polynomials [(1 - t)^2, 2 t (1 - t), t^2] at the times t [M] -> [M, 3],
        computed in float64 so that the ends are exact: at t = 0 and 1 they are (1, 0, 0)
        and (0, 0, 1)."""
        t = t.to(torch.float64)[:, None]
        return torch.cat([(1 - t) ** 2, 2 * t * (1 - t), t**2], dim=1).to(self.w_a)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """The points w(t) [M, P] at the times t [M]."""
        b = self.basis(t)
        return b[:, :1] * self.w_a + b[:, 1:2] * self.bend + b[:, 2:] * self.w_b


@dataclass
class BezierResult:
    """One trained curve. Profiles and heights are on the full landscape."""

    t: np.ndarray
    losses: np.ndarray  # loss along the trained curve at the M points
    straight_losses: np.ndarray  # loss along the straight line at the same points
    height: float  # max of losses
    straight_height: float
    length: float  # sum of the segment norms between the M points
    straight_length: float
    objective: list[float]  # the mean loss over each step's drawn t, before that step's update
    seconds: float
    config: BezierConfig
    bend: np.ndarray  # theta [P]; not in to_dict (large)

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
            # no wall time (seconds): results are byte-identical across reruns
            "config": dataclasses.asdict(self.config),
        }


def find_bezier_path(
    landscape: Landscape,
    w_a,
    w_b,
    config: BezierConfig = BezierConfig(),
    progress: Callable[[int, float], None] | None = None,
) -> BezierResult:
    """Train a quadratic Bezier curve from ``w_a`` to ``w_b`` on ``landscape``.

    ``w_a``, ``w_b``: flat vectors in the landscape's dtype and device. ``progress(step,
    objective)``, if given, is called after every Adam step, with the objective as a 0-d
    tensor on the landscape's device (``float()`` reads it, and waits for the step). The
    loop itself reads nothing from the device: the objectives are read once, at the end.
    """
    start = time.perf_counter()
    w_a = torch.as_tensor(w_a)
    w_b = torch.as_tensor(w_b, dtype=w_a.dtype, device=w_a.device)
    if len(w_a) != landscape.n_params:
        raise ValueError(f"endpoints have {len(w_a)} components, the landscape {landscape.n_params}")
    if config.chunk_size is not None:
        landscape = landscape.with_chunk_size(config.chunk_size)
    path = BezierPath(w_a, w_b)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = Adam(path.bend, lr=config.lr)
    # Every step's t drawn first, by the same calls in the same order as one per step (the
    # same numbers), and copied to the device once: a copy per step would wait for the device.
    draws = [torch.rand(config.samples_per_step, generator=generator, dtype=torch.float64)
             for _ in range(config.steps)]
    draws = torch.stack(draws).to(w_a.device) if draws else None
    objective = []
    for step in range(config.steps):
        t = draws[step]
        path.bend.grad = None
        points = path(t)
        losses, grads = landscape.losses_and_grads(points.detach())
        # d mean_s loss(w(t_s)) / d theta = mean_s 2 t_s (1 - t_s) grad loss(w(t_s)),
        # by backpropagating the batched gradients through the curve.
        points.backward(grads / len(t))
        optimizer.step()
        objective.append(losses.mean())
        if progress is not None:
            progress(step, objective[-1])

    t = torch.linspace(0, 1, config.points, dtype=torch.float64)
    with torch.no_grad():
        straight = landscape.losses(BezierPath(w_a, w_b)(t))
        points = path(t)
        # The ends are w_a and w_b exactly: their losses are the straight line's.
        losses = torch.cat([straight[:1], landscape.losses(points[1:-1]), straight[-1:]])
    return BezierResult(
        **profile_fields(t, losses, straight, points, w_a, w_b),
        objective=_floats(objective),
        seconds=time.perf_counter() - start,
        config=config,
        bend=_numpy(path.bend.detach()),
    )
