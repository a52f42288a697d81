"""Paper Fig 4 / S2: histograms of path heights per set, one panel per network."""

from topography.barriers import barrier_figure_job
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    out = snakemake.output
    barrier_figure_job(barriers=snakemake.input.barriers, landscape=snakemake.params.landscape,
                       figure_paths=[out.png, out.pdf])
