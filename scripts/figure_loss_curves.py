"""Paper Fig 2 / S1: loss against epoch for one representative run per network and optimizer."""

import pandas as pd

from topography.plots import plot_loss_curves
from topography.runtime import job

with job(snakemake.log[0]):
    plot_loss_curves(pd.read_csv(snakemake.input.curves), snakemake.output.png, snakemake.output.pdf)
