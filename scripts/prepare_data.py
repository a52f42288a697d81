"""Snakemake `data` rule: the train and test images, prepared once for every later job."""

from topography.jobs.data import prepare_job
from topography.workflow.runtime import run

run(prepare_job, snakemake)
