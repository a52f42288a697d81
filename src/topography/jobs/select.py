"""Solution sets: the best runs of each optimizer, their "train" and "test" weights stacked.

Per network and optimizer the non-diverged runs (``stop_reason`` converged or budget) are
ranked by their lowest training loss and the best ``n_best`` kept (paper: 48 of 75); a run
that hit its cap is kept when it ranks, and its stop reason travels with it into runs.csv
and Table I, so that the tables say how many selected runs had converged. Their train weights form the
set ``{optimizer}-train`` and their test (early-stopping) weights ``{optimizer}-test``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..design import set_name
from ..workflow.io import load_vector, read_table, save_arrays, write_csv
from ..workflow.provenance import provenance
from ..workflow.runtime import Job


class SelectionError(ValueError):
    pass


RUN_COLUMNS = [
    "network", "optimizer", "seed", "stop_reason", "selected", "rank",
    "train_loss", "train_epoch", "test_loss", "test_epoch", "test_accuracy", "n_params",
]


def runs_table(metas: list[dict], accuracies: dict[tuple[str, int], float]) -> pd.DataFrame:
    """One row per run from the metadata of its weights (and its history's accuracy)."""
    rows = []
    for meta in metas:
        key = (meta["optimizer"], meta["seed"])
        rows.append(
            dict(
                network=meta["network"], optimizer=meta["optimizer"], seed=meta["seed"],
                stop_reason=meta["stop_reason"], train_loss=_loss(meta["train_loss"]), train_epoch=meta["train_epoch"],
                test_loss=_loss(meta["test_loss"]), test_epoch=meta["test_epoch"],
                test_accuracy=accuracies.get(key, np.nan), n_params=meta["n_params"],
            )
        )
    return pd.DataFrame(rows)


def _loss(value) -> float:
    """A loss from a sidecar: null where a run never had a finite loss (JSON has no NaN)."""
    return np.nan if value is None else float(value)


def choose(runs: pd.DataFrame, n_best: int) -> pd.DataFrame:
    """Mark the ``n_best`` lowest-training-loss finished runs of each optimizer as selected."""
    runs = runs.sort_values(["optimizer", "seed"]).reset_index(drop=True)
    runs["selected"] = False
    runs["rank"] = pd.array([pd.NA] * len(runs), dtype="Int64")
    for optimizer, group in runs.groupby("optimizer", sort=True):
        ok = group[(group.stop_reason != "diverged") & np.isfinite(group.train_loss)]
        if len(ok) < n_best:
            failed = group[~group.index.isin(ok.index)]
            failed_seeds = ", ".join(f"seed {s} ({st})" for s, st in zip(failed.seed, failed.stop_reason)) or "none"
            raise SelectionError(
                f"{group.network.iloc[0]}/{optimizer}: select.n_best is {n_best} but only "
                f"{len(ok)} of {len(group)} runs finished without diverging; failed: {failed_seeds}"
            )
        best = ok.sort_values(["train_loss", "seed"]).head(n_best)
        runs.loc[best.index, "selected"] = True
        runs.loc[best.index, "rank"] = range(1, n_best + 1)
    return runs[RUN_COLUMNS]


def select_job(job: Job) -> None:
    """The ``select`` rule. input: history, train, test (a list each: every run's history
    and its weights at the best training and test loss); params: runs (each run's optimizer
    and seed, in the inputs' order), n_best, n_params (the network's parameter count, which
    every weight file must have); wildcards: network; output: runs (the table of runs) and
    each set under its name."""
    network, n_best, outputs = job.wildcards["network"], job.params["n_best"], job.output
    n_params = job.params["n_params"]
    runs = [dict(run, history=history, train=train, test=test) for run, history, train, test
            in zip(job.params["runs"], job.input["history"], job.input["train"], job.input["test"], strict=True)]
    meta = provenance({"n_best": n_best})
    metas, accuracies, vectors = [], {}, {}
    for run in runs:
        # Every run's two weight files are read and checked here (finite, the network's
        # length, the sidecar naming this run), selected or not: a broken file fails now.
        for kind in ("train", "test"):
            expected = dict(network=network, optimizer=run["optimizer"], seed=run["seed"], kind=kind)
            vectors[(run["optimizer"], run["seed"], kind)], meta = load_vector(
                run[kind], expected, n_params)
            if kind == "train":
                metas.append(meta)
        train_meta = metas[-1]
        history = read_table(run["history"], columns=("split", "epoch", "accuracy"))
        test_rows = history[(history.split == "test") & (history.epoch == train_meta["test_epoch"])]
        if len(test_rows):
            accuracies[(run["optimizer"], run["seed"])] = float(test_rows.accuracy.iloc[0])
    table = choose(runs_table(metas, accuracies), n_best)

    for optimizer, group in table[table.selected].groupby("optimizer"):
        group = group.sort_values("rank")
        for kind in ("train", "test"):
            stacked = [vectors[(optimizer, s, kind)] for s in group.seed]
            arrays = {
                "weights": np.stack(stacked).astype(np.float32),
                "seeds": group.seed.to_numpy(np.int64),
                "train_loss": group.train_loss.to_numpy(np.float64),
                "test_loss": group.test_loss.to_numpy(np.float64),
            }
            set_meta = dict(meta, network=network, optimizer=optimizer, kind=kind,
                            n_vectors=len(group), n_params=int(group.n_params.iloc[0]))
            save_arrays(outputs[set_name(optimizer, kind)], arrays, set_meta)
    write_csv(outputs["runs"], table)
