import json
import math

import numpy as np
import pytest
import torch

from topography.jobs.data import prepare
from topography.workflow.io import load_vector
from topography.landscape import NetworkLandscape
from topography.models import NETWORKS, build_network
from topography.workflow.runtime import Job
from topography.jobs.train import StoppingRule, train_job, train_run

STOP = dict(loss_floor=1e-7, window=50, rel_tol=1e-2)
SGD = dict(lr=0.1, momentum=0.0, batch_size=64, epochs=2, stop=STOP)
LBFGS = dict(max_iterations=3, history=10, initial_fraction=0.2, budget=6, tol=1e-4, line_search="authors", stop=STOP)
MODEL = dict(activation="softplus", lstm_permutation_seed=1234)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    cfg = dict(source="embedded", n_train=150, n_test=50, seed=0)
    prepare(cfg, root / "train.safetensors", root / "test.safetensors", {})
    return root


def run_job(prepared, out, network, optimizer, seed=0):
    outputs = {k: out / f"{k}.{'csv' if k == 'history' else 'safetensors'}" for k in ("history", "train", "test")}
    settings = SGD if optimizer == "sgd" else LBFGS
    result = train_job(Job(
        input=dict(train=prepared / "train.safetensors", test=prepared / "test.safetensors"), output=outputs,
        params=dict(model=MODEL, settings=settings, chunk_size=100, device="cpu"),
        wildcards=dict(network=network, optimizer=optimizer, seed=str(seed)),
    ))
    return result, outputs


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
@pytest.mark.parametrize("network", NETWORKS)
def test_same_config_and_seed_give_byte_identical_files(prepared, tmp_path, network, optimizer):
    _, first = run_job(prepared, tmp_path / "a", network, optimizer)
    _, second = run_job(prepared, tmp_path / "b", network, optimizer)
    for key in first:
        assert first[key].read_bytes() == second[key].read_bytes(), key
        if key != "history":
            sidecar = first[key].with_suffix(".json")
            assert sidecar.read_bytes() == second[key].with_suffix(".json").read_bytes()


def test_kept_weights_are_those_at_the_minima(prepared, tmp_path):
    result, outputs = run_job(prepared, tmp_path, "fcp", "lbfgs")
    history = result.history
    train_rows = history[history.split == "train"]
    test_rows = history[history.split == "test"]
    w_train, meta_train = load_vector(outputs["train"])
    w_test, meta_test = load_vector(outputs["test"])
    assert meta_train["epoch"] == int(train_rows.loc[train_rows.loss.idxmin(), "epoch"])
    assert meta_test["epoch"] == int(test_rows.loc[test_rows.loss.idxmin(), "epoch"])
    assert meta_train["stop_reason"] == "budget" and meta_train["n_params"] == 42_200
    assert w_train.dtype == np.float32 and w_train.shape == (42_200,)
    # The stored vector really has the recorded loss.
    net = build_network("fcp")
    from topography.jobs.data import load_prepared

    x, y, _ = load_prepared(prepared / "train.safetensors")
    loss = NetworkLandscape(net, x, y).loss(torch.from_numpy(w_train))
    assert loss == pytest.approx(meta_train["train_loss"], rel=1e-5)
    # Per epoch: train and test loss, accuracy for a classifier, epoch 0 = initialisation.
    assert set(history.columns) == {"network", "optimizer", "seed", "epoch", "split", "loss", "accuracy", "stop_reason"}
    assert sorted(train_rows.epoch) == [0, 1, 2, 3]
    assert history.accuracy.between(0, 1).all()


def test_lbfgs_lowers_the_training_loss(prepared, tmp_path):
    result, _ = run_job(prepared, tmp_path, "fcp", "lbfgs")
    losses = result.history[result.history.split == "train"].loss.to_numpy()
    assert losses[-1] < losses[0]


def tiny_landscapes(poison=False):
    net = build_network("fcp")
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 784, generator=g), torch.randint(0, 10, (64,), generator=g)
    if poison:
        x[0, 0] = float("nan")
    return net, NetworkLandscape(net, x, y), NetworkLandscape(net, x[:32], y[:32])


def test_sgd_that_blows_up_is_marked_diverged_not_crashed():
    net, train, test = tiny_landscapes()
    result = train_run(net, "sgd", 0, train, test, dict(SGD, lr=1e38, epochs=5), progress=False)
    assert result.stop_reason == "diverged"
    assert math.isfinite(result.best_train.loss)  # the last finite weights are kept


def test_lbfgs_on_a_nan_landscape_resets_then_is_marked_diverged():
    net, train, test = tiny_landscapes(poison=True)
    result = train_run(net, "lbfgs", 0, train, test, dict(LBFGS, max_iterations=10), progress=False)
    assert result.stop_reason == "diverged"
    assert result.epochs_run < 10


