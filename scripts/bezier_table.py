"""Snakemake `bezier_table` rule: Bezier, Fourier and straight-line heights side by side."""

from topography.crosscheck_tables import bezier_table_job
from topography.runtime import run

run(bezier_table_job, snakemake)
