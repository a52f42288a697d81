"""Cost of training, per network: one L-BFGS-GSS iteration against one SGD epoch.

Measured in one run on the same data and threads, so the ratio is meaningful even on a
noisy shared machine; the absolute seconds size the default run (config.yaml).

    .venv/bin/python bench/training.py [--configfile presets/smoke.yaml] [--threads 2] [--json out.json]

The sizes are config.yaml's, with a --configfile laid over them as snakemake does.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from topography.workflow.config import load_config, run_settings
from topography.jobs.data import load_dataset
from topography.landscape import NetworkLandscape
from topography.models import build_network
from topography.jobs.train import train_run


def seconds_per_epoch(net, optimizer, train, test, settings, epochs):
    """Wall seconds per epoch (recording losses included), after one warm-up epoch."""
    key = "epochs" if optimizer == "sgd" else "max_iterations"
    never = dict(loss_floor=0.0, window=1, rel_tol=0.0)  # no early stop: time exactly `epochs`
    train_run(net, optimizer, 0, train, test, dict(settings, **{key: 1}, stop=never), progress=False)
    start = time.perf_counter()
    train_run(net, optimizer, 0, train, test, dict(settings, **{key: epochs}, stop=never), progress=False)
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", help="a preset laid over config.yaml, e.g. presets/paper.yaml")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="epochs / iterations timed per optimizer")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    defaults = Path(__file__).resolve().parents[1] / "config.yaml"
    config = load_config(defaults, *([args.configfile] if args.configfile else []))
    torch.set_num_threads(args.threads)
    data = load_dataset(dict(config["data"], seed=config["seed"]))
    rows = []
    print(f"{'network':12} {'s/L-BFGS iter':>14} {'s/SGD epoch':>12} {'iter/epoch':>11}   "
          f"({len(data['train'][1])} train / {len(data['test'][1])} test images, {args.threads} threads)")
    for name in config["networks"]:
        net = build_network(name, **config["model"])
        chunk = config["train"]["chunk_size"]
        train = NetworkLandscape(net, *map(torch.as_tensor, data["train"]), chunk)
        test = NetworkLandscape(net, *map(torch.as_tensor, data["test"]), chunk)
        lbfgs = seconds_per_epoch(net, "lbfgs", train, test, run_settings(config, name, "lbfgs"), args.epochs)
        sgd = seconds_per_epoch(net, "sgd", train, test, run_settings(config, name, "sgd"), args.epochs)
        rows.append(dict(network=name, seconds_per_lbfgs_iteration=lbfgs, seconds_per_sgd_epoch=sgd,
                         ratio=lbfgs / sgd))
        print(f"{name:12} {lbfgs:14.3f} {sgd:12.3f} {lbfgs / sgd:11.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
