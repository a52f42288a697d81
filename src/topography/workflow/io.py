"""Reading and writing result files.

Every file is written to a temporary name in the same directory and renamed into place,
so a killed job never leaves a half-written file behind. Arrays are stored with
safetensors (no pickle is ever loaded); metadata goes to a JSON sidecar next to them
(``name.safetensors`` -> ``name.json``).

Every file is checked when it is read: a file that cannot be parsed, a sidecar that is
missing or disagrees with what the reader expects, an array that is not finite or has the
wrong length is a :class:`FileCheckError` that names the file, says what is wrong and how
to make the file again (``snakemake --forcerun <file>``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from ..design import sidecar  # noqa: F401  (re-exported: readers and tests name it from io)

# The prefix and suffix of atomic_path's temporary files; remove_stale_temporaries finds
# those a killed job left behind by them.
TMP_PREFIX, TMP_SUFFIX = ".", ".tmp"


class FileCheckError(ValueError):
    """A file that cannot be used as it is; the message names it and how to redo it."""


def redo_hint(path: str | os.PathLike) -> str:
    """How to make a result file again: force the job that writes it (and what follows)."""
    return f"make it again with `snakemake --forcerun {path}`"


def _fail(path, problem: str, redo=None) -> FileCheckError:
    return FileCheckError(f"{path}: {problem}; {redo_hint(redo or path)}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success.

    The file gets the permissions the umask gives a new file (mkstemp's are 0600, which
    would hide results from a group sharing the project directory).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask


def remove_stale_temporaries(paths) -> list[Path]:
    """Remove the temporary files :func:`atomic_path` left next to ``paths`` when a job was
    killed between writing and renaming (SIGKILL runs no cleanup). Called when a job
    starts, for its own outputs: no other job writes those names, so nothing live is lost."""
    removed = []
    for path in map(Path, paths):
        if path.parent.is_dir():
            for stale in path.parent.glob(f"{TMP_PREFIX}{path.name}.*{TMP_SUFFIX}"):
                stale.unlink(missing_ok=True)
                removed.append(stale)
    return removed


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    """``obj`` as JSON. NaN and infinities are refused (JSON has no such numbers): the error
    names the file and the keys that hold them."""
    bad = nonfinite_keys(obj)
    if bad:
        raise ValueError(f"{path}: not written, non-finite numbers (NaN or infinity) at {', '.join(bad[:10])}")
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default, allow_nan=False)
    write_text(path, text + "\n")


def nonfinite_keys(obj, where: str = "") -> list[str]:
    """The keys (``a.b[3]``) of the NaN and infinite floats in a JSON-like object."""
    if isinstance(obj, (float, np.floating)):
        return [] if math.isfinite(obj) else [where or "(top level)"]
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        return [] if np.isfinite(obj).all() else [where or "(top level)"]
    if isinstance(obj, Mapping):
        return [k for key, value in obj.items() for k in nonfinite_keys(value, f"{where}.{key}".lstrip("."))]
    if isinstance(obj, (list, tuple)):
        return [k for i, value in enumerate(obj) for k in nonfinite_keys(value, f"{where}[{i}]")]
    return []


def read_json(path: str | os.PathLike, redo: str | os.PathLike | None = None):
    """A JSON file written by the workflow; ``redo``: the file to force when it is broken
    (a sidecar is made by the job that writes its array file)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(), parse_constant=_refuse_constant)
    except FileNotFoundError:
        raise _fail(path, "no such file", redo) from None
    except UnicodeDecodeError as err:
        raise _fail(path, f"not UTF-8 text, so not JSON ({err.reason} at byte {err.start})", redo) from err
    except json.JSONDecodeError as err:
        raise _fail(path, f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})", redo) from err


def _refuse_constant(name: str):
    # Python's json reads NaN and Infinity, which no JSON parser should: such a file was
    # written by something other than write_json, and its numbers cannot be trusted.
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


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
    """Read the arrays and the metadata written by :func:`save_arrays`.

    Checked: both files parse, the sidecar is a JSON object, and every floating-point
    array is finite (bytes overwritten inside a weight file show up here).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    meta_path = sidecar(path)
    if not meta_path.exists():
        raise _fail(meta_path, f"missing, the metadata of {path}", path)
    meta = read_json(meta_path, redo=path)
    if not isinstance(meta, dict):
        raise _fail(meta_path, f"holds a JSON {type(meta).__name__}, expected an object (the metadata of {path})", path)
    try:
        arrays = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise _fail(path, f"not a readable safetensors file ({err})") from err
    for name, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = int(array.size - np.isfinite(array).sum())
            raise _fail(path, f"array '{name}' holds {bad} non-finite value(s) (NaN or infinity) of {array.size}")
    return arrays, meta


def check_meta(path: str | os.PathLike, meta: Mapping, expected: Mapping) -> None:
    """The sidecar of ``path`` agrees with what the reader knows of the file (network,
    optimizer, kind, seed, ...); keys whose expected value is None are not checked."""
    wrong = [
        f"{key} is {meta.get(key)!r}, expected {value!r}"
        for key, value in expected.items()
        if value is not None and meta.get(key) != value
    ]
    if wrong:
        raise _fail(sidecar(path), f"does not describe {path}: {'; '.join(wrong)}", path)


def check_length(path: str | os.PathLike, length: int, meta: Mapping, n_params: int | None, what: str) -> None:
    """A weight vector's length against its sidecar's ``n_params`` and the network's."""
    for source, expected in (("its sidecar's n_params", meta.get("n_params")), ("the network", n_params)):
        if expected is not None and length != expected:
            raise _fail(path, f"{what} of {length} components, but {source} says {expected}")


def save_vector(path: str | os.PathLike, vector: np.ndarray, meta: Mapping) -> None:
    """A flat float32 weight vector with its metadata sidecar."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    save_arrays(path, {"weights": vector}, meta)


def load_vector(
    path: str | os.PathLike, expected: Mapping | None = None, n_params: int | None = None
) -> tuple[np.ndarray, dict]:
    """A weight vector and its sidecar, checked: finite, one dimension, as long as the
    sidecar's ``n_params`` and ``n_params`` (the network's count), sidecar fields as
    ``expected`` (e.g. network, optimizer, seed, kind)."""
    arrays, meta = load_arrays(path)
    if "weights" not in arrays:
        raise _fail(path, f"holds {sorted(arrays)}, expected a 'weights' array")
    weights = arrays["weights"]
    if weights.ndim != 1:
        raise _fail(path, f"weights of shape {list(weights.shape)}, expected a flat vector")
    check_meta(path, meta, expected or {})
    check_length(path, len(weights), meta, n_params, "a weight vector")
    return weights, meta


def read_table(path: str | os.PathLike, columns=(), **kwargs):
    """A CSV (or, with ``sep``, TSV) table as a DataFrame, its read errors naming the file,
    with the ``columns`` the reader needs."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise _fail(path, f"not a readable table ({err})") from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise _fail(path, f"has no column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}")
    return frame


def write_csv(path: str | os.PathLike, frame) -> None:
    """A pandas DataFrame as a tidy CSV, written atomically, with a stable float format."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.9g")
