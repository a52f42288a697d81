"""Snakemake `curvature_table` rule: every vector's curvature, one tidy table."""

from topography.jobs.crosscheck_results import curvature_table_job
from topography.workflow.runtime import run

run(curvature_table_job, snakemake)
