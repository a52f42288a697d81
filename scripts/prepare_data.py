"""Snakemake `data` rule: the train and test images, prepared once for every later job."""

from topography.data import prepare
from topography.provenance import provenance
from topography.runtime import job

with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    prepare(
        snakemake.params.data,
        snakemake.output.train,
        snakemake.output.test,
        provenance(snakemake.params.data),
    )
