"""Geometry of the solution sets: loss summaries, spread, distances and kernel PCA.

Everything here is a pure function of pandas tables and numpy arrays and returns a tidy
DataFrame (one row per observation), so the geometry stage writes CSVs and the figures
read them back without recomputing anything.

A solution set is a float array [K, P]: K flat weight vectors of a network with P
parameters. Two sets are compared as an ordered pair (A, B); the pair is named
``"{name_a}_vs_{name_b}"`` (e.g. ``"lbfgs-train_vs_sgd-test"``) in the ``comparison``
column. Computations run in float64: the sets are stored as float32, and sums over tens of
thousands of components lose digits in float32.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from sklearn.decomposition import KernelPCA
from sklearn.metrics import roc_auc_score, silhouette_score

from .design import comparison_name

KERNELS = ("linear", "poly", "sigmoid", "rbf")
# scikit-learn's own defaults for the kernels' other constants: k = (gamma <x, y> + 1)^3 for
# poly, tanh(gamma <x, y> + 1) for sigmoid. gamma is 1/N_prm for every kernel that has one
# (see kernel_params).
POLY_DEGREE = 3
COEF0 = 1.0


# ---------------------------------------------------------------------------------------
# Table I: losses of the selected runs


def _selected(runs: pd.DataFrame) -> pd.DataFrame:
    """The selected runs that did not diverge (select never picks a diverged one)."""
    return runs[runs["selected"].astype(bool) & (runs["stop_reason"] != "diverged")]


def table_one(runs: pd.DataFrame) -> pd.DataFrame:
    """Paper Table I: per network and optimizer, the losses of the selected runs.

    Only rows with ``selected`` true and a ``stop_reason`` other than 'diverged' count.
    Standard deviations are sample ones (ddof=1), NaN for a single run. ``test_accuracy`` is
    NaN for the autoencoder and stays NaN here. Columns: network, optimizer, n_runs,
    converged_fraction (of those runs, the share whose stop reason is 'converged'),
    train_loss_mean, train_loss_std, test_loss_mean, test_loss_std, test_accuracy_mean,
    test_accuracy_std, n_params.
    Rows keep the order in which networks and optimizers first appear in ``runs``.
    """
    chosen = _selected(runs)
    if chosen.empty:
        raise ValueError("table_one: no selected, non-diverged runs in the runs table")
    rows = []
    for (network, optimizer), group in chosen.groupby(["network", "optimizer"], sort=False):
        n_params = group["n_params"].unique()
        if len(n_params) != 1:
            raise ValueError(f"table_one: {network} runs disagree on n_params: {sorted(n_params)}")
        row = {"network": network, "optimizer": optimizer, "n_runs": len(group),
               "converged_fraction": float((group["stop_reason"] == "converged").mean())}
        for column in ("train_loss", "test_loss", "test_accuracy"):
            values = group[column].astype(float)
            row[f"{column}_mean"] = values.mean()
            row[f"{column}_std"] = values.std(ddof=1)
        row["n_params"] = int(n_params[0])
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Table S1: spread of the components


def _as_set(network: str, name: str, vectors) -> np.ndarray:
    """A solution set as a float64 [K, P] array with K >= 1, or a ValueError naming it."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim == 1:  # a single vector
        vectors = vectors[None, :]
    if vectors.ndim != 2 or vectors.shape[0] == 0 or vectors.shape[1] == 0:
        raise ValueError(f"{network}: set {name!r} must be a non-empty [K, P] array, got shape {vectors.shape}")
    return vectors


