"""Speed and memory of FourierPathFinder, per network, measured in one run.

    python bench/pathfinder.py                       # default data size, M = 50, 6 steps
    python bench/pathfinder.py --n-images 200 --steps 2 --points 10   # a quick check
    python bench/pathfinder.py --json bench.json

Each network runs in a subprocess of its own, so that its peak memory is its own, with
torch at 2 threads and topography.workflow.memory.keep_freed_memory() called. The machine is
shared and its speed drifts by tens of percent within minutes, so every ratio compares
two timings taken back to back, and the median over repeats is printed:

- seconds per step: find_path's Adam steps (median; the first step is warm-up), each
  evaluating the M - 2 inner points on all images;
- then ``--rounds`` rounds (default 5), each timing back to back: the path evaluation of
  a step (the batched ``losses_and_grads`` of the M - 2 inner points, nearly all of a
  step's time: "eval s"), a plain loop over the same points (a forward and backward of
  the package's module per point, on all images at once: "loop s"), a dense fp32
  2048 x 2048 matmul, the best of 3: what the machine can do at that moment, and the
  baseline: the gradient of one whole step (as find_path takes it: path points, their
  losses and gradients, carried to the Fourier coefficients; the path's constants built
  once per path, as find_path builds them) against the same step
  computed by a loop over torch's stock modules (bench/stock_loop.py: per point, the
  weights copied into nn.Linear / nn.Conv2d / nn.LSTM layers, a full-batch forward and
  backward: what a user would otherwise run, "stock s") and against the same step as the
  authors' notebook takes it (bench/authors_loop.py: the stock modules' parameters rebound
  to each point's weights, the coefficient gradients summed by hand, "authors s"); the
  three take turns going first from round to round;
- GFLOP/s: the network's flops of the path evaluation, counted analytically (below), per
  second; ratio: that rate against the round's matmul rate; speedup vs loop: loop s over
  eval s; each the median over the rounds;
- bound: the speedup over that loop a batched evaluation would reach if all its needed
  flops ran at the matmul rate and nothing else (activations, pooling, memory traffic)
  took any time: a ceiling for any implementation that does this arithmetic here;
- peak memory: the peak resident set size (ru_maxrss) of the subprocess after the steps,
  i.e. Python, torch, the data and the path finding together (before the loop runs);
- vs stock: stock s over the package's step (speedup_vs_stock_loop), the median of the
  rounds' ratios; vs authors: authors s over the package's step (speedup_vs_authors_loop),
  likewise;
- measured shape: the pass shape that landscape.measure_pass_shape picks on this machine
  for the step's points (what a path job with paths.pass_shape: measured would use), and
  vs authors again with the package's step in passes of that shape, timed in the same
  rounds (speedup_vs_authors_loop_measured_shape).

Flops per image and point, 2 per multiply-add of the network's matmuls and convolutions
(elementwise work, i.e. activations, pooling and the loss, is not counted):
- gflops: forward + backward = 3 x forward, the usual convention;
- gflops_needed: without the input gradient of the first layer, whose input is the data
  and which no implementation computes; the honest rate of useful arithmetic (FCP and the
  autoencoder do most of their work in the first layer, so the two differ most there).
For the LSTM the recurrent matmul of step 0 is not counted (h = 0 there).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from topography.workflow.config import load_config
from topography.landscape import NetworkLandscape, measure_pass_shape
from topography.workflow.memory import keep_freed_memory
from topography.models import NETWORKS, build_network
from topography.pathfinder import FourierPath, PathConfig, _backward, _PathAlgebra, find_path

from authors_loop import AuthorsLoop, authors_backward_objective
from stock_loop import StockLoop, stock_backward_objective

THREADS = 2
# Multiply-adds per image: (first layer, on the data; all the other layers).
MACS = {
    "fcp": (784 * 50, 50 * 50 + 50 * 10),
    "autoencoder": (784 * 32, 32 * 32 + 32 * 32 + 32 * 784),
    "lenet": (28 * 28 * 6 * 25, 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10),
    "lstm": (28 * 28 * 4 * 48, 27 * 48 * 4 * 48 + 48 * 10),
}


def flops_per_image_point(network: str, first_input_grad: bool = True) -> int:
    first, rest = MACS[network]
    return 2 * ((3 if first_input_grad else 2) * first + 3 * rest)


_MATMUL_OPERANDS: dict[int, tuple[torch.Tensor, ...]] = {}


def matmul_gflops(size: int = 2048, repeats: int = 3) -> float:
    """The machine's dense fp32 matmul rate now: the best of ``repeats`` (other load only slows).

    The operands and the output are allocated once, so no timing includes page faults.
    """
    if size not in _MATMUL_OPERANDS:
        a, b = torch.randn(size, size), torch.randn(size, size)
        _MATMUL_OPERANDS[size] = (a, b, a @ b)
    a, b, out = _MATMUL_OPERANDS[size]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / min(times) / 1e9


def default_n_images() -> int:
    """The training set size of the default run: the size the issue's targets refer to."""
    return load_config(Path(__file__).resolve().parents[1] / "config.yaml")["data"]["n_train"]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(network: str, n_images: int, points: int, steps: int, rounds: int = 5,
            with_loop: bool = True) -> dict:
    """Everything for one network; runs inside the subprocess."""
    torch.set_num_threads(THREADS)
    keep_freed_memory()  # as a path job should: see its docstring
    net = build_network(network)
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(n_images, 784, generator=generator)
    y = torch.randint(0, 10, (n_images,), generator=generator)
    landscape = NetworkLandscape(net, x, y)
    w_a, w_b = net.init_vector(0), net.init_vector(1)
    flops = flops_per_image_point(network) * (points - 2) * n_images  # one step
    needed_flops = flops_per_image_point(network, first_input_grad=False) * (points - 2) * n_images
    matmul_gflops()  # warm-up

    stamps = []
    config = PathConfig(points=points, steps=steps)
    result = find_path(landscape, w_a, w_b, config, progress=lambda step, value: stamps.append(time.perf_counter()))
    seconds_per_step = statistics.median(b - a for a, b in zip(stamps, stamps[1:]))  # the first step is warm-up
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: KiB

    # The path evaluation of one step (all inner points at once), the plain loop over the
    # same points and the matmul, back to back in each round: each round's ratios compare
    # timings taken within a second or two of each other.
    t = torch.from_numpy(result.t).float()[1:-1, None]
    inner = (1 - t) * w_a + t * w_b
    # The whole step's gradient, the package's and the stock loop's, at the optimised path.
    path = FourierPath(w_a, w_b, config.n_fourier)
    with torch.no_grad():
        path.coefficients.copy_(torch.from_numpy(result.coefficients))
    times = torch.linspace(0, 1, points, dtype=torch.float64)
    stock = StockLoop(net, x, y)
    stock.loss_and_grad(inner[0])  # warm-up (oneDNN primitives are built on first use)
    authors = AuthorsLoop(net, x, y)

    # The package's step as find_path takes it: the path's constants (its straight line at
    # the times, the basis) are built once per path, not once per step.
    algebra = _PathAlgebra(path, times)

    def package_step():
        path.coefficients.grad = None
        _backward(path, algebra, landscape, config.lam)

    def stock_step():
        path.coefficients.grad = None
        stock_backward_objective(path, times, stock, config.lam)

    def authors_step():
        path.coefficients.grad = None
        authors_backward_objective(path, times, authors, config.lam)

    # Each step once untimed: the first stock step allocates its autograd temporaries afresh
    # and once took 4-6 times a later one, which would favour the package in round 0.
    # The pass shape a job with paths.pass_shape: measured would choose here, and the
    # package's step in passes of that shape.
    shape_start = time.perf_counter()
    shape, _ = measure_pass_shape(landscape, inner)
    shape_seconds = time.perf_counter() - shape_start
    measured = landscape.with_pass_shape(*shape)

    def measured_step():
        path.coefficients.grad = None
        _backward(path, algebra, measured, config.lam)

    package_step()
    stock_step()
    authors_step()
    measured_step()
    batched, loops, matmuls = [], [], []
    functions = {"package": package_step, "stock": stock_step, "authors": authors_step, "measured": measured_step}
    steps_by = {name: [] for name in functions}
    for r in range(rounds):
        batched.append(timed(lambda: landscape.losses_and_grads(inner)))
        loops.append(timed(lambda: [landscape.loss_and_grad(w) for w in inner]) if with_loop else math.nan)
        matmuls.append(matmul_gflops())
        order = list(functions)[r % 4:] + list(functions)[:r % 4]  # each goes first in turn
        for name in order:
            steps_by[name].append(timed(functions[name]))
    package_steps, stock_steps, authors_steps = steps_by["package"], steps_by["stock"], steps_by["authors"]

    median = statistics.median
    timings = list(zip(batched, loops, matmuls))  # (eval s, loop s, matmul GFLOP/s) per round
    return {
        "network": network,
        "seconds_per_step": seconds_per_step,
        "seconds_per_evaluation": median(batched),
        "gflops": flops / median(batched) / 1e9,
        "matmul_gflops": median(matmuls),
        "ratio_to_matmul": median(flops / b / 1e9 / m for b, _, m in timings),
        "gflops_needed": needed_flops / median(batched) / 1e9,
        "ratio_needed_to_matmul": median(needed_flops / b / 1e9 / m for b, _, m in timings),
        "loop_seconds": median(loops),
        "speedup_vs_loop": median(loop / b for b, loop, _ in timings),
        "speedup_bound": median(loop / (needed_flops / m / 1e9) for _, loop, m in timings),
        "step_seconds": median(package_steps),
        "stock_loop_seconds": median(stock_steps),
        "speedup_vs_stock_loop": median(s / p for p, s in zip(package_steps, stock_steps)),
        "stock_ratios": [s / p for p, s in zip(package_steps, stock_steps)],
        "authors_loop_seconds": median(authors_steps),
        "speedup_vs_authors_loop": median(a / p for p, a in zip(package_steps, authors_steps)),
        "authors_ratios": [a / p for p, a in zip(package_steps, authors_steps)],
        "measured_pass_shape": list(shape),
        "measuring_seconds": shape_seconds,
        "measured_step_seconds": median(steps_by["measured"]),
        "speedup_vs_authors_loop_measured_shape": median(a / m for m, a in zip(steps_by["measured"], authors_steps)),
        "peak_memory_gb": peak_gb,
        "n_images": n_images,
        "points": points,
        "steps": steps,
        "threads": THREADS,
        "rows_per_pass": landscape.rows_per_pass,
        "points_per_pass": landscape.points_per_pass,
        "rounds": rounds,
    }


