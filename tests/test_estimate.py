"""bench/estimate.py plans a preset, measures per-unit costs and scales them (tiny sizes here:
these are not timings)."""

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def estimate_module():
    spec = importlib.util.spec_from_file_location("bench_estimate", ROOT / "bench" / "estimate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_estimate_of_the_smoke_preset(tmp_path):
    out = tmp_path / "estimate.json"
    done = subprocess.run([sys.executable, "bench/estimate.py", "--configfile", "presets/smoke.yaml",
                           "--n-train", "60", "--epochs", "1", "--steps", "2", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    # The plan's counts: 2 networks x 2 optimizers x 2 seeds; 2 networks x 6 (landscape, set), each
    # path job joining the set's 1 pair.
    assert result["jobs_per_rule"]["train"] == 8
    assert result["jobs_per_rule"]["path"] == 12
    assert result["planning_seconds"] > 0
    rows = {(r["rule"], r["network"], r["kind"]): r for r in result["rows"]}
    assert sum(r["jobs"] for r in result["rows"] if r["rule"] == "path") == 12
    for network in ("fcp", "autoencoder"):
        units = result["units"][network]
        assert units["lbfgs"] > 0 and units["sgd"] > 0 and units["path"] > 0
        # 3 L-BFGS-GSS iterations on 200 + 100 images, scaled from the per-image cost
        lbfgs = rows[("train", network, "lbfgs")]
        assert lbfgs["jobs"] == 2
        assert lbfgs["seconds_per_job"] == pytest.approx(3 * units["lbfgs"] * 300)
        # 2 path steps of M - 2 = 3 inner points on the 100 test images
        path = rows[("path", network, "test")]
        assert path["seconds_per_job"] == pytest.approx(2 * units["path"] * 100 * 3)
    assert result["total_core_hours"] == pytest.approx(sum(r["core_hours"] or 0 for r in result["rows"]))
    assert "total:" in done.stdout


def test_estimate_scales_linearly_in_images_and_points(estimate_module):
    config = {"data": {"n_train": 1000, "n_test": None},
              "train": {"lbfgs": {"max_iterations": 10}, "sgd": {"epochs": 4}},
              "paths": {"steps": 5, "points": 12, "pairs": 3}, "select": {"n_best": 3}}
    units = {"fcp": {"lbfgs": 1e-3, "sgd": 2e-3, "path": 1e-4}}
    jobs = [("train", {"network": "fcp", "optimizer": "lbfgs", "seed": "0"}),
            ("path", {"network": "fcp", "landscape": "test", "set": "sgd-test"})]
    per_rule = Counter(train=1, path=1, data=1)

    def seconds(config):
        rows = estimate_module.estimate(config, per_rule, jobs, units)
        return {r["rule"]: r["seconds_per_job"] for r in rows}

    base = seconds(config)
    assert base["train"] == pytest.approx(10 * 1e-3 * (1000 + 10_000))  # n_test null: all 10,000
    assert base["path"] == pytest.approx(3 * 5 * 1e-4 * 10_000 * 10)  # the set's 3 pairs in one job
    assert base["data"] is None  # not measured, listed
    bigger = seconds({**config, "data": {"n_train": 2000, "n_test": 20_000},
                      "paths": {"steps": 5, "points": 22, "pairs": 3}})
    assert bigger["train"] == pytest.approx(2 * base["train"])
    assert bigger["path"] == pytest.approx(2 * 2 * base["path"])
    # more pairs than the 3 vectors have (3): still 3; more vectors: the pairs asked for
    assert seconds({**config, "paths": {**config["paths"], "pairs": 10}})["path"] == pytest.approx(base["path"])
    more = seconds({**config, "paths": {**config["paths"], "pairs": 10}, "select": {"n_best": 5}})
    assert more["path"] == pytest.approx(10 / 3 * base["path"])


def test_plan_parser_reads_counts_and_wildcards(estimate_module):
    text = """Job stats:
job      count
-----  -------
path         2
train        1
total        3

rule train:
    wildcards: network=fcp, optimizer=sgd, seed=0
    [date]
    rule path:
        wildcards: network=fcp, landscape=train, set=sgd-test
"""
    per_rule, jobs = estimate_module.parse_plan(text)
    assert per_rule == Counter(path=2, train=1)
    assert jobs == [("train", {"network": "fcp", "optimizer": "sgd", "seed": "0"}),
                    ("path", {"network": "fcp", "landscape": "train", "set": "sgd-test"})]
    with pytest.raises(ValueError, match="Job stats"):
        estimate_module.parse_plan("Nothing to be done.")


def test_a_gpu_estimate_counts_gpu_hours(estimate_module):
    config = {"data": {"n_train": 1000, "n_test": 100}, "train": {"lbfgs": {"max_iterations": 10}},
              "paths": {"steps": 5, "points": 12, "pairs": 3}, "select": {"n_best": 3}}
    units = {"fcp": {"lbfgs": 1e-3, "path": 1e-4}}
    jobs = [("train", {"network": "fcp", "optimizer": "lbfgs", "seed": "0"})] * 2
    cpu = estimate_module.estimate(config, Counter(train=2), jobs, units)
    gpu = estimate_module.estimate(config, Counter(train=2), jobs, units, "gpu_hours")
    assert "core_hours" not in gpu[0] and gpu[0]["gpu_hours"] == cpu[0]["core_hours"] == 2 * 10 * 1e-3 * 1100 / 3600


def test_the_preset_sizes_are_measured_on_the_embedded_digits_repeated(estimate_module):
    """A GPU is timed at the paper's 60,000 training images; the embedded source has 5,000."""
    config = {"data": {"source": "idx", "n_train": None, "n_test": None}, "seed": 0}
    sizes = estimate_module.measured_sizes(estimate_module.data_sizes(config), 6000)
    assert sizes == {"train": 6000, "test": 1000}
    data = estimate_module.measurement_data(config, sizes)
    x, y = data["train"]
    assert x.shape[0] == y.shape[0] == 6000 and data["test"][0].shape[0] == 1000
    first = 5000 * 5 // 6  # the embedded training share, then again from its start
    assert torch.equal(x[first], x[0]) and not torch.equal(x[first - 1], x[0])


def test_a_sets_pairs_split_over_jobs_cost_the_same_in_all(estimate_module):
    """paths.pairs_per_job: rules path_0, path_1 count as path, and the set's pairs cost what
    they cost in one job (3 pairs, 2 a job: 2 jobs of 1.5 pairs on average)."""
    plan = """Job stats:
job        count
-------  -------
path_0         1
path_1         1
total          2

rule path_0:
    wildcards: network=fcp, landscape=test, set=sgd-test
rule path_1:
    wildcards: network=fcp, landscape=test, set=sgd-test
"""
    per_rule, jobs = estimate_module.parse_plan(plan)
    assert per_rule == Counter(path=2) and [rule for rule, _ in jobs] == ["path", "path"]
    config = {"data": {"n_train": 1000, "n_test": 500}, "train": {},
              "paths": {"steps": 5, "points": 12, "pairs": 3, "pairs_per_job": 2}, "select": {"n_best": 3}}
    units = {"fcp": {"lbfgs": 1e-3, "sgd": 2e-3, "path": 1e-4}}
    (row,) = estimate_module.estimate(config, per_rule, jobs, units)
    assert row["jobs"] == 2 and row["core_hours"] * 3600 == pytest.approx(3 * 5 * 1e-4 * 500 * 10)