def _as_pair(network: str, name_a: str, a, name_b: str, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_set(network, name_a, a), _as_set(network, name_b, b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{network}: sets {name_a!r} and {name_b!r} have {a.shape[1]} and {b.shape[1]} parameters")
    return a, b


def weight_stats(network: str, sets: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Paper Table S1: mean and std (numpy's, ddof=0) of all components of each set.

    Columns: network, set, n_vectors, n_params, mean, std.
    """
    rows = []
    for name, vectors in sets.items():
        vectors = _as_set(network, name, vectors)
        rows.append(
            {
                "network": network,
                "set": name,
                "n_vectors": vectors.shape[0],
                "n_params": vectors.shape[1],
                "mean": vectors.mean(),
                "std": vectors.std(),
            }
        )
    return pd.DataFrame(rows, columns=["network", "set", "n_vectors", "n_params", "mean", "std"])


# ---------------------------------------------------------------------------------------
# Figures 5 and S3: distances to a common origin


def common_origin(a, b) -> np.ndarray:
    """The midpoint of the two centroids, (mean of A + mean of B) / 2."""
    return (np.asarray(a, dtype=np.float64).mean(axis=0) + np.asarray(b, dtype=np.float64).mean(axis=0)) / 2


def distances_to_origin(network: str, name_a: str, a, name_b: str, b) -> pd.DataFrame:
    """Euclidean distance of every vector of A and B, and of both centroids, to the common origin.

    One tidy frame; the ``kind`` column tells the rows apart: 'vector' rows carry ``index``
    (the vector's row in its set), 'centroid' rows (one per set) have ``index`` missing.
    The two centroid distances are equal by construction (both are |c_A - c_B| / 2); both
    rows are kept so each set has its own. Columns: network, comparison, set, kind, index,
    distance.
    """
    a, b = _as_pair(network, name_a, a, name_b, b)
    origin = common_origin(a, b)
    comparison = comparison_name(name_a, name_b)
    frames = []
    for name, vectors in ((name_a, a), (name_b, b)):
        frames.append(
            pd.DataFrame(
                {
                    "set": name,
                    "kind": "vector",
                    "index": np.arange(len(vectors)),
                    "distance": np.linalg.norm(vectors - origin, axis=1),
                }
            )
        )
    centroids = [np.linalg.norm(vectors.mean(axis=0) - origin) for vectors in (a, b)]
    frames.append(pd.DataFrame({"set": [name_a, name_b], "kind": "centroid", "index": None, "distance": centroids}))
    out = pd.concat(frames, ignore_index=True)
    out["index"] = out["index"].astype("Int64")
    out.insert(0, "comparison", comparison)
    out.insert(0, "network", network)
    return out


# ---------------------------------------------------------------------------------------
# Figures 6 and S4: kernel PCA of the union of two sets


def kernel_params(kernel: str, n_params: int) -> dict:
    """KernelPCA arguments for ``kernel``.

    RBF: gamma = 1/N_prm, i.e. k = exp(-|x - x'|^2 / (2 sigma^2)) with 2 sigma^2 = N_prm as in
    the paper. Poly and sigmoid take the same gamma (it makes <x, x'>/N_prm the mean product
    of components, of order one whatever the network's size; it is also scikit-learn's
    default 1/n_features) with scikit-learn's default degree 3 and coef0 1.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
    params = {"kernel": kernel}
    if kernel != "linear":
        params["gamma"] = 1.0 / n_params
    if kernel in ("poly", "sigmoid"):
        params["coef0"] = COEF0
    if kernel == "poly":
        params["degree"] = POLY_DEGREE
    return params


def kernel_pca(
    network: str, name_a: str, a, name_b: str, b, kernel: str, n_params: int, n_components: int = 2
) -> pd.DataFrame:
    """Project the union of sets A and B on its first kernel principal components.

    The union of N vectors spans at most N - 1 components once centred, so components
    beyond that (pc2 when A and B hold one vector each) are NaN rather than the zeros
    scikit-learn would return. The sign of PC1 is arbitrary; it is fixed so that set A has
    the larger mean PC1, which makes panels of different networks read alike.
    The eigenproblem is solved densely, so the result is deterministic.
    Columns: network, comparison, kernel, set, index, pc1 .. pc{n_components}.
    """
    a, b = _as_pair(network, name_a, a, name_b, b)
    if a.shape[1] != n_params:
        raise ValueError(
            f"{network}: sets {name_a!r}, {name_b!r} have {a.shape[1]} parameters, not n_params={n_params}"
        )
    if n_components < 1:
        raise ValueError(f"n_components must be at least 1, got {n_components}")
    union = np.vstack([a, b])
    n_possible = min(n_components, len(union) - 1)
    model = KernelPCA(n_components=n_possible, eigen_solver="dense", **kernel_params(kernel, n_params))
    scores = np.full((len(union), n_components), np.nan)
    scores[:, :n_possible] = model.fit_transform(union)
    if scores[: len(a), 0].mean() < scores[len(a) :, 0].mean():
        scores[:, 0] *= -1

    out = pd.DataFrame(
        {
            "network": network,
            "comparison": comparison_name(name_a, name_b),
            "kernel": kernel,
            "set": [name_a] * len(a) + [name_b] * len(b),
            "index": np.r_[np.arange(len(a)), np.arange(len(b))],
        }
    )
    for k in range(n_components):
        out[f"pc{k + 1}"] = scores[:, k]
    return out


def separation(projection: pd.DataFrame) -> pd.DataFrame:
    """How well PC1 alone tells the two sets apart, per (network, comparison, kernel).

    ``auc``: ROC AUC of PC1 as a score for membership of set A, folded to max(AUC, 1 - AUC)
    because the sign of a principal component is arbitrary; 0.5 = no separation, 1 = a
    threshold on PC1 splits the sets perfectly. ``silhouette``: silhouette score of the two
    sets on PC1 alone (-1 .. 1); scikit-learn defines it only for 3 or more points, so it is
    NaN for two. Both are NaN when a group holds a single set. Set A is the set whose rows
    come first. Columns: network, comparison, kernel, set_a, set_b, n_a, n_b, auc, silhouette.
    """
    if projection.empty:
        raise ValueError("separation: the projection table is empty")
    rows = []
    for (network, comparison, kernel), group in projection.groupby(["network", "comparison", "kernel"], sort=False):
        names = pd.unique(group["set"])
        is_a = (group["set"] == names[0]).to_numpy()
        pc1 = group["pc1"].to_numpy(dtype=float)
        row = {
            "network": network,
            "comparison": comparison,
            "kernel": kernel,
            "set_a": names[0],
            "set_b": names[1] if len(names) > 1 else None,
            "n_a": int(is_a.sum()),
            "n_b": int((~is_a).sum()),
            "auc": np.nan,
            "silhouette": np.nan,
        }
        if len(names) == 2:
            auc = roc_auc_score(is_a, pc1)
            row["auc"] = max(auc, 1 - auc)
            if len(pc1) > 2:
                row["silhouette"] = silhouette_score(pc1[:, None], is_a)
        elif len(names) > 2:
            raise ValueError(f"separation: {network} {comparison} {kernel} holds {len(names)} sets, expected 2")
        rows.append(row)
    return pd.DataFrame(rows)


def representative_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per network and optimizer, the selected run with the median training loss.

    Among the selected, non-diverged runs, sorted by training loss (ties by seed), the
    one at position (n - 1) // 2: the lower median, so that it is an actual run and the
    choice neither flatters nor disfavours an optimizer. Returns those rows of ``runs``.
    """
    chosen = _selected(runs)
    if chosen.empty:
        raise ValueError("the runs table has no selected, non-diverged runs")
    picks = []
    for _, group in chosen.groupby(["network", "optimizer"], sort=False):
        group = group.sort_values(["train_loss", "seed"])
        picks.append(group.iloc[[(len(group) - 1) // 2]])
    return pd.concat(picks, ignore_index=True)
