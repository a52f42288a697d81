"""What a careful user breaks (issue 25): late checks that cost outputs, intermediate files
never remade, a working directory other than the clone. Each test fails if its fix is removed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from topography.workflow.config import GPU_DEVICE_FILES
from workflow_helpers import copy_workflow, planned_jobs, snakemake

pytestmark = pytest.mark.workflow
SMOKE = ("--configfile", "presets/smoke.yaml")


@pytest.fixture
def finished_copy(smoke_run, tmp_path):
    """A private copy of the finished smoke run (mtimes kept), to break things in."""
    workdir = tmp_path / "w"
    shutil.copytree(smoke_run, workdir, symlinks=True)
    return workdir


def _results(workdir: Path) -> dict[str, int]:
    return {str(p.relative_to(workdir)): p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file()}


@pytest.mark.parametrize("override", [{"seed": 2**40}, {"optimizers": ["sgd"]}, {"train": {"seeds": 2.0}}])
def test_a_failing_check_never_costs_an_existing_output(finished_copy, override):
    before = _results(finished_copy)
    (finished_copy / "bad.yaml").write_text(yaml.safe_dump(override))
    result = snakemake(finished_copy, *SMOKE, "bad.yaml", "--forceall", check=False)
    assert result.returncode != 0
    assert _results(finished_copy) == before


@pytest.mark.skipif(any(Path(f).exists() for f in GPU_DEVICE_FILES), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused_while_planning(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "cuda.yaml").write_text(yaml.safe_dump({"device": "cuda"}))
    result = snakemake(workdir, "-n", *SMOKE, "cuda.yaml", check=False)
    assert result.returncode != 0 and "device: 'cuda'" in result.stdout + result.stderr
    assert not (workdir / "results").exists()


@pytest.mark.slow
def test_a_deleted_set_and_path_are_remade_by_a_plain_rerun(finished_copy):
    lost = [finished_copy / "results" / "sets" / "fcp" / "sgd-train.safetensors",
            next((finished_copy / "results" / "paths" / "autoencoder" / "train").rglob("pair*.json"))]
    for path in lost:
        path.unlink()
    jobs = planned_jobs(finished_copy, *SMOKE)
    assert jobs.get("select") == 1  # fcp's sets
    assert jobs.get("path", 0) + jobs.get("path_set", 0) >= 1
    assert "train" not in jobs and "data" not in jobs
    snakemake(finished_copy, *SMOKE)
    assert all(path.exists() for path in lost)


def test_the_workflow_runs_from_another_working_directory(tmp_path):
    clone = copy_workflow(tmp_path / "clone")
    elsewhere = tmp_path / "elsewhere with spaces"
    elsewhere.mkdir()
    snakemake(elsewhere, "results/tables/toy_heights.csv", "-s", str(clone / "Snakefile"), "-d", str(elsewhere),
              "--configfile", str(clone / "presets" / "smoke.yaml"))
    assert (elsewhere / "results" / "tables" / "toy_heights.csv").stat().st_size > 0
    assert not (clone / "results").exists()
    # a config.yaml in the working directory is read instead of the clone's
    (elsewhere / "config.yaml").write_text((clone / "config.yaml").read_text().replace("threads: 1 ", "threads: 0 "))
    result = snakemake(elsewhere, "-s", str(clone / "Snakefile"), "-n", check=False)
    assert result.returncode != 0 and "threads" in result.stdout + result.stderr
