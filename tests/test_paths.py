"""The path job: one job joins every pair of a set, and each pair's record is byte for byte
what joining that pair alone writes."""

from __future__ import annotations

import numpy as np
import pytest

from topography.design import PARAMETER_COUNTS
from topography.io import save_arrays
from topography.models import build_network
from topography.paths import path_job
from topography.runtime import Job

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
