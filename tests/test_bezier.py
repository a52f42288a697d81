"""Quadratic Bezier curves: the ends, the gradient of the bend point, the toy landscape, a
network landscape, and the table and figure beside the Fourier paths."""

import numpy as np
import pandas as pd
import pytest
import torch

from topography.bezier import BezierConfig, BezierPath, find_bezier_path
from topography.tables import BEZIER_COLUMNS, bezier_table
from topography.figures.crosscheck import plot_bezier_vs_fourier
from topography.landscape import FunctionLandscape, NetworkLandscape
from topography.models import build_network
from topography.toy import D1, W1, W2, toy_landscape


def test_the_ends_are_fixed_exactly_for_any_bend_point():
    generator = torch.Generator().manual_seed(0)
    w_a, w_b = torch.randn(2, 37, generator=generator)
    path = BezierPath(w_a, w_b)
    with torch.no_grad():
        path.bend.copy_(100 * torch.randn(37, generator=generator))
        points = path(torch.linspace(0, 1, 50, dtype=torch.float64))
    assert torch.equal(points[0], w_a) and torch.equal(points[-1], w_b)
    assert [name for name, _ in path.named_parameters()] == ["bend"]
    assert {name for name, _ in path.named_buffers()} == {"w_a", "w_b"}


def test_training_leaves_the_ends_where_they_were():
    landscape = toy_landscape()
    w_a, w_b = torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64)
    result = find_bezier_path(landscape, w_a, w_b, BezierConfig(steps=30, lr=0.01, points=11))
    assert result.losses[0] == landscape.loss(w_a) and result.losses[-1] == landscape.loss(w_b)
    assert result.losses[0] == result.straight_losses[0] and result.losses[-1] == result.straight_losses[-1]


def test_the_midpoint_bend_is_the_straight_line():
    w_a, w_b = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    torch.testing.assert_close(BezierPath(w_a, w_b)(t), t[:, None] * w_b)


def test_one_adam_step_follows_the_gradient_of_the_mean_loss():
    """The first Adam step moves each coordinate by lr against the sign of its gradient,
    the gradient being mean_s 2 t_s (1 - t_s) grad loss(w(t_s)) at the drawn t_s."""
    matrix = torch.diag(torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64))
    landscape = FunctionLandscape(lambda w: 0.5 * w @ matrix @ w + w.sum(), 3)
    w_a, w_b = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64), torch.tensor([-1.0, 1.0, 2.0], dtype=torch.float64)
    config = BezierConfig(steps=1, lr=0.01, samples_per_step=3, points=5, seed=4)
    result = find_bezier_path(landscape, w_a, w_b, config)
    t = torch.rand(3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    points = BezierPath(w_a, w_b)(t).detach()
    gradient = ((2 * t * (1 - t))[:, None] * (points @ matrix + 1)).mean(dim=0)
    np.testing.assert_allclose(result.bend, ((w_a + w_b) / 2 - config.lr * torch.sign(gradient)).numpy(), rtol=1e-6)
    assert result.objective[0] == pytest.approx(float(landscape.losses(points).mean()))


def test_on_the_toy_landscape_the_curve_goes_around_the_bump_below_the_straight_line():
    """The straight line from w1 to w2 passes 0.05 from the bump at d1; the trained curve
    passes it at a distance and its highest point is lower, for several seeds."""
    landscape = toy_landscape()
    w1, w2 = torch.tensor(W1, dtype=torch.float64), torch.tensor(W2, dtype=torch.float64)
    straight = np.outer(1 - np.linspace(0, 1, 101), W1) + np.outer(np.linspace(0, 1, 101), W2)
    straight_gap = np.linalg.norm(straight - D1, axis=1).min()
    for seed in range(3):
        config = BezierConfig(steps=100, lr=0.003, samples_per_step=8, points=101, seed=seed)
        result = find_bezier_path(landscape, w1, w2, config)
        path = BezierPath(w1, w2)
        with torch.no_grad():
            path.bend.copy_(torch.as_tensor(result.bend))
            curve = path(torch.as_tensor(result.t)).numpy()
        assert np.linalg.norm(curve - D1, axis=1).min() > 2 * straight_gap
        assert result.height < result.straight_height - 0.1, (result.height, result.straight_height)


def test_a_network_curve_has_a_height_and_its_bend_moved():
    net = build_network("fcp")
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 784, generator=generator), torch.randint(0, 10, (40,), generator=generator)
    landscape = NetworkLandscape(net, x, y, chunk_size=16)
    w_a, w_b = net.init_vector(1), net.init_vector(2)
    result = find_bezier_path(landscape, w_a, w_b, BezierConfig(steps=3, lr=1e-3, points=7, chunk_size=10))
    assert len(result.losses) == 7 and result.height == max(result.losses)
    assert result.straight_height == pytest.approx(max(landscape.loss(w) for w in BezierPath(w_a, w_b)(
        torch.linspace(0, 1, 7, dtype=torch.float64)).detach()), rel=1e-5)
    assert not np.allclose(result.bend, ((w_a + w_b) / 2).numpy())
    assert len(result.objective) == 3 and set(result.to_dict()) >= {"height", "straight_height", "losses", "t"}


