"""The 2D toy landscape of paper figure 3 and the paths on it."""

import math

import numpy as np
import pytest
import torch

from topography.landscape import FunctionLandscape
from topography.pathfinder import path_points
from topography.figures.toy import plot_toy
from topography.toy import C1, C2, D1, D2, OFFSET, W1, W2, run_toy, toy_landscape, toy_loss


def f(x, y):
    """The paper's formula, written out independently."""
    g = lambda c, a: math.exp(-a * ((x - c[0]) ** 2 + (y - c[1]) ** 2))  # noqa: E731
    return -g(C1, 3) - g(C2, 3) + g(D1, 15) + g(D2, 15) + OFFSET


def descend(start, steps=2000, lr=0.02):
    """Plain gradient descent on the toy landscape: where a minimum's basin leads."""
    landscape, w = toy_landscape(), torch.tensor(start, dtype=torch.float64)
    for _ in range(steps):
        w = w - lr * landscape.loss_and_grad(w)[1]
    return w


def test_values_match_the_formula():
    landscape = toy_landscape()
    for point in [(0.0, 0.0), (-0.3, 0.7), W1, W2]:
        assert landscape.loss(torch.tensor(point, dtype=torch.float64)) == pytest.approx(f(*point), abs=1e-12)
    batch = torch.tensor([W1, W2, D1], dtype=torch.float64)
    np.testing.assert_allclose(landscape.losses(batch).numpy(), [f(*W1), f(*W2), f(*D1)], atol=1e-12)
    assert float(toy_loss(torch.tensor(W1))) == pytest.approx(f(*W1), abs=1e-6)  # float32 works too


def test_minima_lie_near_c1_and_c2_and_the_endpoints_are_low():
    for centre in (C1, C2):
        assert np.linalg.norm(descend(centre).numpy() - np.array(centre)) < 0.2
    # C is chosen so that the lowest value is about zero.
    x, y = np.meshgrid(np.linspace(-1, 1, 201), np.linspace(-1, 1, 201))
    grid = toy_landscape().losses(torch.tensor(np.stack([x, y], -1).reshape(-1, 2)))
    assert -1e-3 < float(grid.min()) < 1e-3
    assert f(*W1) < 0.2 and f(*W2) < 0.05
    assert f(*D1) > 0.5 and f(*D2) > 0.5  # the bumps


def test_rule_gives_heights_for_the_straight_line_and_each_lambda():
    heights, profiles = run_toy(lams=(10, 100, 1000), points=20, steps=30, lr=0.01, grad_noise=1.0, seed=0)
    assert list(heights["path"]) == ["straight", "lambda=10", "lambda=100", "lambda=1000"]
    assert list(heights.columns) == ["path", "lam", "height", "length", "objective"]
    assert math.isnan(heights["lam"][0]) and list(heights["lam"][1:]) == [10, 100, 1000]
    straight = heights.set_index("path").loc["straight"]
    assert straight["height"] == pytest.approx(profiles.query("path == 'straight'")["loss"].max())
    assert straight["length"] == pytest.approx(math.dist(W1, W2))
    assert heights["height"][1:].min() < straight["height"]
    assert len(profiles) == 4 * 20
    for _, one in profiles.groupby("path"):
        assert tuple(one[["x", "y"]].iloc[0]) == W1 and tuple(one[["x", "y"]].iloc[-1]) == W2
    again, _ = run_toy(lams=(10, 100, 1000), points=20, steps=30, seed=0)
    assert again.equals(heights)  # seeded, noise included


def test_figure_is_written(tmp_path):
    _, profiles = run_toy(lams=(10, 1000), points=15, steps=10)
    png, pdf = tmp_path / "toy.png", tmp_path / "toy.pdf"
    plot_toy(profiles, png, pdf)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="no toy paths"):
        plot_toy(profiles.iloc[:0], png)


def test_defaults_are_the_authors_toy_run():
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(run_toy).parameters.items()}
    assert defaults["objective"] == "squared" and defaults["n_fourier"] == 15
    assert defaults["points"] == 101 and defaults["steps"] == 300 and defaults["keep"] == "best"
    assert defaults["lr"] == 0.01 and defaults["grad_noise"] == 1.0


def test_squared_objective_minimises_f_squared_but_heights_are_of_f():
    from topography.pathfinder import PathConfig, find_path
    from topography.toy import squared_toy_loss

    w1, w2 = torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64)
    kwargs = dict(lams=(100,), points=25, steps=40, lr=0.01, grad_noise=1.0, seed=0, n_fourier=15, keep="best")
    heights, profiles = run_toy(objective="squared", **kwargs)
    # The same run by hand on f^2: its path, evaluated on f, gives the table's height.
    config = PathConfig(n_fourier=15, points=25, lam=100, steps=40, lr=0.01, grad_noise=1.0, seed=0, keep="best")
    by_hand = find_path(FunctionLandscape(squared_toy_loss, 2), w1, w2, config)
    on_f = toy_landscape().losses(path_points(w1, w2, by_hand.coefficients, torch.as_tensor(by_hand.t)))
    assert heights.set_index("path").loc["lambda=100", "height"] == pytest.approx(float(on_f.max()), abs=1e-12)
    assert by_hand.height == pytest.approx(float(on_f.pow(2).max()), abs=1e-12)  # the f^2 landscape's own
    linear, _ = run_toy(objective="linear", **kwargs)
    assert linear["height"][1] != pytest.approx(heights["height"][1], abs=1e-9)  # a different objective
    assert set(heights["objective"]) == {"squared"} and set(linear["objective"]) == {"linear"}
    with pytest.raises(ValueError, match="toy objective"):
        run_toy(objective="cubic", **kwargs)
