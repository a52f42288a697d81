"""Snakemake `select` rule: the four solution sets of one network."""

from topography.runtime import run
from topography.select import select_job

run(select_job, snakemake)
