"""Snakemake `path` rule: FourierPathFinder between one pair of a solution set."""

from topography.paths import path_job
from topography.runtime import job

w = snakemake.wildcards
with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    path_job(
        network=w.network,
        landscape=w.landscape,
        set_name=w.set,
        pair_index=int(w.pair),
        pair=snakemake.params.pair,
        set_path=snakemake.input.set,
        data_path=snakemake.input.data,
        output=snakemake.output[0],
        settings=snakemake.params.settings,
        model=snakemake.params.model,
        device=snakemake.params.device,
    )
