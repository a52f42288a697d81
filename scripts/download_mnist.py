"""Snakemake `download_mnist` rule: the four published MNIST .gz files, checksummed."""

from topography.data import download_job
from topography.runtime import run

run(download_job, snakemake)
