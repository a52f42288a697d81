"""Snakemake `geometry` rule: spread, distances and kernel PCA of one network's sets."""

from topography.workflow.runtime import run
from topography.jobs.geometry import geometry_job

run(geometry_job, snakemake)
