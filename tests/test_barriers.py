"""Pairs, the barrier table and the barrier histograms (paper figures 4 and S2)."""

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from topography.barriers import BARRIER_COLUMNS, collect_barriers, collect_profiles, draw_pairs, plot_barriers

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
                             t=[0.0, 0.5, 1.0], losses=[0.1, height, 0.2], straight_losses=[0.1, 2 * height, 0.2])
                    )
    return out[::-1]


def assert_images(png, pdf):
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 100 and image.shape[1] > 100


def test_collect_gives_a_tidy_table_in_the_paper_order():
    table = collect_barriers(records())
    assert list(table.columns) == list(BARRIER_COLUMNS)
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


def test_draw_pairs_is_seeded_distinct_and_ordered():
    pairs = draw_pairs(10, 20, seed=3)
    assert pairs == draw_pairs(10, 20, seed=3) != draw_pairs(10, 20, seed=4)
    assert len(pairs) == len(set(pairs)) == 20
    assert all(0 <= i < j < 10 for i, j in pairs)
    assert draw_pairs(10, 5, seed=3) == pairs[:5]  # more pairs keep the earlier ones


def test_draw_pairs_returns_all_pairs_when_fewer_exist():
    pairs = draw_pairs(4, 100, seed=0)
    assert sorted(pairs) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert draw_pairs(1, 5, seed=0) == [] and draw_pairs(5, 0, seed=0) == []
    with pytest.raises(ValueError):
        draw_pairs(5, -1, seed=0)
