"""The barrier against the optimisation budget: median path height per Adam step."""

from topography.barriers import barrier_budget_figure_job
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    out = snakemake.output
    barrier_budget_figure_job(heights=snakemake.input.heights, figure_paths=[out.png, out.pdf])
