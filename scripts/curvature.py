"""Snakemake `curvature` rule: Hessian eigenvalues and trace at every vector of one set."""

from topography.crosscheck_curvature import curvature_job
from topography.runtime import run

run(curvature_job, snakemake)
