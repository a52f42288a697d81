"""Snakemake `path` rule: FourierPathFinder between every pair of one solution set."""

from topography.paths import path_job
from topography.runtime import run

run(path_job, snakemake)
