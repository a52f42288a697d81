"""The 2D toy landscape of paper figure 3, and FourierPathFinder on it.

    f(r) = - exp(-3 |r - c1|^2) - exp(-3 |r - c2|^2)
           + exp(-15 |r - d1|^2) + exp(-15 |r - d2|^2) + C

Two attracting Gaussians (the minima near c1, c2) and two repelling bumps (d1, d2) that
sit near the straight line between the endpoints w1 and w2, so the straight path climbs
over a bump while an optimised path can go around it. How far around depends on lambda,
the weight of the length term.

The defaults are the authors' toy run, which differs from the network experiment: its
objective is the squared landscape, sum_m f(w(t_m))^2 (``objective='squared'``; 'linear'
minimises sum_m f as on the networks), plus lambda times the squared segment lengths; it
takes 15 sine terms, 101 points, 300 Adam steps at rate 0.01 with unit Gaussian noise on
the gradient, and keeps the lowest-objective path seen. Whatever is minimised, the height
of a path is the largest f along it.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from .landscape import FunctionLandscape
from .pathfinder import PathConfig, find_path, path_points

C1, C2 = (-0.5, -0.5), (0.5, 0.0)  # attracting Gaussians
D1, D2 = (-0.2, -0.4), (0.0, 0.3)  # repelling bumps
OFFSET = 1.0190055296306975  # the constant C of the paper
W1, W2 = (-0.62, -0.54), (0.49, -0.02)  # the endpoints


def toy_loss(r: torch.Tensor) -> torch.Tensor:
    """f at one point r = (x, y); written with tensor ops so that vmap batches it."""
    centres = r.new_tensor([C1, C2, D1, D2])
    widths = r.new_tensor([3.0, 3.0, 15.0, 15.0])
    signs = r.new_tensor([-1.0, -1.0, 1.0, 1.0])
    squared = (r - centres).pow(2).sum(dim=-1)
    return (signs * torch.exp(-widths * squared)).sum() + OFFSET


def toy_landscape() -> FunctionLandscape:
    return FunctionLandscape(toy_loss, n_params=2)


def squared_toy_loss(r: torch.Tensor) -> torch.Tensor:
    """f(r)^2: the authors' toy objective (a squared error of f against 0)."""
    return toy_loss(r).pow(2)


TOY_OBJECTIVES = {"squared": squared_toy_loss, "linear": toy_loss}


def path_name(lam: float | None) -> str:
    return "straight" if lam is None else f"lambda={lam:g}"


def run_toy(
    lams=(10, 100, 1000),
    points: int = 101,
    steps: int = 300,
    lr: float = 0.01,
    grad_noise: float = 1.0,
    seed: int = 0,
    objective: str = "squared",
    n_fourier: int = 15,
    keep: str = "best",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The straight path and one optimised path per lambda between w1 and w2.

    ``objective`` picks what the path finder minimises along the path ('squared': f^2,
    the authors'; 'linear': f); heights and profiles are always of f. Returns (heights,
    profiles): heights has one row per path (path, lam, height, length, objective; lam
    is NaN for the straight line), profiles one row per path and point (path, lam, t, x,
    y, loss).
    """
    if len(lams) == 0:
        raise ValueError("run_toy needs at least one lambda")
    if objective not in TOY_OBJECTIVES:
        raise ValueError(f"toy objective {objective!r}; expected one of {', '.join(TOY_OBJECTIVES)}")
    minimised = FunctionLandscape(TOY_OBJECTIVES[objective], n_params=2)
    landscape = toy_landscape()
    w1, w2 = torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64)
    t = torch.linspace(0, 1, points, dtype=torch.float64)
    heights, profiles = [], []
    for lam in lams:
        config = PathConfig(n_fourier=n_fourier, points=points, lam=lam, steps=steps, lr=lr,
                            grad_noise=grad_noise, seed=seed, keep=keep)
        result = find_path(minimised, w1, w2, config)
        coords = path_points(w1, w2, result.coefficients, t)
        losses = landscape.losses(coords).numpy()
        heights.append(_height_row(path_name(lam), lam, float(losses.max()), result.length, objective))
        profiles.append(_profile(path_name(lam), lam, t.numpy(), coords.numpy(), losses))
    straight = torch.outer(1 - t, w1.new_tensor(W1)) + torch.outer(t, w1.new_tensor(W2))
    straight_losses = landscape.losses(straight).numpy()
    heights.insert(0, _height_row("straight", math.nan, float(straight_losses.max()), result.straight_length, objective))
    profiles.insert(0, _profile("straight", math.nan, t.numpy(), straight.numpy(), straight_losses))
    return pd.DataFrame(heights), pd.concat(profiles, ignore_index=True)


def _height_row(path, lam, height, length, objective) -> dict:
    return {"path": path, "lam": lam, "height": height, "length": length, "objective": objective}


def _profile(path, lam, t, coords, losses) -> pd.DataFrame:
    return pd.DataFrame({"path": path, "lam": lam, "t": t, "x": coords[:, 0], "y": coords[:, 1], "loss": losses})
