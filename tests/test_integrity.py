"""Every weight file and table is checked when read: a broken file is an error naming the
file, what is wrong and how to make it again; the workflow writes only valid JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from topography.workflow.io import (
    FileCheckError,
    load_arrays,
    load_vector,
    read_json,
    read_table,
    save_arrays,
    save_vector,
    sidecar,
    write_json,
)
from topography.models import PARAMETER_COUNTS
from topography.workflow.runtime import Job
from topography.jobs.select import select_job
from topography.workflow.sets import load_set

N_FCP = PARAMETER_COUNTS["fcp"]


def overwrite_data_bytes(path, value=np.float32(np.nan)):
    """Overwrite the last four bytes of a safetensors file (its data, not its header)."""
    raw = bytearray(path.read_bytes())
    raw[-4:] = np.array([value], np.float32).tobytes()
    path.write_bytes(bytes(raw))


def assert_names_file_and_fix(err, path, redo=None):
    message = str(err.value)
    assert str(path) in message
    assert f"snakemake --forcerun {redo or path}" in message


# --- JSON


def test_write_json_refuses_nan_naming_file_and_key(tmp_path):
    path = tmp_path / "pair0.json"
    with pytest.raises(ValueError) as err:
        write_json(path, {"height": float("nan"), "losses": [1.0, float("inf")]})
    assert str(path) in str(err.value) and "height" in str(err.value) and "losses[1]" in str(err.value)
    assert not path.exists()


def test_read_json_errors_name_the_file(tmp_path):
    garbage = tmp_path / "train.json"
    garbage.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FileCheckError) as err:
        read_json(garbage)
    assert_names_file_and_fix(err, garbage)
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": 1')
    with pytest.raises(FileCheckError) as err:
        read_json(broken)
    assert_names_file_and_fix(err, broken)
    # Python reads NaN, JSON has none: a file holding it was not written by write_json.
    nan = tmp_path / "nan.json"
    nan.write_text('{"height": NaN}')
    with pytest.raises(FileCheckError, match="NaN"):
        read_json(nan)


# --- arrays and sidecars


@pytest.fixture
def vector_file(tmp_path):
    path = tmp_path / "train.safetensors"
    meta = dict(network="fcp", optimizer="sgd", seed=0, kind="train", n_params=N_FCP)
    save_vector(path, np.linspace(-1, 1, N_FCP, dtype=np.float32), meta)
    return path


def test_a_good_vector_reads_back(vector_file):
    weights, meta = load_vector(vector_file, dict(network="fcp", seed=0, kind="train"), N_FCP)
    assert weights.shape == (N_FCP,) and meta["optimizer"] == "sgd"


def test_nan_bytes_inside_an_intact_file_are_refused(vector_file):
    overwrite_data_bytes(vector_file)
    with pytest.raises(FileCheckError, match="non-finite") as err:
        load_vector(vector_file)
    assert_names_file_and_fix(err, vector_file)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_unreadable_weight_file_names_the_file(vector_file, damage):
    raw = vector_file.read_bytes()
    vector_file.write_bytes({"truncated": raw[: len(raw) // 2], "garbage": b"not a tensor" * 10, "empty": b""}[damage])
    with pytest.raises(FileCheckError, match="safetensors") as err:
        load_arrays(vector_file)
    assert_names_file_and_fix(err, vector_file)


def test_garbage_or_missing_sidecar_names_it_and_forces_the_array_file(vector_file):
    meta_path = sidecar(vector_file)
    meta_path.write_bytes(b"\x89\xff garbage")
    with pytest.raises(FileCheckError) as err:
        load_vector(vector_file)
    assert_names_file_and_fix(err, meta_path, redo=vector_file)
    meta_path.write_text("[1, 2]")
    with pytest.raises(FileCheckError, match="expected an object"):
        load_vector(vector_file)
    meta_path.unlink()
    with pytest.raises(FileCheckError, match="missing") as err:
        load_vector(vector_file)
    assert_names_file_and_fix(err, meta_path, redo=vector_file)


def test_vector_length_is_checked_against_sidecar_and_network(tmp_path):
    path = tmp_path / "short.safetensors"
    save_vector(path, np.zeros(100, np.float32), dict(network="fcp", n_params=N_FCP))
    with pytest.raises(FileCheckError, match=f"100 components, but its sidecar's n_params says {N_FCP}"):
        load_vector(path)
    save_vector(path, np.zeros(100, np.float32), dict(network="fcp", n_params=100))
    with pytest.raises(FileCheckError, match=f"100 components, but the network says {N_FCP}") as err:
        load_vector(path, n_params=N_FCP)
    assert_names_file_and_fix(err, path)


def test_sidecar_must_agree_with_the_file_it_describes(vector_file):
    with pytest.raises(FileCheckError, match="seed is 0, expected 1") as err:
        load_vector(vector_file, dict(network="fcp", seed=1))
    assert_names_file_and_fix(err, sidecar(vector_file), redo=vector_file)
    with pytest.raises(FileCheckError, match="network is 'fcp', expected 'lenet'"):
        load_vector(vector_file, dict(network="lenet"))


def write_set(path, k=3, p=N_FCP, **meta):
    arrays = {
        "weights": np.ones((k, p), np.float32),
        "seeds": np.arange(k, dtype=np.int64),
        "train_loss": np.full(k, 0.1),
        "test_loss": np.full(k, 0.2),
    }
    save_arrays(path, arrays, dict(dict(network="fcp", optimizer="sgd", kind="test", n_vectors=k, n_params=p), **meta))


def test_solution_set_checks(tmp_path):
    path = tmp_path / "sgd-test.safetensors"
    write_set(path)
    weights, meta = load_set(path, "fcp", "sgd-test", N_FCP)
    assert weights.shape == (3, N_FCP) and meta["seeds"] == [0, 1, 2]
    with pytest.raises(FileCheckError, match="optimizer is 'sgd', expected 'lbfgs'"):
        load_set(path, "fcp", "lbfgs-test", N_FCP)
    write_set(path, n_vectors=4)
    with pytest.raises(FileCheckError, match="n_vectors is 4, expected 3"):
        load_set(path, "fcp", "sgd-test")
    write_set(path, p=10)
    with pytest.raises(FileCheckError, match="the network says"):
        load_set(path, "fcp", "sgd-test", N_FCP)
    write_set(path)
    overwrite_data_bytes(path, np.float32(np.inf))  # the last array holds test losses
    with pytest.raises(FileCheckError, match="non-finite"):
        load_set(path)


def test_prepared_data_with_nan_is_refused_with_the_fix(tmp_path):
    from topography.jobs.data import DataError, load_prepared

    path = tmp_path / "train.safetensors"
    images = np.zeros((3, 784), np.float32)
    images[1, 5] = np.nan
    save_arrays(path, {"images": images, "labels": np.zeros(3, np.int64)}, {})
    with pytest.raises(DataError) as err:
        load_prepared(path)
    assert_names_file_and_fix(err, path)


# --- tables


def test_read_table_names_the_file_and_missing_columns(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(b"")
    with pytest.raises(FileCheckError) as err:
        read_table(path)
    assert_names_file_and_fix(err, path)
    path.write_bytes(b"\xff\xfe\xfa\x00garbage\n\x81,\x82\n")
    with pytest.raises(FileCheckError):
        read_table(path)
    pd.DataFrame({"epoch": [0]}).to_csv(path, index=False)
    with pytest.raises(FileCheckError, match="no column.*split"):
        read_table(path, columns=("epoch", "split"))


# --- the select stage reads every run's files through these checks


@pytest.fixture
def runs(tmp_path):
    """Two runs per optimizer of FCP, as the train rule writes them."""
    runs = []
    for optimizer in ("lbfgs", "sgd"):
        for seed in (0, 1):
            root = tmp_path / "train" / optimizer / f"seed{seed}"
            root.mkdir(parents=True)
            meta = dict(network="fcp", optimizer=optimizer, seed=seed, n_params=N_FCP, stop_reason="converged",
                        train_loss=0.1 + seed, train_epoch=3, test_loss=0.5, test_epoch=2)
            files = dict(optimizer=optimizer, seed=seed, history=str(root / "history.csv"))
            for kind in ("train", "test"):
                files[kind] = str(root / f"{kind}.safetensors")
                save_vector(files[kind], np.full(N_FCP, seed, np.float32), dict(meta, kind=kind))
            pd.DataFrame(dict(epoch=[2], split=["test"], accuracy=[0.9])).to_csv(files["history"], index=False)
            runs.append(files)
    return runs


def run_select(runs, tmp_path):
    outputs = {"runs": tmp_path / "sets" / "runs.csv"}
    outputs.update({s: tmp_path / "sets" / f"{s}.safetensors" for s in ("lbfgs-train", "lbfgs-test", "sgd-train", "sgd-test")})
    select_job(Job(
        input={kind: [run[kind] for run in runs] for kind in ("history", "train", "test")},
        output=outputs, params=dict(runs=[dict(optimizer=r["optimizer"], seed=r["seed"]) for r in runs], n_best=2,
                                    n_params=N_FCP),
        wildcards=dict(network="fcp"),
    ))
    return outputs


def test_select_reads_good_runs(runs, tmp_path):
    outputs = run_select(runs, tmp_path)
    weights, meta = load_set(outputs["sgd-train"], "fcp", "sgd-train", N_FCP)
    assert meta["seeds"] == [0, 1]


@pytest.mark.parametrize("kind", ["train", "test"])
def test_select_refuses_nan_weights_of_any_run(runs, tmp_path, kind):
    target = runs[3][kind]  # sgd seed 1
    overwrite_data_bytes(__import__("pathlib").Path(target))
    with pytest.raises(FileCheckError, match="non-finite") as err:
        run_select(runs, tmp_path)
    assert_names_file_and_fix(err, target)


def test_select_refuses_a_sidecar_of_another_run(runs, tmp_path):
    meta_path = sidecar(runs[0]["train"])
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps(dict(meta, seed=7)))
    with pytest.raises(FileCheckError, match="seed is 7, expected 0"):
        run_select(runs, tmp_path)


def test_select_refuses_a_garbage_history(runs, tmp_path):
    __import__("pathlib").Path(runs[1]["history"]).write_bytes(b"")
    with pytest.raises(FileCheckError) as err:
        run_select(runs, tmp_path)
    assert_names_file_and_fix(err, runs[1]["history"])


# --- a path whose loss is not finite is an error naming the pair


def test_path_with_non_finite_loss_names_the_pair(tmp_path):
    from topography.jobs.paths import PathError, path_job

    data = tmp_path / "train.safetensors"
    rng = np.random.default_rng(0)
    save_arrays(data, {"images": rng.random((20, 784), dtype=np.float32), "labels": np.arange(20) % 10}, {})
    # Finite weights so large that the network's outputs overflow along the path.
    set_path = tmp_path / "sgd-train.safetensors"
    arrays = {
        "weights": np.full((2, N_FCP), 3e38, np.float32) * np.array([[1], [-1]], np.float32),
        "seeds": np.array([4, 9]), "train_loss": np.ones(2), "test_loss": np.ones(2),
    }
    save_arrays(set_path, arrays, dict(network="fcp", optimizer="sgd", kind="train", n_vectors=2, n_params=N_FCP))
    settings = dict(n_fourier=2, points=5, lam=1e-4, steps=1, lr=1e-3, chunk_size=None, batch_size=None, keep="best")
    output = tmp_path / "pair0.json"
    with pytest.raises(PathError, match=r"fcp/train/sgd-train pair 0 \(vectors 0 and 1 .* seeds 4 and 9\)"):
        path_job(Job(
            input=dict(set=str(set_path), data=str(data)), output=dict(records=[str(output)]),
            params=dict(pairs={0: (0, 1)}, settings=settings,
                        model=dict(activation="softplus", lstm_permutation_seed=1234), device="cpu"),
            wildcards=dict(network="fcp", landscape="train", set="sgd-train"),
        ))
    assert not output.exists()


# --- writing: permissions and what a killed writer leaves


def test_result_files_get_the_permissions_the_umask_gives(tmp_path):
    import os

    previous = os.umask(0o027)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        save_vector(tmp_path / "w.safetensors", np.zeros(3, np.float32), {})
    finally:
        os.umask(previous)
    for name in ("a.json", "w.safetensors", "w.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name  # not mkstemp's 0600


def test_a_job_removes_the_temporary_files_a_killed_attempt_left_next_to_its_outputs(tmp_path):
    from topography.workflow.io import atomic_path
    from topography.workflow.runtime import job

    output = tmp_path / "pair0.json"
    with pytest.raises(KeyboardInterrupt):  # a writer stopped between writing and renaming
        with atomic_path(output) as tmp:
            tmp.write_text("half")
            stale = tmp.with_name(tmp.name.replace(".tmp", "x.tmp"))
            stale.write_text("what SIGKILL leaves: no cleanup ran")
            raise KeyboardInterrupt
    other = tmp_path / ".pair1.json.abc.tmp"  # another output's: not this job's to remove
    other.write_text("")
    assert stale.exists() and not output.exists()
    log = tmp_path / "job.log"
    with job(str(log), outputs=[str(output)]):
        pass
    assert not stale.exists() and other.exists()
    assert f"removed {stale}" in log.read_text()


def test_a_pdf_carries_no_creation_date_so_redrawing_gives_the_same_bytes(tmp_path):
    from topography.figures.style import plt, save_figure

    for name in ("a", "b"):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        save_figure(fig, tmp_path / f"{name}.pdf", tmp_path / f"{name}.png")
    assert b"CreationDate" not in (tmp_path / "a.pdf").read_bytes()
    for ext in ("pdf", "png"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
