"""A researcher's own network and data (custom_networks, data.source: file): evaluated like
the built-in networks, checked while the DAG is built, and run through the whole workflow."""

from __future__ import annotations

import importlib
import json
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from topography.jobs.networks import check_networks
from topography.landscape import NetworkLandscape
from topography.models import FlatNetwork, build_network
from topography.workflow.config import ConfigError, load_config, validate_config
from workflow_helpers import REPO, copy_workflow, snakemake

MODELS = '''
from torch import nn


def make_mlp():  # an MLP with biases on 8 x 8 images
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Softplus(), nn.Linear(16, 10))


def make_conv_autoencoder():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Softplus(), nn.Conv2d(4, 1, 3, padding=1), nn.Sigmoid())


def make_five_classes():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 5))


def make_wrong_size():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 7))


def make_with_dropout():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Dropout(0.5), nn.Linear(16, 10))


def not_a_module():
    return "an MLP"


def broken():
    raise RuntimeError("no weights here")
'''


def digits(n_train=300, n_test=150):
    """Real 8 x 8 digits (scikit-learn's 1,797), scaled to [0, 1], as [N, 1, 8, 8]."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16).astype(np.float32)[:, None]
    y = data.target.astype(np.int64)
    return dict(x_train=x[:n_train], y_train=y[:n_train], x_test=x[n_train:n_train + n_test],
                y_test=y[n_train:n_train + n_test])


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A working directory with my_models.py and digits.npz, as a researcher's would be."""
    (tmp_path / "my_models.py").write_text(MODELS)
    np.savez(tmp_path / "digits.npz", **digits())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.modules.pop("my_models", None)
    importlib.invalidate_caches()
    yield tmp_path
    sys.modules.pop("my_models", None)


def config_with(**overrides) -> dict:
    config = load_config(REPO / "config.yaml", REPO / "presets" / "smoke.yaml")
    config.update(networks=["mlp"], custom_networks={"mlp": {"factory": "my_models:make_mlp", "loss": "cross_entropy"}})
    config["data"] = dict(config["data"], source="file", path="digits.npz", n_train=None, n_test=None)
    for key, value in overrides.items():
        config[key] = value
    return config


# --- evaluation


def stock_loop(make, weights, x, y, loss):
    """Per vector: the weights copied into a fresh module, a forward and backward pass."""
    losses, grads = [], []
    for w in weights:
        module = make()
        torch.nn.utils.vector_to_parameters(w, module.parameters())
        out = module(x)
        value = nn.functional.cross_entropy(out, y) if loss == "cross_entropy" else \
            (out - x).pow(2).flatten(1).mean(1).mean()
        grad = torch.autograd.grad(value, list(module.parameters()))
        losses.append(value.detach())
        grads.append(torch.cat([g.flatten() for g in grad]))
    return torch.stack(losses), torch.stack(grads)


