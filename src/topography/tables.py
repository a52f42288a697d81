"""Tidy tables from the jobs' JSON records: the paths' heights, loss profiles and per-step
heights (``collect_barriers``, ``collect_profiles``, ``collect_heights``), and the two
measurements beyond the paper, ``curvature_table`` (one row per vector) and
``bezier_table`` (the Bezier, Fourier and straight-line heights of each pair side by
side). Rows come in the paper's order (:func:`in_paper_order`). numpy and pandas only: no
torch, so table jobs run in the analysis environment and editing a method module reruns
no table here."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .design import order_key


BARRIER_COLUMNS = (
    "network", "landscape", "set", "pair", "i", "j", "height", "straight_height", "length"
)
PROFILE_COLUMNS = ("network", "landscape", "set", "pair", "t", "loss", "straight_loss")
HEIGHT_COLUMNS = ("network", "landscape", "set", "pair", "step", "height")


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
    return in_paper_order(table, ["pair"])


def collect_heights(records: Iterable[Mapping]) -> pd.DataFrame:
    """The height of each path after every Adam step (full-batch paths), one row per step."""
    frames = [
        pd.DataFrame({**{k: record[k] for k in ("network", "landscape", "set", "pair")},
                      "step": np.arange(len(record["heights"])), "height": record["heights"]})
        for record in records
        if record.get("heights")
    ]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(HEIGHT_COLUMNS))
    return in_paper_order(table, ["pair", "step"])


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
    return in_paper_order(table, ["pair", "t"])


def _pick(record: Mapping, keys) -> dict:
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"path record lacks {', '.join(missing)}")
    return {k: record[k] for k in keys}


def curvature_table(documents: Iterable[Mapping]) -> pd.DataFrame:
    """One row per (network, set, landscape, vector), in the paper's order."""
    rows = [record for document in documents for record in document["records"]]
    if not rows:
        raise ValueError("no curvature records to tabulate")
    return in_paper_order(pd.DataFrame(rows), ["vector"])


BEZIER_COLUMNS = ("network", "landscape", "set", "pair", "i", "j", "bezier_height", "fourier_height",
                  "straight_height", "bezier_length", "fourier_length", "straight_length")


def bezier_table(documents: Iterable[Mapping], fourier_records: Iterable[Mapping]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(heights, profiles): one row per pair with the Bezier, Fourier and straight-line
    heights side by side; one row per pair and point with the loss along the Bezier curve.

    Every Bezier pair must have its Fourier path (the same network, landscape, set and
    pair number, joining the same vectors); a missing or mismatched one is an error.
    """
    fourier = {(r["network"], r["landscape"], r["set"], r["pair"]): r for r in fourier_records}
    rows, profiles = [], []
    for document in documents:
        for record in document["records"]:
            key = (record["network"], record["landscape"], record["set"], record["pair"])
            if key not in fourier:
                raise ValueError(f"no Fourier path for the Bezier pair {'/'.join(map(str, key))}")
            other = fourier[key]
            if (other["i"], other["j"]) != (record["i"], record["j"]) or len(other["t"]) != len(record["t"]):
                raise ValueError(f"the Fourier path {'/'.join(map(str, key))} joins vectors ({other['i']}, {other['j']}) at "
                                 f"{len(other['t'])} points, the Bezier curve ({record['i']}, {record['j']}) at {len(record['t'])}")
            rows.append(dict(
                zip(("network", "landscape", "set", "pair"), key), i=record["i"], j=record["j"],
                bezier_height=record["height"], fourier_height=other["height"],
                # The straight line is the same for both methods (same ends, points, data).
                straight_height=record["straight_height"],
                bezier_length=record["length"], fourier_length=other["length"],
                straight_length=record["straight_length"],
            ))
            profiles.append(pd.DataFrame(dict(zip(("network", "landscape", "set", "pair"), key), t=record["t"],
                                              loss=record["losses"], straight_loss=record["straight_losses"])))
    if not rows:
        raise ValueError("no Bezier curves to tabulate")
    return in_paper_order(pd.DataFrame(rows, columns=list(BEZIER_COLUMNS)), ["pair"]), in_paper_order(pd.concat(profiles), ["pair", "t"])


def in_paper_order(table: pd.DataFrame, then: list[str]) -> pd.DataFrame:
    """Rows in the paper's order of networks, landscapes and sets (unknown names last,
    ``design.order_key``), then by the columns ``then``."""
    order = ("network", "landscape", "set")
    ranks = {f"_{c}": table[c].map(lambda v, c=c: order_key(c, v)) for c in order}
    table = table.assign(**ranks).sort_values([*ranks, *order, *then], kind="stable")
    return table.drop(columns=list(ranks)).reset_index(drop=True)
