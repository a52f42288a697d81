"""The paper's figures of losses and solution-set geometry, drawn from tidy tables.

Each ``plot_*`` function takes the DataFrames written by the train, select and geometry
stages and one or more output paths (format from the suffix: .pdf, .png), and writes the
figure atomically through :func:`style.save_figure`. Panels are laid out for the networks
present in the table, in the paper's order; a network (or optimizer, kernel) that is
absent just has no panel. An empty table, or one missing the columns a figure needs,
raises a ValueError naming what is missing.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd
import seaborn as sns

from ..design import KINDS, NETWORK_LABELS, OPTIMIZERS, OPTIMIZER_LABELS, SET_LABELS, set_name
from ..geometry import KERNELS, representative_runs
from .style import SET_COLORS, in_order, plt, require_columns, save_figure, set_palette

HISTORY_COLUMNS = ("network", "optimizer", "seed", "epoch", "split", "loss")
DISTANCE_COLUMNS = ("network", "comparison", "set", "kind", "distance")
PROJECTION_COLUMNS = ("network", "comparison", "kernel", "set", "pc1", "pc2")
SEPARATION_COLUMNS = ("network", "comparison", "kernel", "auc")
SPLIT_LABELS = {"train": "training loss", "test": "test loss"}
# A loss axis goes logarithmic once the curve spans more than this factor.
LOG_SCALE_RATIO = 10.0


# ---------------------------------------------------------------------------------------
# shared helpers


def _networks(frame: pd.DataFrame) -> list[str]:
    return in_order(frame["network"], NETWORK_LABELS)


def _one_comparison(frame: pd.DataFrame, comparison: str | None, what: str) -> pd.DataFrame:
    """The rows of one comparison; ``None`` is allowed when the table holds only one."""
    available = list(pd.unique(frame["comparison"]))
    if comparison is None:
        if len(available) != 1:
            raise ValueError(f"{what} holds comparisons {available}: name one with comparison=")
        comparison = available[0]
    if comparison not in available:
        raise ValueError(f"{what} has no comparison {comparison!r}; it holds {available}")
    return frame[frame["comparison"] == comparison]


def _comparison_title(comparison: str) -> str:
    return " vs ".join(SET_LABELS.get(name, name) for name in comparison.split("_vs_"))


def _panels(n: int, width: float = 4.0, height: float = 3.2):
    """A grid for ``n`` panels (two columns from four panels on), spare axes hidden."""
    ncols = n if n < 4 else 2
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes[:n]


def _grid(frame: pd.DataFrame, column: str, values: list[str], cell_size: tuple[float, float]):
    """A figure with a row per network and a column per value of ``column``; returns it
    with the filled cells as (ax, row, col, network, value, rows of ``frame``). Empty
    cells are switched off."""
    networks = _networks(frame)
    width, height = cell_size
    fig, axes = plt.subplots(
        len(networks), len(values), figsize=(width * len(values), height * len(networks)), squeeze=False
    )
    cells = []
    for i, network in enumerate(networks):
        for j, value in enumerate(values):
            panel = frame[(frame["network"] == network) & (frame[column] == value)]
            if panel.empty:
                axes[i, j].set_axis_off()
            else:
                cells.append((axes[i, j], i, j, network, value, panel))
    return fig, cells


def _save(fig, paths) -> None:
    if not paths:
        plt.close(fig)
        raise ValueError("no output path given")
    save_figure(fig, *paths)


def _set_legend(fig, sets: Iterable[str], title: str, extra: Iterable[tuple] = ()) -> None:
    """One legend for the whole figure, above the panels: the sets' colours (and ``extra``
    (handle, label) pairs), titled."""
    sets = list(sets)
    handles = [plt.Line2D([], [], marker="o", ls="", color=SET_COLORS.get(s, "grey")) for s in sets]
    labels = [SET_LABELS.get(s, s) for s in sets]
    for handle, label in extra:
        handles.append(handle)
        labels.append(label)
    fig.legend(
        handles, labels, title=title, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(labels), frameon=False
    )


# ---------------------------------------------------------------------------------------
# Figures 2 and S1: loss curves of representative runs


def _plot_run(ax, run: pd.DataFrame, optimizer: str) -> None:
    """Training and test loss of one run (a line per split, coloured as the split's set);
    dashed lines at the epochs of their minima."""
    splits = [s for s in KINDS if run.loc[run["split"] == s, "loss"].notna().any()]
    colors = {split: SET_COLORS[set_name(optimizer, split)] for split in splits}
    sns.lineplot(data=run[run["split"].isin(splits)], x="epoch", y="loss", hue="split", hue_order=splits,
                 palette=colors, estimator=None, sort=True, lw=1.2, legend=False, ax=ax)
    handles = []
    for split in splits:
        curve = run[run["split"] == split]
        best = curve.loc[curve["loss"].idxmin(), "epoch"]
        handles.append(plt.Line2D([], [], color=colors[split], lw=1.2, label=SPLIT_LABELS[split]))
        handles.append(ax.axvline(best, color=colors[split], ls="--", lw=0.9,
                                  label=f"min {SPLIT_LABELS[split]} (epoch {best:g})"))
    ax.legend(handles=handles, fontsize=7)
    losses = run["loss"].to_numpy(dtype=float)
    losses = losses[np.isfinite(losses)]
    if len(losses) and losses.min() > 0 and losses.max() / losses.min() > LOG_SCALE_RATIO:
        ax.set_yscale("log")


def plot_loss_curves(history: pd.DataFrame, *paths, runs: pd.DataFrame | None = None) -> None:
    """Paper figures 2 / S1: loss against epoch, rows networks, columns optimizers.

    ``history`` is the concatenated per-run history (network, optimizer, seed, epoch,
    split, loss). Given ``runs``, only the runs chosen by :func:`representative_runs` are
    drawn; otherwise ``history`` must already hold one run per network and optimizer.
    """
    require_columns(history, "the loss history", HISTORY_COLUMNS)
    if runs is not None:
        keep = representative_runs(runs)[["network", "optimizer", "seed"]]
        history = history.merge(keep, on=["network", "optimizer", "seed"])
        require_columns(history, "the loss history of the representative runs", HISTORY_COLUMNS)
    seeds = history.groupby(["network", "optimizer"])["seed"].nunique()
    if (seeds > 1).any():
        several = ", ".join(f"{n}/{o}" for n, o in seeds[seeds > 1].index)
        raise ValueError(f"the loss history holds several runs for {several}: pass runs= to pick one")

    fig, cells = _grid(history, "optimizer", in_order(history["optimizer"], OPTIMIZERS), (4.5, 2.8))
    for ax, _, _, network, optimizer, run in cells:
        _plot_run(ax, run, optimizer)
        ax.set_title(
            f"{NETWORK_LABELS.get(network, network)}, {OPTIMIZER_LABELS.get(optimizer, optimizer)}"
            f" (seed {run['seed'].iloc[0]})",
            fontsize=10,
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
    fig.tight_layout()
    _save(fig, paths)


# ---------------------------------------------------------------------------------------
# Figures 5 and S3: distances to the common origin


def plot_distances(distances: pd.DataFrame, *paths, comparison: str | None = None, bins: int = 30) -> None:
    """Paper figures 5 / S3: histograms of the distance to the common origin, a panel per network.

    ``distances`` is the output of :func:`geometry.distances_to_origin` (one or more
    networks). The two sets share their bins; the centroids' distance (the same for both
    sets, |c_A - c_B| / 2) is the dashed black line.
    """
    require_columns(distances, "the distance table", DISTANCE_COLUMNS)
    distances = _one_comparison(distances, comparison, "the distance table")
    comparison = distances["comparison"].iloc[0]
    sets = list(pd.unique(distances["set"]))
    networks = _networks(distances)
    fig, axes = _panels(len(networks))
    for ax, network in zip(axes, networks):
        panel = distances[distances["network"] == network]
        vectors = panel[panel["kind"] == "vector"]
        # One histogram per set, on bins shared by the sets (seaborn's common_bins).
        sns.histplot(data=vectors, x="distance", hue="set", hue_order=[s for s in sets if s in set(vectors["set"])],
                     palette=set_palette(sets), bins=bins, common_bins=True, multiple="layer", element="bars",
                     alpha=0.75, legend=False, ax=ax)
        for value in np.unique(panel.loc[panel["kind"] == "centroid", "distance"].round(12)):
            ax.axvline(value, color="black", ls="--", lw=1.0)
        ax.set_title(NETWORK_LABELS.get(network, network))
        ax.set_xlabel("distance to common origin")
        ax.set_ylabel("count")
    fig.tight_layout()
    centroid = (plt.Line2D([], [], color="black", ls="--", lw=1.0), "centroids")
    _set_legend(fig, sets, _comparison_title(comparison), extra=[centroid])
    _save(fig, paths)


# ---------------------------------------------------------------------------------------
# Figures 6 and S4: kernel PCA projections


def _scatter_sets(ax, panel: pd.DataFrame) -> None:
    """PC1 against PC2, coloured by set; undefined PC2 (two vectors only) drawn at 0."""
    sets = list(pd.unique(panel["set"]))
    sns.scatterplot(data=panel.assign(pc2=panel["pc2"].fillna(0.0)), x="pc1", y="pc2", hue="set", hue_order=sets,
                    palette=set_palette(sets), s=14, alpha=0.8, legend=False, ax=ax)


def _one_kernel(projection: pd.DataFrame, kernel: str) -> pd.DataFrame:
    available = list(pd.unique(projection["kernel"]))
    if kernel not in available:
        raise ValueError(f"the projection table has no kernel {kernel!r}; it holds {available}")
    return projection[projection["kernel"] == kernel]


def plot_kernel_pca(projection: pd.DataFrame, *paths, kernel: str = "rbf", comparison: str | None = None) -> None:
    """Paper figures 6 / S4: the first two kernel principal components, a panel per network.

    ``projection`` is the output of :func:`geometry.kernel_pca` (one or more networks,
    possibly several kernels; ``kernel`` picks one).
    """
    require_columns(projection, "the projection table", PROJECTION_COLUMNS)
    projection = _one_comparison(_one_kernel(projection, kernel), comparison, "the projection table")
    networks = _networks(projection)
    fig, axes = _panels(len(networks))
    for ax, network in zip(axes, networks):
        _scatter_sets(ax, projection[projection["network"] == network])
        ax.set_title(NETWORK_LABELS.get(network, network))
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
    fig.tight_layout()
    title = f"{_comparison_title(projection['comparison'].iloc[0])}, {kernel} kernel"
    _set_legend(fig, pd.unique(projection["set"]), title)
    _save(fig, paths)


def plot_kernel_comparison(
    projection: pd.DataFrame, separation: pd.DataFrame, *paths, comparison: str | None = None
) -> None:
    """Kernel PCA with each kernel side by side: rows networks, columns kernels.

    Each panel shows PC1 against PC2 and the folded ROC AUC of PC1 from
    :func:`geometry.separation` (0.5: no separation, 1: perfect).
    """
    require_columns(projection, "the projection table", PROJECTION_COLUMNS)
    require_columns(separation, "the separation table", SEPARATION_COLUMNS)
    projection = _one_comparison(projection, comparison, "the projection table")
    comparison = projection["comparison"].iloc[0]
    auc = separation[separation["comparison"] == comparison].set_index(["network", "kernel"])["auc"]
    n_rows = len(_networks(projection))
    fig, cells = _grid(projection, "kernel", in_order(projection["kernel"], KERNELS), (3.0, 2.7))
    for ax, i, j, network, kernel, panel in cells:
        _scatter_sets(ax, panel)
        if (network, kernel) in auc.index:
            ax.text(0.03, 0.95, f"AUC {auc[(network, kernel)]:.2f}", transform=ax.transAxes, va="top", fontsize=9,
                    bbox=dict(facecolor="white", alpha=0.8, edgecolor="none", pad=1.5))
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.set_title(kernel)
        if j == 0:
            ax.set_ylabel(f"{NETWORK_LABELS.get(network, network)}\nPC2")
        if i == n_rows - 1:
            ax.set_xlabel("PC1")
    fig.tight_layout()
    _set_legend(fig, pd.unique(projection["set"]), _comparison_title(comparison))
    _save(fig, paths)
