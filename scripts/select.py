"""Snakemake `select` rule: the four solution sets of one network."""

from topography.workflow.runtime import run
from topography.jobs.select import select_job

run(select_job, snakemake)
