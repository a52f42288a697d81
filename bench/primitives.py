"""How fast could a batched path evaluation of each network be on this machine?

    python bench/primitives.py                  # default data size, M = 50, 2 threads

A batched evaluation of M - 2 path points (see topography/models.py) is built from
matmuls and convolutions that it cannot do without: every multiply-add of the network's
forward and backward pass, at the shapes that batching over points gives (for FCP and
the autoencoder, whose first layer sees the same images for every point, that layer and
its weight gradient are one large matmul each; their later layers, LeNet's and the
LSTM's keep each point's own shapes: batching over points does not make those larger
than the plain loop's). This script times only those primitives, each in the fastest
form we know (for the LSTM: the input projection and the weight gradients as single
large matmuls), plus the one evaluation of each unit's nonlinearity that the forward
pass needs and the one that its derivative needs (softplus and sigmoid for FCP, LeNet
and the autoencoder, whose output sigmoid counts once more; sigmoids for the LSTM's
gates and tanh), summed over one evaluation at the landscape's pass shapes, and the
plain loop over the same points, back to back, 3 rounds:

- floor s: the time of that work alone, with no pooling, loss, bookkeeping or memory
  traffic between the pieces: an evaluation that runs these primitives one after another
  cannot be faster (one that fuses them so that their data stay in the caches, as FCP's
  blocks of images do, can beat it: FCP's package step measured below its floor);
- loop s: the plain loop (bench/pathfinder.py's "loop s");
- max speedup: loop s / floor s, the most any such evaluation could gain over the loop;
- stock s, vs stock: the same points by a loop over torch's stock modules
  (bench/stock_loop.py; nn.LSTM's fused oneDNN kernel for the LSTM), and stock s / floor s:
  the most a batched evaluation could gain over that baseline.

For the LSTM, vs stock came out below 1 on the 2-core development machine (floor 0.86 s,
stock 0.73 s at 1,000 images; the floor was at least 0.85 s for every pass shape from 1 x
1,000 to 48 x 50 vectors x images): no batched form built from these primitives can beat
nn.LSTM's fused kernel there. That is why topography evaluates the LSTM one vector at a
time with that kernel (models.PermutedLSTM.forward_batched); the "lstm" row here times the
primitives of the batched form it no longer uses (at the landscape's passes, now one vector
and 256 images), as the measurement behind that choice.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from topography.workflow.config import load_config
from topography.landscape import NetworkLandscape
from topography.workflow.memory import keep_freed_memory
from topography.models import build_network

from stock_loop import StockLoop

THREADS = 2


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pass_shapes(landscape: NetworkLandscape, points: int):
    """(vectors, images) of each pass of one evaluation, as the landscape splits it."""
    for rows, images in landscape._blocks(points):
        k = len(range(points)[rows])
        for xc, _ in landscape.chunks(images):
            yield k, len(xc)


def batched_layers(layers) -> None:
    """Each (input h [k, n, i], weights w [k, o, i], output gradient g [k, n, o]): the
    layer's forward, its input gradient and its weight gradient as batched matmuls."""
    for h, w, g in layers:
        torch.bmm(h, w.transpose(1, 2))
        torch.bmm(g, w)
        torch.bmm(g.transpose(1, 2), h)


def activations(units) -> None:
    """Each hidden unit's softplus (the activation) and sigmoid (its derivative)."""
    for z in units:
        F.softplus(z)
        torch.sigmoid(z)


def lenet_primitives(k: int, n: int):
    """LeNet's matmuls and convolutions for k vectors on n images (forward and backward)."""
    patches = torch.randn(n * 784, 25)
    w1, b1 = torch.randn(k * 6, 25), torch.randn(k * 6)
    grad1 = torch.randn(n * 784, k * 6)
    x2 = torch.randn(n, k * 6, 14, 14).contiguous(memory_format=torch.channels_last)
    w2, b2 = torch.randn(k * 16, 6, 5, 5), torch.randn(k * 16)
    grad2 = torch.randn(n, k * 16, 10, 10).contiguous(memory_format=torch.channels_last)
    fc = [(torch.randn(k, n, i), torch.randn(k, o, i), torch.randn(k, n, o)) for i, o in ((400, 120), (120, 84), (84, 10))]
    units = [torch.randn(n * 784, k * 6), torch.randn(n, k * 16, 10, 10), torch.randn(k, n, 120), torch.randn(k, n, 84)]

    def run():
        torch.addmm(b1, patches, w1.T)  # conv1, as one matmul over the image patches
        grad1.T @ patches  # conv1's weight gradient (its input gradient is not needed)
        F.conv2d(x2, w2, b2, groups=k)  # conv2, one group per vector
        torch.ops.aten.convolution_backward(grad2, x2, w2, [k * 16], [1, 1], [0, 0], [1, 1], False,
                                            [0, 0], k, [True, True, False])
        batched_layers(fc)
        activations(units)

    return run


