"""Snakemake `select` rule: the four solution sets of one network."""

from topography.provenance import provenance
from topography.runtime import job
from topography.select import select_job

with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    select_job(
        network=snakemake.wildcards.network,
        runs=snakemake.params.runs,
        n_best=snakemake.params.n_best,
        outputs=dict(snakemake.output.items()),
        meta=provenance({"n_best": snakemake.params.n_best}),
    )
