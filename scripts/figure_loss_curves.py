"""Paper Fig 2 / S1: loss against epoch for one representative run per network and optimizer."""

from topography.jobs.figures import loss_curves_figure_job
from topography.workflow.runtime import run

run(loss_curves_figure_job, snakemake)
