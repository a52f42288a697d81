"""The barrier table and the barrier histograms (paper figures 4 and S2)."""

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from topography.design import draw_pairs
from topography.figures.barriers import plot_barrier_budget, plot_barriers
from topography.tables import (
    BARRIER_COLUMNS,
    HEIGHT_COLUMNS,
    collect_barriers,
    collect_heights,
    collect_profiles,
    heights_converged,
)

SETS_ON = {"train": ["sgd-test", "lbfgs-train", "sgd-train", "lbfgs-test"], "test": ["lbfgs-test", "sgd-test"]}


def records(networks=("lstm", "fcp"), pairs=5, seed=0):
    """Per-pair result dicts as the path jobs write them, in a scrambled order."""
    rng = np.random.default_rng(seed)
    out = []
    for network in networks:
        for landscape, sets in SETS_ON.items():
            for set_name in sets:
                for k, (i, j) in enumerate(draw_pairs(6, pairs, seed=len(out))):
                    height = float(rng.gamma(2.0, 0.1 if set_name.startswith("sgd") else 0.4))
                    out.append(
                        dict(network=network, landscape=landscape, set=set_name, pair=k, i=i, j=j,
                             height=height, straight_height=2 * height, length=3.0, seconds=0.5,
                             t=[0.0, 0.5, 1.0], losses=[0.1, height, 0.2], straight_losses=[0.1, 2 * height, 0.2],
                             heights=list(height * (1 + np.exp(-np.arange(9)))), kept_step=8)
                    )
    return out[::-1]


def assert_images(png, pdf):
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 100 and image.shape[1] > 100


def test_collect_gives_a_tidy_table_in_the_paper_order():
    table = collect_barriers(records())
    assert list(table.columns) == [*BARRIER_COLUMNS, "converged", "kept_step"]
    assert len(table) == 2 * (4 + 2) * 5
    assert list(dict.fromkeys(table["network"])) == ["fcp", "lstm"]
    first = table[(table["network"] == "fcp") & (table["landscape"] == "train")]
    assert list(dict.fromkeys(first["set"])) == ["lbfgs-train", "lbfgs-test", "sgd-train", "sgd-test"]
    assert list(first["pair"][:5]) == [0, 1, 2, 3, 4]
    profiles = collect_profiles(records())
    assert list(profiles.columns) == ["network", "landscape", "set", "pair", "t", "loss", "straight_loss"]
    assert len(profiles) == 3 * len(table)


def test_collect_names_a_missing_key():
    bad = records()[:1]
    del bad[0]["height"]
    with pytest.raises(ValueError, match="lacks height"):
        collect_barriers(bad)


@pytest.mark.parametrize("landscape", ["train", "test"])
def test_histograms_are_written(tmp_path, landscape):
    png, pdf = tmp_path / "b.png", tmp_path / "b.pdf"
    plot_barriers(collect_barriers(records()), landscape, png, pdf)
    assert_images(png, pdf)


def test_missing_networks_and_sets_are_skipped(tmp_path):
    table = collect_barriers(records(networks=("autoencoder",)))
    table = table[table["set"] != "lbfgs-test"]
    png, pdf = tmp_path / "b.png", tmp_path / "b.pdf"
    plot_barriers(table, "train", png, pdf)
    assert_images(png, pdf)
    # Heights spanning decades, a single path: still drawn.
    one = pd.DataFrame([dict(network="fcp", landscape="train", set="sgd-test", height=1e-4),
                        dict(network="fcp", landscape="train", set="lbfgs-train", height=3.0)])
    plot_barriers(one, "train", png)
    plot_barriers(one.iloc[:1], "train", png)


def test_empty_tables_give_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no path heights on the 'train' landscape"):
        plot_barriers(collect_barriers([]), "train", tmp_path / "b.png")
    only_train = collect_barriers(records())
    with pytest.raises(ValueError, match="'test' landscape"):
        plot_barriers(only_train[only_train["landscape"] == "train"], "test", tmp_path / "b.png")
    with pytest.raises(ValueError, match="lacks the column"):
        plot_barriers(pd.DataFrame(), "train", tmp_path / "b.png")
    assert not (tmp_path / "b.png").exists()


def test_heights_converged_reads_the_last_quarter_of_the_steps():
    settled = [5.0, 3.0, 2.0, 1.5, 1.2, 1.1, 1.01, 1.0, 1.0]  # 8 steps: over the last 2, within 1%
    assert heights_converged(settled, tol=0.05) is True
    assert heights_converged(settled, tol=0.001) is False  # 1.01 is 1% above the final 1.0
    falling = [8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.5, 1.0]
    assert heights_converged(falling, tol=0.05) is False
    assert heights_converged([], tol=0.05) is None  # mini-batch paths record no heights
    assert heights_converged([1.0, 1.0, 1.0], tol=0.05) is None  # too few steps to judge


def test_table_flags_converged_paths_and_the_heights_table_is_tidy():
    recs = records(networks=("fcp",), pairs=2)
    recs[0]["heights"] = [4.0, 3.0, 2.0, 1.0, 0.5]  # still falling
    table = collect_barriers(recs, converged_tol=0.05)
    row = table[(table.landscape == recs[0]["landscape"]) & (table.set == recs[0]["set"]) & (table.pair == recs[0]["pair"])]
    assert row["converged"].tolist() == [False]
    assert table["converged"].sum() == len(table) - 1  # the others settle (e^-6 of the height)
    heights = collect_heights(recs)
    assert list(heights.columns) == list(HEIGHT_COLUMNS)
    assert len(heights) == sum(len(r["heights"]) for r in recs)
    assert heights.groupby(["landscape", "set", "pair"])["step"].min().eq(0).all()


def test_barrier_budget_figure_is_written(tmp_path):
    png, pdf = tmp_path / "budget.png", tmp_path / "budget.pdf"
    plot_barrier_budget(collect_heights(records()), png, pdf)
    assert_images(png, pdf)
    with pytest.raises(ValueError, match="no per-step path heights"):
        plot_barrier_budget(collect_heights([]), png)


@pytest.mark.parametrize("landscape", ["train", "test"])
def test_histograms_fill_one_area_per_set_in_its_colour(monkeypatch, landscape):
    from matplotlib.colors import to_rgb

    from topography.figures import barriers
    from topography.figures.style import SET_COLORS

    drawn = []
    monkeypatch.setattr(barriers, "save_figure", lambda fig, *paths: drawn.append(fig))
    table = collect_barriers(records())
    plot_barriers(table, landscape, "unused.png")
    (fig,) = drawn
    panels = [ax for ax in fig.axes if ax.collections]
    assert [ax.get_title() for ax in panels] == ["FCP", "LSTM"]
    for ax in panels:
        filled = {tuple(np.round(c.get_facecolor()[0][:3], 6)) for c in ax.collections}
        assert filled == {tuple(np.round(to_rgb(SET_COLORS[s]), 6)) for s in SETS_ON[landscape]}
    barriers.plt.close(fig)
