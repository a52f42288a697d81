"""L-BFGS-GSS under both line searches: one training run per network, seed and mode, side by side.

Each run is the train rule's (``topography.jobs.train.train_run`` on the config's data, seeds and
settings), once with ``train.lbfgs.line_search: authors`` and once with ``paper``, in one process
on the same threads, so the two columns differ only by the mode. Prints iterations, why the
run stopped, the final and best training loss, the best test loss and its iteration, and wall
seconds (the seconds are comparable within one run of this script only).

    .venv/bin/python bench/line_search.py [--networks fcp lstm] [--seeds 0] [--configfile presets/smoke.yaml]
                                          [--cap N] [--no-stop] [--threads 1] [--json out.json]

``--no-stop`` sets the stopping rule's floor and relative tolerance to 0, so every run goes to
the cap (``--cap``, default the config's ``max_iterations``), as the authors' fixed count did;
only a training loss of exactly 0 still ends a run early.
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
from topography.optim import LINE_SEARCHES
from topography.jobs.train import train_run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", help="a preset laid over config.yaml, e.g. presets/smoke.yaml")
    parser.add_argument("--networks", nargs="+", help="default: the config's networks")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--cap", type=int, help="max_iterations (default: the config's)")
    parser.add_argument("--no-stop", action="store_true", help="no stopping rule: every run goes to the cap")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the default config's: 1)")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()

    defaults = Path(__file__).resolve().parents[1] / "config.yaml"
    config = load_config(defaults, *([args.configfile] if args.configfile else []))
    torch.set_num_threads(args.threads)
    data = load_dataset(dict(config["data"], seed=config["seed"]))  # as the data rule passes it
    chunk = config["train"]["chunk_size"]
    rows = []
    print(f"{'network':8} {'seed':>4} {'mode':8} {'iters':>6} {'stop':10} {'final train':>12} {'best train':>12} "
          f"{'at':>5} {'best test':>10} {'at':>4} {'seconds':>8}")
    for name in args.networks or config["networks"]:
        net = build_network(name, **config["model"])
        train = NetworkLandscape(net, *map(torch.as_tensor, data["train"]), chunk)
        test = NetworkLandscape(net, *map(torch.as_tensor, data["test"]), chunk)
        for seed in args.seeds:
            for mode in LINE_SEARCHES:
                settings = dict(run_settings(config, name, "lbfgs"), line_search=mode)
                if args.cap:
                    settings["max_iterations"] = args.cap
                if args.no_stop:
                    settings["stop"] = dict(settings["stop"], loss_floor=0.0, rel_tol=0.0)
                start = time.perf_counter()
                result = train_run(net, "lbfgs", seed, train, test, settings, progress=False)
                seconds = time.perf_counter() - start
                losses = result.history.loc[result.history["split"] == "train", "loss"]
                row = dict(network=name, seed=seed, line_search=mode, iterations=result.epochs_run,
                           stop_reason=result.stop_reason, final_train_loss=float(losses.iloc[-1]),
                           best_train_loss=result.best_train.loss, best_train_iteration=result.best_train.epoch,
                           best_test_loss=result.best_test.loss, best_test_iteration=result.best_test.epoch,
                           seconds=seconds)
                rows.append(row)
                print(f"{name:8} {seed:4d} {mode:8} {row['iterations']:6d} {row['stop_reason']:10} "
                      f"{row['final_train_loss']:12.3e} {row['best_train_loss']:12.3e} {row['best_train_iteration']:5d} "
                      f"{row['best_test_loss']:10.4f} {row['best_test_iteration']:4d} {seconds:8.1f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
