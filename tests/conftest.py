"""Fixtures shared by the end-to-end tests: one smoke run of the workflow per session."""

from __future__ import annotations

import pytest

from workflow_helpers import copy_workflow, snakemake

SMOKE = ("--configfile", "presets/smoke.yaml")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """A copy of the repository after a complete smoke run (report included), shared by
    test_workflow.py and test_report.py so the workflow runs once."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    snakemake(workdir, *SMOKE)
    return workdir
