"""Resumable training: a run killed mid-way (SIGTERM as SLURM sends at walltime, or SIGKILL)
and rerun ends with the same bytes as a run never stopped, and leaves no state behind."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

import topography.jobs.train as train_module
from topography.workflow.checkpoint import Checkpoint, run_key
from topography.jobs.data import prepare
from topography.workflow.runtime import Job
from topography.jobs.train import train_job

SRC = Path(__file__).resolve().parents[1] / "src"
# A floor of 0 and a window longer than the run: neither optimizer stops before its cap.
STOP = dict(loss_floor=0.0, window=50, rel_tol=1e-2)
SETTINGS = {
    "sgd": dict(lr=0.1, momentum=0.9, batch_size=32, epochs=14, stop=STOP),
    "lbfgs": dict(max_iterations=14, history=10, initial_fraction=0.2, budget=6, tol=1e-4, line_search="authors",
                  stop=STOP),
}
MODEL = dict(activation="softplus", lstm_permutation_seed=1234)
EVERY = 2
# The killed process sleeps this long per evaluation of a set (two per epoch), so that it is
# still training when the test kills it; sleeping changes no number.
SLOW_S = 0.05

# The killed run: the train rule's call, in a process of its own, one torch thread.
CHILD = """
import json, sys, time
import torch
import topography.jobs.train as t
from topography.workflow.runtime import Job
torch.set_num_threads(1)
args = json.loads(sys.argv[1])
evaluate = t.evaluate
t.evaluate = lambda landscape, w: (time.sleep(%r), evaluate(landscape, w))[1]
t.train_job(Job(**args))
""" % SLOW_S


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    prepare(dict(source="embedded", n_train=96, n_test=48, seed=0), root / "train.safetensors", root / "test.safetensors", {})
    return root


@pytest.fixture(autouse=True)
def one_thread():
    """The killed process and this one must run with the same thread count (it is part of
    the checkpoint's key, as it can change float sums)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def job_args(data, out, optimizer, checkpoint=None, **settings):
    """The train rule's Job (as keyword arguments, plain JSON values)."""
    return dict(
        input=dict(train=str(data / "train.safetensors"), test=str(data / "test.safetensors")),
        output={k: str(out / f"{k}.{'csv' if k == 'history' else 'safetensors'}") for k in ("history", "train", "test")},
        params=dict(model=MODEL, settings=dict(SETTINGS[optimizer], **settings), chunk_size=48, device="cpu",
                    checkpoint=None if checkpoint is None else str(checkpoint)),
        wildcards=dict(network="fcp", optimizer=optimizer, seed="3"),
        config=dict(train=dict(checkpoint_every=EVERY)),
    )


def output_bytes(out: Path) -> dict[str, bytes]:
    """Every file a run wrote: history.csv, both weight files and their JSON sidecars."""
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert set(files) == {"history.csv", "train.safetensors", "train.json", "test.safetensors", "test.json"}
    return files


def saved_state(path: Path) -> dict | None:
    try:
        with safe_open(str(path), framework="pt") as f:
            return json.loads(f.metadata()["state"])
    except (FileNotFoundError, OSError):
        return None


def wait_for_checkpoint(path: Path, proc: subprocess.Popen, min_epoch: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = saved_state(path)
        if state is not None and state["epoch"] >= min_epoch:
            return state
        assert proc.poll() is None, f"training ended before a checkpoint:\n{proc.stderr.read()}"
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"no checkpoint at epoch >= {min_epoch} after {timeout} s")


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    """Per optimizer, the bytes of a run that was never stopped and never checkpointed."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    files = {}
    for optimizer in SETTINGS:
        out = tmp_path_factory.mktemp(f"plain_{optimizer}")
        train_job(Job(**job_args(data, out, optimizer)))
        files[optimizer] = output_bytes(out)
    torch.set_num_threads(before)
    return files


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_checkpointing_changes_no_byte_and_leaves_no_state(data, tmp_path, uninterrupted, optimizer, capsys):
    checkpoint = tmp_path / "state" / "run.safetensors"
    train_job(Job(**job_args(data, tmp_path / "out", optimizer, checkpoint)))
    assert output_bytes(tmp_path / "out") == uninterrupted[optimizer]
    assert not checkpoint.exists()
    assert "resuming" not in capsys.readouterr().err


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killed_run_resumes_to_the_same_bytes(data, tmp_path, uninterrupted, optimizer, sig, capsys):
    checkpoint = tmp_path / ".checkpoints" / "run.safetensors"
    out = tmp_path / "out"
    args = job_args(data, out, optimizer, checkpoint)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = wait_for_checkpoint(checkpoint, proc, min_epoch=EVERY)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)

    epochs = SETTINGS[optimizer].get("epochs") or SETTINGS[optimizer]["max_iterations"]
    state = saved_state(checkpoint)
    assert not out.exists() or not any(out.iterdir())  # killed before any output
    if sig == signal.SIGTERM:
        # The handler let the epoch finish, saved the state there, and exited non-zero.
        assert proc.returncode == 128 + signal.SIGTERM, stderr
        assert "stopped by SIGTERM" in stderr
        assert state["reason"] == "signal" and seen["epoch"] < state["epoch"] < epochs
    else:
        assert proc.returncode == -signal.SIGKILL
        assert state["reason"] == "every" and seen["epoch"] <= state["epoch"] < epochs

    train_job(Job(**args))  # the rerun, as Snakemake would start it
    assert f"resuming from {checkpoint} at epoch {state['epoch']}" in capsys.readouterr().err
    assert output_bytes(out) == uninterrupted[optimizer]
    assert not checkpoint.exists()


def test_checkpoint_of_other_settings_is_not_resumed(data, tmp_path, uninterrupted, monkeypatch, capsys):
    """A run stopped by SIGTERM (sent to this process) leaves its state; a rerun with another
    learning rate starts afresh, says so, and gives the bytes of a run never checkpointed."""
    checkpoint = tmp_path / "run.safetensors"
    evaluate = train_module.evaluate

    def slow(landscape, w):
        time.sleep(SLOW_S)
        return evaluate(landscape, w)

    def terminate_once_saved():
        while saved_state(checkpoint) is None:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    handler = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(train_module, "evaluate", slow)
    threading.Thread(target=terminate_once_saved, daemon=True).start()
    with pytest.raises(SystemExit) as stopped:
        train_job(Job(**job_args(data, tmp_path / "first", "sgd", checkpoint)))
    assert stopped.value.code == 128 + signal.SIGTERM
    assert saved_state(checkpoint)["reason"] == "signal"
    monkeypatch.setattr(train_module, "evaluate", evaluate)
    assert signal.getsignal(signal.SIGTERM) == handler  # the training's handler was taken down

    other = job_args(data, tmp_path / "other", "sgd", checkpoint, lr=0.05)
    train_job(Job(**other))
    err = capsys.readouterr().err
    assert "other settings, data or code" in err and "resuming" not in err
    assert not checkpoint.exists()
    fresh = job_args(data, tmp_path / "fresh", "sgd", lr=0.05)
    train_job(Job(**fresh))
    assert output_bytes(tmp_path / "other") == output_bytes(tmp_path / "fresh")
    assert output_bytes(tmp_path / "fresh") != uninterrupted["sgd"]


def test_key_follows_settings_and_data_bytes(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"\x00" * 10)
    key = run_key({"lr": 0.1}, [data])
    assert run_key({"lr": 0.1}, [data]) == key
    assert run_key({"lr": 0.2}, [data]) != key
    data.write_bytes(b"\x00" * 9 + b"\x01")
    assert run_key({"lr": 0.1}, [data]) != key
    # A file written for another key reads as nothing to resume.
    Checkpoint(tmp_path / "c.safetensors", 1, "a").save({"w": torch.zeros(3)}, {"epoch": 1})
    assert Checkpoint(tmp_path / "c.safetensors", 1, "b").load() is None
    tensors, state = Checkpoint(tmp_path / "c.safetensors", 1, "a").load()
    assert state == {"epoch": 1} and torch.equal(tensors["w"], torch.zeros(3))


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_autoencoder_resumes_with_its_nan_accuracy(data, tmp_path, optimizer, capsys):
    """A shorter run leaves its state at epoch 4; a longer run with the same key goes on from
    there and matches one never stopped (the autoencoder's accuracy column is all NaN)."""
    from topography.jobs.data import load_prepared
    from topography.landscape import NetworkLandscape
    from topography.models import build_network
    from topography.jobs.train import train_run

    net = build_network("autoencoder")
    train, test = (NetworkLandscape(net, *load_prepared(data / f"{s}.safetensors")[:2]) for s in ("train", "test"))
    cap = "epochs" if optimizer == "sgd" else "max_iterations"
    short, full = dict(SETTINGS[optimizer], **{cap: 5}), dict(SETTINGS[optimizer], **{cap: 9})
    path = tmp_path / "run.safetensors"
    train_run(net, optimizer, 0, train, test, short, progress=False, checkpoint=Checkpoint(path, 2, "k"))
    assert saved_state(path)["epoch"] == 4
    resumed = train_run(net, optimizer, 0, train, test, full, progress=False, checkpoint=Checkpoint(path, 0, "k"))
    assert "at epoch 4" in capsys.readouterr().err
    plain = train_run(net, optimizer, 0, train, test, full, progress=False)
    assert resumed.history.accuracy.isna().all()
    assert resumed.history.to_csv() == plain.history.to_csv()
    for kind in ("best_train", "best_test"):
        a, b = getattr(resumed, kind), getattr(plain, kind)
        assert (a.loss, a.epoch) == (b.loss, b.epoch) and torch.equal(a.weights, b.weights)
