"""Curvature: Lanczos eigenvalues and residuals, Hutchinson's trace, the network Hessian-vector
product, the scale-aware measures, the table and the figure."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from topography.tables import curvature_table
from topography.design import name_seed
from topography.figures.crosscheck import plot_curvature
from topography.curvature import (
    CurvatureConfig,
    hessian_matvec,
    hutchinson,
    lanczos,
    measure_curvature,
    rademacher,
)
from topography.landscape import FunctionLandscape, NetworkLandscape
from topography.models import NETWORKS, build_network
from topography.toy import toy_landscape

ROOT = Path(__file__).resolve().parents[1]
# Five well separated top eigenvalues above a bulk in [-2, 4]: Lanczos finds such a top
# in far fewer steps than the dimension.
TOP = [100.0, 60.0, 35.0, 20.0, 12.0]


def symmetric(eigenvalues, seed=0):
    """A dense symmetric matrix with the given spectrum (random orthogonal eigenvectors)."""
    generator = torch.Generator().manual_seed(seed)
    n = len(eigenvalues)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    return q @ torch.diag(torch.as_tensor(eigenvalues, dtype=torch.float64)) @ q.T


def quadratic(matrix):
    """The landscape 1/2 w^T A w, whose Hessian is A everywhere."""
    return FunctionLandscape(lambda w: 0.5 * w @ matrix @ w, len(matrix))


def spectrum(n=80, seed=0):
    bulk = np.random.default_rng(seed).uniform(-2.0, 4.0, n - len(TOP))
    return np.concatenate([TOP, bulk])


def test_lanczos_with_as_many_steps_as_dimensions_finds_the_exact_top_eigenvalues():
    values = spectrum(40)
    result = lanczos(lambda v: v @ symmetric(values).T, 40, 5, 40, torch.Generator().manual_seed(1), torch.float64)
    np.testing.assert_allclose(result.values, np.sort(values)[::-1][:5], rtol=1e-10)
    assert (result.residuals < 1e-8).all(), result.residuals


def test_lanczos_in_few_steps_gets_the_separated_top_and_reports_honest_residuals():
    values = spectrum(80)
    matrix = symmetric(values, seed=2)
    result = lanczos(lambda v: v @ matrix.T, 80, 5, 30, torch.Generator().manual_seed(3), torch.float64)
    # Stated tolerance: 1e-6 relative on the five separated values after 30 of 80 steps.
    np.testing.assert_allclose(result.values, TOP, rtol=1e-6)
    assert result.iterations == 30
    # For a symmetric matrix a Ritz value lies within its residual of a true eigenvalue.
    distance = np.abs(result.values[:, None] - values[None, :]).min(axis=1)
    assert (distance <= result.residuals + 1e-12).all()
    # The measured residual |A y - theta y| agrees with the tridiagonal's beta_m |s_m|.
    np.testing.assert_allclose(result.residuals, result.bounds, rtol=1e-3, atol=1e-9)
    torch.testing.assert_close(result.vectors @ result.vectors.T, torch.eye(5, dtype=torch.float64), atol=1e-8, rtol=0)


def test_lanczos_stops_on_an_invariant_subspace_with_exact_values():
    """A matrix with three distinct eigenvalues: Krylov space of dimension 3, exact after 3 steps."""
    values = [5.0] * 10 + [1.0] * 10 + [-3.0] * 10
    matrix = symmetric(values, seed=4)
    result = lanczos(lambda v: v @ matrix.T, 30, 3, 20, torch.Generator().manual_seed(0), torch.float64)
    assert result.iterations == 3
    np.testing.assert_allclose(result.values, [5.0, 1.0, -3.0], atol=1e-10)
    assert (result.residuals < 1e-9).all()


def test_the_largest_eigenvalues_are_the_largest_algebraic_ones():
    """A large negative eigenvalue (a saddle) is not reported among the top."""
    values = [-50.0, 3.0, 2.0, 1.0] + [0.5] * 20
    matrix = symmetric(values)
    result = lanczos(lambda v: v @ matrix.T, len(values), 3, len(values), torch.Generator().manual_seed(0), torch.float64)
    np.testing.assert_allclose(result.values, [3.0, 2.0, 1.0], atol=1e-9)


def test_hutchinson_is_exact_for_a_diagonal_matrix():
    """z_i^2 = 1 for Rademacher probes: every sample is the trace, the standard error 0."""
    diagonal = torch.linspace(-1.0, 3.0, 25, dtype=torch.float64)
    estimate = hutchinson(lambda v: v * diagonal, rademacher(5, 25, torch.Generator().manual_seed(0)), dtype=torch.float64)
    assert estimate.value == pytest.approx(float(diagonal.sum()), abs=1e-12)
    assert estimate.se == pytest.approx(0.0, abs=1e-12)


def test_hutchinson_error_bar_covers_the_trace_and_matches_the_theoretical_spread():
    matrix = symmetric(spectrum(60), seed=5)
    truth = float(torch.trace(matrix))
    estimate = hutchinson(lambda v: v @ matrix.T, rademacher(400, 60, torch.Generator().manual_seed(6)),
                          dtype=torch.float64)
    assert abs(estimate.value - truth) <= 2 * estimate.se, (estimate.value, truth, estimate.se)
    # Var(z^T A z) = 2 sum_{i != j} A_ij^2 for Rademacher z.
    off_diagonal = matrix - torch.diag(torch.diag(matrix))
    expected_se = math.sqrt(2 * float(off_diagonal.pow(2).sum()) / 400)
    assert estimate.se == pytest.approx(expected_se, rel=0.15)


def test_measure_curvature_on_a_quadratic():
    matrix = symmetric(spectrum(60), seed=7)
    w = torch.linspace(-1.0, 1.0, 60, dtype=torch.float64)
    config = CurvatureConfig(eigenvalues=5, lanczos_iterations=30, probes=400, seed=3)
    record = measure_curvature(quadratic(matrix), w, config)
    np.testing.assert_allclose([record[f"lambda_{i}"] for i in range(1, 6)], TOP, rtol=1e-6)
    assert all(record[f"residual_{i}"] < 1e-3 for i in range(1, 6))
    assert abs(record["trace"] - float(torch.trace(matrix))) <= 2 * record["trace_se"]
    # tr(diag(|w|) A diag(|w|)) = sum_i w_i^2 A_ii
    adaptive = float((w.pow(2) * torch.diag(matrix)).sum())
    assert abs(record["adaptive_trace"] - adaptive) <= 2 * record["adaptive_trace_se"]
    assert record["weight_norm2"] == pytest.approx(float(w @ w))
    assert record["lambda_1_x_norm2"] == pytest.approx(record["lambda_1"] * float(w @ w))
    assert record["hvps"] == 30 + 5 + 2 * 400
    assert record["loss"] == pytest.approx(float(0.5 * w @ matrix @ w))
    assert record["grad_norm"] == pytest.approx(float(torch.linalg.vector_norm(matrix @ w)))


def test_the_adaptive_trace_is_unchanged_by_a_rescaling_that_keeps_the_function():
    """f(a, b) = |(a * b) - c|^2 is unchanged by a -> s a, b -> b / s; so is
    tr(diag(|w|) H diag(|w|)), while the raw trace and top eigenvalue change."""
    n = 6
    c = torch.linspace(0.5, 2.0, n, dtype=torch.float64)

    def loss(w):
        return ((w[:n] * w[n:] - c) ** 2).sum()

    landscape = FunctionLandscape(loss, 2 * n)
    w = torch.cat([torch.linspace(0.3, 1.1, n, dtype=torch.float64), torch.linspace(1.2, 0.4, n, dtype=torch.float64)])
    scale = torch.cat([torch.full((n,), 3.0, dtype=torch.float64), torch.full((n,), 1 / 3.0, dtype=torch.float64)])
    config = CurvatureConfig(eigenvalues=2, lanczos_iterations=2 * n, probes=8, seed=1)
    before, after = measure_curvature(landscape, w, config), measure_curvature(landscape, w * scale, config)
    assert before["loss"] == pytest.approx(after["loss"], rel=1e-12)
    assert after["adaptive_trace"] == pytest.approx(before["adaptive_trace"], rel=1e-10)
    assert after["trace"] != pytest.approx(before["trace"], rel=0.1)
    assert after["lambda_1"] != pytest.approx(before["lambda_1"], rel=0.1)


def test_a_landscape_with_fewer_dimensions_than_eigenvalues_fills_the_rest_with_nan():
    record = measure_curvature(toy_landscape(), torch.tensor([0.5, 0.0], dtype=torch.float64),
                               CurvatureConfig(eigenvalues=3, lanczos_iterations=3, probes=2))
    assert np.isfinite([record["lambda_1"], record["lambda_2"]]).all()
    assert math.isnan(record["lambda_3"]) and math.isnan(record["residual_3"])
    # Near the minimum c2 = (0.5, 0) the attracting Gaussian gives a positive curvature.
    assert record["lambda_2"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", NETWORKS)
def test_network_hessian_vector_products_equal_the_dense_hessian_in_float64(name):
    """The chunked products against torch.autograd.functional.hessian of the mean loss,
    restricted to 24 random coordinates from every layer (the full Hessian is too large)."""
    net = build_network(name)
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(12, 784, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 10, (12,), generator=generator)
    w = net.init_vector(3).double()
    index = torch.randperm(net.n_params, generator=generator)[:24]

    def restricted(u):
        return net.sample_losses(w.index_add(0, index, u), x, y).mean()

    dense = torch.autograd.functional.hessian(restricted, torch.zeros(24, dtype=torch.float64))
    tangents = torch.zeros(3, net.n_params, dtype=torch.float64)
    tangents[:, index] = torch.randn(3, 24, generator=generator, dtype=torch.float64)
    # chunk_size 5: passes of 5, 5 and 2 images.
    for chunk_size in (5, None):
        products = hessian_matvec(NetworkLandscape(net, x, y), w, chunk_size)(tangents)
        torch.testing.assert_close(products[:, index], tangents[:, index] @ dense.T, rtol=1e-9, atol=1e-12)


def test_curvature_config_rejects_fewer_steps_than_eigenvalues():
    with pytest.raises(ValueError, match="lanczos_iterations"):
        CurvatureConfig(eigenvalues=5, lanczos_iterations=4)
    with pytest.raises(ValueError, match="probes"):
        CurvatureConfig(probes=1)


def test_name_seeds_depend_on_names_not_positions():
    assert name_seed(0, "fcp", "train", "sgd-test", 1) == name_seed(0, "fcp", "train", "sgd-test", 1)
    assert name_seed(0, "fcp", "train", "sgd-test", 1) != name_seed(0, "fcp", "train", "sgd-test", 2)
    assert name_seed(0, "fcp", "train", "sgd-test", 1) != name_seed(1, "fcp", "train", "sgd-test", 1)


def curvature_rows(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for network in ("lstm", "fcp"):
        for set_name in ("sgd-test", "lbfgs-train", "sgd-train", "lbfgs-test"):
            for vector in range(3):
                rows.append(dict(network=network, set=set_name, landscape="train", vector=vector,
                                 lambda_1=rng.uniform(1, 50), trace=rng.uniform(10, 500),
                                 lambda_1_x_norm2=rng.uniform(1e3, 1e5), adaptive_trace=rng.uniform(1, 20)))
    return rows


def test_the_curvature_table_is_in_the_papers_order():
    table = curvature_table([{"records": curvature_rows()}])
    assert list(dict.fromkeys(table.network)) == ["fcp", "lstm"]
    assert list(dict.fromkeys(table.set)) == ["lbfgs-train", "lbfgs-test", "sgd-train", "sgd-test"]
    with pytest.raises(ValueError, match="no curvature records"):
        curvature_table([{"records": []}])


def test_the_curvature_figure_is_written_and_names_what_is_missing(tmp_path):
    table = pd.DataFrame(curvature_rows())
    plot_curvature(table, "fcp", tmp_path / "c.png", tmp_path / "c.pdf")
    assert (tmp_path / "c.png").stat().st_size > 5_000 and (tmp_path / "c.pdf").stat().st_size > 5_000
    with pytest.raises(ValueError, match="adaptive_trace"):
        plot_curvature(table.drop(columns="adaptive_trace"), "fcp", tmp_path / "d.png")
    with pytest.raises(ValueError, match="lenet"):
        plot_curvature(table, "lenet", tmp_path / "e.png")


def test_the_cost_benchmark_runs(tmp_path):
    """bench/crosscheck.py at a tiny size (not a timing): one object per network."""
    out = tmp_path / "crosscheck.json"
    done = subprocess.run([sys.executable, "bench/crosscheck.py", "--configfile", "presets/smoke.yaml",
                           "--networks", "fcp", "--json", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(out.read_text())
    assert row["network"] == "fcp" and row["hvps_per_vector"] == 5 + 5 + 2 * 2
    assert all(row[k] > 0 for k in ("seconds_per_vector", "seconds_per_bezier_pair", "bezier_to_fourier"))
