"""Snakemake `bezier` rule: quadratic Bezier curves between the first pairs of each set."""

from topography.crosscheck_bezier import bezier_job
from topography.runtime import job

w = snakemake.wildcards
with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    bezier_job(
        network=w.network,
        landscape=w.landscape,
        pairs=snakemake.params.pairs,
        set_paths=snakemake.params.set_paths,
        data_path=snakemake.input.data,
        output=snakemake.output[0],
        settings=snakemake.params.settings,
        paths=snakemake.params.paths,
        model=snakemake.params.model,
        seed=snakemake.params.seed,
        device=snakemake.params.device,
    )
