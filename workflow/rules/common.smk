import functools
import os
import sys
from pathlib import Path

# The package lives in src/; jobs find it through PYTHONPATH (inherited by local, cluster
# and conda jobs alike), so the workflow runs without installing it. It is set here, so the
# user need not export it; envvars declares it, so that Snakemake also hands its value to
# executors whose jobs do not inherit this environment.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)


envvars:
    "PYTHONPATH",


from topography import design  # noqa: E402
from topography.jobs.networks import check_networks  # noqa: E402
from topography.workflow.config import check_device, model_settings, run_settings, validate_config  # noqa: E402
from topography.workflow.imports import code_files  # noqa: E402
from topography.workflow.data_file import data_shapes  # noqa: E402
from topography.workflow.mnist_files import IDX_FILES, check_idx_files, checksums  # noqa: E402

# Before any job: a bad value stops here with the key and what is allowed.
validate_config(config)
check_device(config, local=workflow.local_exec)
# Each network's parameter count; a custom network or a data file is also built and run on
# one example here, so a factory or data that does not fit stops the plan (jobs/networks.py).
N_PARAMS = check_networks(config)

NETWORKS = config["networks"]
OPTIMIZERS = config["optimizers"]
SEEDS = list(range(config["train"]["seeds"]))
# The conda environment of each kind of rule (paths relative to the rule files).
TORCH_ENV = "../../envs/torch.yaml"  # data, train, path, curvature, bezier, toy_paths
ANALYSIS_ENV = "../../envs/analysis.yaml"  # select, geometry, tables, figures: no torch
REPORT_ENV = "../../envs/report.yaml"
SETS = design.sets_of(OPTIMIZERS)  # this config's solution sets, in the paper's order


wildcard_constraints:
    network="|".join(NETWORKS),
    optimizer="|".join(OPTIMIZERS),
    seed=r"\d+",
    set="|".join(SETS),


# The workflow's own files (scripts, notebooks, package modules and data) as inputs: relative
# paths when Snakemake runs in the clone, absolute ones when it runs elsewhere
# (snakemake -s <clone>/Snakefile -d <dir>), where results go to <dir>.
BASE = Path(workflow.basedir)
IN_CLONE = Path.cwd().resolve() == BASE.resolve()


def repo_file(path):
    return str(path) if IN_CLONE else str(BASE / path)


def code(script, *notebooks):
    """The package modules that scripts/{script}.py (and ``notebooks``) run: the import
    closure, read with ast when the DAG is built. As inputs, editing one makes Snakemake
    redo the rules that run it and everything downstream of them, and nothing else."""
    sources = [BASE / "scripts" / f"{script}.py", *(BASE / n for n in notebooks)]
    return code_files(sources, BASE / "src" / "topography", relative_to=BASE if IN_CLONE else None)


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


def data_file_inputs(wildcards):
    """With source file, the researcher's data file (checked when the DAG was built)."""
    return [config["data"]["path"]] if config["data"]["source"] == "file" else []


def model_code(network):
    """A custom network's factory module, where it is a file under the working directory:
    editing it redoes that network's jobs, as editing the package's own code does."""
    factory = model_settings(config, network).get("factory")
    if not factory:
        return []
    import importlib.util

    spec = importlib.util.find_spec(factory.split(":")[0])
    origin = Path(spec.origin).resolve() if spec and spec.origin else None
    cwd = Path.cwd().resolve()
    return [os.path.relpath(origin, cwd)] if origin and origin.is_relative_to(cwd) else []


def train_outputs(kind="history.csv"):
    return expand(design.RUN, network=NETWORKS, optimizer=OPTIMIZERS, seed=SEEDS, file=kind)


# Every training run of a network, in the order of the select rule's inputs (select_inputs).
RUNS = [dict(optimizer=o, seed=s) for o in OPTIMIZERS for s in SEEDS]


def set_file(network, set_name):
    return design.SET.format(network=network, set=set_name)


def sidecar_of(path):
    """The JSON sidecar of an array file: a job that reads one reads both, so both are its inputs."""
    return str(design.sidecar(path))


def with_sidecars(*paths):
    return [p for path in paths for p in (path, sidecar_of(path))]


