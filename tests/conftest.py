"""Fixtures shared by the end-to-end tests: one smoke run of the workflow per session."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workflow_helpers import REPO, copy_workflow, snakemake

SMOKE = ("--configfile", "presets/smoke.yaml")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """A copy of the repository after a complete smoke run (report included), shared by
    test_workflow.py and test_report.py so the workflow runs once."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    snakemake(workdir, *SMOKE)
    return workdir


@pytest.fixture(scope="session")
def plan(tmp_path_factory):
    """A dry run of the smoke preset in a fresh copy (tests/planning_probe.py): the import
    statements the workflow's files ran while the DAG was built, and every rule's script,
    code inputs and conda environment."""
    workdir = copy_workflow(tmp_path_factory.mktemp("plan"))
    done = subprocess.run([sys.executable, str(REPO / "tests" / "planning_probe.py"), *SMOKE[1:]],
                          cwd=workdir, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
