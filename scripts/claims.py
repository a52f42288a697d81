"""Snakemake `claims` rule: every claim's verdict per network, and every tested part, as CSVs."""

from topography.jobs.report import claims_job
from topography.workflow.runtime import run

run(claims_job, snakemake)