@pytest.mark.parametrize("factory, loss", [("make_mlp", "cross_entropy"), ("make_conv_autoencoder", "reconstruction")])
def test_batched_evaluation_by_vmap_equals_a_loop_over_the_stock_module(workdir, factory, loss):
    net = build_network("mine", factory=f"my_models:{factory}", loss=loss)
    data = digits(200, 10)
    x, y = torch.from_numpy(data["x_train"]), torch.from_numpy(data["y_train"])
    weights = torch.stack([net.init_vector(seed) for seed in range(4)])
    # small passes, so that the vectors and images are split across several
    landscape = NetworkLandscape(net, x, y, chunk_size=64, rows_per_pass=96, points_per_pass=3)
    losses, grads = landscape.losses_and_grads(weights)
    make = getattr(importlib.import_module("my_models"), factory)
    ref_losses, ref_grads = stock_loop(make, weights, x, y, loss)
    torch.testing.assert_close(losses, ref_losses, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(grads, ref_grads, rtol=1e-4, atol=1e-6 * float(ref_grads.abs().max()))
    torch.testing.assert_close(landscape.losses(weights), ref_losses, rtol=1e-5, atol=1e-7)
    value, grad = landscape.loss_and_grad(weights[1])
    assert value == pytest.approx(float(ref_losses[1]), rel=1e-5)
    torch.testing.assert_close(grad, ref_grads[1], rtol=1e-4, atol=1e-6 * float(ref_grads.abs().max()))


def test_init_vector_is_the_factorys_own_initialisation_seeded(workdir):
    net = build_network("mlp", factory="my_models:make_mlp", loss="cross_entropy")
    torch.manual_seed(3)
    expected = torch.nn.utils.parameters_to_vector(importlib.import_module("my_models").make_mlp().parameters())
    assert torch.equal(net.init_vector(3), expected.detach())
    assert not torch.equal(net.init_vector(3), net.init_vector(4))
    assert net.n_params == 64 * 16 + 16 + 16 * 10 + 10


def test_a_module_passed_in_reinitialises_by_its_own_reset_parameters():
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    net = FlatNetwork.from_module(model, loss="cross_entropy")
    a, b = net.init_vector(0), net.init_vector(0)
    assert torch.equal(a, b) and not torch.equal(a, net.init_vector(1)) and len(a) == net.n_params == 23


# --- checked while the DAG is built


def test_a_valid_custom_network_is_counted(workdir):
    config = config_with()
    validate_config(config)
    assert check_networks(config) == {"mlp": 64 * 16 + 16 + 16 * 10 + 10}


def test_built_in_networks_on_mnist_are_counted_without_building_them():
    config = load_config(REPO / "config.yaml")
    assert check_networks(config) == {"fcp": 42_200, "lenet": 61_706, "autoencoder": 52_224, "lstm": 15_456}


def _custom(factory, loss="cross_entropy"):
    return {"mlp": {"factory": factory, "loss": loss}}


@pytest.mark.parametrize("change, message", [
    (dict(custom_networks=_custom("no_such_module:make_mlp")), "custom_networks.mlp: factory 'no_such_module:make_mlp': cannot import"),
    (dict(custom_networks=_custom("my_models:make_nothing")), "has no function 'make_nothing'"),
    (dict(custom_networks=_custom("my_models:not_a_module")), "returned str, expected a torch.nn.Module"),
    (dict(custom_networks=_custom("my_models:broken")), "failed: RuntimeError: no weights here"),
    (dict(custom_networks=_custom("my_models:make_five_classes")), "cross_entropy needs [1, C] with C >= 10"),
    (dict(custom_networks=_custom("my_models:make_wrong_size", "reconstruction")), "reconstruction needs one value per input value"),
    (dict(custom_networks=_custom("my_models:make_with_dropout")), "the module holds Dropout"),
    (dict(networks=["fcp"]), "networks: fcp on data.path digits.npz: one image of shape [1, 8, 8] through the network failed"),
])
def test_a_factory_or_model_that_does_not_fit_stops_the_plan_naming_its_key(workdir, change, message):
    config = config_with(**change)
    validate_config(config)
    with pytest.raises(ConfigError) as error:
        check_networks(config)
    assert message in str(error.value)


def _write(workdir, name, arrays):
    np.savez(workdir / name, **arrays)
    return name


@pytest.mark.parametrize("arrays, message", [
    ({k: v for k, v in digits().items() if k != "x_test"}, "missing x_test"),
    ({k: v for k, v in digits().items() if k != "y_test"}, "holds y_train but not y_test"),
    (dict(digits(), y_train=digits()["y_train"][:-1]), "y_train has 299 labels but x_train has 300 examples"),
    (dict(digits(), x_test=digits()["x_test"][:, :, :4]), "x_train has examples of shape [1, 8, 8], x_test of [1, 4, 8]"),
    (dict(digits(), x_train=np.where(np.arange(64).reshape(8, 8) == 0, np.nan, digits()["x_train"]).astype(np.float32)),
     "x_train holds 300 non-finite values"),
    (dict(digits(), x_train=(digits()["x_train"] * 16).astype(np.uint8)), "x_train is uint8, expected floating point"),
    ({k: v for k, v in digits().items() if not k.startswith("y")}, "loss cross_entropy needs labels, but the data have none"),
])
def test_a_data_file_that_does_not_fit_stops_the_plan_naming_the_file(workdir, arrays, message):
    config = config_with()
    config["data"]["path"] = _write(workdir, "bad.npz", arrays)
    with pytest.raises(ConfigError) as error:
        check_networks(config)
    assert message in str(error.value) and ("bad.npz" in str(error.value))


def test_a_missing_or_unreadable_data_file_is_named(workdir):
    config = config_with()
    config["data"]["path"] = "nowhere.npz"
    with pytest.raises(ConfigError, match="data.path: nowhere.npz does not exist"):
        check_networks(config)
    (workdir / "garbled.safetensors").write_bytes(b"not a safetensors file")
    config["data"]["path"] = "garbled.safetensors"
    with pytest.raises(ConfigError, match="data.path: cannot read garbled.safetensors as safetensors"):
        check_networks(config)


def test_labels_are_optional_for_a_reconstruction_loss(workdir):
    config = config_with(custom_networks=_custom("my_models:make_conv_autoencoder", "reconstruction"))
    config["data"]["path"] = _write(workdir, "unlabelled.npz", {k: v for k, v in digits().items() if k.startswith("x")})
    assert check_networks(config) == {"mlp": 4 * 9 + 4 + 4 * 9 + 1}


@pytest.mark.parametrize("change, message", [
    (dict(networks=["mlp", "resnet"]), "networks: resnet is neither built in"),
    (dict(custom_networks={"fcp": {"factory": "my_models:make_mlp", "loss": "cross_entropy"}}, networks=["fcp"]),
     "custom_networks: fcp is the name of a built-in network"),
])
def test_network_names_are_checked_with_the_config(change, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(config_with(**change))


def test_a_bad_factory_stops_snakemake_before_any_job_and_deletes_nothing(tmp_path):
    work = copy_workflow(tmp_path / "clone")
    (work / "my_models.py").write_text(MODELS)
    np.savez(work / "digits.npz", **digits())
    kept = work / "results" / "data" / "train.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    (work / "custom.yaml").write_text(json.dumps(dict(
        networks=["mlp"], custom_networks=_custom("my_models:make_five_classes"),
        data=dict(source="file", path="digits.npz", n_train=None, n_test=None))))
    result = snakemake(work, "--configfile", "presets/smoke.yaml", "custom.yaml", "--forceall", check=False)
    assert result.returncode != 0
    assert "custom_networks.mlp" in result.stderr + result.stdout and "C >= 10" in result.stderr + result.stdout
    assert kept.read_text() == "{}" and not (work / "logs").exists()


