"""Snakemake `curvature` rule: Hessian eigenvalues and trace at every vector of one set."""

from topography.crosscheck_curvature import curvature_job
from topography.runtime import job

w = snakemake.wildcards
with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    curvature_job(
        network=w.network,
        landscape=w.landscape,
        set_name=w.set,
        set_path=snakemake.input.set,
        data_path=snakemake.input.data,
        output=snakemake.output[0],
        settings=snakemake.params.settings,
        model=snakemake.params.model,
        seed=snakemake.params.seed,
        device=snakemake.params.device,
    )
