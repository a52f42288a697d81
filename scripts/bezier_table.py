"""Snakemake `bezier_table` rule: Bezier, Fourier and straight-line heights side by side."""

from topography.crosscheck_tables import bezier_table_job
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    bezier_table_job(bezier=list(snakemake.input.bezier), fourier=list(snakemake.input.fourier),
                     outputs=dict(snakemake.output.items()))
