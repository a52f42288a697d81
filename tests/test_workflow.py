"""End to end: the workflow on presets/smoke.yaml, and how it replans after edits."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from workflow_helpers import copy_workflow, planned_jobs, snakemake

pytestmark = pytest.mark.workflow
SMOKE = ("--configfile", "presets/smoke.yaml")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A copy of the repository after a complete smoke run."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    snakemake(workdir, *SMOKE)
    return workdir


@pytest.fixture
def edited(finished):
    """Edit a file as a user would (Snakemake compares contents, not only times), then
    put its old contents back."""
    saved = {}

    def edit(relative):
        path = finished / relative
        saved[path] = path.read_bytes()
        path.write_text(saved[path].decode() + "\n# an edit\n")

    yield edit
    for path, content in saved.items():
        path.write_bytes(content)


def smoke_config(workdir):
    with open(workdir / "config.yaml") as f:
        config = yaml.safe_load(f)
    with open(workdir / "presets" / "smoke.yaml") as f:
        smoke = yaml.safe_load(f)
    return config, smoke


def test_smoke_run_writes_every_training_run_and_the_sets(finished):
    config, smoke = smoke_config(finished)
    seeds = smoke["train"]["seeds"]
    for network in config["networks"]:
        for optimizer in config["optimizers"]:
            for seed in range(seeds):
                run = finished / "results" / "train" / network / optimizer / f"seed{seed}"
                for name in ("history.csv", "train.safetensors", "train.json", "test.safetensors", "test.json"):
                    assert (run / name).stat().st_size > 0, run / name
                assert (finished / "logs" / "train" / network / optimizer / f"seed{seed}.log").exists()
        runs = pd.read_csv(finished / "results" / "sets" / network / "runs.csv")
        assert runs.selected.sum() == 2 * smoke["select"]["n_best"]
    assert not list(finished.rglob("*.tmp")), "a temporary file was left behind"


def test_a_finished_run_has_nothing_left_to_do(finished):
    assert planned_jobs(finished, *SMOKE) == {}


def test_editing_the_training_code_replans_training_and_downstream_only(finished, edited):
    edited("src/topography/optim.py")
    jobs = planned_jobs(finished, *SMOKE)
    config, smoke = smoke_config(finished)
    n_runs = len(config["networks"]) * len(config["optimizers"]) * smoke["train"]["seeds"]
    assert jobs.get("train") == n_runs
    assert jobs.get("select") == len(config["networks"])
    assert "data" not in jobs


def test_editing_a_script_replans_its_rule(finished, edited):
    edited("scripts/select.py")
    jobs = planned_jobs(finished, *SMOKE)
    assert "select" in jobs and "train" not in jobs and "data" not in jobs


def test_changing_one_optimizer_setting_replans_only_its_runs(finished, tmp_path):
    config, smoke = smoke_config(finished)
    sgd = dict(smoke["train"]["sgd"], lr=smoke["train"]["sgd"]["lr"] / 2)
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"train": dict(smoke["train"], sgd=sgd)}))
    jobs = planned_jobs(finished, "--configfile", "presets/smoke.yaml", str(override))
    assert jobs.get("train") == len(config["networks"]) * smoke["train"]["seeds"]  # sgd runs only
    assert "data" not in jobs


@pytest.mark.parametrize(
    "override, key, allowed",
    [
        ({"data": {"n_train": "many"}}, "data.n_train", "integer"),
        ({"networks": ["fcp", "resnet"]}, "networks.1", "fcp, lenet, autoencoder, lstm"),
        ({"optimizers": ["adam"]}, "optimizers.0", "lbfgs, sgd"),
        ({"train": {"seeds": -3}}, "train.seeds", "minimum"),
        ({"train": {"sgd": {"lr": 0}}}, "train.sgd.lr", "minimum"),
        ({"device": "tpu"}, "device", "auto, cpu, cuda"),
    ],
)
def test_a_bad_config_is_rejected_before_any_job_naming_the_key(tmp_path, override, key, allowed):
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "bad.yaml").write_text(yaml.safe_dump(override))
    result = snakemake(workdir, "-n", "--configfile", "presets/smoke.yaml", "bad.yaml", check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert key in message and allowed in message, message[-2000:]
    assert not (workdir / "results").exists()
