"""The barrier against the optimisation budget: median path height per Adam step."""

from topography.jobs.barriers import barrier_budget_figure_job
from topography.workflow.runtime import run

run(barrier_budget_figure_job, snakemake)
