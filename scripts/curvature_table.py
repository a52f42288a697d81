"""Snakemake `curvature_table` rule: every vector's curvature, one tidy table."""

from topography.crosscheck_tables import curvature_table_job
from topography.runtime import run

run(curvature_table_job, snakemake)