# Inputs computed per job, for unpack(): named once, read by the job by these names.


def select_inputs(wildcards):
    """Per run of RUNS, its history and its two weight files (lists in RUNS' order), and
    the weights' sidecars."""

    def files(file):
        return [design.RUN.format(network=wildcards.network, file=file, **run) for run in RUNS]

    return {
        "history": files("history.csv"),
        **{kind: files(f"{kind}.safetensors") for kind in ("train", "test")},
        **{f"{kind}_meta": files(f"{kind}.json") for kind in ("train", "test")},
    }


def set_inputs(wildcards):
    """The solution set of the job's wildcards (network, set) and its sidecar."""
    path = set_file(wildcards.network, wildcards.set)
    return {"set": path, "set_meta": sidecar_of(path)}


def sets_inputs(network, sets):
    """Each of ``sets`` of ``network`` under its name, its sidecar under name_meta."""
    files = {s: set_file(network, s) for s in sets}
    return {**files, **{f"{s}_meta": sidecar_of(path) for s, path in files.items()}}


def geometry_inputs(wildcards):
    """Every set of the network."""
    return sets_inputs(wildcards.network, SETS)


# --- geometry

GEOMETRY_KINDS = list(design.GEOMETRY_KINDS)


# --- figures

# Paper figure -> the comparison it shows, or the landscape (design.py).
DISTANCE_FIGURES = design.DISTANCE_FIGURES
KERNEL_PCA_FIGURES = design.KERNEL_PCA_FIGURES
BARRIER_FIGURES = design.BARRIER_FIGURES


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
# the test landscape also for the two test sets.
LANDSCAPE_SETS = {landscape: design.landscape_sets(landscape, SETS) for landscape in design.LANDSCAPES}


@functools.cache
def pairs_of(network, set_name):
    """The pairs (i, j) of a set's vectors to join: drawn when the DAG is built, seeded by
    the master seed and the network's and set's names, the same on both landscapes, at most
    every distinct pair once."""
    return design.pairs_of(config["seed"], network, set_name, config["select"]["n_best"], config["paths"]["pairs"])


# Every set has the same number of pairs: min(paths.pairs, every distinct pair of n_best).
N_PAIRS = len(design.draw_pairs(config["select"]["n_best"], config["paths"]["pairs"], 0))


# The pair numbers of each path job: every pair of a set in one job, or with
# paths.pairs_per_job, runs of at most that many (one pair number where the sets have no
# pairs: no job is then asked for, but a rule needs an output).
PAIRS_PER_JOB = config["paths"].get("pairs_per_job") or max(1, N_PAIRS)
PATH_CHUNKS = [range(k, min(k + PAIRS_PER_JOB, max(1, N_PAIRS))) for k in range(0, max(1, N_PAIRS), PAIRS_PER_JOB)]


def chunk_suffix(chunk):
    return "" if len(PATH_CHUNKS) == 1 else f".part{chunk}"


def pairs_in(numbers):
    """The path rule's params: {pair number: (i, j)} of the set, for the pair ``numbers``."""
    return lambda wildcards: {
        k: pair for k, pair in enumerate(pairs_of(wildcards.network, wildcards.set)) if k in numbers
    }


def pair_records(pairs=range(1)):
    """A path rule's outputs: the records of the pair numbers ``pairs`` of its set."""
    return [design.PATH.format(network="{network}", landscape="{landscape}", set="{set}", pair=k) for k in pairs]


def path_files(network=None):
    networks = NETWORKS if network is None else [network]
    return [
        design.PATH.format(network=n, landscape=landscape, set=s, pair=k)
        for n in networks
        for landscape, sets in LANDSCAPE_SETS.items()
        for s in sets
        for k in range(len(pairs_of(n, s)))
    ]


def path_targets():
    if not path_files():  # sets of one vector have no pairs to join
        return []
    return expand("results/figures/{figure}_barriers.{ext}", figure=BARRIER_FIGURES, ext=("png", "pdf")) + expand(
        "results/figures/barrier_budget.{ext}", ext=("png", "pdf")
    )


# --- curvature and the Bezier cross-check (curvature.smk, crosscheck.smk)

