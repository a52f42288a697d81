"""Paper Fig 6 / S4 (RBF kernel PCA) and the same projection with every kernel side by side."""

from topography.io import read_table
from topography.plots import plot_kernel_comparison, plot_kernel_pca
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    projection = read_table(snakemake.input.projections)
    separation = read_table(snakemake.input.separation)
    comparison = snakemake.params.comparison
    out = snakemake.output
    plot_kernel_pca(projection, out.png, out.pdf, kernel="rbf", comparison=comparison)
    plot_kernel_comparison(projection, separation, out.kernels_png, out.kernels_pdf, comparison=comparison)
