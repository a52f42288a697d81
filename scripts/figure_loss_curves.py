"""Paper Fig 2 / S1: loss against epoch for one representative run per network and optimizer."""

from topography.plots import loss_curves_figure_job
from topography.runtime import run

run(loss_curves_figure_job, snakemake)
