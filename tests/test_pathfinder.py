"""FourierPathFinder: the path's ends, its gradient, batched and chunked evaluation."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from topography.landscape import FunctionLandscape, NetworkLandscape
from topography.models import NETWORKS, build_network
from topography.pathfinder import FourierPath, PathConfig, backward_objective, find_path, path_points
from topography.toy import W1, W2, toy_landscape


def data(n, seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 784, generator=generator, dtype=dtype)
    return x, torch.randint(0, 10, (n,), generator=generator)


def endpoints(net, dtype=torch.float32):
    return net.init_vector(1).to(dtype), net.init_vector(2).to(dtype)


def test_the_ends_are_fixed_exactly_for_any_coefficients():
    generator = torch.Generator().manual_seed(0)
    w_a, w_b = torch.randn(2, 37, generator=generator)
    path = FourierPath(w_a, w_b, n_fourier=10)
    with torch.no_grad():
        path.coefficients.copy_(100 * torch.randn(10, 37, generator=generator))
        points = path(torch.linspace(0, 1, 50, dtype=torch.float64))
        ends = path(torch.tensor([0.0, 1.0]))
    assert torch.equal(points[0], w_a) and torch.equal(points[-1], w_b)
    assert torch.equal(ends[0], w_a) and torch.equal(ends[1], w_b)


def test_zero_coefficients_give_the_straight_line():
    w_a, w_b = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    torch.testing.assert_close(FourierPath(w_a, w_b, 4)(t), t[:, None] * w_b)


def test_gradient_equals_the_closed_form():
    """dL/db_n = sum_m sin(n pi t_m) grad loss(w_m)
    + lam * sum_m 2 (w_{m+1} - w_m) (sin(n pi t_{m+1}) - sin(n pi t_m)), in float64."""
    net = build_network("fcp")
    x, y = data(64, dtype=torch.float64)
    landscape = NetworkLandscape(net, x, y, chunk_size=20, rows_per_pass=40)
    w_a, w_b = endpoints(net, torch.float64)
    n_fourier, lam = 3, 0.5
    coefficients = 0.05 * torch.randn(n_fourier, net.n_params, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    t = torch.linspace(0, 1, 7, dtype=torch.float64)

    path = FourierPath(w_a, w_b, n_fourier)
    with torch.no_grad():
        path.coefficients.copy_(coefficients)
    backward_objective(path, t, landscape, lam)

    # Independently: the points from the formula, their gradients one at a time.
    sines = torch.sin(math.pi * t[:, None] * torch.arange(1, n_fourier + 1, dtype=torch.float64))
    sines[[0, -1]] = 0.0
    points = (1 - t)[:, None] * w_a + t[:, None] * w_b + sines @ coefficients
    grads = torch.stack([landscape.loss_and_grad(w)[1] for w in points])
    expected = sines[1:-1].T @ grads[1:-1]
    expected += lam * 2 * sines.diff(dim=0).T @ points.diff(dim=0)
    torch.testing.assert_close(path.coefficients.grad, expected, rtol=1e-9, atol=1e-12)


def test_objective_value_equals_the_direct_sum():
    """The closed-form length term (no [M, P] differences formed) equals the plain sum of
    the squared segments, and the value adds the inner points' losses to it."""
    net = build_network("fcp")
    x, y = data(32, dtype=torch.float64)
    landscape = NetworkLandscape(net, x, y)
    w_a, w_b = endpoints(net, torch.float64)
    path = FourierPath(w_a, w_b, 4)
    with torch.no_grad():
        path.coefficients.normal_(0, 0.05, generator=torch.Generator().manual_seed(2))
    t = torch.tensor([0.0, 0.1, 0.35, 0.5, 0.9, 1.0], dtype=torch.float64)  # uneven steps
    lam = 0.3
    value = backward_objective(path, t, landscape, lam)
    with torch.no_grad():
        points = path(t)
        expected = float(landscape.losses(points[1:-1]).sum() + lam * points.diff(dim=0).pow(2).sum())
    assert value == pytest.approx(expected, rel=1e-10)
    assert path.coefficients.grad.shape == path.coefficients.shape