CURVATURE_LANDSCAPES = config["curvature"]["landscapes"]
BEZIER_LANDSCAPES = config["bezier"]["landscapes"]


def curvature_files():
    return expand(design.CURVATURE, network=NETWORKS, landscape=CURVATURE_LANDSCAPES, set=SETS)


def curvature_targets():
    return expand("results/figures/curvature_{network}.{ext}", network=NETWORKS, ext=("png", "pdf"))


def bezier_pairs(network, landscape):
    """Set -> [(k, (i, j)), ...]: the first bezier.pairs_per_set pairs the path stage joins
    on this landscape (k: the pair's number there), for the sets that have any."""
    n = config["bezier"]["pairs_per_set"]
    pairs = {s: list(enumerate(pairs_of(network, s)))[:n] for s in LANDSCAPE_SETS[landscape]}
    return {s: p for s, p in pairs.items() if p}


def bezier_inputs(wildcards):
    """The sets whose pairs the bezier job joins on the landscape (bezier_pairs)."""
    return sets_inputs(wildcards.network, bezier_pairs(wildcards.network, wildcards.landscape))


def bezier_files():
    return [
        design.BEZIER.format(network=n, landscape=l) for n in NETWORKS for l in BEZIER_LANDSCAPES if bezier_pairs(n, l)
    ]


def bezier_fourier_files():
    """The Fourier paths of the pairs the Bezier curves join."""
    return [
        design.PATH.format(network=n, landscape=l, set=s, pair=k)
        for n in NETWORKS
        for l in BEZIER_LANDSCAPES
        for s, pairs in bezier_pairs(n, l).items()
        for k, _ in pairs
    ]


def bezier_targets():
    if not bezier_files():  # sets of one vector have no pairs to join
        return []
    return [
        "results/tables/bezier.csv",
        "results/figures/bezier_vs_fourier.png",
        "results/figures/bezier_vs_fourier.pdf",
    ]


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


def claim_tables():
    """The tables of results/tables/ the claims read (design.CLAIM_TABLES) that this config produces."""
    return {name: path for name, path in report_tables().items() if name in design.CLAIM_TABLES}


def report_figures(optional=False):
    """The PNGs of this config's figures (and, with ``optional``, those embedded if present)."""
    figures = ["results/figures/fig2_loss_curves.png", "results/figures/fig3_toy_paths.png"]
    figures += [f for f in geometry_figures() + path_targets() if f.endswith(".png")]
    if optional and path_files():
        figures += OPTIONAL_PATH_FIGURES
    return figures


# --- rule all


def every_result():
    """Every file under results/ that this config produces and a user reads, each a target of
    the default rule. Snakemake remakes a missing file only when something asks for it, not
    when the files downstream of it exist, so a set or a path deleted (or lost to a killed
    job) after a finished run is remade by a plain rerun only if it is a target itself."""
    run_files = ("history.csv", "train.safetensors", "train.json", "test.safetensors", "test.json")
    files = expand("results/data/{landscape}.{ext}", landscape=design.LANDSCAPES, ext=("safetensors", "json"))
    files += [f for kind in run_files for f in train_outputs(kind)]
    files += with_sidecars(*(set_file(n, s) for n in NETWORKS for s in SETS))
    files += expand(design.RUNS_TABLE, network=NETWORKS)
    files += expand(design.GEOMETRY, network=NETWORKS, kind=GEOMETRY_KINDS)
    files += list(report_tables().values()) + ["results/tables/loss_curves.csv"]
    files += ["results/tables/claims.csv", "results/tables/claim_parts.csv"]
    files += path_files() + curvature_files() + bezier_files()
    if path_files():
        files += ["results/tables/path_profiles.csv", "results/tables/path_heights.csv"]
    if bezier_files():
        files += ["results/tables/bezier_profiles.csv"]
    files += expand("results/figures/{name}.{ext}", name=("fig2_loss_curves", "fig3_toy_paths"), ext=("png", "pdf"))
    files += geometry_figures() + path_targets() + curvature_targets() + bezier_targets()
    files += ["results/report/report.html", "results/report/report.ipynb"]
    return list(dict.fromkeys(files))
