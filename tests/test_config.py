"""Config files: laid over each other as snakemake does, and every preset valid."""

from pathlib import Path

import pytest
import yaml

from topography.workflow.config import ConfigError, check_device, load_config, run_settings, validate_config

ROOT = Path(__file__).resolve().parents[1]


def test_presets_merge_nested_keys_and_replace_lists(tmp_path):
    base, preset = tmp_path / "base.yaml", tmp_path / "preset.yaml"
    base.write_text(yaml.safe_dump({"networks": ["fcp", "lstm"], "train": {"seeds": 5, "sgd": {"lr": 0.5, "epochs": 20}}}))
    preset.write_text(yaml.safe_dump({"networks": ["lenet"], "train": {"sgd": {"epochs": 2}}}))
    assert load_config(base, preset) == {"networks": ["lenet"], "train": {"seeds": 5, "sgd": {"lr": 0.5, "epochs": 2}}}
    assert yaml.safe_load(base.read_text())["train"]["sgd"]["epochs"] == 20  # the files are not touched


@pytest.mark.parametrize("preset", [None, "presets/smoke.yaml", "presets/paper.yaml"])
def test_the_default_config_and_every_preset_are_valid(preset):
    paths = [ROOT / "config.yaml"] + ([ROOT / preset] if preset else [])
    validate_config(load_config(*paths))


def test_a_bad_value_is_named_by_its_key():
    config = load_config(ROOT / "config.yaml")
    config["paths"]["points"] = 2
    with pytest.raises(ConfigError, match="paths.points"):
        validate_config(config)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"source": "mnist"}, "data.source"),
        ({"n_train": "100"}, "data.n_train"),
        ({"n_test": 0}, "data.n_test"),
        ({"source": "idx", "idx_dir": None}, "data.idx_dir"),
        ({"source": "idx", "idx_dir": "x", "download": "yes"}, "data.download"),
        ({"source": "embedded", "n_train": None}, "data.n_train"),
    ],
)
def test_a_bad_data_section_is_named_by_its_key(change, key):
    """What the data job takes as valid: the config check names each bad key before any job."""
    config = load_config(ROOT / "config.yaml")
    config["data"] = {k: v for k, v in {**config["data"], **change}.items() if v is not None or k != "idx_dir"}
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_config(config)


def test_download_needs_a_base_url():
    config = load_config(ROOT / "config.yaml")
    config["data"] = {**config["data"], "source": "idx", "idx_dir": "x", "download": True}
    config["data"].pop("base_url", None)
    with pytest.raises(ConfigError, match=r"data\.base_url"):
        validate_config(config)


def test_sgd_epochs_per_network_resolve_to_each_runs_count():
    config = load_config(ROOT / "config.yaml")
    config["train"]["sgd"]["epochs"] = {"fcp": 7, "lenet": 8, "autoencoder": 9, "lstm": 10}
    validate_config(config)
    assert [run_settings(config, n, "sgd")["epochs"] for n in ("fcp", "lenet", "autoencoder", "lstm")] == [7, 8, 9, 10]
    assert config["train"]["sgd"]["epochs"]["fcp"] == 7  # the config itself is not touched
    config["train"]["sgd"]["epochs"] = 5
    assert run_settings(config, "lstm", "sgd")["epochs"] == 5
    assert run_settings(config, "lstm", "lbfgs") == config["train"]["lbfgs"]


def test_sgd_epochs_per_network_must_cover_every_network():
    config = load_config(ROOT / "config.yaml")
    config["train"]["sgd"]["epochs"] = {"fcp": 7}
    with pytest.raises(ConfigError, match=r"train.sgd.epochs: no epoch count for lenet, autoencoder, lstm"):
        validate_config(config)
    config["train"]["sgd"]["epochs"] = {"fcp": 7, "lenet": 8, "autoencoder": 9, "lstm": 10, "resnet": 3}
    with pytest.raises(ConfigError, match="train.sgd.epochs"):
        validate_config(config)


