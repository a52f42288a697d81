"""A researcher's own data set (``data.source: file``): one ``.npz`` or ``.safetensors`` file
with ``x_train``, ``x_test`` (float, any shape per example) and, for the classifiers,
``y_train``, ``y_test`` (integer labels), read and checked without torch, so that the DAG
check (before any job runs) and the data job read it the same way. numpy is imported only
when a file is read: planning the MNIST default imports none of the job stack."""

from __future__ import annotations

import functools
from pathlib import Path


from .mnist_files import DataError

SUFFIXES = (".npz", ".safetensors")
IMAGES = ("x_train", "x_test")
LABELS = ("y_train", "y_test")


def read_data_file(path: str | Path) -> dict:
    """The file's arrays, checked: x_train and x_test float (returned as float32) with the
    same shape per example and finite values; y_train and y_test both or neither, integer
    (returned as int64, >= 0), one per example. DataError naming the file and the array
    otherwise. Planning reads the file twice (checks, then sizes): the checked arrays are
    kept for a file not rewritten since, so it is read and checked once."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise DataError(f"data.path: {path} is a {path.suffix or 'suffix-less'} file, expected one of "
                        f"{', '.join(SUFFIXES)}")
    if not path.is_file():
        raise DataError(f"data.path: {path} does not exist (relative paths are read from the working directory)")
    return _checked(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _checked(path: Path, mtime_ns: int) -> dict:
    del mtime_ns  # in the cache key only: a rewritten file is read again
    import numpy as np

    arrays = _read(path)
    missing = [k for k in IMAGES if k not in arrays]
    if missing:
        raise DataError(f"{path}: holds {sorted(arrays) or 'no arrays'}, missing {', '.join(missing)} "
                        f"(expected x_train, x_test and, for labels, y_train, y_test)")
    labels = [k for k in LABELS if k in arrays]
    if len(labels) == 1:
        raise DataError(f"{path}: holds {labels[0]} but not {(set(LABELS) - set(labels)).pop()}; "
                        "give labels for both splits or for neither")
    out = {}
    for key in IMAGES:
        x = arrays[key]
        if x.dtype.kind != "f":
            raise DataError(f"{path}: {key} is {x.dtype}, expected floating point values (scale images first)")
        if x.ndim < 2 or len(x) == 0:
            raise DataError(f"{path}: {key} has shape {list(x.shape)}, expected [N, ...] with N >= 1")
        x = x.astype(np.float32)
        if not np.isfinite(x).all():
            raise DataError(f"{path}: {key} holds {int((~np.isfinite(x)).sum())} non-finite values")
        out[key] = x
    if out["x_train"].shape[1:] != out["x_test"].shape[1:]:
        raise DataError(f"{path}: x_train has examples of shape {list(out['x_train'].shape[1:])}, x_test of "
                        f"{list(out['x_test'].shape[1:])}; expected one shape")
    for key, x_key in zip(LABELS, IMAGES):
        if key not in arrays:
            continue
        y = arrays[key]
        if y.dtype.kind not in "iu" or y.ndim != 1:
            raise DataError(f"{path}: {key} is {y.dtype} of shape {list(y.shape)}, expected integer labels [N]")
        if len(y) != len(out[x_key]):
            raise DataError(f"{path}: {key} has {len(y)} labels but {x_key} has {len(out[x_key])} examples")
        if y.min() < 0:
            raise DataError(f"{path}: {key} has negative labels (min {y.min()}); expected 0, 1, ...")
        out[key] = y.astype(np.int64)
    return out


def data_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """The checked arrays' shapes (x_train, x_test, ...): what planning sizes jobs by."""
    return {key: array.shape for key, array in read_data_file(path).items()}


def _read(path: Path) -> dict:
    import numpy as np

    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return {k: archive[k] for k in archive.files}
        from safetensors.numpy import load_file

        return load_file(str(path))
    except Exception as err:  # OSError, a bad zip, safetensors' own error for a corrupt header, ...
        raise DataError(f"data.path: cannot read {path} as {path.suffix[1:]} ({type(err).__name__}: {err})") from err
