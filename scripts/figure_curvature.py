"""Snakemake `curvature_figure` rule: one network's curvature distributions per set."""

from topography.io import read_table
from topography.crosscheck_figures import plot_curvature
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    out = snakemake.output
    plot_curvature(read_table(snakemake.input.table), snakemake.wildcards.network, out.png, out.pdf)
