"""Every figure is written as a valid PNG and PDF from small synthetic tables."""

import matplotlib.colors
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from topography import geometry
from topography.figures import plots

P = 30


def assert_images(png, pdf):
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 50 and image.shape[1] > 50


def history_and_runs(networks=("fcp", "autoencoder")):
    """Two runs per network and optimizer; losses fall, test loss turns up again."""
    epochs = np.arange(11)
    rows, runs = [], []
    for network in networks:
        for optimizer, speed in (("lbfgs", 1.0), ("sgd", 0.3)):
            for seed in (0, 1):
                train = 2.0 * np.exp(-speed * (seed + 1) * epochs)
                test = train + 0.01 * (epochs - 4) ** 2
                for split, loss in (("train", train), ("test", test)):
                    rows.append(
                        pd.DataFrame(
                            dict(network=network, optimizer=optimizer, seed=seed, epoch=epochs, split=split, loss=loss)
                        )
                    )
                run = dict(network=network, optimizer=optimizer, seed=seed, train_loss=train.min())
                runs.append(dict(run, stop_reason="converged", selected=True))
    return pd.concat(rows, ignore_index=True), pd.DataFrame(runs)


def sets(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1.0, (8, P)), rng.normal(0, 0.1, (6, P))


def distances(networks=("fcp", "lenet", "lstm")):
    frames = []
    for i, network in enumerate(networks):
        a, b = sets(i)
        frames.append(geometry.distances_to_origin(network, "lbfgs-train", a, "sgd-test", b))
    return pd.concat(frames, ignore_index=True)


