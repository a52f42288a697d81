"""Snakemake `path` rule: FourierPathFinder between one pair of a solution set."""

from topography.paths import path_job
from topography.runtime import run

run(path_job, snakemake)