@pytest.mark.parametrize(
    "section, key, value",
    [("train", "seeds", 2.0), ("paths", "pairs", 1.0), ("select", "n_best", 2.0), ("paths", "steps", 3.0),
     (None, "seed", 0.0)],
)
def test_a_float_count_is_refused_naming_the_key(section, key, value):
    config = load_config(ROOT / "config.yaml", ROOT / "presets" / "smoke.yaml")
    (config[section] if section else config)[key] = value
    name = f"{section}.{key}" if section else key
    with pytest.raises(ConfigError, match=rf"{name}: {value!r} is a float, expected an integer: write {int(value)}"):
        validate_config(config)


def test_a_nested_float_count_is_refused():
    config = load_config(ROOT / "config.yaml", ROOT / "presets" / "smoke.yaml")
    config["train"]["sgd"]["batch_size"] = 64.0
    with pytest.raises(ConfigError, match="train.sgd.batch_size: 64.0 is a float"):
        validate_config(config)


def test_a_number_that_yaml_reads_as_a_string_gets_the_yaml_hint(tmp_path):
    preset = tmp_path / "lr.yaml"
    preset.write_text("train:\n  sgd:\n    lr: 1e-3\n")  # YAML 1.1: a string, not 0.001
    config = load_config(ROOT / "config.yaml", preset)
    assert config["train"]["sgd"]["lr"] == "1e-3"
    with pytest.raises(ConfigError, match=r"train.sgd.lr: '1e-3' is a string.*write 1.0e-3"):
        validate_config(config)


def test_one_optimizer_is_refused_naming_the_key():
    config = load_config(ROOT / "config.yaml")
    config["optimizers"] = ["sgd"]
    with pytest.raises(ConfigError, match="optimizers: .* list both"):
        validate_config(config)


def test_a_seed_beyond_what_scikit_learn_takes_is_refused():
    config = load_config(ROOT / "config.yaml")
    config["seed"] = 2**32
    with pytest.raises(ConfigError, match="seed: 4294967296 is greater than the maximum"):
        validate_config(config)


def test_cuda_is_refused_where_jobs_run_locally_on_a_machine_without_a_gpu(tmp_path):
    config = load_config(ROOT / "config.yaml")
    config["device"] = "cuda"
    with pytest.raises(ConfigError, match="device: 'cuda'"):
        check_device(config, local=True, device_files=[str(tmp_path / "nvidia0")])
    check_device(config, local=False, device_files=[str(tmp_path / "nvidia0")])  # a cluster's nodes decide
    (tmp_path / "nvidia0").touch()
    check_device(config, local=True, device_files=[str(tmp_path / "nvidia0")])


def test_the_line_search_is_the_authors_by_default_and_a_bad_one_is_named_by_its_key():
    config = load_config(ROOT / "config.yaml")
    # The default is the notebook's optimizer, which made the published solutions.
    assert config["train"]["lbfgs"]["line_search"] == "authors"
    for preset in ("presets/smoke.yaml", "presets/paper.yaml"):
        assert load_config(ROOT / "config.yaml", ROOT / preset)["train"]["lbfgs"]["line_search"] == "authors"
    config["train"]["lbfgs"]["line_search"] = "brent"
    with pytest.raises(ConfigError, match=r"train\.lbfgs\.line_search: 'brent' is not allowed; expected one of: authors, paper"):
        validate_config(config)
    del config["train"]["lbfgs"]["line_search"]
    with pytest.raises(ConfigError, match=r"train\.lbfgs.*'line_search' is a required property"):
        validate_config(config)


def test_the_schema_ships_in_the_wheel(tmp_path):
    """A non-editable install (pip install .) finds the schema as package data."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = tmp_path / "source"  # a copy: setuptools leaves build/ and *.egg-info beside the sources
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", source)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("topography-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "topography/workflow/config.schema.yaml" in names and "topography/jobs/paper_values.yaml" in names
    # installed from the wheel (not editable), imported first, it validates a config from elsewhere
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    check = ("import topography.workflow.config as c; assert c.__file__.startswith(%r), c.__file__; "
             "c.validate_config(c.load_config(%r))" % (str(site), str(ROOT / "config.yaml")))
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (ROOT / "workflow" / "schemas" / "config.schema.yaml").resolve() == ROOT / "src" / "topography" / "workflow" / "config.schema.yaml"
