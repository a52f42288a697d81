"""Cost of the two cross-checks, per network: curvature per vector, Bezier curve per pair.

Each is measured in one run against a reference taken in the same run on the same data:
the curvature of one vector against one gradient of the full landscape, the Bezier curve
of one pair against the Fourier path of the same pair. CPU seconds of this process
(time.process_time) are printed beside the ratios: on a shared machine they move less
than wall time, and the jobs run one thread each (config ``threads``).

    .venv/bin/python bench/crosscheck.py [--configfile presets/smoke.yaml] [--networks fcp lstm] [--json out.json]

Sizes are config.yaml's (curvature, bezier, paths, data), with a --configfile laid over
them as snakemake does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from topography.bezier import BezierConfig, find_bezier_path
from topography.workflow.config import load_config
from topography.curvature import CurvatureConfig, measure_curvature
from topography.jobs.data import load_dataset
from topography.landscape import NetworkLandscape
from topography.models import build_network
from topography.jobs.paths import path_config
from topography.pathfinder import find_path


def cpu_seconds(fn, rounds=1):
    """The median CPU seconds of ``rounds`` calls of ``fn``, and its last result."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", help="a preset laid over config.yaml, e.g. presets/paper.yaml")
    parser.add_argument("--networks", nargs="+", help="default: the config's networks")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    defaults = Path(__file__).resolve().parents[1] / "config.yaml"
    config = load_config(defaults, *([args.configfile] if args.configfile else []))
    torch.set_num_threads(args.threads)
    x, y = map(torch.as_tensor, load_dataset(dict(config["data"], seed=config["seed"]))["train"])
    curvature = CurvatureConfig(**{k: config["curvature"][k] for k in ("eigenvalues", "lanczos_iterations", "probes",
                                                                       "chunk_size")})
    bezier = BezierConfig(**{k: config["bezier"][k] for k in ("steps", "lr", "samples_per_step")},
                          points=config["paths"]["points"], chunk_size=config["paths"]["chunk_size"])
    fourier = path_config(config["paths"], seed=0)
    print(f"{len(y)} training images, {args.threads} thread(s); curvature: {curvature.lanczos_iterations} Lanczos steps, "
          f"{curvature.probes} probes; Bezier: {bezier.steps} steps x {bezier.samples_per_step} samples; "
          f"Fourier: {fourier.steps} steps x {fourier.points - 2} points; CPU seconds")
    print(f"{'network':12} {'s/gradient':>10} {'s/vector':>9} {'s/HVP':>7} {'vector/grad':>11} "
          f"{'s/Bezier':>9} {'s/Fourier':>9} {'Bezier/Fourier':>14}")
    rows = []
    for name in args.networks or config["networks"]:
        net = build_network(name, **config["model"])
        landscape = NetworkLandscape(net, x, y, config["paths"]["chunk_size"])
        w_a, w_b = net.init_vector(1), net.init_vector(2)
        # Warm-up: the first products and gradients of a process carry one-off costs.
        measure_curvature(landscape.subset(torch.arange(8)), w_a, CurvatureConfig(eigenvalues=1, lanczos_iterations=1,
                                                                                    probes=2))
        grad_seconds, _ = cpu_seconds(lambda: landscape.loss_and_grad(w_a), rounds=3)
        vector_seconds, record = cpu_seconds(lambda: measure_curvature(landscape, w_a, curvature))
        bezier_seconds, _ = cpu_seconds(lambda: find_bezier_path(landscape, w_a, w_b, bezier))
        fourier_seconds, _ = cpu_seconds(lambda: find_path(landscape, w_a, w_b, fourier))
        row = dict(network=name, seconds_per_gradient=grad_seconds, seconds_per_vector=vector_seconds,
                   hvps_per_vector=record["hvps"], seconds_per_hvp=vector_seconds / record["hvps"],
                   vector_to_gradient=vector_seconds / grad_seconds, seconds_per_bezier_pair=bezier_seconds,
                   seconds_per_fourier_pair=fourier_seconds, bezier_to_fourier=bezier_seconds / fourier_seconds)
        rows.append(row)
        print(f"{name:12} {grad_seconds:10.3f} {vector_seconds:9.2f} {row['seconds_per_hvp']:7.3f} "
              f"{row['vector_to_gradient']:11.1f} {bezier_seconds:9.2f} {fourier_seconds:9.2f} "
              f"{row['bezier_to_fourier']:14.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
