"""Paper Fig 5 / S3: distances of two solution sets to their common origin."""

import pandas as pd

from topography.plots import plot_distances
from topography.runtime import job

with job(snakemake.log[0]):
    distances = pd.read_csv(snakemake.input.distances)
    plot_distances(distances, snakemake.output.png, snakemake.output.pdf, comparison=snakemake.params.comparison)
