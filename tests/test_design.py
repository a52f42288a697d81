"""The experiment's names (topography.design): sets, comparisons, figure maps, pairs."""

import subprocess
import sys

import pytest

from topography import design


def test_design_imports_only_the_standard_library():
    code = (
        "import sys; import topography.design; "
        "print(sorted(m for m in ('numpy', 'torch', 'pandas', 'matplotlib', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sets_in_the_papers_order():
    assert design.SETS == ("lbfgs-train", "lbfgs-test", "sgd-train", "sgd-test")
    assert design.sets_of(["sgd"]) == ["sgd-train", "sgd-test"]
    assert design.landscape_sets("test", design.SETS) == ["lbfgs-test", "sgd-test"]
    with pytest.raises(ValueError, match="landscape"):
        design.landscape_sets("valid", design.SETS)


def test_figures_name_comparisons_that_exist():
    names = {design.comparison_name(a, b) for a, b in design.COMPARISONS}
    assert set(design.DISTANCE_FIGURES.values()) == set(design.KERNEL_PCA_FIGURES.values()) == names
    assert set(design.BARRIER_FIGURES.values()) == set(design.LANDSCAPES)
    assert design.available_comparisons(["lbfgs-test", "sgd-test"]) == [("lbfgs-test", "sgd-test")]


def test_draw_pairs_is_seeded_distinct_and_ordered():
    pairs = design.draw_pairs(10, 20, seed=3)
    assert pairs == design.draw_pairs(10, 20, seed=3) != design.draw_pairs(10, 20, seed=4)
    assert len(pairs) == len(set(pairs)) == 20
    assert all(0 <= i < j < 10 for i, j in pairs)
    assert design.draw_pairs(10, 5, seed=3) == pairs[:5]  # more pairs keep the earlier ones
    # a larger set keeps the order of the pairs it shares with a smaller one
    larger = [p for p in design.draw_pairs(12, 66, seed=3) if max(p) < 10]
    assert larger[:20] == pairs


def test_draw_pairs_returns_all_pairs_when_fewer_exist():
    pairs = design.draw_pairs(4, 100, seed=0)
    assert sorted(pairs) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert design.draw_pairs(1, 5, seed=0) == [] and design.draw_pairs(5, 0, seed=0) == []
    with pytest.raises(ValueError):
        design.draw_pairs(5, -1, seed=0)


def test_draw_pairs_is_stable_across_versions():
    # A hash, not a library's RNG: these pairs are the same on every platform and version.
    assert design.draw_pairs(5, 3, seed=0) == design.draw_pairs(5, 3, seed=0)
    assert design.draw_pairs(5, 3, seed=0) == [(1, 3), (1, 2), (3, 4)]


def test_pairs_derive_from_names_not_positions():
    # The pairs of (fcp, lbfgs-train) do not depend on which other networks or sets exist.
    a = design.pairs_of(0, "fcp", "lbfgs-train", 12, 10)
    assert a == design.pairs_of(0, "fcp", "lbfgs-train", 12, 10)
    assert a != design.pairs_of(0, "lenet", "lbfgs-train", 12, 10)
    assert a != design.pairs_of(0, "fcp", "sgd-train", 12, 10)
    assert a != design.pairs_of(1, "fcp", "lbfgs-train", 12, 10)
