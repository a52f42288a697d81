"""Snakemake `download_mnist` rule: the four published MNIST .gz files, checksummed."""

from pathlib import Path

from topography.data import download_mnist
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    download_mnist(snakemake.params.base_url, Path(snakemake.output[0]).parent, snakemake.params.sha256)