# --- the whole workflow


@pytest.mark.slow
def test_the_smoke_preset_runs_end_to_end_on_a_custom_network_and_data_file(tmp_path):
    work = copy_workflow(tmp_path / "clone")
    (work / "my_models.py").write_text(MODELS)
    np.savez(work / "digits.npz", **digits())
    (work / "custom.yaml").write_text(json.dumps(dict(
        networks=["mlp"], custom_networks=_custom("my_models:make_mlp"),
        data=dict(source="file", path="digits.npz", n_train=None, n_test=None))))
    snakemake(work, "--configfile", "presets/smoke.yaml", "custom.yaml")
    tables = work / "results" / "tables"
    table1 = pd.read_csv(tables / "table1.csv")
    assert set(table1["network"]) == {"mlp"} and set(table1["n_params"]) == {64 * 16 + 16 + 16 * 10 + 10}
    barriers = pd.read_csv(tables / "barriers.csv")
    assert set(barriers["network"]) == {"mlp"} and barriers["height"].notna().all()
    claims = pd.read_csv(tables / "claims.csv")
    assert set(claims["network"]) == {"mlp"}
    assert claims["expected"].str.contains("not in the paper").any()
    curvature = pd.read_csv(tables / "curvature.csv")
    assert set(curvature["network"]) == {"mlp"} and np.isfinite(curvature["lambda_1"]).all()
    data = json.loads((work / "results" / "data" / "train.json").read_text())
    assert data["n"] == 300 and data["source"] == "file"
    report = (work / "results" / "report" / "report.html").read_text()
    assert "mlp" in report and "not in the paper" in report
    # an edit to the researcher's model reruns its jobs
    (work / "my_models.py").write_text(MODELS + "\n# edited\n")
    plan = snakemake(work, "-n", "--configfile", "presets/smoke.yaml", "custom.yaml")
    assert "rule train:" in plan.stdout
