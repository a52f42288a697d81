"""Snakemake `geometry` rule: spread, distances and kernel PCA of one network's sets."""

from topography.runtime import job
from topography.summarize import geometry_job

with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    geometry_job(
        network=snakemake.wildcards.network,
        set_paths=snakemake.params.set_paths,
        outputs=dict(snakemake.output.items()),
    )
