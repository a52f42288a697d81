"""Snakemake `curvature_figure` rule: one network's curvature distributions per set."""

from topography.jobs.crosscheck_results import curvature_figure_job
from topography.workflow.runtime import run

run(curvature_figure_job, snakemake)
