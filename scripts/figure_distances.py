"""Paper Fig 5 / S3: distances of two solution sets to their common origin."""

from topography.io import read_table
from topography.plots import plot_distances
from topography.runtime import job

with job(snakemake.log[0], outputs=snakemake.output):
    distances = read_table(snakemake.input.distances)
    plot_distances(distances, snakemake.output.png, snakemake.output.pdf, comparison=snakemake.params.comparison)