def lstm_primitives(k: int, n: int, steps: int = 28, hidden: int = 48, inputs: int = 28):
    """The LSTM's matmuls for k vectors on n images: the input projection of all steps and
    the weight gradients as single large matmuls, the recurrence step by step."""
    gates = 4 * hidden
    x = torch.randn(steps * n, inputs + 1)
    w_in = torch.randn(inputs + 1, k * gates)
    grad_gates = torch.randn(steps, n, k, gates)  # the layout in which the big matmuls need no copies
    hs = torch.randn(steps, n, k, hidden)
    w_hh = torch.randn(k, gates, hidden)
    acts = torch.empty(k, n, gates)
    cells = torch.randn(k, n, hidden)
    h_last, w_out = torch.randn(k, n, hidden), torch.randn(k, hidden, 10)

    def run():
        x @ w_in  # the input projection of every step and vector at once
        for t in range(1, steps):  # h_{-1} = 0: no recurrent product at the first step
            torch.bmm(hs[t - 1].transpose(0, 1), w_hh.transpose(1, 2), out=acts)
            torch.bmm(grad_gates[t].transpose(0, 1), w_hh)  # the gradient reaching h_{t-1}
        for t in range(steps):
            acts.sigmoid_()  # the four gates (tanh of the cell gate as a sigmoid of 2z)
            torch.sigmoid(cells)  # tanh(c_t), likewise
        grad_gates.view(steps * n, k * gates).T @ x  # input weights' gradient, all steps
        torch.bmm(grad_gates.view(steps * n, k, gates).permute(1, 2, 0),
                  hs.view(steps * n, k, hidden).transpose(0, 1))  # recurrent weights' gradient
        h_last @ w_out  # the output layer (tiny)

    return run


def dense_primitives(k: int, n: int, widths: tuple[int, ...], output_sigmoid: bool):
    """A bias-free fully connected network (FCP: 784-50-50-10; the autoencoder:
    784-32-32-32-784) for k vectors on n images: the first layer on the shared images
    and its weight gradient as single large matmuls, each later layer's three batched
    matmuls, and the activation and its derivative (softplus, sigmoid) once per hidden
    unit; the autoencoder's output sigmoid once more."""
    first, hidden = widths[0], widths[1:-1]
    x = torch.randn(n, first)
    w1 = torch.randn(k * widths[1], first)
    grad1 = torch.randn(n, k * widths[1])
    layers = [(torch.randn(k, n, i), torch.randn(k, o, i), torch.randn(k, n, o)) for i, o in zip(widths[1:], widths[2:])]
    units = [torch.randn(k, n, width) for width in hidden]
    output = torch.randn(k, n, widths[-1])

    def run():
        x @ w1.T  # the first layer, all vectors at once
        grad1.T @ x  # its weight gradient (its input gradient is not needed)
        batched_layers(layers)
        activations(units)
        if output_sigmoid:
            torch.sigmoid(output)

    return run


PRIMITIVES = {
    "fcp": lambda k, n: dense_primitives(k, n, (784, 50, 50, 10), output_sigmoid=False),
    "lenet": lenet_primitives,
    "autoencoder": lambda k, n: dense_primitives(k, n, (784, 32, 32, 32, 784), output_sigmoid=True),
    "lstm": lstm_primitives,
}


def measure(network: str, n_images: int, points: int, rounds: int) -> dict:
    torch.set_num_threads(THREADS)
    keep_freed_memory()
    net = build_network(network)
    generator = torch.Generator().manual_seed(0)
    landscape = NetworkLandscape(net, torch.rand(n_images, 784, generator=generator),
                                 torch.randint(0, 10, (n_images,), generator=generator))
    w_a, w_b = net.init_vector(0), net.init_vector(1)
    t = torch.linspace(0, 1, points)[1:-1, None]
    inner = (1 - t) * w_a + t * w_b
    parts = [PRIMITIVES[network](k, n) for k, n in pass_shapes(landscape, len(inner))]
    for part in parts[:2]:
        part()  # warm-up
    landscape.loss_and_grad(inner[0])
    stock = StockLoop(net, landscape.x, landscape.y)
    stock.loss_and_grad(inner[0])
    floors, loops, stocks = [], [], []
    for _ in range(rounds):
        floors.append(sum(timed(part) for part in parts))
        loops.append(timed(lambda: [landscape.loss_and_grad(w) for w in inner]))
        stocks.append(timed(lambda: [stock.loss_and_grad(w) for w in inner]))
    median = statistics.median
    return {"network": network, "floor_seconds": median(floors), "loop_seconds": median(loops),
            "max_speedup": median(loop / floor for loop, floor in zip(loops, floors)),
            "stock_seconds": median(stocks),
            "max_speedup_vs_stock": median(s / floor for s, floor in zip(stocks, floors))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", nargs="+", default=list(PRIMITIVES), choices=list(PRIMITIVES))
    n_train = load_config(Path(__file__).resolve().parents[1] / "config.yaml")["data"]["n_train"]
    parser.add_argument("--n-images", type=int, default=n_train, help="images (default: config.yaml's data.n_train)")
    parser.add_argument("--points", type=int, default=50, help="M, the points along the path")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the unrounded figures here")
    args = parser.parse_args()
    print(f"{args.n_images} images, M = {args.points}, {THREADS} threads, torch {torch.__version__}")
    print(f"{'network':<10}{'floor s':>9}{'loop s':>9}{'max speedup':>13}{'stock s':>9}{'vs stock':>10}")
    rows = []
    for network in args.networks:
        r = measure(network, args.n_images, args.points, args.rounds)
        rows.append(r)
        print(f"{network:<10}{r['floor_seconds']:>9.3f}{r['loop_seconds']:>9.2f}{r['max_speedup']:>12.2f}x"
              f"{r['stock_seconds']:>9.2f}{r['max_speedup_vs_stock']:>9.2f}x", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