def projection(networks=("fcp", "lstm"), kernels=geometry.KERNELS):
    frames = [
        geometry.kernel_pca(n, "lbfgs-train", sets(i)[0], "sgd-test", sets(i)[1], k, P)
        for i, n in enumerate(networks)
        for k in kernels
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def out(tmp_path):
    return tmp_path / "fig.png", tmp_path / "fig.pdf"


def test_representative_run_is_the_lower_median():
    runs = pd.DataFrame(
        dict(
            network="fcp",
            optimizer="sgd",
            seed=[0, 1, 2, 3, 4],
            stop_reason=["converged"] * 4 + ["diverged"],
            selected=[True, True, True, False, True],  # seed 3 unselected, seed 4 diverged
            train_loss=[0.3, 0.1, 0.2, 0.15, np.nan],
        )
    )
    assert list(geometry.representative_runs(runs)["seed"]) == [2]  # among 0.1, 0.2, 0.3
    assert list(geometry.representative_runs(runs[runs["seed"] != 0])["seed"]) == [1]  # lower of 0.1, 0.2


def test_loss_curves(out):
    history, runs = history_and_runs()
    plots.plot_loss_curves(history, *out, runs=runs)
    assert_images(*out)


def test_loss_curves_need_one_run_per_panel(out):
    history, _ = history_and_runs()
    with pytest.raises(ValueError, match="several runs"):
        plots.plot_loss_curves(history, *out)


def test_loss_curves_skip_a_missing_optimizer(out):
    history, runs = history_and_runs(("fcp", "lstm"))
    no_lstm_lbfgs = (history["network"] != "lstm") | (history["optimizer"] != "lbfgs")
    plots.plot_loss_curves(history[no_lstm_lbfgs], *out, runs=runs)
    assert_images(*out)


def test_distances(out):
    plots.plot_distances(distances(), *out)
    assert_images(*out)


def test_kernel_pca_one_network(out):
    plots.plot_kernel_pca(projection(("lenet",)), *out, kernel="rbf")
    assert_images(*out)


def test_kernel_pca_with_undefined_pc2(out):
    a, b = sets()
    proj = geometry.kernel_pca("fcp", "lbfgs-test", a[:1], "sgd-test", b[:1], "rbf", P)
    plots.plot_kernel_pca(proj, *out)
    assert_images(*out)


def test_kernel_comparison(out):
    proj = projection()
    proj = proj[~((proj["network"] == "lstm") & (proj["kernel"] == "poly"))]  # a missing panel
    plots.plot_kernel_comparison(proj, geometry.separation(proj), *out)
    assert_images(*out)


@pytest.mark.parametrize(
    "call",
    [
        lambda paths: plots.plot_loss_curves(pd.DataFrame(columns=plots.HISTORY_COLUMNS), *paths),
        lambda paths: plots.plot_distances(pd.DataFrame(), *paths),
        lambda paths: plots.plot_kernel_pca(pd.DataFrame(), *paths),
        lambda paths: plots.plot_kernel_comparison(projection(("fcp",), ("rbf",)), pd.DataFrame(), *paths),
    ],
)
def test_empty_input_is_a_clear_error(call, out):
    with pytest.raises(ValueError, match="empty"):
        call(out)
    assert not out[0].exists()


def test_wrong_choice_names_what_exists(out):
    with pytest.raises(ValueError, match="no kernel 'poly'.*rbf"):
        plots.plot_kernel_pca(projection(("fcp",), ("rbf",)), *out, kernel="poly")
    two = pd.concat([distances(("fcp",)), distances(("fcp",)).assign(comparison="lbfgs-test_vs_sgd-test")])
    with pytest.raises(ValueError, match="comparison="):
        plots.plot_distances(two, *out)
    with pytest.raises(ValueError, match="lacks the column"):
        plots.plot_distances(distances().drop(columns="kind"), *out)


# --- what the figures show, read back from the matplotlib artists before they are saved


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions would save (they are kept open, not written)."""
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, *paths: figures.append(fig))
    yield figures
    for fig in figures:
        plots.plt.close(fig)


def rgb(color):
    return tuple(np.round(matplotlib.colors.to_rgb(color), 6))


def panel_of(fig, network):
    label = plots.NETWORK_LABELS[network]
    (ax,) = [ax for ax in fig.axes if ax.get_title() == label]
    return ax


def test_distance_histograms_count_every_vector_of_each_set(drawn, out):
    table = distances()
    plots.plot_distances(table, *out)
    (fig,) = drawn
    for network, rows in table[table["kind"] == "vector"].groupby("network"):
        ax = panel_of(fig, network)
        counts = {}
        for bars in ax.containers:  # one BarContainer per set
            colours = {rgb(bar.get_facecolor()) for bar in bars}
            assert len(colours) == 1
            counts[colours.pop()] = sum(bar.get_height() for bar in bars)
        expected = {rgb(plots.SET_COLORS[s]): len(v) for s, v in rows.groupby("set")}
        assert counts == expected
        # the centroids' distance, dashed
        centroid = table.loc[(table["network"] == network) & (table["kind"] == "centroid"), "distance"].iloc[0]
        assert any(np.isclose(line.get_xdata()[0], centroid) for line in ax.lines if line.get_linestyle() == "--")


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_kernel_pca_colours_every_point_by_its_set(drawn, out, kernel):
    table = projection(("fcp", "lstm"))
    plots.plot_kernel_pca(table, *out, kernel=kernel)
    (fig,) = drawn
    for network, rows in table[table["kernel"] == kernel].groupby("network"):
        (points,) = panel_of(fig, network).collections
        np.testing.assert_allclose(points.get_offsets(), rows[["pc1", "pc2"]].fillna(0.0).to_numpy())
        colours = [rgb(c[:3]) for c in points.get_facecolors()]
        assert colours == [rgb(plots.SET_COLORS[s]) for s in rows["set"]]


def test_kernel_comparison_has_a_panel_per_network_and_kernel(drawn, out):
    table = projection(("fcp", "lstm"))
    plots.plot_kernel_comparison(table, geometry.separation(table), *out)
    (fig,) = drawn
    scatters = [ax for ax in fig.axes if ax.collections]
    assert len(scatters) == 2 * len(geometry.KERNELS)
    for ax in scatters:
        assert len(ax.collections[0].get_offsets()) == 8 + 6  # both sets' vectors


def test_loss_curves_colour_each_split_as_its_set(drawn, out):
    history, runs = history_and_runs(("fcp",))
    plots.plot_loss_curves(history, *out, runs=runs)
    (fig,) = drawn
    for ax in fig.axes:
        optimizer = "lbfgs" if "L-BFGS" in ax.get_title() else "sgd"
        curves = [line for line in ax.lines if line.get_linestyle() == "-"]
        assert {rgb(line.get_color()) for line in curves} == {
            rgb(plots.SET_COLORS[f"{optimizer}-{split}"]) for split in ("train", "test")
        }
        assert all(len(line.get_xdata()) == 11 for line in curves)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[0] == "training loss" and labels[2] == "test loss"


def test_redrawing_a_seaborn_figure_gives_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        plots.plot_distances(distances(), tmp_path / f"d{name}.pdf", tmp_path / f"d{name}.png")
        plots.plot_kernel_pca(projection(), tmp_path / f"k{name}.pdf", tmp_path / f"k{name}.png")
    for stem in ("d", "k"):
        for ext in ("pdf", "png"):
            assert (tmp_path / f"{stem}a.{ext}").read_bytes() == (tmp_path / f"{stem}b.{ext}").read_bytes()
