"""Barrier heights between pairs of solutions: the tidy tables and the figures.

Paper figure 4 (training landscape, four sets) and figure S2 (test landscape, the two
test sets) are histograms of the heights H of the paths FourierPathFinder found between
random pairs of each solution set, one panel per network.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import seaborn as sns

from ..design import LANDSCAPES, ORDER, SETS
from ..workflow.io import read_json, read_table, write_csv
from ..workflow.runtime import Job
from .style import NETWORK_LABELS, SET_COLORS, SET_LABELS, in_order, plt, save_figure, set_palette

BARRIER_COLUMNS = (
    "network", "landscape", "set", "pair", "i", "j", "height", "straight_height", "length"
)
PROFILE_COLUMNS = ("network", "landscape", "set", "pair", "t", "loss", "straight_loss")
HEIGHT_COLUMNS = ("network", "landscape", "set", "pair", "step", "height")
# Histograms switch to logarithmic bins when the heights span more than this factor.
LOG_SCALE_RATIO = 100.0


def heights_converged(heights, tol: float) -> bool | None:
    """Whether a path's height settled: over the last quarter of its steps it stayed
    within the fraction ``tol`` of its final value. ``heights`` holds the height after
    0, 1, ..., S steps; None when there is nothing to judge (no per-step heights, as in
    mini-batch mode, or fewer than 4 steps)."""
    heights = np.asarray(heights, dtype=float)
    steps = len(heights) - 1
    if steps < 4:
        return None
    tail = heights[steps - steps // 4 :]
    return bool(np.all(np.abs(tail - heights[-1]) <= tol * abs(heights[-1])))


def collect_barriers(records: Iterable[Mapping], converged_tol: float = 0.05) -> pd.DataFrame:
    """One row per path from per-pair result dicts (each holding the keys of
    ``BARRIER_COLUMNS``, e.g. a PathResult.to_dict() with network, landscape, set, pair,
    i, j added), in the paper's order of networks, landscapes and sets. Where a record
    has per-step heights, ``converged`` says whether its height settled
    (:func:`heights_converged` with ``converged_tol``) and ``kept_step`` which step's path
    was kept."""
    rows = []
    for record in records:
        row = _pick(record, BARRIER_COLUMNS)
        row["converged"] = heights_converged(record.get("heights") or [], converged_tol)
        row["kept_step"] = record.get("kept_step", -1)
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*BARRIER_COLUMNS, "converged", "kept_step"])
    return _sorted(table, ["pair"])


def collect_heights(records: Iterable[Mapping]) -> pd.DataFrame:
    """The height of each path after every Adam step (full-batch paths), one row per step."""
    frames = [
        pd.DataFrame({**{k: record[k] for k in ("network", "landscape", "set", "pair")},
                      "step": np.arange(len(record["heights"])), "height": record["heights"]})
        for record in records
        if record.get("heights")
    ]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(HEIGHT_COLUMNS))
    return _sorted(table, ["pair", "step"])


def collect_profiles(records: Iterable[Mapping]) -> pd.DataFrame:
    """The loss along each path and along its straight line, one row per point."""
    frames = []
    for record in records:
        keys = _pick(record, ("network", "landscape", "set", "pair", "t", "losses", "straight_losses"))
        frames.append(
            pd.DataFrame(
                {
                    **{k: keys[k] for k in ("network", "landscape", "set", "pair")},
                    "t": keys["t"],
                    "loss": keys["losses"],
                    "straight_loss": keys["straight_losses"],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(PROFILE_COLUMNS))
    return _sorted(table, ["pair", "t"])


def _pick(record: Mapping, keys) -> dict:
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"path record lacks {', '.join(missing)}")
    return {k: record[k] for k in keys}


def _sorted(table: pd.DataFrame, then: list[str]) -> pd.DataFrame:
    """Rows in the paper's order of networks, landscapes and sets (unknown names last)."""
    order = {c: ORDER[c] for c in ("network", "landscape", "set")}
    keys = {col: table[col].map(lambda v, names=names: _rank(v, names)) for col, names in order.items()}
    ranked = table.assign(**{f"_{c}": k for c, k in keys.items()})
    ranked = ranked.sort_values([f"_{c}" for c in order] + list(order) + then, kind="stable")
    return ranked.drop(columns=[f"_{c}" for c in order]).reset_index(drop=True)


def _rank(value, names) -> int:
    return names.index(value) if value in names else len(names)


def plot_barriers(table: pd.DataFrame, landscape: str, *paths, bins: int = 20) -> None:
    """Histograms of path heights per set, one panel per network, for one landscape
    ('train': paper figure 4; 'test': figure S2), saved to each of ``paths``."""
    missing = [c for c in ("network", "landscape", "set", "height") if c not in table.columns]
    if missing:
        raise ValueError(f"barrier table lacks the column(s) {', '.join(missing)}")
    table = _sorted(table[table["landscape"] == landscape].dropna(subset=["height"]), [])
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
    heights = _sorted(heights, ["pair", "step"])
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


# ---------------------------------------------------------------------------------------
# the jobs of the barrier_table, barrier_figure and barrier_budget_figure rules


def barrier_table_job(job: Job) -> None:
    """The ``barrier_table`` rule: every pair's height (and whether it converged, within
    ``params["converged_tol"]``), every path's loss profile, and every path's height after
    each step. input: paths (the path jobs' JSON); output: barriers, profiles, heights."""
    records = [read_json(p) for p in job.input["paths"]]
    write_csv(job.output["barriers"], collect_barriers(records, job.params["converged_tol"]))
    write_csv(job.output["profiles"], collect_profiles(records))
    write_csv(job.output["heights"], collect_heights(records))


def barrier_budget_figure_job(job: Job) -> None:
    """The ``barrier_budget_figure`` rule: input heights; output png, pdf."""
    plot_barrier_budget(read_table(job.input["heights"]), job.output["png"], job.output["pdf"])


def barrier_figure_job(job: Job) -> None:
    """The ``barrier_figure`` rule: input barriers; params landscape; output png, pdf."""
    plot_barriers(read_table(job.input["barriers"]), job.params["landscape"], job.output["png"], job.output["pdf"])
