"""The table and figure jobs of curvature.smk and crosscheck.smk, run in the analysis
environment (no torch): ``curvature_table`` and ``bezier_table`` (from the curvature and
Bezier jobs' records; the tables are tables.py's), ``curvature_figure`` and
``bezier_figure`` (drawn by figures/crosscheck.py). The measurements themselves are
curvature.py's and crosscheck.py's jobs."""

from __future__ import annotations

from ..figures.crosscheck import plot_bezier_vs_fourier, plot_curvature
from ..tables import bezier_table, curvature_table
from ..workflow.io import read_json, read_table, write_csv
from ..workflow.runtime import Job


def curvature_table_job(job: Job) -> None:
    """The ``curvature_table`` rule: input records (the curvature jobs' JSON), output table."""
    write_csv(job.output["table"], curvature_table(read_json(p) for p in job.input["records"]))


def curvature_figure_job(job: Job) -> None:
    """The ``curvature_figure`` rule: input table; wildcards network; output png, pdf."""
    plot_curvature(read_table(job.input["table"]), job.wildcards["network"], job.output["png"], job.output["pdf"])


def bezier_table_job(job: Job) -> None:
    """The ``bezier_table`` rule: input bezier (the Bezier jobs' JSON) and fourier (the
    Fourier paths of their pairs); output heights and profiles."""
    heights, profiles = bezier_table((read_json(p) for p in job.input["bezier"]),
                                     (read_json(p) for p in job.input["fourier"]))
    write_csv(job.output["heights"], heights)
    write_csv(job.output["profiles"], profiles)


def bezier_figure_job(job: Job) -> None:
    """The ``bezier_figure`` rule: input table; output png, pdf."""
    plot_bezier_vs_fourier(read_table(job.input["table"]), job.output["png"], job.output["pdf"])
