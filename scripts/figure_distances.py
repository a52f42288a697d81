"""Paper Fig 5 / S3: distances of two solution sets to their common origin."""

from topography.plots import distance_figure_job
from topography.runtime import run

run(distance_figure_job, snakemake)
