"""Reading and writing result files.

Every file is written to a temporary name in the same directory and renamed into place,
so a killed job never leaves a half-written file behind. Arrays are stored with
safetensors (no pickle is ever loaded); metadata goes to a JSON sidecar next to them
(``name.safetensors`` -> ``name.json``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
from safetensors.numpy import load_file, save_file


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | os.PathLike):
    return json.loads(Path(path).read_text())


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def sidecar(path: str | os.PathLike) -> Path:
    """The JSON metadata file that belongs to an array file."""
    return Path(path).with_suffix(".json")


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping) -> None:
    """Write named arrays (safetensors) and their metadata (JSON sidecar), both atomically.

    The sidecar is written first and the array file last, so the array file (the one
    Snakemake tracks) only ever exists next to a complete sidecar.
    """
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    write_json(sidecar(path), dict(meta))
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp))


def load_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read the arrays and the metadata written by :func:`save_arrays`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    meta_path = sidecar(path)
    meta = read_json(meta_path) if meta_path.exists() else {}
    return load_file(str(path)), meta


def save_vector(path: str | os.PathLike, vector: np.ndarray, meta: Mapping) -> None:
    """A flat float32 weight vector with its metadata sidecar."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    save_arrays(path, {"weights": vector}, meta)


def load_vector(path: str | os.PathLike) -> tuple[np.ndarray, dict]:
    arrays, meta = load_arrays(path)
    return arrays["weights"], meta


def write_csv(path: str | os.PathLike, frame) -> None:
    """A pandas DataFrame as a tidy CSV, written atomically, with a stable float format."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.9g")
