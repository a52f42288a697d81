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

from .io import read_table as read_checked_table, write_text
from .provenance import config_hash
from .runtime import Job
from .sets import load_set

PAPER_VALUES = Path(__file__).with_name("paper_values.yaml")
# The nbconvert template that drops the lab template's CDN scripts (MathJax, require.js,
# mermaid, widgets): the report needs none of them and must read offline.
TEMPLATE = "offline"
NOT_RECORDED = "not yet recorded"


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


def set_moments(set_paths: Mapping[str, Mapping[str, str]]) -> pd.DataFrame | None:
    """Per vector of every solution set, the mean and the mean square of its components:
    enough to resample the spread (std of all components) of a set over its vectors.
    ``set_paths``: network -> set name -> file. Columns: network, set, index, mean, mean_sq."""
    rows = []
    for network, sets in (set_paths or {}).items():
        for name, path in sets.items():
            if not Path(path).exists():
                continue
            weights, _ = load_set(path, network=network, set_name=name)
            weights = weights.astype(np.float64)
            for index, vector in enumerate(weights):
                rows.append(dict(network=network, set=name, index=index, mean=vector.mean(), mean_sq=(vector**2).mean()))
    return pd.DataFrame(rows) if rows else None


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


def table_one_beside_paper(table1: pd.DataFrame, paper: dict) -> pd.DataFrame:
    """Table I as measured, with the paper's means (where recorded), its training-loss
    range for the row, and its parameter count."""
    means = paper["table1"]["means"]
    out = table1.copy()
    for column in ("train_loss", "test_loss"):
        out[f"paper_{column}"] = [
            _paper(means.get(n, {}).get(o, {}).get(column)) for n, o in zip(out["network"], out["optimizer"])
        ]
    out["paper_train_loss_range"] = [_train_range(paper, n, o) for n, o in zip(out["network"], out["optimizer"])]
    out["paper_n_params"] = [_paper(paper["n_params"]["values"].get(n)) for n in out["network"]]
    return out


def _train_range(paper: dict, network: str, optimizer: str) -> str:
    for entry in paper["table1"]["train_loss_ranges"]:
        if entry["optimizer"] == optimizer and (entry["networks"] is None or network in entry["networks"]):
            low, high = entry["range"]
            scope = "" if entry["networks"] is not None else " (rows not specified)"
            return f"{low:g} to {high:g}{scope}"
    return NOT_RECORDED


def weight_stats_beside_paper(stats: pd.DataFrame, paper: dict) -> pd.DataFrame:
    values = paper["tableS1"]["values"]
    out = stats.copy()
    for column in ("mean", "std"):
        out[f"paper_{column}"] = [
            _paper(values.get(n, {}).get(s, {}).get(column)) for n, s in zip(out["network"], out["set"])
        ]
    return out


def toy_heights_beside_paper(heights: pd.DataFrame, paper: dict) -> pd.DataFrame:
    out = heights.copy()
    out["paper_height"] = [_paper(paper["toy_heights"]["values"].get(p)) for p in out["path"]]
    return out


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
