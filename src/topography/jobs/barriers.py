"""The barrier jobs of paths.smk, run in the analysis environment (no torch):
``barrier_table`` (every path's height, profile and per-step heights, from the path jobs'
records; the tables are tables.py's), ``barrier_figure`` and ``barrier_budget_figure``
(drawn by figures/barriers.py). The path job itself is paths.py's."""

from __future__ import annotations

from ..figures.barriers import plot_barrier_budget, plot_barriers
from ..tables import collect_barriers, collect_heights, collect_profiles
from ..workflow.io import read_json, read_table, write_csv
from ..workflow.runtime import Job


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
