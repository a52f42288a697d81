import math

import numpy as np
import pytest
import torch

from topography.data import prepare
from topography.io import load_vector
from topography.landscape import NetworkLandscape
from topography.models import NETWORKS, build_network
from topography.train import train_job, train_run

SGD = dict(lr=0.1, momentum=0.0, batch_size=64, epochs=2)
LBFGS = dict(iterations=3, history=10, initial_fraction=0.2, budget=6, tol=1e-4)
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
    result = train_job(
        network=network, optimizer=optimizer, seed=seed,
        train_data=prepared / "train.safetensors", test_data=prepared / "test.safetensors",
        outputs=outputs, model=MODEL, settings=settings, chunk_size=100, device="cpu",
    )
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
    assert meta_train["status"] == "ok" and meta_train["n_params"] == 42_200
    assert w_train.dtype == np.float32 and w_train.shape == (42_200,)
    # The stored vector really has the recorded loss.
    net = build_network("fcp")
    from topography.data import load_prepared

    x, y, _ = load_prepared(prepared / "train.safetensors")
    loss = NetworkLandscape(net, x, y).loss(torch.from_numpy(w_train))
    assert loss == pytest.approx(meta_train["train_loss"], rel=1e-5)
    # Per epoch: train and test loss, accuracy for a classifier, epoch 0 = initialisation.
    assert set(history.columns) == {"network", "optimizer", "seed", "epoch", "split", "loss", "accuracy"}
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
    assert result.status == "diverged"
    assert math.isfinite(result.best_train.loss)  # the last finite weights are kept


def test_lbfgs_on_a_nan_landscape_resets_then_is_marked_diverged():
    net, train, test = tiny_landscapes(poison=True)
    result = train_run(net, "lbfgs", 0, train, test, dict(LBFGS, iterations=10), progress=False)
    assert result.status == "diverged"
    assert result.epochs_run < 10


def test_diverged_run_still_writes_its_files_marked_diverged(tmp_path):
    from topography.io import save_arrays

    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 784, generator=g).numpy()
    x[0, 0] = np.nan
    y = torch.randint(0, 10, (64,), generator=g).numpy()
    for split in ("train", "test"):
        save_arrays(tmp_path / f"{split}.safetensors", {"images": x, "labels": y}, {})
    _, outputs = run_job(tmp_path, tmp_path / "out", "fcp", "lbfgs")
    _, meta = load_vector(outputs["train"])
    assert meta["status"] == "diverged"
