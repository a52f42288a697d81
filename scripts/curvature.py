"""Snakemake `curvature` rule: Hessian eigenvalues and trace at every vector of one set."""

from topography.jobs.curvature import curvature_job
from topography.workflow.runtime import run

run(curvature_job, snakemake)
