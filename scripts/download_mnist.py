"""Snakemake `download_mnist` rule: the four published MNIST .gz files, checksummed."""

from topography.jobs.data import download_job
from topography.workflow.runtime import run

run(download_job, snakemake)