def test_diverged_run_still_writes_its_files_marked_diverged(tmp_path):
    from topography.workflow.io import save_arrays

    g = torch.Generator().manual_seed(0)
    # Finite images so large that the network's outputs overflow: no loss is ever finite.
    # (NaN images would be refused by the data check before training starts.)
    x = np.full((64, 784), 3e38, np.float32)
    y = torch.randint(0, 10, (64,), generator=g).numpy()
    for split in ("train", "test"):
        save_arrays(tmp_path / f"{split}.safetensors", {"images": x, "labels": y}, {})
    _, outputs = run_job(tmp_path, tmp_path / "out", "fcp", "lbfgs")
    _, meta = load_vector(outputs["train"])
    assert meta["stop_reason"] == "diverged"
    # No finite loss: null in the sidecar, which stays valid JSON (no Infinity).
    assert meta["train_loss"] is None and meta["test_loss"] is None
    json.loads(outputs["train"].with_suffix(".json").read_text(), parse_constant=pytest.fail)


# --- stopping rules


def test_stopping_rule_floor_and_relative_decrease():
    rule = StoppingRule(loss_floor=1e-3, window=2, rel_tol=0.1)
    assert not rule.converged([])
    assert rule.converged([1.0, 5e-4])  # at the floor
    assert not rule.converged([1.0, 0.5])  # too short to judge the decrease
    assert not rule.converged([1.0, 0.8, 0.5])  # fell by half over the window
    assert rule.converged([1.0, 0.5, 0.49, 0.48])  # fell by 4% < 10% over the last 2 epochs
    assert not rule.converged([1.0, 0.5, 0.49, float("nan")])  # a non-finite loss never converges
    # The best loss counts: a rise after a fall is not progress.
    assert rule.converged([1.0, 0.5, 0.6, 0.7])


class Quadratic:
    """A landscape with the surface of a quadratic bowl, for the L-BFGS-GSS driver."""

    def __init__(self, floor=0.0):
        self.scales = torch.linspace(1.0, 10.0, 20, dtype=torch.float64)
        self.floor = floor
        self.x = torch.empty(0)  # where the weights live

    def loss(self, w):
        return float(0.5 * (self.scales * w * w).sum() + self.floor)

    def loss_and_grad(self, w):
        return self.loss(w), self.scales * w

    def loss_and_accuracy(self, w):
        return self.loss(w), math.nan


class FakeNet:
    name, task = "quadratic", "reconstruct"

    def __init__(self, w0):
        self.w0 = w0

    def init_vector(self, seed):
        return self.w0.clone()


def test_lbfgs_stops_converged_on_a_quadratic():
    w0 = torch.ones(20, dtype=torch.float64)
    surface = Quadratic()
    settings = dict(LBFGS, max_iterations=500, stop=dict(loss_floor=1e-10, window=10, rel_tol=1e-3))
    result = train_run(FakeNet(w0), "lbfgs", 0, surface, surface, settings, progress=False)
    assert result.stop_reason == "converged"
    assert result.epochs_run < 500  # stopped by the rule, not the cap
    assert result.best_train.loss <= 1e-10 or result.epochs_run > 10
    assert set(result.history.stop_reason) == {"converged"}


def test_lbfgs_that_cannot_reach_its_floor_in_the_cap_reports_budget():
    # A floor below the reachable minimum (0.5 here) and a cap too short for the
    # relative-decrease rule to settle: the run ends at the cap, still descending.
    w0 = torch.full((20,), 50.0, dtype=torch.float64)
    surface = Quadratic(floor=0.5)
    settings = dict(LBFGS, max_iterations=5, stop=dict(loss_floor=1e-3, window=3, rel_tol=1e-6))
    result = train_run(FakeNet(w0), "lbfgs", 0, surface, surface, settings, progress=False)
    assert result.stop_reason == "budget"
    assert result.epochs_run == 5


def test_sgd_runs_its_fixed_epochs_and_reads_the_rule_at_the_end():
    net, train, test = tiny_landscapes()
    loose = dict(SGD, epochs=3, stop=dict(loss_floor=10.0, window=50, rel_tol=1e-2))
    result = train_run(net, "sgd", 0, train, test, loose, progress=False)
    assert result.epochs_run == 3 and result.stop_reason == "converged"  # never stopped early
    strict = dict(SGD, epochs=3, stop=dict(loss_floor=0.0, window=50, rel_tol=1e-2))
    assert train_run(net, "sgd", 0, train, test, strict, progress=False).stop_reason == "budget"
