import os
import sys
from pathlib import Path

# The package lives in src/; jobs find it through PYTHONPATH (inherited by local, cluster
# and conda jobs alike), so the workflow runs without installing it.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)

from topography.barriers import draw_pairs  # noqa: E402
from topography.config import validate_config  # noqa: E402
from topography.mnist_files import IDX_FILES, check_idx_files, checksums  # noqa: E402

# Before any job: a bad value stops here with the key and what is allowed.
validate_config(config)

NETWORKS = config["networks"]
OPTIMIZERS = config["optimizers"]
SEEDS = list(range(config["train"]["seeds"]))
ENV = "../../envs/topography.yaml"


# The solution sets, in the paper's order: {optimizer}-{kind}.
SETS = [f"{o}-{k}" for o in ("lbfgs", "sgd") if o in OPTIMIZERS for k in ("train", "test")]


wildcard_constraints:
    network="|".join(NETWORKS),
    optimizer="|".join(OPTIMIZERS),
    seed=r"\d+",
    set="|".join(SETS),


def code(*modules):
    """The package modules a rule runs. As inputs, editing one makes Snakemake redo that
    rule and everything downstream of it, and nothing upstream."""
    return [f"src/topography/{module}.py" for module in modules]


def idx_inputs(wildcards):
    """The IDX files the data rule reads (none with source embedded). Checked here, while
    the DAG is built, so a missing or wrong file stops the plan before any job runs; with
    data.download, the .gz files that rule download_mnist fetches when any is missing."""
    data = config["data"]
    if data["source"] != "idx":
        return []
    published = [os.path.join(data["idx_dir"], f"{stem}.gz") for stem in IDX_FILES.values()]
    if data.get("download") and not all(map(os.path.exists, published)):
        return published
    return [str(path) for path in check_idx_files(data).values()]


def train_outputs(kind="history.csv"):
    return expand(
        "results/train/{network}/{optimizer}/seed{seed}/{kind}",
        network=NETWORKS,
        optimizer=OPTIMIZERS,
        seed=SEEDS,
        kind=kind,
    )


def run_files(network):
    """The select rule's view of every training run of a network."""
    return [
        dict(
            optimizer=o,
            seed=s,
            history=f"results/train/{network}/{o}/seed{s}/history.csv",
            train=f"results/train/{network}/{o}/seed{s}/train.safetensors",
            test=f"results/train/{network}/{o}/seed{s}/test.safetensors",
        )
        for o in OPTIMIZERS
        for s in SEEDS
    ]


def set_file(network, set_name):
    return f"results/sets/{network}/{set_name}.safetensors"


def sidecar_of(path):
    """The JSON sidecar of an array file (topography.io.sidecar): a job that reads an
    array file reads its sidecar too, so both are its inputs."""
    return path.removesuffix(".safetensors") + ".json"


def with_sidecars(*paths):
    return [p for path in paths for p in (path, sidecar_of(path))]


# --- geometry

GEOMETRY_KINDS = ["weight_stats", "distances", "projections", "separation"]


# --- figures

# Paper figure -> the comparison it shows.
DISTANCE_FIGURES = {"fig5": "lbfgs-train_vs_sgd-test", "figS3": "lbfgs-test_vs_sgd-test"}
KERNEL_PCA_FIGURES = {"fig6": "lbfgs-train_vs_sgd-test", "figS4": "lbfgs-test_vs_sgd-test"}
FIGURE_CODE = code("plots", "style", "io")


def figure(name, caption, category="Figures"):
    """A figure's PNG (shown in snakemake --report) and PDF (for print)."""
    return {
        "png": report(f"results/figures/{name}.png", caption=f"../report/{caption}.rst", category=category),
        "pdf": f"results/figures/{name}.pdf",
    }


def geometry_figures():
    if len(OPTIMIZERS) < 2:  # the comparisons need both optimizers' sets
        return []
    return expand("results/figures/{figure}_distances.{ext}", figure=DISTANCE_FIGURES, ext=("png", "pdf")) + expand(
        "results/figures/{figure}_{kind}.{ext}",
        figure=KERNEL_PCA_FIGURES,
        kind=("kernel_pca", "kernel_comparison"),
        ext=("png", "pdf"),
    )


# --- paths

# The landscapes each set's pairs are joined on: the training landscape for all four sets,
# the test landscape also for the two test sets (PAPER.md).
LANDSCAPE_SETS = {"train": SETS, "test": [s for s in SETS if s.endswith("-test")]}


