"""Snakemake `report` rule: run the report notebook with papermill, render it to HTML."""

import logging

from topography.io import remove_stale_temporaries
from topography.report import report_job

remove_stale_temporaries(snakemake.output)  # noqa: F821  (left by an earlier, killed attempt)

logging.basicConfig(filename=snakemake.log[0], filemode="w", level=logging.INFO,  # noqa: F821
                    format="%(asctime)s %(name)s %(message)s")
try:
    report_job(
        notebook=snakemake.input.notebook,  # noqa: F821
        parameters=snakemake.params.parameters,  # noqa: F821
        html=snakemake.output.html,  # noqa: F821
        executed=snakemake.output.executed,  # noqa: F821
        log=snakemake.log[0],  # noqa: F821
    )
except Exception:
    logging.exception("the report failed")  # papermill's message names the failing cell
    raise
