"""Paper Fig 4 / S2: histograms of path heights per set, one panel per network."""

from topography.jobs.barriers import barrier_figure_job
from topography.workflow.runtime import run

run(barrier_figure_job, snakemake)
