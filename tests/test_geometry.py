"""Geometry of solution sets on small synthetic sets (no training, no files)."""

import numpy as np
import pandas as pd
import pytest

from topography import geometry

P = 60  # parameters of the synthetic "network"


def clouds(n_a=20, n_b=25, std_a=1.0, std_b=0.1, seed=0):
    """Two Gaussian clouds around 0: A wide (like the paper's L-BFGS sets), B narrow."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, std_a, (n_a, P)).astype(np.float32)
    b = rng.normal(0.0, std_b, (n_b, P)).astype(np.float32)
    return a, b


def project(a, b, kernel="rbf", **kwargs):
    return geometry.kernel_pca("fcp", "lbfgs-train", a, "sgd-test", b, kernel, P, **kwargs)


# --- Table I -------------------------------------------------------------------------


def runs_table():
    rows = [
        # network, optimizer, seed, stop_reason, selected, train_loss, test_loss, test_accuracy
        ("fcp", "sgd", 0, "converged", True, 0.10, 0.30, 0.90),
        ("fcp", "sgd", 1, "converged", True, 0.20, 0.40, 0.80),
        ("fcp", "sgd", 2, "converged", False, 9.00, 9.00, 0.10),  # not selected
        ("fcp", "sgd", 3, "diverged", True, np.nan, np.nan, np.nan),  # diverged
        ("fcp", "lbfgs", 0, "converged", True, 0.01, 0.50, 0.95),
        ("autoencoder", "sgd", 0, "converged", True, 0.02, 0.03, np.nan),
        ("autoencoder", "sgd", 1, "converged", True, 0.04, 0.05, np.nan),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["network", "optimizer", "seed", "stop_reason", "selected", "train_loss", "test_loss", "test_accuracy"],
    )
    frame["n_params"] = frame["network"].map({"fcp": 42200, "autoencoder": 52224})
    return frame


def test_table_one_means_and_stds_over_selected_ok_runs():
    table = geometry.table_one(runs_table()).set_index(["network", "optimizer"])
    sgd = table.loc[("fcp", "sgd")]
    assert sgd["n_runs"] == 2
    assert sgd["train_loss_mean"] == pytest.approx(0.15)
    assert sgd["train_loss_std"] == pytest.approx(np.std([0.1, 0.2], ddof=1))
    assert sgd["test_loss_mean"] == pytest.approx(0.35)
    assert sgd["test_accuracy_mean"] == pytest.approx(0.85)
    assert sgd["n_params"] == 42200
    lbfgs = table.loc[("fcp", "lbfgs")]
    assert lbfgs["n_runs"] == 1 and np.isnan(lbfgs["train_loss_std"])
    auto = table.loc[("autoencoder", "sgd")]
    assert auto["test_loss_mean"] == pytest.approx(0.04)
    assert np.isnan(auto["test_accuracy_mean"])


def test_table_one_without_selected_runs_is_a_clear_error():
    runs = runs_table().assign(selected=False)
    with pytest.raises(ValueError, match="no selected, non-diverged runs"):
        geometry.table_one(runs)


def test_table_one_gives_the_share_of_selected_runs_that_converged():
    runs = runs_table()
    runs.loc[(runs.network == "fcp") & (runs.optimizer == "sgd") & (runs.seed == 1), "stop_reason"] = "budget"
    table = geometry.table_one(runs).set_index(["network", "optimizer"])
    assert table.loc[("fcp", "sgd"), "converged_fraction"] == pytest.approx(0.5)
    assert table.loc[("fcp", "lbfgs"), "converged_fraction"] == 1.0


# --- Table S1 ------------------------------------------------------------------------


def test_weight_stats_equal_numpy():
    a, b = clouds()
    stats = geometry.weight_stats("fcp", {"lbfgs-train": a, "sgd-test": b, "single": a[0]}).set_index("set")
    for name, vectors in (("lbfgs-train", a), ("sgd-test", b)):
        assert stats.loc[name, "n_vectors"] == len(vectors)
        assert stats.loc[name, "mean"] == pytest.approx(np.mean(vectors.astype(np.float64)))
        assert stats.loc[name, "std"] == pytest.approx(np.std(vectors.astype(np.float64)))
    assert stats.loc["single", "n_vectors"] == 1


def test_empty_set_is_named_in_the_error():
    with pytest.raises(ValueError, match="lenet.*sgd-train"):
        geometry.weight_stats("lenet", {"sgd-train": np.zeros((0, P))})


# --- distances -----------------------------------------------------------------------


def test_distances_to_common_origin_by_hand():
    a = np.array([[0.0, 0.0], [2.0, 0.0]])  # centroid (1, 0)
    b = np.array([[-1.0, 4.0]])  # centroid (-1, 4)
    np.testing.assert_allclose(geometry.common_origin(a, b), [0.0, 2.0])
    d = geometry.distances_to_origin("fcp", "lbfgs-train", a, "sgd-test", b)
    assert list(d.columns) == ["network", "comparison", "set", "kind", "index", "distance"]
    assert set(d["comparison"]) == {"lbfgs-train_vs_sgd-test"}
    vectors = d[d["kind"] == "vector"]
    np.testing.assert_allclose(vectors["distance"], [np.sqrt(4), np.sqrt(8), np.sqrt(5)])
    assert list(vectors["index"]) == [0, 1, 0]
    centroids = d[d["kind"] == "centroid"]
    assert list(centroids["set"]) == ["lbfgs-train", "sgd-test"]
    np.testing.assert_allclose(centroids["distance"], [np.sqrt(5)] * 2)  # |c_A - c_B| / 2
    assert centroids["index"].isna().all()


def test_distances_reject_mismatched_sets():
    with pytest.raises(ValueError, match="lstm.*parameters"):
        geometry.distances_to_origin("lstm", "a", np.zeros((2, 3)), "b", np.zeros((2, 4)))


# --- kernel PCA ----------------------------------------------------------------------


def test_kernel_pca_columns_shape_and_determinism():
    a, b = clouds(n_a=7, n_b=12)
    first = project(a, b)
    assert list(first.columns) == ["network", "comparison", "kernel", "set", "index", "pc1", "pc2"]
    assert len(first) == 19
    assert list(first["set"].value_counts().sort_index()) == [7, 12]
    assert first[["pc1", "pc2"]].notna().all().all()
    pd.testing.assert_frame_equal(first, project(a, b))


@pytest.mark.parametrize("kernel", geometry.KERNELS)
def test_every_kernel_runs(kernel):
    a, b = clouds(n_a=5, n_b=6)
    out = project(a, b, kernel=kernel)
    assert set(out["kernel"]) == {kernel} and out["pc1"].notna().all()


def test_rbf_separates_wide_from_narrow_cloud_and_linear_does_not():
    a, b = clouds()
    rbf = geometry.separation(project(a, b, kernel="rbf")).iloc[0]
    assert rbf["auc"] > 0.99
    assert rbf["silhouette"] > 0.5
    assert (rbf["n_a"], rbf["n_b"]) == (20, 25)
    # Concentric clouds have no linear direction between them: PCA's PC1 splits A, not A from B.
    assert geometry.separation(project(a, b, kernel="linear")).iloc[0]["auc"] < 0.75
    # PC1 is oriented so that set A has the larger mean.
    proj = project(a, b)
    assert proj.loc[proj["set"] == "lbfgs-train", "pc1"].mean() > proj.loc[proj["set"] == "sgd-test", "pc1"].mean()


def test_identical_distributions_are_not_separated():
    a, b = clouds(n_a=40, n_b=40, std_a=0.5, std_b=0.5)
    assert geometry.separation(project(a, b)).iloc[0]["auc"] < 0.75


def test_sets_of_one_vector_give_what_is_possible():
    a, b = clouds(n_a=1, n_b=1)
    out = project(a, b)
    assert out["pc1"].notna().all() and out["pc2"].isna().all()
    sep = geometry.separation(out).iloc[0]
    assert sep["auc"] == 1.0 and np.isnan(sep["silhouette"])  # silhouette needs 3 points

    a, b = clouds(n_a=1, n_b=6)
    sep = geometry.separation(project(a, b)).iloc[0]
    assert (sep["n_a"], sep["n_b"]) == (1, 6) and np.isfinite(sep["silhouette"])


def test_more_components_than_possible_are_nan():
    a, b = clouds(n_a=2, n_b=2)
    out = project(a, b, n_components=5)
    assert out[["pc1", "pc2", "pc3"]].notna().all().all()
    assert out[["pc4", "pc5"]].isna().all().all()


def test_kernel_pca_errors_name_the_problem():
    a, b = clouds(n_a=3, n_b=3)
    with pytest.raises(ValueError, match="unknown kernel 'cosine'"):
        project(a, b, kernel="cosine")
    with pytest.raises(ValueError, match="fcp.*sgd-test"):
        project(a, b[:0])
    with pytest.raises(ValueError, match="n_params"):
        geometry.kernel_pca("fcp", "a", a, "b", b, "rbf", n_params=P + 1)


def test_rbf_gamma_follows_the_paper():
    assert geometry.kernel_params("rbf", 42200) == {"kernel": "rbf", "gamma": 1 / 42200}


def test_separation_of_empty_projection_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        geometry.separation(pd.DataFrame(columns=["network", "comparison", "kernel", "set", "pc1"]))
