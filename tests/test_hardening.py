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


# --- source: idx, checked while the DAG is built


def idx_preset(workdir, **data):
    text = "data: {source: idx, idx_dir: mnist, n_train: null, n_test: null"
    text += "".join(f", {key}: {value}" for key, value in data.items()) + "}\n"
    (workdir / "idx.yaml").write_text(text)
    return ("--configfile", "presets/smoke.yaml", "idx.yaml")


def test_missing_idx_files_stop_the_run_before_any_job_or_deletion(tmp_path):
    workdir = copy_workflow(tmp_path)
    earlier = workdir / "results" / "data" / "train.safetensors"  # an earlier run's output
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"kept")
    result = snakemake(workdir, *idx_preset(workdir), check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert "neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte found" in message, message[-3000:]
    assert "data.download: true" in message
    assert earlier.read_bytes() == b"kept"
    assert not (workdir / "logs" / "data.log").exists()  # no job started


def fake_idx_dir(directory, n=30):
    """Random pixels under the four standard names: IDX files, but not MNIST."""
    import gzip

    import numpy as np

    directory.mkdir()
    rng = np.random.default_rng(0)
    for stem, shape in (("train-images-idx3-ubyte", (n, 28, 28)), ("train-labels-idx1-ubyte", (n,)),
                        ("t10k-images-idx3-ubyte", (n, 28, 28)), ("t10k-labels-idx1-ubyte", (n,))):
        values = rng.integers(0, 256 if len(shape) == 3 else 10, size=shape, dtype=np.uint8)
        header = bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
        (directory / f"{stem}.gz").write_bytes(gzip.compress(header + values.tobytes(), mtime=0))


def test_idx_files_that_are_not_mnist_stop_the_plan_unless_switched_off(tmp_path):
    workdir = copy_workflow(tmp_path)
    fake_idx_dir(workdir / "mnist")
    result = snakemake(workdir, "-n", *idx_preset(workdir), check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert "train-images-idx3-ubyte.gz" in message and "the published file has 9912422" in message, message[-3000:]
    assert "data.verify_sha256: false" in message
    # With the switch the same files plan; asking for more images than they hold does not.
    planned = snakemake(workdir, "-n", *idx_preset(workdir, verify_sha256="false")).stdout
    assert re.search(r"^data\s+1$", planned, re.M)
    result = snakemake(workdir, "-n", *idx_preset(workdir, verify_sha256="false", n_train=31), check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0 and "data.n_train = 31" in message and "holds 30 images" in message


# --- a job killed (SIGKILL) exactly at the rename of its output

KILL_AT_RENAME = '''
import os, signal
_replace = os.replace
def _replace_or_die(src, dst, *args, **kwargs):
    if str(dst).endswith(os.environ["KILL_AT_RENAME"]):
        os.kill(os.getpid(), signal.SIGKILL)  # no finally, no atexit: as the kernel kills
    return _replace(src, dst, *args, **kwargs)
os.replace = _replace_or_die
'''


def test_a_job_killed_at_the_rename_leaves_a_tmp_that_the_next_run_removes(tmp_path, monkeypatch):
    workdir = copy_workflow(tmp_path / "wf")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_AT_RENAME)  # loaded by every Python the run starts
    target = "results/data/train.safetensors"
    monkeypatch.setenv("PYTHONPATH", str(hook))
    monkeypatch.setenv("KILL_AT_RENAME", target)
    killed = snakemake(workdir, target, *SMOKE, check=False)
    assert killed.returncode != 0
    stale = list((workdir / "results").rglob("*.tmp"))
    assert [p.name.startswith(".train.safetensors.") for p in stale] == [True], stale
    monkeypatch.delenv("PYTHONPATH")
    monkeypatch.delenv("KILL_AT_RENAME")
    snakemake(workdir, target, *SMOKE)
    assert (workdir / target).stat().st_size > 0
    assert list((workdir / "results").rglob("*.tmp")) == []
    assert f"removed {stale[0].relative_to(workdir)}" in (workdir / "logs" / "data.log").read_text()


# --- reruns give the same bytes


@pytest.mark.slow
def test_two_fresh_smoke_runs_give_identical_results(smoke_run, tmp_path):
    """Every file under results/ of a second fresh run, byte for byte: no wall time, no
    creation date, no execution time anywhere in the results (they live in benchmarks/
    and logs/)."""
    second = copy_workflow(tmp_path / "second")
    snakemake(second, *SMOKE)
    first_files = sorted(p.relative_to(smoke_run) for p in (smoke_run / "results").rglob("*") if p.is_file())
    second_files = sorted(p.relative_to(second) for p in (second / "results").rglob("*") if p.is_file())
    assert first_files == second_files
    assert len(first_files) > 100
    differ = [str(p) for p in first_files if (smoke_run / p).read_bytes() != (second / p).read_bytes()]
    assert differ == [], differ
