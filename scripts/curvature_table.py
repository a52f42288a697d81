"""Snakemake `curvature_table` rule: every vector's curvature, one tidy table."""

from topography.crosscheck_tables import curvature_table_job
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    curvature_table_job(inputs=list(snakemake.input.records), output=snakemake.output[0])
