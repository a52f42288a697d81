"""Snakemake `tables` rule: the study's tables (Table I, S1, kernel separation, ...)."""

from topography.workflow.runtime import run
from topography.jobs.geometry import tables_job

run(tables_job, snakemake)
