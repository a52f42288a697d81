"""Snakemake `bezier_figure` rule: Bezier against Fourier height, per network and set."""

from topography.crosscheck_figures import bezier_figure_job
from topography.runtime import run

run(bezier_figure_job, snakemake)
