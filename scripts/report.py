"""Snakemake `report` rule: run the report notebook with papermill, render it to HTML."""

from topography.report import report_job
from topography.runtime import run

run(report_job, snakemake)
