"""Paper Fig 3: FourierPathFinder on the 2D toy landscape."""

from topography.toy import toy_job
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    out = snakemake.output
    toy_job(settings=snakemake.params.settings, seed=snakemake.params.seed, heights=out.heights,
            figure_paths=[out.png, out.pdf])
