"""Snakemake `curvature_figure` rule: one network's curvature distributions per set."""

from topography.crosscheck_figures import curvature_figure_job
from topography.runtime import run

run(curvature_figure_job, snakemake)