def run_child(network: str, args) -> dict:
    command = [sys.executable, __file__, "--child", network, "--n-images", str(args.n_images),
               "--points", str(args.points), "--steps", str(args.steps), "--rounds", str(args.rounds)] + (["--skip-loop"] if args.skip_loop else [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark of {network} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict]) -> None:
    header = (f"{'network':<12}{'s/step':>8}{'GFLOP/s':>9}{'matmul':>8}{'ratio':>7}{'needed':>8}{'ratio':>7}"
              f"{'eval s':>8}{'loop s':>8}{'speedup':>9}{'bound':>8}{'peak GB':>9}{'step s':>8}{'stock s':>9}{'vs stock':>10}"
              f"{'authors s':>10}{'vs authors':>11}{'measured shape':>16}{'vs authors':>11}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['network']:<12}{r['seconds_per_step']:>8.3f}{r['gflops']:>9.1f}{r['matmul_gflops']:>8.1f}"
            f"{r['ratio_to_matmul']:>7.2f}{r['gflops_needed']:>8.1f}{r['ratio_needed_to_matmul']:>7.2f}"
            f"{r['seconds_per_evaluation']:>8.3f}{r['loop_seconds']:>8.2f}{r['speedup_vs_loop']:>8.2f}x"
            f"{r['speedup_bound']:>7.1f}x{r['peak_memory_gb']:>9.2f}{r['step_seconds']:>8.3f}{r['stock_loop_seconds']:>9.3f}"
            f"{r['speedup_vs_stock_loop']:>9.2f}x{r['authors_loop_seconds']:>10.3f}{r['speedup_vs_authors_loop']:>10.2f}x"
            f"{'x'.join(map(str, r['measured_pass_shape'])):>16}{r['speedup_vs_authors_loop_measured_shape']:>10.2f}x"
        )
    print("GFLOP/s: 3 x forward flops; needed: without the first layer's input gradient; ratios: medians of")
    print("back-to-back pairs; bound: the speedup at the matmul rate with no other cost; step s, stock s,")
    print("authors s: one step's gradient by the package, by a loop over torch's stock modules and by the")
    print("authors' loop (bench/authors_loop.py); vs stock, vs authors: medians of the rounds' ratios; measured")
    print("shape: the pass shape (rows x points) measure_pass_shape picks here, and the authors' loop against")
    print("the package's step in passes of that shape (paths.pass_shape: measured) (see --help)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--n-images", type=int, default=default_n_images(),
                        help="images of the landscape (default: data.n_train of config.yaml)")
    parser.add_argument("--points", type=int, default=50, help="M, the points along the path")
    parser.add_argument("--steps", type=int, default=6, help="Adam steps (at least 2)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of back-to-back timings")
    parser.add_argument("--skip-loop", action="store_true",
                        help="do not time the package's own per-point loop (slow on many images): "
                             "its columns read nan")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step is warm-up)")
    if args.child:
        print(json.dumps(measure(args.child, args.n_images, args.points, args.steps, args.rounds,
                                   not args.skip_loop)))
        return
    print(f"{args.n_images} random images, M = {args.points}, {args.steps} steps, {THREADS} threads, torch {torch.__version__}")
    rows = []
    for network in args.networks:
        rows.append(run_child(network, args))
        print(f"  {network} done", file=sys.stderr)
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
