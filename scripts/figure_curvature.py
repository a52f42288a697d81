"""Snakemake `curvature_figure` rule: one network's curvature distributions per set."""

import pandas as pd

from topography.crosscheck_figures import plot_curvature
from topography.runtime import job

with job(snakemake.log[0]):
    out = snakemake.output
    plot_curvature(pd.read_csv(snakemake.input.table), snakemake.wildcards.network, out.png, out.pdf)
