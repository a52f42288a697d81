"""Snakemake `geometry` rule: spread, distances and kernel PCA of one network's sets."""

from topography.runtime import run
from topography.summarize import geometry_job

run(geometry_job, snakemake)
