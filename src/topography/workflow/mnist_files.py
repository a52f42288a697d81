"""The four standard MNIST IDX files: their names, published checksums and sizes, and the
check of a directory of them against the ``data`` config.

Standard library only: the workflow runs :func:`check_idx_files` while Snakemake builds
its DAG (the data rule's input function), so a missing, truncated or foreign file stops
the plan before any job runs and before Snakemake deletes any output.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path
from typing import Mapping

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# sha256 and size in bytes of the published gzipped files, keyed by their file name.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_GZ_SIZES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
GZIP_MAGIC = b"\x1f\x8b"

# The switch that lets other IDX files through (a subset, Fashion-MNIST, ...) unchecked.
SKIP_KEY = "verify_sha256"


class DataError(ValueError):
    """Bad data or data config; the message names the file or config key at fault."""


def find_idx_file(directory: str | os.PathLike, stem: str) -> Path:
    """``directory/stem.gz``, else ``directory/stem``: the .gz first, being the checksummed one."""
    directory = Path(directory)
    for name in (f"{stem}.gz", stem):
        if (directory / name).is_file():
            return directory / name
    raise DataError(
        f"{directory}: neither {stem}.gz nor {stem} found; put the four MNIST IDX files there "
        "or set data.download: true"
    )


def checksums(data_cfg: Mapping) -> dict[str, str]:
    """The published checksums, with the config's ``data.sha256`` entries laid over them."""
    return {**MNIST_SHA256, **{k: v.lower() for k, v in (data_cfg.get("sha256") or {}).items()}}


def sha256_of_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def idx_count(path: str | os.PathLike) -> int:
    """The number of items an IDX file's header announces (its first dimension)."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == GZIP_MAGIC
    try:
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
            header = f.read(8)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: corrupt gzip stream ({err})") from err
    if len(header) < 8:
        raise DataError(f"{path}: {len(header)} bytes, too short for an IDX header")
    return int.from_bytes(header[4:8], "big")


def check_idx_files(data_cfg: Mapping) -> dict[str, Path]:
    """The four IDX files of ``data.idx_dir`` (key -> path), checked: present; unless
    ``data.verify_sha256`` is false, of the published size and sha256 (or the sha256 that
    ``data.sha256`` gives for their name); and holding at least ``data.n_train`` /
    ``data.n_test`` images. Raises DataError naming the file or key and the fix."""
    directory = Path(data_cfg["idx_dir"])
    verify = data_cfg.get(SKIP_KEY, True)
    expected_sha = checksums(data_cfg)
    files = {key: find_idx_file(directory, stem) for key, stem in IDX_FILES.items()}
    if verify:
        for path in files.values():
            _verify(path, expected_sha, data_cfg)
    for split in ("train", "test"):
        wanted = data_cfg.get(f"n_{split}")
        available = idx_count(files[f"{split}_images"])
        if wanted is not None and wanted > available:
            raise DataError(
                f"data.n_{split} = {wanted}, but {files[f'{split}_images']} holds {available} images; "
                f"ask for at most {available}, or null for all of them"
            )
    return files


def _verify(path: Path, expected_sha: Mapping[str, str], data_cfg: Mapping) -> None:
    unchecked = f"or set data.{SKIP_KEY}: false to use IDX files other than the published MNIST unchecked"
    expected = expected_sha.get(path.name)
    if expected is None:
        raise DataError(
            f"{path}: no sha256 known for this uncompressed file (the published checksums are of the .gz "
            f"files); use the .gz files, give its sha256 under data.sha256, {unchecked}"
        )
    size = MNIST_GZ_SIZES.get(path.name)
    if size is not None and expected == MNIST_SHA256.get(path.name) and path.stat().st_size != size:
        raise DataError(
            f"{path}: {path.stat().st_size} bytes, the published file has {size} (truncated or another file); "
            f"delete it and fetch it again (data.download: true), {unchecked}"
        )
    actual = sha256_of_file(path)
    if actual != expected:
        raise DataError(
            f"{path}: sha256 {actual}, expected {expected}; delete it and fetch it again "
            f"(data.download: true), {unchecked}"
        )
