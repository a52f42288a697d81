"""The baseline a user would otherwise run: a path step as a loop over torch's stock modules.

Per path point, the point's weights are copied into an ``nn.Module`` built from stock
layers (``nn.Linear``; ``nn.Conv2d`` with average pooling; ``nn.LSTM``, whose CPU forward
and backward are torch's fused kernels), then one forward and backward pass on all images
gives that point's loss and gradient. The gradients are carried to the Fourier
coefficients by autograd through the path, as a user would write it (the package does the
same algebra in closed form, see topography.pathfinder._PathAlgebra), so a call here is
the same step as topography.pathfinder.backward_objective's (tests/test_bench.py checks
they agree).

The modules hold the same parameters as topography's, in the same order, so a flat
weight vector of the package fills them in order.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from topography.models import ACTIVATIONS, NETWORKS as BUILT_IN, FlatNetwork


class StockFCP(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.act = ACTIVATIONS[activation]
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 50, bias=False), nn.Linear(50, 50, bias=False), nn.Linear(50, 10, bias=False)

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


class StockLeNet(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.act = ACTIVATIONS[activation]
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)
        self.pool = nn.AvgPool2d(2)

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x.view(-1, 1, 28, 28))))
        x = self.pool(self.act(self.conv2(x))).flatten(1)
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


class StockAutoencoder(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.act = ACTIVATIONS[activation]
        self.enc1, self.enc2 = nn.Linear(784, 32, bias=False), nn.Linear(32, 32, bias=False)
        self.dec1, self.dec2 = nn.Linear(32, 32, bias=False), nn.Linear(32, 784, bias=False)

    def forward(self, x):
        h = self.act(self.dec1(self.act(self.enc2(self.act(self.enc1(x))))))
        return torch.sigmoid(self.dec2(h))


class StockLSTM(nn.Module):
    """nn.LSTM over the 28 rows of 28 permuted pixels; the last hidden state -> 10 classes."""

    def __init__(self, permutation):
        super().__init__()
        self.lstm = nn.LSTM(28, 48, batch_first=True)
        self.fc = nn.Linear(48, 10, bias=False)
        self.register_buffer("permutation", permutation.clone())

    def forward(self, x):
        _, (h, _) = self.lstm(x[:, self.permutation].view(-1, 28, 28))
        return self.fc(h[0])


def stock_module(net: FlatNetwork) -> nn.Module:
    """The stock-layer module of ``net`` (same activation, same LSTM pixel permutation); a
    researcher's own network is its own module, already made of stock layers."""
    if net.spec.custom or net.name not in BUILT_IN:
        return copy.deepcopy(net.module)
    if net.name == "lstm":
        return StockLSTM(net.buffers["permutation"])
    return {"fcp": StockFCP, "lenet": StockLeNet, "autoencoder": StockAutoencoder}[net.name](net.spec.activation)


class StockLoop:
    """Loss and gradient of ``net``'s stock module at one weight vector at a time, on all of x."""

    def __init__(self, net: FlatNetwork, x: torch.Tensor, y: torch.Tensor):
        self.module = stock_module(net).to(x.dtype)
        self.params = list(self.module.parameters())
        assert [p.shape for p in self.params] == list(net.shapes), "stock module's parameters differ from the package's"
        self.sizes = [p.numel() for p in self.params]
        self.reconstruct = net.task == "reconstruct"
        self.x, self.y = (x.reshape(len(x), 784) if net.name in BUILT_IN and not net.spec.custom else x), y

    def loss_and_grad(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            for p, chunk in zip(self.params, w.split(self.sizes)):
                p.copy_(chunk.view_as(p))  # copied in place: nn.LSTM keeps its flat weight buffer
        for p in self.params:
            p.grad = None
        with torch.enable_grad():
            out = self.module(self.x)
            loss = F.mse_loss(out, self.x) if self.reconstruct else F.cross_entropy(out, self.y)
            loss.backward()
        return loss.detach(), torch.cat([p.grad.reshape(-1) for p in self.params])


def stock_backward_objective(path, t: torch.Tensor, loop: StockLoop, lam: float) -> float:
    """pathfinder.backward_objective with the stock loop for the inner points' losses and gradients."""
    points = path(t)
    inner = points[1:-1]
    losses, grads = [], torch.empty_like(inner)
    for m, w in enumerate(inner.detach()):
        loss, grads[m] = loop.loss_and_grad(w)
        losses.append(loss)
    length_term = lam * points.diff(dim=0).pow(2).sum()
    torch.autograd.backward([inner, length_term], [grads, torch.ones_like(length_term)])
    return float(torch.stack(losses).sum() + length_term.detach())
