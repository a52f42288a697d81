"""Snakemake `train` rule: one network, one optimizer, one seed."""

from topography.runtime import run
from topography.train import train_job

run(train_job, snakemake)
