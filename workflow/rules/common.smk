import os
import sys
from pathlib import Path

# The package lives in src/; jobs find it through PYTHONPATH (inherited by local, cluster
# and conda jobs alike), so the workflow runs without installing it.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)

from topography.config import validate_config  # noqa: E402

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
