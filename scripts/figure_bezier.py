"""Snakemake `bezier_figure` rule: Bezier against Fourier height, per network and set."""

from topography.io import read_table
from topography.crosscheck_figures import plot_bezier_vs_fourier
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    out = snakemake.output
    plot_bezier_vs_fourier(read_table(snakemake.input.table), out.png, out.pdf)
