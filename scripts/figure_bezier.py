"""Snakemake `bezier_figure` rule: Bezier against Fourier height, per network and set."""

from topography.jobs.crosscheck_results import bezier_figure_job
from topography.workflow.runtime import run

run(bezier_figure_job, snakemake)
