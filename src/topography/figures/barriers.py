"""Barrier heights between pairs of solutions: the figures (the tables are tables.py's).

Paper figure 4 (training landscape, four sets) and figure S2 (test landscape, the two
test sets) are histograms of the heights H of the paths FourierPathFinder found between
random pairs of each solution set, one panel per network.
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from ..design import LANDSCAPES, NETWORK_LABELS, SETS, SET_LABELS
from ..tables import HEIGHT_COLUMNS, in_paper_order
from .style import SET_COLORS, in_order, plt, save_figure, set_palette

# Histograms switch to logarithmic bins when the heights span more than this factor.
LOG_SCALE_RATIO = 100.0


def plot_barriers(table: pd.DataFrame, landscape: str, *paths, bins: int = 20) -> None:
    """Histograms of path heights per set, one panel per network, for one landscape
    ('train': paper figure 4; 'test': figure S2), saved to each of ``paths``."""
    missing = [c for c in ("network", "landscape", "set", "height") if c not in table.columns]
    if missing:
        raise ValueError(f"barrier table lacks the column(s) {', '.join(missing)}")
    table = in_paper_order(table[table["landscape"] == landscape].dropna(subset=["height"]), [])
    if table.empty:
        raise ValueError(f"no path heights on the {landscape!r} landscape to plot")
    networks = list(dict.fromkeys(table["network"]))
    fig, axes = plt.subplots(1, len(networks), figsize=(3.6 * len(networks), 3.4), squeeze=False, layout="constrained")
    for ax, network in zip(axes[0], networks):
        _histograms(ax, table[table["network"] == network], bins)
        ax.set_title(NETWORK_LABELS.get(network, network))
    axes[0][0].set_ylabel("pairs")
    present = in_order(table["set"], SETS)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=SET_COLORS.get(s, "grey"), alpha=0.55,
                             edgecolor=SET_COLORS.get(s, "grey")) for s in present]
    labels = [SET_LABELS.get(s, s) for s in present]
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    name = {"train": "training", "test": "test"}.get(landscape, landscape)
    fig.suptitle(f"Heights of the optimised paths on the {name} landscape")
    save_figure(fig, *paths)


def _histograms(ax, panel: pd.DataFrame, bins: int) -> None:
    """One histogram per set on bins shared by the sets, filled and outlined (log bins,
    equal in log space, when the heights span decades)."""
    heights = panel["height"].to_numpy(dtype=float)
    low, high = heights.min(), heights.max()
    sets = in_order(panel["set"], SETS)
    sns.histplot(data=panel, x="height", hue="set", hue_order=sets, palette=set_palette(sets),
                 bins=bins, common_bins=True, log_scale=bool(low > 0 and high / low > LOG_SCALE_RATIO),
                 multiple="layer", element="step", alpha=0.55, linewidth=1.2, legend=False, ax=ax)
    ax.set_xlabel("path height H")
    ax.set_ylabel("")
    ax.yaxis.get_major_locator().set_params(integer=True)


def plot_barrier_budget(heights: pd.DataFrame, *paths) -> None:
    """The median path height (over the pairs of a set) against the Adam step, one panel
    per network and landscape: how the barrier depends on the optimisation budget, which
    the paper does not show. The band spans the pairs' middle half."""
    missing = [c for c in HEIGHT_COLUMNS if c not in heights.columns]
    if missing:
        raise ValueError(f"height table lacks the column(s) {', '.join(missing)}")
    if heights.empty:
        raise ValueError("no per-step path heights to plot (paths run with mini-batches record none)")
    heights = in_paper_order(heights, ["pair", "step"])
    networks = list(dict.fromkeys(heights["network"]))
    landscapes = [k for k in LANDSCAPES if k in set(heights["landscape"])]
    fig, axes = plt.subplots(len(landscapes), len(networks), figsize=(3.6 * len(networks), 3.0 * len(landscapes)),
                             squeeze=False, layout="constrained")
    for row, landscape in zip(axes, landscapes):
        for ax, network in zip(row, networks):
            panel = heights[(heights["network"] == network) & (heights["landscape"] == landscape)]
            if panel.empty:
                ax.set_axis_off()
                continue
            sns.lineplot(data=panel, x="step", y="height", hue="set", estimator="median", errorbar=("pi", 50),
                         palette=SET_COLORS, hue_order=[s for s in SETS if s in set(panel["set"])], ax=ax,
                         legend=False)
            ax.set(title=f"{NETWORK_LABELS.get(network, network)}, {landscape} landscape",
                   xlabel="Adam step", ylabel="median height H")
            if panel["height"].min() > 0 and panel["height"].max() / panel["height"].min() > LOG_SCALE_RATIO:
                ax.set_yscale("log")
    present = [s for s in SETS if s in set(heights["set"])]
    handles = [plt.Line2D([], [], color=SET_COLORS[s], lw=2) for s in present]
    fig.legend(handles, [SET_LABELS[s] for s in present], loc="outside lower center", ncols=len(present), frameon=False)
    fig.suptitle("Path height against the optimisation budget (median over pairs, band: middle half)")
    save_figure(fig, *paths)