@pytest.mark.parametrize("name, activation", [(n, "softplus") for n in NETWORKS] + [("fcp", "relu"), ("lenet", "relu")])
def test_batched_evaluation_equals_a_loop_of_single_ones(name, activation):
    net = build_network(name, activation)
    x, y = data(24)
    landscape = NetworkLandscape(net, x, y)
    weights = torch.stack([net.init_vector(seed) for seed in range(4)])
    outputs = net.forward_batched(weights, x)
    losses, grads = landscape.losses_and_grads(weights)
    for k, w in enumerate(weights):
        torch.testing.assert_close(outputs[k], net.forward(w, x), rtol=1e-5, atol=1e-6)
        loss, grad = landscape.loss_and_grad(w)
        assert losses[k].item() == pytest.approx(loss, rel=1e-5)
        torch.testing.assert_close(grads[k], grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(landscape.losses(weights), losses, rtol=1e-6, atol=0)


@pytest.mark.parametrize("name, activation", [("lstm", "softplus"), ("autoencoder", "softplus"), ("fcp", "softplus"),
                                              ("fcp", "relu")])
def test_own_backward_passes_match_autograd_in_float64(name, activation):
    """FCP and the autoencoder's output layer have hand-written backward passes, and the
    LSTM's batched form runs torch's fused kernel: all match autograd through the
    per-vector forward."""
    net = build_network(name, activation)
    x, y = data(9, dtype=torch.float64)
    landscape = NetworkLandscape(net, x, y, rows_per_pass=12, points_per_pass=2)
    weights = 3 * torch.stack([net.init_vector(seed) for seed in range(3)]).double()  # far from 0: saturated gates
    losses, grads = landscape.losses_and_grads(weights)
    for k, w in enumerate(weights):
        loss, grad = landscape.loss_and_grad(w)
        assert losses[k].item() == pytest.approx(loss, rel=1e-12)
        torch.testing.assert_close(grads[k], grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name, fused", [("autoencoder", "SigmoidMSESums"), ("fcp", "FCPCrossEntropySums")])
def test_fused_blocks_cover_every_image(monkeypatch, name, fused):
    """The fused passes walk the images in blocks; uneven blocks lose none."""
    from topography import kernels

    monkeypatch.setattr(getattr(kernels, fused), "block", 4)  # 9 images: blocks of 4, 4, 1
    net = build_network(name)
    x, y = data(9, dtype=torch.float64)
    landscape = NetworkLandscape(net, x, y, rows_per_pass=18, points_per_pass=2)
    weights = 3 * torch.stack([net.init_vector(seed) for seed in range(3)]).double()
    losses, grads = landscape.losses_and_grads(weights)
    torch.testing.assert_close(landscape.losses(weights), losses, rtol=1e-12, atol=0)
    for k, w in enumerate(weights):
        loss, grad = landscape.loss_and_grad(w)
        assert losses[k].item() == pytest.approx(loss, rel=1e-12)
        torch.testing.assert_close(grads[k], grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", ["fcp", "lstm"])
def test_chunked_evaluation_equals_unchunked(name):
    net = build_network(name)
    x, y = data(30)
    weights = torch.stack([net.init_vector(seed) for seed in range(5)])
    whole = NetworkLandscape(net, x, y, rows_per_pass=10_000)
    # At most 7 images per chunk, 12 vector-image rows and 3 vectors per pass: the 5
    # vectors are split into groups and the 30 images into uneven chunks.
    chunked = NetworkLandscape(net, x, y, chunk_size=7, rows_per_pass=12, points_per_pass=3)
    assert list(chunked._blocks(5)) == [(slice(0, 3), 4), (slice(3, 6), 4)]
    for a, b in zip(whole.losses_and_grads(weights), chunked.losses_and_grads(weights)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(whole.losses(weights), chunked.losses(weights), rtol=1e-5, atol=0)
    one = NetworkLandscape(net, x, y, rows_per_pass=12, points_per_pass=48).with_chunk_size(1)
    assert list(one._blocks(30)) == [(slice(0, 12), 1), (slice(12, 24), 1), (slice(24, 36), 1)]


def test_minibatch_mode_reports_heights_on_the_full_landscape():
    net = build_network("fcp")
    x, y = data(40)
    landscape = NetworkLandscape(net, x, y)
    w_a, w_b = endpoints(net)
    config = PathConfig(n_fourier=2, points=6, steps=3, lr=1e-2, batch_size=8, seed=3)
    result = find_path(landscape, w_a, w_b, config)
    points = path_points(w_a, w_b, result.coefficients, result.t).float()
    full = landscape.losses(points).double().numpy()
    np.testing.assert_allclose(result.losses, full, rtol=1e-6)
    assert result.height == pytest.approx(full.max(), rel=1e-6)
    straight = path_points(w_a, w_b, np.zeros_like(result.coefficients), result.t).float()
    np.testing.assert_allclose(result.straight_losses, landscape.losses(straight).numpy(), rtol=1e-6)
    # The objective saw mini-batches: a full-batch run differs (same seed, same start).
    full_run = find_path(landscape, w_a, w_b, PathConfig(n_fourier=2, points=6, steps=3, lr=1e-2, seed=3))
    assert result.objective[0] != pytest.approx(full_run.objective[0], rel=1e-6)
    assert result.straight_height == full_run.straight_height


def test_minibatch_mode_needs_a_data_set():
    with pytest.raises(ValueError, match="batch_size needs a landscape over a data set"):
        find_path(toy_landscape(), torch.tensor(W1), torch.tensor(W2), PathConfig(batch_size=4))


def test_optimised_toy_path_is_lower_than_the_straight_line():
    config = PathConfig(points=30, lam=100.0, steps=100, lr=0.01, grad_noise=1.0, seed=0)
    result = find_path(toy_landscape(), torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64), config)
    assert result.height < result.straight_height - 0.1
    assert result.length > result.straight_length
    assert len(result.objective) == 100 and result.objective[-1] < result.objective[0]


def test_result_is_seeded_and_serialisable():
    landscape = FunctionLandscape(lambda w: (w**2).sum() - 2 * torch.exp(-(w**2).sum()), n_params=3)
    w_a, w_b = torch.tensor([-1.0, 0.0, 0.5]), torch.tensor([1.0, 0.5, 0.0])
    config = PathConfig(points=9, lam=1.0, steps=5, lr=0.05, grad_noise=1.0, seed=7)
    steps = []
    a = find_path(landscape, w_a, w_b, config, progress=lambda step, value: steps.append(step))
    b = find_path(landscape, w_a, w_b, config)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert steps == list(range(5))
    record = json.loads(json.dumps(a.to_dict()))
    assert record["height"] == max(record["losses"]) and len(record["t"]) == 9
    assert record["config"]["seed"] == 7 and "coefficients" not in record


@pytest.mark.parametrize("key, value", [("points", 2), ("lr", 0.0), ("batch_size", 0), ("n_fourier", 0)])
def test_bad_settings_are_named(key, value):
    with pytest.raises(ValueError, match=f"PathConfig.{key}"):
        PathConfig(**{key: value})


def test_hand_written_adam_matches_torch_optim_adam():
    from topography.pathfinder import Adam

    g = torch.Generator().manual_seed(0)
    ours = torch.randn(5, 7, generator=g, dtype=torch.float64).requires_grad_(True)
    theirs = ours.detach().clone().requires_grad_(True)
    mine, reference = Adam(ours, lr=1e-2), torch.optim.Adam([theirs], lr=1e-2)
    for _ in range(25):
        grad = torch.randn(5, 7, generator=g, dtype=torch.float64)
        ours.grad, theirs.grad = grad.clone(), grad.clone()
        mine.step()
        reference.step()
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_full_batch_heights_per_step_equal_a_separate_evaluation():
    net = build_network("fcp")
    x, y = data(30)
    landscape = NetworkLandscape(net, x, y)
    w_a, w_b = endpoints(net)
    steps = 4
    # The path after k steps is the k-step run's last path; each one's height, evaluated
    # on its own, is the long run's k-th recorded height.
    result = find_path(landscape, w_a, w_b, PathConfig(n_fourier=2, points=6, steps=steps, lr=1e-2, keep="last"))
    assert len(result.heights) == steps + 1
    assert result.heights[0] == pytest.approx(result.straight_height, rel=1e-6)
    for k in range(steps + 1):
        short = find_path(landscape, w_a, w_b, PathConfig(n_fourier=2, points=6, steps=k, lr=1e-2, keep="last"))
        points = path_points(w_a, w_b, short.coefficients, short.t).float()
        assert result.heights[k] == pytest.approx(float(landscape.losses(points).max()), rel=1e-5)
    assert result.height == pytest.approx(result.heights[-1], rel=1e-5) and result.kept_step == steps


def test_keep_best_keeps_the_lowest_objective_path_on_the_toy():
    # Strong gradient noise makes the objective go up and down: the kept path is the one
    # of the lowest objective seen, not the last.
    w1, w2 = torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64)
    config = PathConfig(n_fourier=5, points=15, lam=10.0, steps=40, lr=0.05, grad_noise=20.0, seed=1, keep="best")
    best = find_path(toy_landscape(), w1, w2, config)
    last = find_path(toy_landscape(), w1, w2, dataclasses.replace(config, keep="last"))
    assert last.kept_step == 40 and best.kept_step != 40  # this seed's best is not the last
    assert best.kept_step == int(np.argmin(best.objective))
    # The kept path's objective, recomputed from its coefficients, is that lowest value.
    points = path_points(w1, w2, best.coefficients, best.t)
    value = float(toy_landscape().losses(points).sum() + 10.0 * points.diff(dim=0).pow(2).sum())
    assert value == pytest.approx(min(best.objective), rel=1e-9)
    assert best.height == pytest.approx(best.heights[best.kept_step], rel=1e-12)
    assert best.height == pytest.approx(float(toy_landscape().losses(points).max()), rel=1e-12)
    np.testing.assert_array_equal(best.objective, last.objective)  # the same run, another pick


def test_minibatch_runs_keep_the_last_path_and_record_no_heights():
    net = build_network("fcp")
    x, y = data(40)
    w_a, w_b = endpoints(net)
    result = find_path(NetworkLandscape(net, x, y), w_a, w_b,
                       PathConfig(n_fourier=2, points=6, steps=3, lr=1e-2, batch_size=8, keep="best"))
    assert result.heights == [] and result.kept_step == -1
