"""The tables of the two measurements beyond the paper, from their jobs' JSON records:
``curvature_table`` (one row per vector) and ``bezier_table`` (the Bezier, Fourier and
straight-line heights of each pair side by side). pandas only: no torch, so table jobs
run in the analysis environment and editing a method module reruns no table here."""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from .design import ORDER
from .workflow.io import read_json, write_csv
from .workflow.runtime import Job


def curvature_table(documents: Iterable[Mapping]) -> pd.DataFrame:
    """One row per (network, set, landscape, vector), in the paper's order."""
    rows = [record for document in documents for record in document["records"]]
    if not rows:
        raise ValueError("no curvature records to tabulate")
    return _ordered(pd.DataFrame(rows), ["vector"])


def curvature_table_job(job: Job) -> None:
    """The ``curvature_table`` rule: input records (the curvature jobs' JSON), output table."""
    write_csv(job.output["table"], curvature_table(read_json(p) for p in job.input["records"]))


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
    return _ordered(pd.DataFrame(rows, columns=list(BEZIER_COLUMNS)), ["pair"]), _ordered(pd.concat(profiles), ["pair", "t"])


def bezier_table_job(job: Job) -> None:
    """The ``bezier_table`` rule: input bezier (the Bezier jobs' JSON) and fourier (the
    Fourier paths of their pairs); output heights and profiles."""
    heights, profiles = bezier_table((read_json(p) for p in job.input["bezier"]),
                                     (read_json(p) for p in job.input["fourier"]))
    write_csv(job.output["heights"], heights)
    write_csv(job.output["profiles"], profiles)


def _ordered(table: pd.DataFrame, then: list[str]) -> pd.DataFrame:
    """Rows in the paper's order of networks, landscapes and sets (unknown names last)."""
    order = {c: ORDER[c] for c in ("network", "landscape", "set")}
    ranks = {f"_{c}": table[c].map(lambda v, names=names: names.index(v) if v in names else len(names))
             for c, names in order.items()}
    table = table.assign(**ranks).sort_values(list(ranks) + list(order) + then, kind="stable")
    return table.drop(columns=list(ranks)).reset_index(drop=True)
