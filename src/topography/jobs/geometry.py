"""The jobs of the geometry stage and of the summary tables that the figures read.

``geometry_job`` measures one network's four solution sets; ``tables_job`` joins the
per-network results into the study's tables. Figures read only these tables, so redrawing
a figure never recomputes anything upstream.
"""

from __future__ import annotations

import pandas as pd

from .. import geometry
from ..design import GEOMETRY_KINDS, SETS, available_comparisons
from ..workflow.io import read_table, write_csv
from ..workflow.runtime import Job
from ..workflow.sets import load_set


def geometry_job(job: Job) -> None:
    """Weight statistics, distances to the common origin and kernel PCA of one network.

    input: each set under its name; wildcards: network; output: weight_stats, distances,
    projections and separation (CSV files).
    """
    network, outputs = job.wildcards["network"], job.output
    set_paths = {name: job.input[name] for name in SETS if name in job.input}  # the paper's order
    sets, n_params = {}, None
    for name, path in set_paths.items():
        sets[name], meta = load_set(path, network=network, set_name=name)
        n_params = meta["n_params"]
    write_csv(outputs["weight_stats"], geometry.weight_stats(network, sets))

    distances, projections = [], []
    for a, b in available_comparisons(sets):
        distances.append(geometry.distances_to_origin(network, a, sets[a], b, sets[b]))
        for kernel in geometry.KERNELS:
            projections.append(geometry.kernel_pca(network, a, sets[a], b, sets[b], kernel, n_params))
    if not projections:
        raise ValueError(
            f"{network}: the distance and kernel PCA comparisons need both optimizers' sets; "
            f"found only {', '.join(sets)}"
        )
    projection = pd.concat(projections, ignore_index=True)
    write_csv(outputs["distances"], pd.concat(distances, ignore_index=True))
    write_csv(outputs["projections"], projection)
    write_csv(outputs["separation"], geometry.separation(projection))


def _concat_csv(paths) -> pd.DataFrame:
    return pd.concat([read_table(p) for p in paths], ignore_index=True)


def tables_job(job: Job) -> None:
    """The study's tables, each one tidy CSV.

    input: runs (each network's runs.csv), histories (every run's history.csv) and, per
    kind of geometry result (weight_stats, distances, projections, separation), the
    per-network CSVs under the kind's name. output: table_one, weight_stats, distances,
    projections, separation, loss_curves.
    """
    runs, histories, outputs = job.input["runs"], job.input["histories"], job.output
    geometry_files = {kind: job.input[kind] for kind in GEOMETRY_KINDS}
    all_runs = _concat_csv(runs)
    write_csv(outputs["table_one"], geometry.table_one(all_runs))
    for kind, paths in geometry_files.items():
        write_csv(outputs[kind], _concat_csv(paths))
    # Only the representative runs' curves: the loss-curve figure reads nothing else. Each
    # history names its run in its rows, so the file names are not parsed.
    chosen = geometry.representative_runs(all_runs)[["network", "optimizer", "seed"]]
    wanted = {tuple(row) for row in chosen.itertuples(index=False)}
    curves = [h for h in map(read_table, histories) if _run_key(h) in wanted]
    write_csv(outputs["loss_curves"], pd.concat(curves, ignore_index=True))


def _run_key(history: pd.DataFrame) -> tuple[str, str, int]:
    """(network, optimizer, seed) of one run's history table."""
    row = history.iloc[0]
    return row["network"], row["optimizer"], int(row["seed"])
