"""The study's report: what its notebook reads, and the job that runs and renders it.

The notebook (``notebooks/report.ipynb``) is executed by papermill with the paths of the
workflow's tables and figures as parameters, then converted by nbconvert into one HTML
file with the code hidden and every figure embedded as a data: URI, so that it reads
offline. The statistics live in :mod:`topography.claims`; this module only loads, joins
and formats. A table or figure the config did not produce is ``None`` here and its
section of the report says so.
"""

from __future__ import annotations

import base64
import html
import io
import json
import platform
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import yaml

from ..design import CLAIM_TABLES
from ..workflow.io import read_table as read_checked_table, write_csv, write_text
from ..workflow.provenance import config_hash
from ..workflow.runtime import Job
from ..workflow.sets import load_set

PAPER_VALUES = Path(__file__).with_name("paper_values.yaml")
# The nbconvert template that drops the lab template's CDN scripts (MathJax, require.js,
# mermaid, widgets): the report needs none of them and must read offline.
TEMPLATE = "offline"
NOT_RECORDED = "not in the paper"


# --- reading what the workflow wrote


def read_table(path) -> pd.DataFrame | None:
    """A CSV, or None when there is no path or no file (the config did not produce it)."""
    if not path or not Path(path).exists():
        return None
    return read_checked_table(path)


