"""Paper Fig 6 / S4 (RBF kernel PCA) and the same projection with every kernel side by side."""

from topography.jobs.figures import kernel_pca_figure_job
from topography.workflow.runtime import run

run(kernel_pca_figure_job, snakemake)
