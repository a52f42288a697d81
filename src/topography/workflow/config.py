"""Checking the workflow's config against its JSON schema, with errors a person can act on."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Mapping

import jsonschema
import yaml

from ..design import EMBEDDED_IMAGES, NETWORKS, OPTIMIZERS

# Package data, so that a non-editable install finds it too; workflow/schemas/ links to it.
SCHEMA = resources.files(__package__).joinpath("config.schema.yaml")


class ConfigError(ValueError):
    pass


def load_config(*paths: str | Path) -> dict:
    """The config files laid over each other in order, as ``snakemake --configfile`` does:
    nested mappings merge key by key, any other value (lists included) replaces."""
    config: dict = {}
    for path in paths:
        _lay_over(config, yaml.safe_load(Path(path).read_text()) or {})
    return config


def _lay_over(base: dict, overlay: dict) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _lay_over(base[key], value)
        else:
            base[key] = value


def _key(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


# JSON Schema counts 2.0 as an integer; Python's range() and torch do not. A count written
# as a float would pass the schema and fail later inside a job without naming its key, so
# here an integer is an int (and not a bool, which Python also counts as one).
_TYPE_CHECKER = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool)
)
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_TYPE_CHECKER)


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _explain(error: jsonschema.ValidationError) -> str:
    """One line: the config key, the value found, and what is allowed."""
    key = _key(error)
    if error.validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        value = error.instance
        if "integer" in types and isinstance(value, float) and value.is_integer():
            return f"{key}: {value!r} is a float, expected an integer: write {int(value)}"
        if {"number", "integer"} & set(types) and isinstance(value, str) and _as_number(value) is not None:
            hint = ""
            if "e" in value.lower() and "." not in value.lower().split("e")[0]:
                mantissa, exponent = value.lower().split("e", 1)
                hint = (f"; YAML 1.1 (which Snakemake and PyYAML read) takes {value} for a string, "
                        f"write {mantissa}.0e{exponent} (a dot in the mantissa)")
            return f"{key}: {value!r} is a string, expected a number{hint}"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"{key}: {error.message}; allowed keys: {allowed}"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{key}: {error.instance!r} is not allowed; expected one of: {allowed}"
    return f"{key}: {error.message}"


def validate_config(config: dict, schema_path: str | Path = SCHEMA) -> None:
    """Raise ConfigError listing every problem, each naming its key, before any job starts."""
    schema = yaml.safe_load((Path(schema_path) if isinstance(schema_path, str) else schema_path).read_text())
    validator = _Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n".join(f"  - {_explain(e)}" for e in errors)
        raise ConfigError(f"invalid config ({len(errors)} problem(s)):\n{lines}")
    _check_consistency(config)


# Where an NVIDIA driver shows its GPUs, without importing torch (planning must stay light):
# the device nodes on Linux, /dev/dxg under WSL.
GPU_DEVICE_FILES = ("/dev/nvidia0", "/dev/dxg")


def check_device(config: dict, local: bool, device_files=GPU_DEVICE_FILES) -> None:
    """``device: cuda`` with jobs run on this machine (``local``) that shows no GPU: refused
    while the DAG is built, before Snakemake deletes any output it would redo. On a cluster
    (a non-local executor) the jobs' nodes decide, and the job itself checks again."""
    if config["device"] == "cuda" and local and not any(Path(f).exists() for f in device_files):
        raise ConfigError(
            f"device: 'cuda' but this machine shows no GPU (none of {', '.join(device_files)} exists) and the "
            "jobs run here; use device: auto (the GPU where there is one) or cpu, or run with a cluster profile"
        )


def custom_networks(config: dict) -> dict:
    """The config's custom_networks: name -> {factory, loss} (none: an empty mapping)."""
    return config.get("custom_networks") or {}


def model_settings(config: dict, network: str) -> dict:
    """The ``model`` params of ``network``'s jobs: the config's model section and, for a
    custom network, its factory and loss (models.build_network's keywords)."""
    custom = custom_networks(config).get(network)
    return dict(config["model"], **custom) if custom else dict(config["model"])


