"""Snakemake `tables` rule: the study's tables (Table I, S1, kernel separation, ...)."""

from topography.runtime import job
from topography.summarize import tables_job

with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    tables_job(
        runs=list(snakemake.input.runs),
        histories=list(snakemake.input.histories),
        geometry_files=snakemake.params.geometry_files,
        outputs=dict(snakemake.output.items()),
    )
