"""Snakemake `barrier_table` rule: the heights of all paths, one tidy table."""

from topography.barriers import barrier_table_job
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    barrier_table_job(paths=list(snakemake.input.paths), outputs=dict(snakemake.output.items()),
                      converged_tol=snakemake.params.converged_tol)
