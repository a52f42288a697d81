"""A researcher's own network (any nn.Module, evaluated by torch.func.vmap) against the
loop a user would otherwise write, per FourierPathFinder step, measured in one run.

    .venv/bin/python bench/custom_model.py                 # 8 x 8 digits, M = 12, 2 threads
    .venv/bin/python bench/custom_model.py --points 50 --rounds 7

Two models of the kind tests/test_custom_networks.py uses, on scikit-learn's 1,797 real
8 x 8 digits (all of them): an MLP with biases (64 -> 256 -> 256 -> 10, softplus) and a small
convolutional classifier. Per round, back to back and taking turns going first: one path
step's gradient by the package (pathfinder.backward_objective: the M - 2 inner points in
vmapped passes of the landscape) and by bench/stock_loop.py's loop (per point, the weights
copied into the module itself, a forward and backward pass on all images, the gradients
carried to the Fourier coefficients by autograd). The medians and the median of the
rounds' ratios are printed; both compute the same step (checked here to float32 rounding).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stock_loop import StockLoop, stock_backward_objective  # noqa: E402

from topography.landscape import NetworkLandscape  # noqa: E402
from topography.models import FlatNetwork  # noqa: E402
from topography.pathfinder import FourierPath, backward_objective  # noqa: E402

MODELS = {
    "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.Softplus(), nn.Linear(256, 256), nn.Softplus(),
                                 nn.Linear(256, 10)),
    "cnn": lambda: nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.Softplus(), nn.AvgPool2d(2), nn.Flatten(),
                                 nn.Linear(8 * 16, 32), nn.Softplus(), nn.Linear(32, 10)),
}


def timed(fn) -> tuple[float, float]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=12, help="M, the points along the path")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images / 16, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target)
    t = torch.linspace(0, 1, args.points)
    print(f"{len(x)} images of 8 x 8, M = {args.points}, {args.threads} threads, {args.rounds} rounds")
    print(f"{'model':6s} {'params':>8s} {'package s':>10s} {'loop s':>8s} {'speedup':>8s}  max rel. diff")
    for name, make in MODELS.items():
        torch.manual_seed(0)
        net = FlatNetwork.from_module(make(), loss="cross_entropy", name=name)
        landscape = NetworkLandscape(net, x, y)
        loop = StockLoop(net, x, y)
        path = FourierPath(net.init_vector(0), net.init_vector(1), n_fourier=10)
        path.coefficients.data.normal_(0, 0.01)

        def package():
            path.coefficients.grad = None
            value = backward_objective(path, t, landscape, 1e-4)
            return value, path.coefficients.grad.clone()

        def stock():
            path.coefficients.grad = None
            value = stock_backward_objective(path, t, loop, 1e-4)
            return value, path.coefficients.grad.clone()

        (_, ours), (_, theirs) = package(), stock()  # warm-up, and the check that they agree
        diff = float((ours - theirs).abs().max() / theirs.abs().max())
        ours_s, loop_s, ratios = [], [], []
        for r in range(args.rounds):
            order = (package, stock) if r % 2 == 0 else (stock, package)
            seconds = {fn: timed(fn)[0] for fn in order}
            ours_s.append(seconds[package])
            loop_s.append(seconds[stock])
            ratios.append(seconds[stock] / seconds[package])
        print(f"{name:6s} {net.n_params:8d} {statistics.median(ours_s):10.4f} {statistics.median(loop_s):8.4f} "
              f"{statistics.median(ratios):7.2f}x  {diff:.1e}")


if __name__ == "__main__":
    main()