def test_bezier_config_rejects_bad_values():
    with pytest.raises(ValueError, match="samples_per_step"):
        BezierConfig(samples_per_step=0)
    with pytest.raises(ValueError, match="lr"):
        BezierConfig(lr=0)


def records(network="fcp", set_name="sgd-train", pairs=((0, 1), (1, 3)), height=1.0):
    t = [0.0, 0.5, 1.0]
    return [dict(network=network, landscape="train", set=set_name, pair=k, i=i, j=j, t=t, losses=[0.1, height, 0.2],
                 straight_losses=[0.1, 2.0, 0.2], height=height + k, straight_height=2.0 + k, length=3.0,
                 straight_length=2.5, seconds=1.0) for k, (i, j) in enumerate(pairs)]


def test_the_bezier_table_sets_both_methods_side_by_side():
    bezier = [{"records": records(height=0.5) + records(set_name="lbfgs-train", height=0.7)}]
    fourier = records(height=0.6) + records(set_name="lbfgs-train", height=0.9)
    heights, profiles = bezier_table(bezier, fourier)
    assert list(heights.columns) == list(BEZIER_COLUMNS)
    assert list(heights.set) == ["lbfgs-train", "lbfgs-train", "sgd-train", "sgd-train"]
    np.testing.assert_allclose(heights.bezier_height, [0.7, 1.7, 0.5, 1.5])
    np.testing.assert_allclose(heights.fourier_height, [0.9, 1.9, 0.6, 1.6])
    assert len(profiles) == 4 * 3


def test_the_bezier_table_refuses_a_pair_without_its_fourier_path():
    with pytest.raises(ValueError, match="no Fourier path for the Bezier pair fcp/train/sgd-train/1"):
        bezier_table([{"records": records()}], records(pairs=((0, 1),)))
    with pytest.raises(ValueError, match="joins vectors"):
        bezier_table([{"records": records()}], records(pairs=((0, 1), (2, 3))))


def test_the_bezier_figure_is_written(tmp_path):
    heights, _ = bezier_table([{"records": records(height=0.5) + records(network="lstm", set_name="sgd-test")}],
                              records(height=0.6) + records(network="lstm", set_name="sgd-test"))
    plot_bezier_vs_fourier(heights, tmp_path / "b.png", tmp_path / "b.pdf")
    assert (tmp_path / "b.png").stat().st_size > 5_000 and (tmp_path / "b.pdf").stat().st_size > 5_000
    with pytest.raises(ValueError, match="fourier_height"):
        plot_bezier_vs_fourier(pd.DataFrame(heights).drop(columns="fourier_height"), tmp_path / "c.png")


def test_the_bezier_figure_shows_every_pair_in_its_sets_colour(tmp_path, monkeypatch):
    from matplotlib.colors import to_rgb

    from topography.figures import crosscheck as crosscheck_figures
    from topography.figures.style import SET_COLORS

    drawn = []
    monkeypatch.setattr(crosscheck_figures, "save_figure", lambda fig, *paths: drawn.append(fig))
    test_landscape = [dict(r, landscape="test") for r in records(set_name="sgd-test", height=0.2)]
    heights, _ = bezier_table([{"records": records(height=0.5) + test_landscape}],
                              records(height=0.6) + [dict(r, landscape="test") for r in records(set_name="sgd-test")])
    plot_bezier_vs_fourier(heights, "unused.png")
    (fig,) = drawn
    for ax in fig.axes[:2]:
        set_name = "sgd-train" if "SGD-train" in ax.get_title() else "sgd-test"
        rows = heights[heights["set"] == set_name]
        straight, bezier = ax.collections
        np.testing.assert_allclose(straight.get_offsets(), rows[["fourier_height", "straight_height"]])
        np.testing.assert_allclose(bezier.get_offsets(), rows[["fourier_height", "bezier_height"]])
        assert {tuple(c[:3]) for c in bezier.get_facecolors()} == {to_rgb(SET_COLORS[set_name])}
    crosscheck_figures.plt.close(fig)
