"""Paper figure 3: the paths on the 2D toy landscape (toy.py) and the loss along each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..toy import W1, W2, toy_landscape
from .style import plt, save_figure


def plot_toy(profiles: pd.DataFrame, *paths, objective: str = "squared") -> None:
    """Paper figure 3: the contour map with every path (left), the loss along each path
    with its height marked (right). Saved to each of ``paths`` (PDF, PNG, ...); the title
    says which ``objective`` the paths minimised."""
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
    minimised = {"squared": "Σ f(w(t_m))²", "linear": "Σ f(w(t_m))"}.get(objective, objective)
    fig.suptitle(f"Paths minimising {minimised} + λ Σ |w(t_(m+1)) − w(t_m)|²")
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
