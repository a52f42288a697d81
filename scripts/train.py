"""Snakemake `train` rule: one network, one optimizer, one seed."""

from topography.workflow.runtime import run
from topography.jobs.train import train_job

run(train_job, snakemake)
