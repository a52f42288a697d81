"""Reading a solution set back: kept apart from the select stage so that the many short
path jobs import only numpy and safetensors for it."""

from __future__ import annotations

import numpy as np

from .io import load_arrays


def load_set(path) -> tuple[np.ndarray, dict]:
    """A solution set: weights [K, P] float32 and its metadata (with seeds and losses)."""
    arrays, meta = load_arrays(path)
    meta = dict(meta, seeds=arrays["seeds"].tolist(),
                train_loss=arrays["train_loss"].tolist(), test_loss=arrays["test_loss"].tolist())
    return arrays["weights"], meta
