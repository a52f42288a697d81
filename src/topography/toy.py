"""The 2D toy landscape of paper figure 3, and FourierPathFinder on it.

    f(r) = - exp(-3 |r - c1|^2) - exp(-3 |r - c2|^2)
           + exp(-15 |r - d1|^2) + exp(-15 |r - d2|^2) + C

Two attracting Gaussians (the minima near c1, c2) and two repelling bumps (d1, d2) that
sit near the straight line between the endpoints w1 and w2, so the straight path climbs
over a bump while an optimised path can go around it. How far around depends on lambda,
the weight of the length term.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from .landscape import FunctionLandscape
from .pathfinder import PathConfig, find_path, path_points
from .style import plt, save_figure

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


def path_name(lam: float | None) -> str:
    return "straight" if lam is None else f"lambda={lam:g}"


def run_toy(
    lams=(10, 100, 1000),
    points: int = 100,
    steps: int = 300,
    lr: float = 0.01,
    grad_noise: float = 1.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The straight path and one optimised path per lambda between w1 and w2.

    Returns (heights, profiles): heights has one row per path (path, lam, height,
    length; lam is NaN for the straight line), profiles one row per path and point
    (path, lam, t, x, y, loss).
    """
    if len(lams) == 0:
        raise ValueError("run_toy needs at least one lambda")
    landscape = toy_landscape()
    w1, w2 = torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64)
    heights, profiles = [], []
    for lam in lams:
        config = PathConfig(n_fourier=10, points=points, lam=lam, steps=steps, lr=lr, grad_noise=grad_noise, seed=seed)
        result = find_path(landscape, w1, w2, config)
        coords = path_points(w1, w2, result.coefficients, result.t).numpy()
        heights.append(_height_row(path_name(lam), lam, result.height, result.length))
        profiles.append(_profile(path_name(lam), lam, result.t, coords, result.losses))
    # The straight line (all b_n zero) is the same whatever lambda; take it from the last run.
    straight = np.outer(1 - result.t, W1) + np.outer(result.t, W2)
    heights.insert(0, _height_row("straight", math.nan, result.straight_height, result.straight_length))
    profiles.insert(0, _profile("straight", math.nan, result.t, straight, result.straight_losses))
    return pd.DataFrame(heights), pd.concat(profiles, ignore_index=True)


def _height_row(path, lam, height, length) -> dict:
    return {"path": path, "lam": lam, "height": height, "length": length}


def _profile(path, lam, t, coords, losses) -> pd.DataFrame:
    return pd.DataFrame({"path": path, "lam": lam, "t": t, "x": coords[:, 0], "y": coords[:, 1], "loss": losses})


def plot_toy(profiles: pd.DataFrame, *paths) -> None:
    """Paper figure 3: the contour map with every path (left), the loss along each path
    with its height marked (right). Saved to each of ``paths`` (PDF, PNG, ...)."""
    if profiles.empty:
        raise ValueError("no toy paths to plot")
    fig, (ax_map, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    _draw_contours(ax_map, profiles)
    names = list(dict.fromkeys(profiles["path"]))  # in table order: straight first
    colors = plt.get_cmap("plasma")(np.linspace(0.1, 0.8, max(1, len(names) - 1)))
    styles = {name: ("k", "--") if name == "straight" else (colors[i - 1], "-") for i, name in enumerate(names)}
    for name in names:
        one = profiles[profiles["path"] == name]
        color, line = styles[name]
        label = name.replace("lambda=", "λ = ")
        ax_map.plot(one["x"], one["y"], line, color=color, lw=1.8, label=label)
        ax_loss.plot(one["t"], one["loss"], line, color=color, lw=1.8, label=label)
        top = one["loss"].idxmax()
        ax_loss.plot(one.at[top, "t"], one.at[top, "loss"], "o", color=color, ms=6)
        ax_loss.axhline(one.at[top, "loss"], color=color, lw=0.8, ls=":")
    ax_map.plot(*zip(W1, W2), "ko", ms=5)
    for name, point in (("$w_1$", W1), ("$w_2$", W2)):
        ax_map.annotate(name, point, textcoords="offset points", xytext=(5, -12))
    ax_map.set(xlabel="x", ylabel="y", title="Paths on the toy landscape", aspect="equal")
    ax_map.legend(loc="upper left", fontsize=8)
    ax_loss.set(xlabel="t", ylabel="f(w(t))", title="Loss along each path (dot, dotted line: height H)")
    ax_loss.legend(fontsize=8)
    save_figure(fig, *paths)


def _draw_contours(ax, profiles: pd.DataFrame) -> None:
    margin = 0.25
    x = np.linspace(min(profiles["x"].min(), -1.0) - margin, max(profiles["x"].max(), 1.0) + margin, 200)
    y = np.linspace(min(profiles["y"].min(), -1.0) - margin, max(profiles["y"].max(), 0.6) + margin, 200)
    grid = torch.tensor(np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2))
    z = toy_landscape().losses(grid).numpy().reshape(len(y), len(x))
    filled = ax.contourf(x, y, z, levels=30, cmap="viridis")
    ax.contour(x, y, z, levels=15, colors="white", linewidths=0.4, alpha=0.5)
    ax.figure.colorbar(filled, ax=ax, label="f(x, y)")
