"""Paper Fig 2 / S1: loss against epoch for one representative run per network and optimizer."""

from topography.io import read_table
from topography.plots import plot_loss_curves
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    plot_loss_curves(read_table(snakemake.input.curves), snakemake.output.png, snakemake.output.pdf)
