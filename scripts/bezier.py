"""Snakemake `bezier` rule: quadratic Bezier curves between the first pairs of each set."""

from topography.jobs.crosscheck import bezier_job
from topography.workflow.runtime import run

run(bezier_job, snakemake)