def read_tables(paths) -> pd.DataFrame | None:
    """Several CSVs of the same columns stacked (e.g. each network's runs.csv)."""
    frames = [read_table(p) for p in paths or []]
    frames = [f for f in frames if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


def set_summaries(set_paths: Mapping[str, Mapping[str, str]]) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(moments, grams) of every solution set, read once. ``set_paths``: network -> set name
    -> file (absent files are skipped).

    moments: per vector, the mean and the mean square of its components (network, set,
    index, mean, mean_sq): enough to resample the spread of a set over its vectors.
    grams: per network, the Gram matrix w_k . w_l (float64) of all its sets' vectors, one row
    per vector (network, set, index) and one column per vector named ``"{set}/{index}"``:
    enough for distances to any origin built from the vectors, so that the distance test can
    recompute the common origin under every relabelling."""
    moment_rows, gram_frames = [], []
    for network, sets in (set_paths or {}).items():
        names, blocks = [], []
        for name, path in sets.items():
            if not Path(path).exists():
                continue
            weights, _ = load_set(path, network=network, set_name=name)
            weights = weights.astype(np.float64)
            blocks.append(weights)
            for index, vector in enumerate(weights):
                names.append((name, index))
                moment_rows.append(dict(network=network, set=name, index=index, mean=vector.mean(),
                                        mean_sq=(vector**2).mean()))
        if blocks:
            stacked = np.concatenate(blocks)
            gram = pd.DataFrame(stacked @ stacked.T, columns=[f"{s}/{i}" for s, i in names])
            gram.insert(0, "index", [i for _, i in names])
            gram.insert(0, "set", [s for s, _ in names])
            gram.insert(0, "network", network)
            gram_frames.append(gram)
    moments = pd.DataFrame(moment_rows) if moment_rows else None
    grams = pd.concat(gram_frames, ignore_index=True) if gram_frames else None
    return moments, grams


def set_moments(set_paths: Mapping[str, Mapping[str, str]]) -> pd.DataFrame | None:
    """The per-vector moments of :func:`set_summaries` alone."""
    return set_summaries(set_paths)[0]


# --- the claims as data


def claim_inputs(tables: Mapping[str, str], runs, histories, set_paths) -> dict:
    """The tables :func:`topography.claims.evaluate_claims` reads, from the workflow's files:
    ``tables`` (name -> CSV; absent names are tables this config does not produce), every
    network's runs.csv, every run's history.csv, and the set files."""
    moments, grams = set_summaries(set_paths)
    inputs = {name: read_table(tables.get(name)) for name in CLAIM_TABLES}
    return dict(inputs, runs=read_tables(runs), histories=read_tables(histories), moments=moments, grams=grams)


def claims_job(job: Job) -> None:
    """The ``claims`` rule: every claim's verdict per network (output claims) and every
    tested part (output parts), as tidy CSVs the report and other tools read. input: the
    tables named in CLAIM_TABLES (those this config produces), runs, histories; params:
    networks, sets (network -> set -> file), thresholds (the config's ``report:``)."""
    from ..claims import Thresholds, evaluate_claims

    thresholds = Thresholds.from_config(job.params["thresholds"])
    tables = {name: job.input[name] for name in CLAIM_TABLES if name in job.input}
    inputs = claim_inputs(tables, job.input["runs"], job.input["histories"], job.params["sets"])
    summary, details = evaluate_claims(inputs, list(job.params["networks"]), thresholds)
    write_csv(job.output["claims"], summary)
    write_csv(job.output["parts"], details)


def stop_reasons(runs: pd.DataFrame | None) -> pd.DataFrame | None:
    """How the runs ended, per network and optimizer (None while runs.csv does not record it)."""
    if runs is None or "stop_reason" not in runs.columns:
        return None
    counts = runs.groupby(["network", "optimizer", "stop_reason"]).size().unstack(fill_value=0)
    return counts.reset_index()


# --- the paper's numbers beside the measured ones


def paper_values(path=PAPER_VALUES) -> dict:
    return yaml.safe_load(Path(path).read_text())


def _paper(value):
    return NOT_RECORDED if value is None else value


def _ratio(ours, theirs):
    """Ours over the paper's, where both are numbers (NaN otherwise)."""
    try:
        return float(ours) / float(theirs)
    except (TypeError, ValueError, ZeroDivisionError):
        return float("nan")


def table_one_beside_paper(table1: pd.DataFrame, paper: dict) -> pd.DataFrame:
    """Table I as measured (means over the selected runs), with the paper's means, the ratio
    ours / paper's, and the paper's parameter count. The paper's means are over 48 runs on
    60,000 images: a ratio says how far this run's scale is from it, not whether it is right."""
    means = paper["table1"]["means"]
    out = table1.copy()
    for column in ("train_loss", "test_loss"):
        theirs = [means.get(n, {}).get(o, {}).get(column) for n, o in zip(out["network"], out["optimizer"])]
        out[f"paper_{column}"] = [_paper(v) for v in theirs]
        if f"{column}_mean" in out.columns:
            out[f"{column}_ratio"] = [_ratio(ours, v) for ours, v in zip(out[f"{column}_mean"], theirs)]
    out["paper_n_params"] = [_paper(paper["n_params"]["values"].get(n)) for n in out["network"]]
    return out


def weight_stats_beside_paper(stats: pd.DataFrame, paper: dict) -> pd.DataFrame:
    """Table S1 as measured, the paper's mean and std of each set, and the std ratio."""
    values = paper["tableS1"]["values"]
    out = stats.copy()
    for column in ("mean", "std"):
        theirs = [values.get(n, {}).get(s, {}).get(column) for n, s in zip(out["network"], out["set"])]
        out[f"paper_{column}"] = [_paper(v) for v in theirs]
        if column == "std":
            out["std_ratio"] = [_ratio(ours, v) for ours, v in zip(out["std"], theirs)]
    return out


def toy_heights_beside_paper(heights: pd.DataFrame, paper: dict) -> pd.DataFrame:
    out = heights.copy()
    theirs = [paper["toy_heights"]["values"].get(p) for p in out["path"]]
    out["paper_height"] = [_paper(v) for v in theirs]
    out["height_ratio"] = [_ratio(ours, v) for ours, v in zip(out["height"], theirs)]
    return out


# --- the claims on the report's first screen


def claims_matrix_html(summary: pd.DataFrame, network_labels: Mapping[str, str] | None = None) -> str:
    """The claims by network as one HTML table: a row per claim (the paper's finding number
    and statement), a column per network, each cell its verdict coloured, its effect, and
    what the paper expects there. ``summary`` is claims.csv."""
    from ..claims import VERDICT_COLOURS

    labels = dict(network_labels or {})
    networks = list(dict.fromkeys(summary["network"]))
    claims_ = list(dict.fromkeys(summary["claim"]))
    cells = summary.set_index(["claim", "network"])
    head = "".join(f'<th style="text-align:center">{html.escape(labels.get(n, n))}</th>' for n in networks)
    rows = []
    for claim_id in claims_:
        first = cells.loc[claim_id].iloc[0]
        finding = int(first["finding"]) if pd.notna(first["finding"]) and int(first["finding"]) else None
        name = f"{finding}. " if finding else "beyond the paper: "
        row = [f'<th style="text-align:left">{html.escape(name + str(first["statement"]))}</th>']
        for network in networks:
            if (claim_id, network) not in cells.index:
                row.append("<td></td>")
                continue
            cell = cells.loc[(claim_id, network)]
            verdict = str(cell["verdict"])
            effect = "" if pd.isna(cell["effect"]) else str(cell["effect"])
            row.append(
                f'<td style="background-color:{VERDICT_COLOURS.get(verdict, "")}; text-align:center" '
                f'title="{html.escape(str(cell["why"]))}">'
                f"<b>{html.escape(verdict)}</b><br><small>effect {html.escape(effect)}</small><br>"
                f"<small>paper: {html.escape(str(cell['expected']))}</small></td>"
            )
        rows.append("<tr>" + "".join(row) + "</tr>")
    return (f'<table class="claims-matrix"><thead><tr><th style="text-align:left">claim</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


# --- provenance and display


def provenance_record(config: Mapping, workdir=".") -> dict:
    """Package versions, Python, the config's hash and the git commit (when there is one)."""
    record = {"python": platform.python_version()}
    for package in ("topography", "torch", "numpy", "scipy", "pandas", "scikit-learn", "seaborn", "snakemake",
                    "papermill", "nbconvert"):
        try:
            record[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            record[package] = "not installed"
    record["config_hash"] = config_hash(dict(config))
    record["git_commit"] = git_commit(workdir)
    return record


def git_commit(workdir=".") -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=workdir, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "none (git not available)"
    if result.returncode != 0:
        return "none (not a git checkout)"
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=workdir, capture_output=True, text=True, timeout=10)
    return result.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (closes it): notebooks display these whatever the
    matplotlib backend, so the figure is embedded in the executed notebook and the HTML."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


# --- the job


def report_job(job: Job) -> None:
    """The ``report`` rule: input notebook; params parameters (the notebook's: the paths
    of what it reads, the config, ...); output html, executed. See :func:`render_report`."""
    render_report(job.input["notebook"], job.params["parameters"], job.output["html"], job.output["executed"],
                  log=job.log)


def render_report(notebook, parameters: Mapping, html, executed, log=None, cwd=".") -> None:
    """Execute ``notebook`` with papermill and render it to a self-contained ``html``.

    The executed notebook is written to ``executed`` (beside the HTML). Both appear only
    when every cell ran: a failing cell raises papermill's error, which names the cell and
    its exception, and leaves neither file (the half-run notebook is copied next to ``log``,
    as ``<log>.failed.ipynb``, for inspection).
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    html, executed = Path(html), Path(executed)
    parameters = json.loads(json.dumps(dict(parameters), default=str))  # plain values only
    executed.parent.mkdir(parents=True, exist_ok=True)
    for stale in executed.parent.glob(".report.*"):  # left by an earlier attempt that was killed
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=".report.", dir=executed.parent) as scratch:
        run = Path(scratch) / executed.name
        try:
            papermill.execute_notebook(
                str(notebook), str(run), parameters=parameters, cwd=str(cwd), kernel_name="python3",
                progress_bar=False, request_save_on_cell_execute=False,
            )
        except Exception:
            if log is not None and run.exists():
                shutil.copy(run, Path(log).with_suffix(".failed.ipynb"))
            raise
        exporter = HTMLExporter(
            template_name=TEMPLATE,
            extra_template_basedirs=[str(Path(notebook).resolve().parent / "templates")],
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
        )
        executed_nb = reproducible(nbformat.read(run, as_version=4), executed)
        body, _ = exporter.from_notebook_node(executed_nb)
        write_text(html, body)
        write_text(executed, nbformat.writes(executed_nb) + "\n")


# What papermill and nbclient record of when the notebook ran, which changes from run to run.
RUN_TIMES = ("start_time", "end_time", "duration")


def reproducible(nb, output_path):
    """The executed notebook without what changes from run to run: its execution times
    (notebook and cells), the random id papermill gives the cell it injects, and the
    temporary path it ran at (``output_path`` instead)."""
    if "papermill" in nb.metadata:
        nb.metadata.papermill["output_path"] = str(output_path)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"
    for key in RUN_TIMES:
        nb.metadata.get("papermill", {}).pop(key, None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # nbclient's iopub.* timestamps
        for key in RUN_TIMES:
            cell.metadata.get("papermill", {}).pop(key, None)
    return nb
