"""Tests of topography.jobs.data on small generated IDX files and on the embedded digits."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from topography.jobs import data
from topography.jobs.data import DataError
from topography.workflow import mnist_files
from topography.workflow.mnist_files import check_idx_files
from topography.workflow.io import save_arrays, sidecar

# ---------------------------------------------------------------------------------------
# Helpers: tiny MNIST-shaped IDX files


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic (0x0000 08 ndim), big-endian dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def fake_mnist(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)  # every class present, twice for n = 20
    return images, labels


def write_mnist_dir(directory: Path, gz: bool = True, n_train: int = 20, n_test: int = 20):
    """The four IDX files of a small fake MNIST in ``directory``; returns the arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n, seed in (("train", n_train, 0), ("test", n_test, 1)):
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = fake_mnist(n, seed)
    for key, array in arrays.items():
        write_idx(directory / data.IDX_FILES[key], array, gz)
    return arrays


def write_idx(stem_path: Path, array: np.ndarray, gz: bool) -> Path:
    raw = idx_bytes(array)
    path = stem_path.with_name(stem_path.name + ".gz") if gz else stem_path
    # mtime=0 keeps the gzip bytes, hence their sha256, reproducible.
    path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    return path


def sha256_of_dir(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.glob("*.gz")}


def leftovers(directory: Path) -> list[str]:
    """Hidden or temporary files that a download must never leave behind."""
    return [p.name for p in directory.iterdir() if p.name.startswith(".") or ".tmp" in p.name]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def http_dir(tmp_path):
    """A directory served on 127.0.0.1 for the length of one test: (directory, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------
# read_idx


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips(tmp_path, gz):
    images, labels = fake_mnist(20, seed=0)
    images_path = write_idx(tmp_path / "images", images, gz)
    labels_path = write_idx(tmp_path / "labels", labels, gz)
    np.testing.assert_array_equal(data.read_idx(images_path), images)
    np.testing.assert_array_equal(data.read_idx(labels_path), labels)
    assert data.read_idx(images_path).dtype == np.uint8


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    images, _ = fake_mnist(3, seed=0)
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    np.testing.assert_array_equal(data.read_idx(path), images)


def test_read_idx_wrong_magic_names_file(tmp_path):
    path = tmp_path / "floats-idx"
    path.write_bytes(bytes([0, 0, 0x0D, 1]) + (4).to_bytes(4, "big") + bytes(16))  # float32 type
    with pytest.raises(DataError, match="floats-idx.*magic number 0x00000d01"):
        data.read_idx(path)


@pytest.mark.parametrize("change, actual", [(-5, 16 + 20 * 784 - 5), (+3, 16 + 20 * 784 + 3)])
def test_read_idx_wrong_length_names_file_and_byte_counts(tmp_path, change, actual):
    raw = idx_bytes(fake_mnist(20, seed=0)[0])
    raw = raw[:change] if change < 0 else raw + bytes(change)
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(raw)
    with pytest.raises(DataError) as err:
        data.read_idx(path)
    message = str(err.value)
    assert "images-idx3-ubyte" in message
    assert str(16 + 20 * 784) in message and str(actual) in message


def test_read_idx_corrupt_gzip_names_file(tmp_path):
    packed = gzip.compress(idx_bytes(fake_mnist(20, seed=0)[1]))
    path = tmp_path / "labels.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match="labels.gz.*gzip"):
        data.read_idx(path)


# ---------------------------------------------------------------------------------------
# load_idx_mnist and find_idx_file


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_mnist_scales_and_flattens(tmp_path, gz):
    arrays = write_mnist_dir(tmp_path, gz=gz, n_train=20, n_test=10)
    loaded = data.load_idx_mnist(tmp_path)
    for split, n in (("train", 20), ("test", 10)):
        images, labels = loaded[split]
        assert images.dtype == np.float32 and images.shape == (n, 784)
        assert labels.dtype == np.int64 and labels.shape == (n,)
        np.testing.assert_allclose(images * 255, arrays[f"{split}_images"].reshape(n, 784), atol=1e-4)
        np.testing.assert_array_equal(labels, arrays[f"{split}_labels"])
        assert 0.0 <= images.min() and images.max() <= 1.0


def test_load_idx_mnist_count_mismatch_names_both_files(tmp_path):
    write_mnist_dir(tmp_path, gz=False)
    write_idx(tmp_path / data.IDX_FILES["test_labels"], np.zeros(19, np.uint8), gz=False)
    with pytest.raises(DataError) as err:
        data.load_idx_mnist(tmp_path)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "20 images" in message and "19 labels" in message


def test_load_idx_mnist_rejects_wrong_image_size(tmp_path):
    write_mnist_dir(tmp_path, gz=False)
    write_idx(tmp_path / data.IDX_FILES["train_images"], np.zeros((20, 27, 28)), gz=False)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*28, 28"):
        data.load_idx_mnist(tmp_path)


def test_load_idx_mnist_rejects_labels_out_of_range(tmp_path):
    write_mnist_dir(tmp_path, gz=False)
    write_idx(tmp_path / data.IDX_FILES["train_labels"], np.full(20, 10), gz=False)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.*0..9"):
        data.load_idx_mnist(tmp_path)


def test_missing_file_names_directory_and_both_names(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as err:
        data.load_idx_mnist(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message
    assert "train-labels-idx1-ubyte.gz" in message
    assert message.count("train-labels-idx1-ubyte") == 2  # looked for with and without .gz


def test_find_idx_file_accepts_both_names(tmp_path):
    (tmp_path / "a").write_bytes(b"")
    (tmp_path / "b.gz").write_bytes(b"")
    assert data.find_idx_file(tmp_path, "a") == tmp_path / "a"
    assert data.find_idx_file(tmp_path, "b") == tmp_path / "b.gz"


# ---------------------------------------------------------------------------------------
# download_mnist


def test_download_then_load(http_dir, tmp_path):
    served, url = http_dir
    arrays = write_mnist_dir(served, gz=True)
    target = tmp_path / "mnist"
    data.download_mnist(url, target, sha256_of_dir(served), timeout=5)
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{s}.gz" for s in data.IDX_FILES.values())
    loaded = data.load_idx_mnist(target)
    np.testing.assert_array_equal(loaded["test"][1], arrays["test_labels"])
    # Everything is present and valid now, so nothing is fetched: a dead URL does no harm.
    data.download_mnist(f"http://127.0.0.1:{closed_port()}", target, sha256_of_dir(served), timeout=5)


def test_download_checksum_mismatch_leaves_nothing(http_dir, tmp_path):
    served, url = http_dir
    write_mnist_dir(served, gz=True)
    sha = sha256_of_dir(served)
    bad = "t10k-images-idx3-ubyte.gz"
    true_sha, sha[bad] = sha[bad], "0" * 64
    target = tmp_path / "mnist"
    with pytest.raises(DataError) as err:
        data.download_mnist(url, target, sha, timeout=5)
    message = str(err.value)
    assert bad in message and url + bad in message
    assert "0" * 64 in message and true_sha in message
    assert not (target / bad).exists()
    assert leftovers(target) == []


def test_present_file_with_wrong_checksum_is_not_overwritten(http_dir, tmp_path):
    served, url = http_dir
    write_mnist_dir(served, gz=True)
    target = tmp_path / "mnist"
    target.mkdir()
    mine = target / "train-labels-idx1-ubyte.gz"
    mine.write_bytes(b"the user's own file")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz.*delete"):
        data.download_mnist(url, target, sha256_of_dir(served), timeout=5)
    assert mine.read_bytes() == b"the user's own file"
    assert [p.name for p in target.iterdir()] == [mine.name]  # checked before any download


def test_download_http_error_names_url(http_dir, tmp_path):
    served, url = http_dir  # serves an empty directory: every file is a 404
    sha = {name: "0" * 64 for name in data.MNIST_SHA256}
    with pytest.raises(DataError, match=f"{url}train-images-idx3-ubyte.gz.*404"):
        data.download_mnist(url, tmp_path / "mnist", sha, timeout=5)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_download_unreachable_host_names_url(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(DataError, match=f"{url}/train-images-idx3-ubyte.gz"):
        data.download_mnist(url, tmp_path, data.MNIST_SHA256, timeout=5)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------
# Embedded digits and subsets


def test_load_embedded_sizes_stratified_scaled_and_seeded():
    first = data.load_embedded(200, 100, seed=3)
    for split, n in (("train", 200), ("test", 100)):
        images, labels = first[split]
        assert images.shape == (n, 784) and images.dtype == np.float32
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert np.all(np.abs(np.bincount(labels, minlength=10) - n / 10) <= 1)
        assert images.min() >= 0.0 and images.max() <= 1.0
        assert images.max() > 0.9  # really scaled from 0..255, not squashed twice
    again = data.load_embedded(200, 100, seed=3)
    other = data.load_embedded(200, 100, seed=4)
    for split in ("train", "test"):
        for a, b in zip(first[split], again[split]):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first["train"][0], other["train"][0])


def test_load_embedded_split_sizes_are_exact_and_disjoint():
    split = data.load_embedded(4990, 10, seed=0)
    assert len(split["train"][1]) == 4990 and len(split["test"][1]) == 10
    train_rows = {row.tobytes() for row in split["train"][0]}
    assert not any(row.tobytes() in train_rows for row in split["test"][0])


def test_load_embedded_too_many_names_keys_and_limit():
    with pytest.raises(DataError, match=r"data\.n_train.*data\.n_test.*5000"):
        data.load_embedded(4000, 1001, seed=0)


def test_subsample_is_stratified_ordered_and_seeded():
    y = np.repeat(np.arange(10), 30)
    x = np.arange(300)
    xs, ys = data.subsample(x, y, 55, seed=1)
    assert len(ys) == 55
    assert np.all(np.abs(np.bincount(ys, minlength=10) - 5.5) <= 1)
    assert np.all(np.diff(xs) > 0)  # original order kept
    np.testing.assert_array_equal(xs, data.subsample(x, y, 55, seed=1)[0])
    assert data.subsample(x, y, None, seed=1)[0] is x
    assert data.subsample(x, y, 300, seed=1)[0] is x
    with pytest.raises(DataError, match="1000 images asked for, but the set holds 300"):
        data.subsample(x, y, 1000, seed=1)  # never silently fewer than asked


# ---------------------------------------------------------------------------------------
# load_dataset, prepare, load_prepared

EMBEDDED = {"source": "embedded", "n_train": 100, "n_test": 50, "seed": 0}


def test_load_dataset_idx_downloads_and_subsamples(http_dir, tmp_path):
    served, url = http_dir
    write_mnist_dir(served, gz=True)
    cfg = {
        "source": "idx", "n_train": 10, "n_test": None, "seed": 0, "idx_dir": str(tmp_path / "m"),
        "download": True, "base_url": url, "sha256": sha256_of_dir(served),
    }
    loaded = data.load_dataset(cfg)
    assert len(loaded["train"][1]) == 10 and len(loaded["test"][1]) == 20
    np.testing.assert_array_equal(np.bincount(loaded["train"][1]), np.ones(10))


def test_prepare_writes_both_files_with_sidecars(tmp_path):
    out_train, out_test = tmp_path / "train.safetensors", tmp_path / "test.safetensors"
    data.prepare(EMBEDDED, out_train, out_test, {"config_hash": "abc", "seed": 0})
    for path, split, n in ((out_train, "train", 100), (out_test, "test", 50)):
        images, labels, meta = data.load_prepared(path)
        assert images.dtype == torch.float32 and images.shape == (n, 784)
        assert labels.dtype == torch.int64 and labels.shape == (n,)
        assert meta == json.loads(sidecar(path).read_text())
        assert meta["split"] == split and meta["n"] == n and meta["source"] == "embedded"
        assert meta["config_hash"] == "abc" and sum(meta["class_counts"]) == n
        assert meta["class_counts"] == torch.bincount(labels, minlength=10).tolist()


@pytest.mark.parametrize(
    "cfg",
    [
        {**EMBEDDED, "n_train": 4990},  # more than the 5,000 embedded images
        {"source": "idx", "n_train": None, "n_test": None, "seed": 0, "idx_dir": "no/such/dir"},
    ],
)
def test_prepare_writes_nothing_on_bad_input(tmp_path, cfg):
    out_train, out_test = tmp_path / "train.safetensors", tmp_path / "test.safetensors"
    with pytest.raises(DataError):
        data.prepare(cfg, out_train, out_test, {})
    assert list(tmp_path.iterdir()) == []


def test_load_prepared_rejects_wrong_dtype_and_missing_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    save_arrays(path, {"images": np.zeros((3, 784), np.float64), "labels": np.zeros(3, np.int64)}, {})
    with pytest.raises(DataError, match="bad.safetensors.*float32"):
        data.load_prepared(path)
    with pytest.raises(DataError, match="absent.safetensors"):
        data.load_prepared(tmp_path / "absent.safetensors")


# ---------------------------------------------------------------------------------------
# check_idx_files: what the workflow runs while it builds the DAG


def idx_cfg(directory, **change):
    return {"source": "idx", "idx_dir": str(directory), "n_train": None, "n_test": None, "seed": 0, **change}


def test_idx_files_are_checked_against_the_published_checksums(tmp_path):
    write_mnist_dir(tmp_path)  # random pixels in the standard names: not MNIST
    with pytest.raises(DataError) as err:
        check_idx_files(idx_cfg(tmp_path))
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message and "the published file has 9912422" in message
    assert "data.verify_sha256: false" in message


def test_idx_files_with_their_own_checksums_pass(tmp_path):
    write_mnist_dir(tmp_path)
    files = check_idx_files(idx_cfg(tmp_path, sha256=sha256_of_dir(tmp_path)))
    assert files["test_labels"] == tmp_path / "t10k-labels-idx1-ubyte.gz"
    sha = sha256_of_dir(tmp_path)
    sha["t10k-labels-idx1-ubyte.gz"] = "0" * 64
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: sha256 [0-9a-f]{64}, expected 0{64}"):
        check_idx_files(idx_cfg(tmp_path, sha256=sha))


def test_uncompressed_idx_files_need_a_checksum_or_the_switch(tmp_path):
    write_mnist_dir(tmp_path, gz=False)
    with pytest.raises(DataError, match="no sha256 known for this uncompressed file"):
        check_idx_files(idx_cfg(tmp_path))
    assert len(check_idx_files(idx_cfg(tmp_path, verify_sha256=False))) == 4


def test_non_standard_idx_files_are_used_only_with_the_switch(tmp_path):
    write_mnist_dir(tmp_path)
    with pytest.raises(DataError):
        data.load_dataset(idx_cfg(tmp_path))
    loaded = data.load_dataset(idx_cfg(tmp_path, verify_sha256=False))
    assert len(loaded["train"][1]) == 20


@pytest.mark.parametrize("split", ["train", "test"])
def test_asking_for_more_images_than_the_files_hold_names_the_key(tmp_path, split):
    write_mnist_dir(tmp_path)
    cfg = idx_cfg(tmp_path, verify_sha256=False, **{f"n_{split}": 21})
    with pytest.raises(DataError, match=rf"data.n_{split} = 21, but .* holds 20 images.*null for all"):
        check_idx_files(cfg)
    with pytest.raises(DataError, match=f"data.n_{split} = 21"):
        data.load_dataset(cfg)  # the data job checks again


def test_missing_idx_files_name_the_directory_and_the_fix(tmp_path):
    with pytest.raises(DataError, match="neither train-images-idx3-ubyte.gz nor .* data.download: true"):
        check_idx_files(idx_cfg(tmp_path / "absent"))


def test_the_idx_check_imports_only_the_standard_library():
    """It runs while Snakemake builds the DAG, which imports no torch, numpy or pandas."""
    import ast

    source = Path(mnist_files.__file__).read_text()
    modules = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}, modules
