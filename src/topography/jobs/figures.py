"""The jobs of figures.smk: each reads its table (input) and draws it (figures/plots.py) to
output png and pdf."""

from __future__ import annotations

from ..figures.plots import plot_distances, plot_kernel_comparison, plot_kernel_pca, plot_loss_curves
from ..workflow.io import read_table
from ..workflow.runtime import Job


def loss_curves_figure_job(job: Job) -> None:
    """The ``loss_curves_figure`` rule: input curves (the representative runs' histories)."""
    plot_loss_curves(read_table(job.input["curves"]), job.output["png"], job.output["pdf"])


def distance_figure_job(job: Job) -> None:
    """The ``distance_figure`` rule: input distances; params comparison."""
    plot_distances(read_table(job.input["distances"]), job.output["png"], job.output["pdf"],
                   comparison=job.params["comparison"])


def kernel_pca_figure_job(job: Job) -> None:
    """The ``kernel_pca_figures`` rule: input projections, separation; params comparison;
    output png, pdf (RBF kernel PCA) and kernels_png, kernels_pdf (every kernel)."""
    projection, separation = read_table(job.input["projections"]), read_table(job.input["separation"])
    comparison, out = job.params["comparison"], job.output
    plot_kernel_pca(projection, out["png"], out["pdf"], kernel="rbf", comparison=comparison)
    plot_kernel_comparison(projection, separation, out["kernels_png"], out["kernels_pdf"], comparison=comparison)
