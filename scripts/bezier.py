"""Snakemake `bezier` rule: quadratic Bezier curves between the first pairs of each set."""

from topography.crosscheck_bezier import bezier_job
from topography.runtime import run

run(bezier_job, snakemake)
