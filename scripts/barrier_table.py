"""Snakemake `barrier_table` rule: the heights of all paths, one tidy table."""

from topography.barriers import barrier_table_job
from topography.runtime import run

run(barrier_table_job, snakemake)
