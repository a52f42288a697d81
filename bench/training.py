"""Cost of training, per network: one L-BFGS-GSS iteration against one SGD epoch.

Measured in one run on the same data and threads, so the ratio is meaningful even on a
noisy shared machine; the absolute seconds size the default run (config.yaml).

With --before, each is also timed back to back the way the package trained until
2026-12-06: single-vector losses by the per-vector module (functional_call) for every
network, and whole sets evaluated 1,000 images a pass; the speedup columns are before / now.

    .venv/bin/python bench/training.py [--configfile presets/smoke.yaml] [--threads 2] [--json out.json]

The sizes are config.yaml's, with a --configfile laid over them as snakemake does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path

import torch

from topography.workflow.config import load_config, run_settings
from topography.jobs.data import load_dataset
from topography.landscape import NetworkLandscape
from topography.models import build_network
from topography.jobs.train import train_run


def seconds_per_epoch(net, optimizer, train, test, settings, epochs, wait=lambda: None):
    """Wall seconds per epoch (recording losses included), after one warm-up epoch.
    ``wait`` makes the host wait for the device before each reading of the clock
    (landscape.synchronizer: a GPU runs behind the host)."""
    key = "epochs" if optimizer == "sgd" else "max_iterations"
    never = dict(loss_floor=0.0, window=1, rel_tol=0.0)  # no early stop: time exactly `epochs`
    train_run(net, optimizer, 0, train, test, dict(settings, **{key: 1}, stop=never), progress=False)
    wait()
    start = time.perf_counter()
    train_run(net, optimizer, 0, train, test, dict(settings, **{key: epochs}, stop=never), progress=False)
    wait()
    return (time.perf_counter() - start) / epochs


@contextlib.contextmanager
def as_before(net):
    """The module's single-vector forms as before (FlatNetwork.loss_sum, outputs)."""
    cls = type(net.module)
    saved = cls.__dict__.get("single_by_batched")
    cls.single_by_batched = False
    try:
        yield
    finally:
        if saved is None:
            del cls.single_by_batched
        else:
            cls.single_by_batched = saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", help="a preset laid over config.yaml, e.g. presets/paper.yaml")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="epochs / iterations timed per optimizer")
    parser.add_argument("--before", action="store_true", help="also time the code of before 2026-12-06 (see above)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    defaults = Path(__file__).resolve().parents[1] / "config.yaml"
    config = load_config(defaults, *([args.configfile] if args.configfile else []))
    torch.set_num_threads(args.threads)
    data = load_dataset(dict(config["data"], seed=config["seed"]))
    rows = []
    before_header = f" {'before iter':>12} {'before epoch':>13} {'iter x':>7} {'epoch x':>8}" if args.before else ""
    print(f"{'network':12} {'s/L-BFGS iter':>14} {'s/SGD epoch':>12} {'iter/epoch':>11}{before_header}   "
          f"({len(data['train'][1])} train / {len(data['test'][1])} test images, {args.threads} threads)")
    for name in config["networks"]:
        net = build_network(name, **config["model"])

        def timed(chunk):
            train = NetworkLandscape(net, *map(torch.as_tensor, data["train"]), chunk)
            test = NetworkLandscape(net, *map(torch.as_tensor, data["test"]), chunk)
            return [seconds_per_epoch(net, optimizer, train, test, run_settings(config, name, optimizer), args.epochs)
                    for optimizer in ("lbfgs", "sgd")]

        lbfgs, sgd = timed(config["train"]["chunk_size"])
        row = dict(network=name, seconds_per_lbfgs_iteration=lbfgs, seconds_per_sgd_epoch=sgd, ratio=lbfgs / sgd)
        line = f"{name:12} {lbfgs:14.3f} {sgd:12.3f} {lbfgs / sgd:11.2f}"
        if args.before:
            with as_before(net):
                old_lbfgs, old_sgd = timed(1000)
            row.update(before_lbfgs_iteration=old_lbfgs, before_sgd_epoch=old_sgd,
                       speedup_lbfgs=old_lbfgs / lbfgs, speedup_sgd=old_sgd / sgd)
            line += f" {old_lbfgs:12.3f} {old_sgd:13.3f} {old_lbfgs / lbfgs:6.2f}x {old_sgd / sgd:7.2f}x"
        rows.append(row)
        print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
