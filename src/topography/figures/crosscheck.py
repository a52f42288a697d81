"""Figures of the curvature table and of the Bezier-versus-Fourier table (seaborn)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from ..design import NETWORK_LABELS, SETS, SET_LABELS
from .style import SET_COLORS, in_order, plt, require_columns, save_figure

# The curvature figure's panels: column of curvature.csv -> axis label.
CURVATURE_MEASURES = {
    "lambda_1": "top eigenvalue $\\lambda_1$",
    "trace": "trace (Hutchinson)",
    "lambda_1_x_norm2": "$\\lambda_1\\,|w|^2$",
    "adaptive_trace": "tr(diag|w| H diag|w|)",
}
# A measure's axis goes logarithmic when its positive values span more than this factor.
LOG_SCALE_RATIO = 100.0


def _palette(sets) -> dict:
    return {SET_LABELS.get(s, s): SET_COLORS.get(s, "grey") for s in sets}


def plot_curvature(table: pd.DataFrame, network: str, *paths) -> None:
    """The distributions of the curvature measures over each set's vectors, for one
    network: a column per measure, a row per landscape; each vector a dot, each set a box."""
    require_columns(table, "the curvature table", ["network", "set", "landscape", *CURVATURE_MEASURES])
    table = table[table["network"] == network]
    if table.empty:
        raise ValueError(f"the curvature table has no rows for network {network!r}")
    sets = in_order(table["set"], SETS)
    table = table.assign(set_label=table["set"].map(lambda s: SET_LABELS.get(s, s)))
    order = [SET_LABELS.get(s, s) for s in sets]
    landscapes = [l for l in ("train", "test") if l in set(table["landscape"])]
    landscapes += [l for l in dict.fromkeys(table["landscape"]) if l not in landscapes]
    # seaborn's jitter draws from numpy's global generator: seeded, the figure is the same
    # bytes on every run.
    np.random.seed(0)
    fig, axes = plt.subplots(len(landscapes), len(CURVATURE_MEASURES), squeeze=False,
                             figsize=(3.3 * len(CURVATURE_MEASURES), 3.0 * len(landscapes)), layout="constrained")
    for row, landscape in zip(axes, landscapes):
        panel = table[table["landscape"] == landscape]
        for ax, (column, label) in zip(row, CURVATURE_MEASURES.items()):
            sns.boxplot(panel, x="set_label", y=column, hue="set_label", order=order, hue_order=order,
                        palette=_palette(sets), ax=ax, fill=False, showfliers=False, legend=False)
            sns.stripplot(panel, x="set_label", y=column, hue="set_label", order=order, hue_order=order,
                          palette=_palette(sets), ax=ax, size=5, jitter=0.15, legend=False)
            values = panel[column].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if len(values) and values.min() > 0 and values.max() / values.min() > LOG_SCALE_RATIO:
                ax.set_yscale("log")
            ax.set(xlabel="", ylabel=label)
            ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        row[0].set_title(f"{landscape} landscape", loc="left", fontsize=9)
    fig.suptitle(f"{NETWORK_LABELS.get(network, network)}: curvature at each solution")
    save_figure(fig, *paths)


def plot_bezier_vs_fourier(table: pd.DataFrame, *paths) -> None:
    """Each pair's Bezier height against its Fourier height, a panel per network (rows)
    and set (columns), the diagonal dashed; the straight line's height as grey crosses."""
    require_columns(table, "the Bezier table", ["network", "landscape", "set", "bezier_height", "fourier_height",
                                          "straight_height"])
    networks = [n for n in NETWORK_LABELS if n in set(table["network"])]
    networks += [n for n in dict.fromkeys(table["network"]) if n not in networks]
    sets = in_order(table["set"], SETS)
    fig, axes = plt.subplots(len(networks), len(sets), squeeze=False, figsize=(3.0 * len(sets), 2.9 * len(networks)),
                             layout="constrained")
    landscapes = list(dict.fromkeys(table["landscape"]))
    markers = {landscape: {"train": "o", "test": "^"}.get(landscape, "s") for landscape in landscapes}
    for i, network in enumerate(networks):
        for j, set_name in enumerate(sets):
            ax = axes[i, j]
            panel = table[(table["network"] == network) & (table["set"] == set_name)]
            if panel.empty:
                ax.set_axis_off()
                continue
            sns.scatterplot(panel, x="fourier_height", y="straight_height", marker="x", color="grey", s=22,
                            linewidth=1.0, ax=ax)
            # The marker says the landscape (seaborn's style); the colour is the panel's set.
            sns.scatterplot(panel, x="fourier_height", y="bezier_height", style="landscape", style_order=landscapes,
                            markers=markers, color=SET_COLORS.get(set_name, "grey"), s=30, edgecolor="black",
                            linewidth=0.5, legend=False, ax=ax)
            ax.set(xlabel="", ylabel="")
            values = panel[["fourier_height", "bezier_height", "straight_height"]].to_numpy(dtype=float)
            low, high = np.nanmin(values), np.nanmax(values)
            pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
            ax.plot([low - pad, high + pad], [low - pad, high + pad], ls="--", color="black", lw=0.8)
            ax.set_title(f"{NETWORK_LABELS.get(network, network)}, {SET_LABELS.get(set_name, set_name)}", fontsize=9)
            ax.tick_params(labelsize=7)
            if i == len(networks) - 1:
                ax.set_xlabel("Fourier height H")
            if j == 0:
                ax.set_ylabel("Bezier / straight height")
    # Neutral legend markers: the colours are the sets', named in each panel's title.
    handles = {"straight line": plt.Line2D([], [], marker="x", ls="", color="grey")}
    for landscape in landscapes:
        handles[f"Bezier, {landscape} landscape"] = plt.Line2D(
            [], [], marker=markers[landscape], ls="", markerfacecolor="white", markeredgecolor="black")
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=len(handles), frameon=False,
               fontsize=8)
    fig.suptitle("Path heights: quadratic Bezier curve against FourierPathFinder, pair by pair")
    save_figure(fig, *paths)
