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


def test_float_counts_and_yaml_strings_stop_the_plan_naming_each_key(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "bad.yaml").write_text(
        "train: {seeds: 2.0, sgd: {batch_size: 64.0, lr: 1e-3}}\npaths: {pairs: 1.0}\nselect: {n_best: 2.0}\n")
    result = snakemake(workdir, "-n", *SMOKE, "bad.yaml", check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    for key in ("train.seeds: 2.0", "train.sgd.batch_size: 64.0", "paths.pairs: 1.0", "select.n_best: 2.0"):
        assert f"{key} is a float, expected an integer" in message, message[-3000:]
    assert "train.sgd.lr: '1e-3' is a string" in message and "write 1.0e-3" in message
    assert not (workdir / "results").exists()