def pairs_of(network, set_name):
    """The pairs (i, j) of a set's vectors to join: drawn with a seeded RNG when the DAG is
    built, the same on both landscapes, at most every distinct pair once."""
    seed = config["seed"] * 1_000_003 + NETWORKS.index(network) * 101 + SETS.index(set_name)
    return draw_pairs(config["select"]["n_best"], config["paths"]["pairs"], seed)


def path_files(network=None):
    networks = NETWORKS if network is None else [network]
    return [
        f"results/paths/{n}/{landscape}/{s}/pair{k}.json"
        for n in networks
        for landscape, sets in LANDSCAPE_SETS.items()
        for s in sets
        for k in range(len(pairs_of(n, s)))
    ]


def path_targets():
    if not path_files():  # sets of one vector have no pairs to join
        return []
    return expand("results/figures/{figure}_barriers.{ext}", figure=("fig4", "figS2"), ext=("png", "pdf")) + expand(
        "results/figures/barrier_budget.{ext}", ext=("png", "pdf")
    )


# --- curvature and the Bezier cross-check (curvature.smk, crosscheck.smk)

CURVATURE_LANDSCAPES = config["curvature"]["landscapes"]
BEZIER_LANDSCAPES = config["bezier"]["landscapes"]


def curvature_files():
    return expand(
        "results/curvature/{network}/{landscape}/{set}.json", network=NETWORKS, landscape=CURVATURE_LANDSCAPES, set=SETS
    )


def curvature_targets():
    return expand("results/figures/curvature_{network}.{ext}", network=NETWORKS, ext=("png", "pdf"))


def bezier_pairs(network, landscape):
    """Set -> [(k, (i, j)), ...]: the first bezier.pairs_per_set pairs the path stage joins
    on this landscape (k: the pair's number there), for the sets that have any."""
    n = config["bezier"]["pairs_per_set"]
    pairs = {s: list(enumerate(pairs_of(network, s)))[:n] for s in LANDSCAPE_SETS[landscape]}
    return {s: p for s, p in pairs.items() if p}


def bezier_files():
    return [f"results/bezier/{n}/{l}.json" for n in NETWORKS for l in BEZIER_LANDSCAPES if bezier_pairs(n, l)]


def bezier_fourier_files():
    """The Fourier paths of the pairs the Bezier curves join."""
    return [
        f"results/paths/{n}/{l}/{s}/pair{k}.json"
        for n in NETWORKS
        for l in BEZIER_LANDSCAPES
        for s, pairs in bezier_pairs(n, l).items()
        for k, _ in pairs
    ]


def bezier_targets():
    if not bezier_files():  # sets of one vector have no pairs to join
        return []
    return ["results/tables/bezier.csv", "results/figures/bezier_vs_fourier.png", "results/figures/bezier_vs_fourier.pdf"]


# --- the report (report.smk)

# The --configfile names, for the report's "what was run" ("default" for config.yaml alone).
PRESET = ", ".join(Path(f).stem for f in workflow.overwrite_configfiles) or "default"

# Figures embedded when they exist, without being required: drawn by rules that may not be
# part of every version of the workflow.
OPTIONAL_PATH_FIGURES = ["results/figures/barrier_budget.png"]


def report_tables():
    """The tables the report reads that this config's DAG produces (no paths, no barriers)."""
    tables = {
        "table1": "results/tables/table1.csv",
        "weight_stats": "results/tables/tableS1_weight_stats.csv",
        "separation": "results/tables/kernel_separation.csv",
        "distances": "results/tables/distances.csv",
        "projections": "results/tables/kernel_pca.csv",
        "toy_heights": "results/tables/toy_heights.csv",
    }
    if path_files():
        tables["barriers"] = "results/tables/barriers.csv"
    if curvature_files():
        tables["curvature"] = "results/tables/curvature.csv"
    if bezier_files():
        tables["bezier"] = "results/tables/bezier.csv"
    return tables


def report_figures(optional=False):
    """The PNGs of this config's figures (and, with ``optional``, those embedded if present)."""
    figures = ["results/figures/fig2_loss_curves.png", "results/figures/fig3_toy_paths.png"]
    figures += [f for f in geometry_figures() + path_targets() if f.endswith(".png")]
    if optional and path_files():
        figures += OPTIONAL_PATH_FIGURES
    return figures
