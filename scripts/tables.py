"""Snakemake `tables` rule: the study's tables (Table I, S1, kernel separation, ...)."""

from topography.runtime import run
from topography.summarize import tables_job

run(tables_job, snakemake)
