"""Paper Fig 3: FourierPathFinder on the 2D toy landscape."""

from topography.workflow.runtime import run
from topography.jobs.toy import toy_job

run(toy_job, snakemake)
