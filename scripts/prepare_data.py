"""Snakemake `data` rule: the train and test images, prepared once for every later job."""

from topography.data import prepare_job
from topography.runtime import run

run(prepare_job, snakemake)
