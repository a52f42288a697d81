"""The benchmarks run and write what they promise (at a tiny size: these are not timings)."""

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# The keys the path benchmark's JSON must carry, one object per network (issue 3).
PATH_KEYS = {"network", "seconds_per_step", "gflops", "matmul_gflops", "ratio_to_matmul",
             "speedup_vs_loop", "peak_memory_gb", "speedup_vs_stock_loop", "stock_loop_seconds",
             "speedup_vs_authors_loop", "authors_loop_seconds", "measured_step_seconds",
             "speedup_vs_authors_loop_measured_shape"}


def run(*args):
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_path_benchmark_writes_one_object_per_network(tmp_path):
    out = tmp_path / "bench.json"
    stdout = run("bench/pathfinder.py", "--networks", "fcp", "autoencoder", "--n-images", "30",
                 "--points", "5", "--steps", "2", "--json", str(out))
    rows = json.loads(out.read_text())
    assert [r["network"] for r in rows] == ["fcp", "autoencoder"]
    for row in rows:
        assert PATH_KEYS <= row.keys()
        assert all(math.isfinite(row[k]) and row[k] > 0 for k in PATH_KEYS - {"network"})
        assert row["peak_memory_gb"] < 4
        assert row["network"] in stdout  # the printed table has a line per network
        assert len(row["authors_ratios"]) == row["rounds"]  # one back-to-back ratio per round
        assert len(row["measured_pass_shape"]) == 2 and min(row["measured_pass_shape"]) >= 1
    assert "vs authors" in stdout


def test_path_benchmark_refuses_too_few_steps():
    done = subprocess.run([sys.executable, "bench/pathfinder.py", "--steps", "1"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "--steps must be at least 2" in done.stderr


def test_training_benchmark_times_both_optimizers(tmp_path):
    out = tmp_path / "training.json"
    run("bench/training.py", "--configfile", "presets/smoke.yaml", "--epochs", "1", "--threads", "1",
        "--json", str(out))
    rows = json.loads(out.read_text())
    assert [r["network"] for r in rows] == ["fcp", "autoencoder"]  # the smoke preset's networks
    for row in rows:
        assert row["seconds_per_lbfgs_iteration"] > 0 and row["seconds_per_sgd_epoch"] > 0


def test_line_search_benchmark_runs_both_modes_on_the_same_runs(tmp_path):
    out = tmp_path / "line_search.json"
    run("bench/line_search.py", "--configfile", "presets/smoke.yaml", "--networks", "fcp", "--seeds", "0", "1",
        "--cap", "2", "--no-stop", "--json", str(out))
    rows = json.loads(out.read_text())
    assert [(r["seed"], r["line_search"]) for r in rows] == [(0, "authors"), (0, "paper"), (1, "authors"), (1, "paper")]
    for row in rows:
        assert row["iterations"] == 2 and row["stop_reason"] == "budget"  # --no-stop: the cap
        assert row["final_train_loss"] > 0 and row["seconds"] > 0
    # The modes take different steps from the same start.
    assert rows[0]["final_train_loss"] != rows[1]["final_train_loss"]


def test_primitive_floor_benchmark_runs(tmp_path):
    # The printed table rounds the times (a fast loop reads 0.00): check the unrounded JSON.
    out = tmp_path / "primitives.json"
    stdout = run("bench/primitives.py", "--n-images", "20", "--points", "4", "--rounds", "1",
                 "--json", str(out))
    rows = json.loads(out.read_text())
    assert [r["network"] for r in rows] == ["fcp", "lenet", "autoencoder", "lstm"]
    for row in rows:
        assert row["floor_seconds"] > 0 and row["loop_seconds"] > 0 and row["max_speedup"] > 0
        assert row["stock_seconds"] > 0 and row["max_speedup_vs_stock"] > 0
        assert row["network"] in stdout


# Each baseline of bench/pathfinder.py: its module, its loop class and step function, and the
# package landscape's pass shape it is compared with (several passes for the stock loop).
BASELINES = {
    "stock": ("stock_loop", "StockLoop", "stock_backward_objective", dict(rows_per_pass=60, points_per_pass=2)),
    "authors": ("authors_loop", "AuthorsLoop", "authors_backward_objective", {}),
}


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("name", ["fcp", "lenet", "autoencoder", "lstm"])
def test_each_baseline_loop_computes_the_package_step(name, baseline):
    """The benchmark's baselines (bench/stock_loop.py: torch's stock layers, one point at a
    time, autograd through the path; bench/authors_loop.py: stock modules, gradients summed
    by hand) give the same objective and coefficient gradient as the package's batched step."""
    module_name, loop_name, step_name, passes = BASELINES[baseline]
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        module = importlib.import_module(module_name)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from topography.landscape import NetworkLandscape
    from topography.models import build_network
    from topography.pathfinder import FourierPath, backward_objective

    net = build_network(name)
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 784, generator=generator), torch.randint(0, 10, (40,), generator=generator)
    path = FourierPath(net.init_vector(1), net.init_vector(2), n_fourier=3)
    with torch.no_grad():
        path.coefficients.normal_(0, 0.05, generator=generator)
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    value = backward_objective(path, t, NetworkLandscape(net, x, y, **passes), 0.1)
    grad, path.coefficients.grad = path.coefficients.grad, None
    baseline_value = getattr(module, step_name)(path, t, getattr(module, loop_name)(net, x, y), 0.1)
    assert baseline_value == pytest.approx(value, rel=1e-5)
    torch.testing.assert_close(path.coefficients.grad, grad, rtol=1e-4, atol=1e-6)