def run_settings(config: dict, network: str, optimizer: str) -> dict:
    """The settings one training run gets: the optimizer's section, with SGD's ``epochs``
    resolved to this network's count where it is given per network (the networks converge
    at very different rates under one fixed learning rate)."""
    settings = dict(config["train"][optimizer])
    if isinstance(settings.get("epochs"), dict):
        settings["epochs"] = settings["epochs"][network]
    return settings


def _check_consistency(config: dict) -> None:
    """Rules that span several keys, which a schema cannot express."""
    if sorted(config["optimizers"]) != sorted(OPTIMIZERS):
        raise ConfigError(
            f"optimizers: {config['optimizers']} names {len(config['optimizers'])} optimizer(s); the study compares "
            f"the solution sets of both ({', '.join(OPTIMIZERS)}): every geometric comparison and claim needs "
            "the two, so list both"
        )
    _check_data(config["data"])
    _check_networks(config)
    if config["select"]["n_best"] > config["train"]["seeds"]:
        raise ConfigError(
            f"select.n_best: {config['select']['n_best']} runs cannot be selected from "
            f"train.seeds = {config['train']['seeds']} runs per optimizer"
        )
    epochs = config["train"]["sgd"]["epochs"]
    if isinstance(epochs, dict) and "sgd" in config["optimizers"]:
        known = set(NETWORKS) | set(custom_networks(config))
        strangers = sorted(set(epochs) - known)
        if strangers:
            raise ConfigError(f"train.sgd.epochs: {', '.join(strangers)} is neither a built-in network nor one "
                              "of custom_networks")
        missing = [n for n in config["networks"] if n not in epochs]
        if missing:
            raise ConfigError(
                f"train.sgd.epochs: no epoch count for {', '.join(missing)}; give one per network "
                "in config.networks, or one number for all"
            )
    curvature = config["curvature"]
    if curvature["lanczos_iterations"] < curvature["eigenvalues"]:
        raise ConfigError(
            f"curvature.lanczos_iterations: {curvature['lanczos_iterations']} Lanczos steps cannot give "
            f"curvature.eigenvalues = {curvature['eigenvalues']} eigenvalues"
        )


def _check_networks(config: dict) -> None:
    """Every network is built in or defined under custom_networks, whose names are new."""
    custom = custom_networks(config)
    clash = sorted(set(custom) & set(NETWORKS))
    if clash:
        raise ConfigError(f"custom_networks: {', '.join(clash)} is the name of a built-in network; "
                          "give your network another name")
    unknown = [n for n in config["networks"] if n not in NETWORKS and n not in custom]
    if unknown:
        raise ConfigError(
            f"networks: {', '.join(unknown)} is neither built in ({', '.join(NETWORKS)}) nor defined under "
            "custom_networks (e.g. custom_networks: {mlp: {factory: 'my_models:make_mlp', loss: cross_entropy}})"
        )


def _check_data(data: Mapping) -> None:
    """The data section's rules that span several keys."""
    if data["source"] == "embedded":
        for key in ("n_train", "n_test"):
            if data[key] is None:
                raise ConfigError(f"data.{key}: must be an integer with source 'embedded'")
        if data["n_train"] + data["n_test"] > EMBEDDED_IMAGES:
            raise ConfigError(
                f"data.n_train + data.n_test = {data['n_train'] + data['n_test']}: "
                f"the embedded set has {EMBEDDED_IMAGES} images"
            )
    if data["source"] == "file" and not data.get("path"):
        raise ConfigError("data.path: required with source 'file' (an .npz or .safetensors file with "
                          "x_train, x_test and, for labels, y_train, y_test)")
    if data["source"] == "idx" and "idx_dir" not in data:
        raise ConfigError("data.idx_dir: required with source 'idx'")
    if data["source"] == "idx" and data.get("download") and "base_url" not in data:
        raise ConfigError("data.base_url: required with download: true")
