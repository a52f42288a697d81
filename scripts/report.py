"""Snakemake `report` rule: run the report notebook with papermill, render it to HTML."""

from topography.jobs.report import report_job
from topography.workflow.runtime import run

run(report_job, snakemake)
