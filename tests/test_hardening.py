"""The workflow under bad input, faults and interruptions: what a rule reads is declared,
data problems stop the plan before any job runs, reruns give the same bytes, and a
killed job leaves nothing behind for good."""

from __future__ import annotations

import re

import pytest

from workflow_helpers import copy_workflow, snakemake

pytestmark = pytest.mark.workflow
SMOKE = ("--configfile", "presets/smoke.yaml")


def planned_inputs(workdir, *args) -> dict[str, list[list[str]]]:
    """Rule -> the declared inputs of each job ``snakemake -n`` plans."""
    text = snakemake(workdir, "-n", *args).stdout
    jobs: dict[str, list[list[str]]] = {}
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:)", text):  # group jobs indent theirs
        match = re.match(r"\s*(?:local)?rule (\w+):", block)
        inputs = re.search(r"^\s+input: (.*)$", block, re.M)
        if match:
            jobs.setdefault(match.group(1), []).append(inputs.group(1).split(", ") if inputs else [])
    return jobs


def test_every_array_file_a_job_reads_comes_with_its_sidecar_as_an_input(tmp_path):
    """A job that reads x.safetensors reads x.json too (io.load_arrays); an undeclared
    sidecar would let a changed or broken one go unnoticed by Snakemake."""
    workdir = copy_workflow(tmp_path)
    jobs = planned_inputs(workdir, *SMOKE)
    assert {"select", "path", "train", "curvature", "bezier", "geometry", "report"} <= set(jobs)
    for rule, job_inputs in jobs.items():
        for inputs in job_inputs:
            arrays = [p for p in inputs if p.endswith(".safetensors")]
            missing = [p for p in arrays if p.removesuffix(".safetensors") + ".json" not in inputs]
            assert not missing, f"{rule}: reads {missing} without their sidecars"
