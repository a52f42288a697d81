"""Paper Fig 5 / S3: distances of two solution sets to their common origin."""

from topography.jobs.figures import distance_figure_job
from topography.workflow.runtime import run

run(distance_figure_job, snakemake)
