"""The path job: one job joins every pair of a set, and each pair's record is byte for byte
what joining that pair alone writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from topography.design import PARAMETER_COUNTS
from topography.workflow.io import save_arrays
from topography.models import build_network
from topography.pathfinder import find_path
from topography.jobs.paths import path_config, path_job
from topography.workflow.runtime import Job
from topography.workflow.sets import load_set
from topography.jobs.landscapes import network_landscape

MODEL = dict(activation="softplus", lstm_permutation_seed=1234)
# Small, but with several chunks of images per pass and a kept path that is not the last.
SETTINGS = dict(n_fourier=2, points=5, lam=1e-4, steps=3, lr=1e-3, chunk_size=8, batch_size=None, keep="best")
PAIRS = {0: (0, 1), 1: (2, 0), 2: (1, 2)}


def write_inputs(tmp_path, network: str) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    data = tmp_path / "train.safetensors"
    save_arrays(data, {"images": rng.random((20, 784), dtype=np.float32), "labels": np.arange(20) % 10}, {})
    net = build_network(network)
    weights = np.stack([net.init_vector(seed).numpy() for seed in (3, 5, 7)])
    set_path = tmp_path / "sgd-train.safetensors"
    arrays = {"weights": weights, "seeds": np.array([3, 5, 7]), "train_loss": np.ones(3), "test_loss": np.ones(3)}
    save_arrays(set_path, arrays, dict(network=network, optimizer="sgd", kind="train", n_vectors=3,
                                       n_params=PARAMETER_COUNTS[network]))
    return str(set_path), str(data)


def run_job(tmp_path, network, pairs, settings, outdir):
    set_path, data = write_inputs(tmp_path, network)
    outdir = tmp_path / outdir
    outputs = [str(outdir / f"pair{k}.json") for k in pairs]
    records = path_job(Job(
        input=dict(set=set_path, data=data), output=dict(records=outputs),
        params=dict(pairs=pairs, settings=settings, model=MODEL, device="cpu"),
        wildcards=dict(network=network, landscape="train", set="sgd-train"),
    ))
    return {k: (outdir / f"pair{k}.json").read_bytes() for k in pairs}, records


@pytest.mark.parametrize("network", ["fcp", "lenet", "autoencoder", "lstm"])
def test_a_set_job_writes_each_pair_as_a_job_of_its_own(tmp_path, network):
    together, records = run_job(tmp_path, network, PAIRS, SETTINGS, "set")
    assert [(r["pair"], r["i"], r["j"]) for r in records] == [(k, *pair) for k, pair in PAIRS.items()]
    assert len(set(together.values())) == len(PAIRS)  # three different paths, not one copied
    assert any(r["kept_step"] > 0 for r in records)  # paths that moved: more is compared than straight lines
    for k, pair in PAIRS.items():
        alone, _ = run_job(tmp_path, network, {k: pair}, SETTINGS, f"alone{k}")
        assert alone[k] == together[k], f"{network} pair {k}: the set job's record differs from the pair's own"


def test_mini_batches_are_seeded_by_the_pair_number_not_its_position(tmp_path):
    settings = dict(SETTINGS, batch_size=6)
    together, _ = run_job(tmp_path, "fcp", PAIRS, settings, "set")
    alone, _ = run_job(tmp_path, "fcp", {2: PAIRS[2]}, settings, "alone")
    assert alone[2] == together[2]
    # ... and the seed matters: the same pair under another number draws other mini-batches
    renumbered, _ = run_job(tmp_path, "fcp", {0: PAIRS[2]}, settings, "renumbered")
    assert renumbered[0] != together[2]


def test_outputs_and_pairs_must_agree_in_number(tmp_path):
    set_path, data = write_inputs(tmp_path, "fcp")
    with pytest.raises(ValueError, match="3 pairs in params 'pairs' but 2 files in output 'records'"):
        path_job(Job(
            input=dict(set=set_path, data=data), output=dict(records=[str(tmp_path / "a.json"), str(tmp_path / "b.json")]),
            params=dict(pairs=PAIRS, settings=SETTINGS, model=MODEL, device="cpu"),
            wildcards=dict(network="fcp", landscape="train", set="sgd-train"),
        ))


def test_a_pair_beyond_the_set_is_named(tmp_path):
    set_path, data = write_inputs(tmp_path, "fcp")
    with pytest.raises(ValueError, match=r"pair 4 is \(1, 3\) but the set holds 3 vectors"):
        path_job(Job(
            input=dict(set=set_path, data=data), output=dict(records=[str(tmp_path / "a.json")]),
            params=dict(pairs={4: (1, 3)}, settings=SETTINGS, model=MODEL, device="cpu"),
            wildcards=dict(network="fcp", landscape="train", set="sgd-train"),
        ))


# --- pass shapes measured on the machine (paths.pass_shape: measured)


def test_the_fastest_candidate_shape_is_chosen(monkeypatch):
    from topography import landscape as module

    net = build_network("fcp")
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(0))
    # 10 vectors in passes of 4 and 2 + 4 x 10 images, or 1 and 20 x 10: every scaled shape
    # makes other passes (with these images, fewer than two of the largest passes)
    surface = module.NetworkLandscape(net, x, torch.arange(50) % 10, rows_per_pass=40, points_per_pass=4)
    weights = torch.stack([net.init_vector(seed) for seed in range(10)])
    now, tried = [0.0], []
    target = (20, 4)

    def fake(self, w):  # 1 us per image and vector in the target shape, 3 us in any other
        tried.append((self.rows_per_pass, self.points_per_pass, self.n, len(w)))
        now[0] += (1e-6 if (self.rows_per_pass, self.points_per_pass) == target else 3e-6) * self.n * len(w)

    monkeypatch.setattr(module.NetworkLandscape, "losses_and_grads", fake)
    shape, seconds = module.measure_pass_shape(surface, weights, clock=lambda: now[0])
    assert shape == target
    assert seconds[target] == pytest.approx(1e-6)
    assert all(s == pytest.approx(3e-6) for c, s in seconds.items() if c != target)
    assert (40, 4) in seconds and (40, 1) in seconds  # the landscape's own shape is among them
    # all but (160, 1), whose one vector per pass takes all 50 images per chunk as (80, 1) does
    assert len(seconds) == 2 * len(module.ROW_SCALES) - 1 and (160, 1) not in seconds
    assert len(tried) == 3 * len(seconds)  # a warm-up and two timings each
    # each timed on one pass of its own: (20, 4) is 4 vectors on 5 images, (10, 1) 1 on 10
    assert (20, 4, 5, 4) in tried and (10, 1, 10, 1) in tried and (80, 1, 50, 1) in tried


def test_candidate_shapes_that_make_the_same_passes_are_timed_once(monkeypatch):
    from topography import landscape as module

    net = build_network("fcp")
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(0))
    # chunk_size 8 caps every scaled shape's chunk for 3 vectors: one candidate per number of
    # vectors per pass (3 of the 8, or 2)
    surface = module.NetworkLandscape(net, x, torch.arange(50) % 10, chunk_size=8, rows_per_pass=400,
                                      points_per_pass=8)
    weights = torch.stack([net.init_vector(seed) for seed in range(3)])
    shape, seconds = module.measure_pass_shape(surface, weights, repeats=1)
    assert list(seconds) == [(100, 8), (100, 2)] and shape in seconds
    assert all(0 < s < 1 for s in seconds.values())  # seconds per image and vector


def test_a_measured_job_records_its_shape_and_computes_with_it(tmp_path, monkeypatch):
    import topography.jobs.paths as paths_module

    chosen = (7, 2)  # 3 images per chunk for groups of 2 points: not the fallback's passes
    monkeypatch.setattr(paths_module, "measure_pass_shape", lambda surface, w: (chosen, {chosen: 0.1}))
    settings = dict(SETTINGS, pass_shape="measured")
    _, records = run_job(tmp_path, "fcp", {1: PAIRS[1]}, settings, "measured")
    assert records[0]["provenance"]["pass_shape"] == list(chosen)
    # The path is the one find_path takes in passes of the chosen shape.
    set_path, data = write_inputs(tmp_path, "fcp")
    surface, _ = network_landscape("fcp", data, MODEL, settings["chunk_size"], "cpu")
    weights = load_set(set_path)[0]
    i, j = PAIRS[1]
    expected = find_path(surface.with_pass_shape(*chosen), torch.from_numpy(weights[i]),
                         torch.from_numpy(weights[j]), path_config(settings, seed=1))
    assert records[0]["losses"] == expected.losses.tolist()
    # A fixed run's records carry no shape, and were computed otherwise.
    fixed, fixed_records = run_job(tmp_path, "fcp", {1: PAIRS[1]}, SETTINGS, "fixed")
    assert "pass_shape" not in json.loads(fixed[1])["provenance"]
    assert fixed_records[0]["losses"] != records[0]["losses"]


# --- the plan: one path job per (network, landscape, set), writing every pair's record


def test_the_plan_has_one_path_job_per_set_with_every_pair_as_an_output(tmp_path):
    import re

    from workflow_helpers import copy_workflow, planned_jobs, snakemake

    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "more_pairs.yaml").write_text("select: {n_best: 3}\ntrain: {seeds: 3}\npaths: {pairs: 3}\n")
    args = ("--configfile", "presets/smoke.yaml", "more_pairs.yaml")
    # 2 networks x (4 sets on the training landscape + 2 on the test one); 3 pairs each
    assert planned_jobs(workdir, *args)["path"] == 12
    text = snakemake(workdir, "-n", *args).stdout
    outputs = re.findall(r"rule path:\n\s+input: .*\n\s+output: (.*)\n\s+log: (.*)", text)
    assert len(outputs) == 12
    for files, log in outputs:
        stem = log.removeprefix("logs/paths/").removesuffix(".log")  # network/landscape/set
        assert files.split(", ") == [f"results/paths/{stem}/pair{k}.json" for k in range(3)]


def test_pairs_per_job_splits_each_sets_pairs_over_rules(tmp_path):
    """paths.pairs_per_job: 2 of 3 pairs: rule path_0 joins pairs 0 and 1 of every set,
    path_1 pair 2, each with its own log; the records' names are those of one job per set
    (a job of a subset of a set's pairs writes those pairs' records unchanged: above)."""
    import re

    from workflow_helpers import copy_workflow, planned_jobs, snakemake

    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "split.yaml").write_text(
        "select: {n_best: 3}\ntrain: {seeds: 3}\npaths: {pairs: 3, pairs_per_job: 2}\n")
    args = ("--configfile", "presets/smoke.yaml", "split.yaml")
    jobs = planned_jobs(workdir, *args)
    assert jobs["path_0"] == jobs["path_1"] == 12 and "path" not in jobs
    text = snakemake(workdir, "-n", *args).stdout
    for chunk, numbers in ((0, [0, 1]), (1, [2])):
        outputs = re.findall(rf"rule path_{chunk}:\n\s+input: .*\n\s+output: (.*)\n\s+log: (.*)", text)
        assert len(outputs) == 12
        for files, log in outputs:
            stem = log.removeprefix("logs/paths/").removesuffix(f".part{chunk}.log")
            assert files.split(", ") == [f"results/paths/{stem}/pair{k}.json" for k in numbers]
