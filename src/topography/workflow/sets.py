"""Reading a solution set back: kept apart from the select stage so that the many short
path jobs import only numpy and safetensors for it."""

from __future__ import annotations

import numpy as np

from .io import FileCheckError, check_length, check_meta, load_arrays, redo_hint

SET_ARRAYS = ("weights", "seeds", "train_loss", "test_loss")


def load_set(path, network: str | None = None, set_name: str | None = None,
             n_params: int | None = None) -> tuple[np.ndarray, dict]:
    """A solution set: weights [K, P] float32 and its metadata (with seeds and losses).

    Checked (besides what :func:`load_arrays` checks): the arrays are there and agree in
    K, P is the sidecar's ``n_params`` and ``n_params`` (the network's count), and the
    sidecar names ``network`` and the set (optimizer and kind of ``set_name``)."""
    arrays, meta = load_arrays(path)
    missing = [name for name in SET_ARRAYS if name not in arrays]
    if missing:
        raise FileCheckError(f"{path}: holds {sorted(arrays)}, lacks {', '.join(missing)}; {redo_hint(path)}")
    weights = arrays["weights"]
    if weights.ndim != 2 or any(arrays[name].shape != (len(weights),) for name in SET_ARRAYS[1:]):
        shapes = ", ".join(f"{name} {list(arrays[name].shape)}" for name in SET_ARRAYS)
        raise FileCheckError(f"{path}: arrays of shapes {shapes}, expected weights [K, P] and the others [K]; "
                             f"{redo_hint(path)}")
    optimizer, kind = set_name.split("-", 1) if set_name else (None, None)
    check_meta(path, meta, {"network": network, "optimizer": optimizer, "kind": kind, "n_vectors": len(weights)})
    check_length(path, weights.shape[1], meta, n_params, "weight vectors")
    meta = dict(meta, seeds=arrays["seeds"].tolist(),
                train_loss=arrays["train_loss"].tolist(), test_loss=arrays["test_loss"].tolist())
    return weights, meta
