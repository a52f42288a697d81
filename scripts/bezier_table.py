"""Snakemake `bezier_table` rule: Bezier, Fourier and straight-line heights side by side."""

from topography.jobs.crosscheck_results import bezier_table_job
from topography.workflow.runtime import run

run(bezier_table_job, snakemake)
