"""Provenance stamped into every result file: what produced it, from which config."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata


def config_hash(config) -> str:
    """A short, stable hash of a (JSON-serialisable) config or config section."""
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def provenance(config=None, **extra) -> dict:
    """Metadata for a result file. Holds no timestamp, so reruns give identical bytes."""
    record = {
        "topography_version": _version("topography"),
        "torch_version": _version("torch"),
        "numpy_version": _version("numpy"),
        "python_version": platform.python_version(),
    }
    if config is not None:
        record["config_hash"] = config_hash(config)
    record.update(extra)
    return record
