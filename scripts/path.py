"""Snakemake `path` rule: FourierPathFinder between every pair of one solution set."""

from topography.jobs.paths import path_job
from topography.workflow.runtime import run

run(path_job, snakemake)
