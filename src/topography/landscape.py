"""Loss landscapes: the loss as a function of a flat weight vector.

A landscape answers four questions, for one vector or for a batch of vectors (one per
row): the loss, and the loss with its gradient. "The loss" is always the average over the
whole data set (PAPER.md); the data are processed in chunks of ``chunk_size`` images so
that memory stays bounded for any data size, and per-chunk sums are added up before the
single division by the number of images.

Batches of vectors are evaluated with ``torch.func.vmap``: one call runs the network at
all vectors at once (batched matmuls, grouped convolutions), instead of a Python loop.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.func import vmap

from .models import FlatNetwork


class Landscape:
    """Interface shared by network landscapes and plain functions (the 2D toy)."""

    n_params: int

    def losses(self, weights: torch.Tensor) -> torch.Tensor:
        """Loss at each row of ``weights`` [K, P] -> [K], without gradients."""
        raise NotImplementedError

    def losses_and_grads(self, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Loss [K] and gradient [K, P] at each row of ``weights``."""
        raise NotImplementedError

    def loss(self, w: torch.Tensor) -> float:
        return float(self.losses(w.unsqueeze(0))[0])

    def loss_and_grad(self, w: torch.Tensor) -> tuple[float, torch.Tensor]:
        value, grad = self.losses_and_grads(w.unsqueeze(0))
        return float(value[0]), grad[0]


class FunctionLandscape(Landscape):
    """A landscape given by a function of one flat vector (a toy surface, a user's own)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], n_params: int):
        self.fn = fn
        self.n_params = n_params
        self._batched = vmap(fn)

    def losses(self, weights):
        with torch.no_grad():
            return self._batched(weights)

    def losses_and_grads(self, weights):
        weights = weights.detach().requires_grad_(True)
        with torch.enable_grad():
            values = self._batched(weights)
            (grads,) = torch.autograd.grad(values.sum(), weights)
        return values.detach(), grads


class NetworkLandscape(Landscape):
    """A network's mean loss over a data set (images ``x``, labels ``y``)."""

    def __init__(self, net: FlatNetwork, x: torch.Tensor, y: torch.Tensor, chunk_size: int | None = None):
        if len(x) != len(y):
            raise ValueError(f"{len(x)} images but {len(y)} labels")
        self.net = net
        self.x = x
        self.y = y
        self.n = len(x)
        self.n_params = net.n_params
        self.chunk_size = chunk_size or self.n
        # Sum of per-image losses over one chunk, for many weight vectors at once.
        self._batched_sum = vmap(lambda w, xc, yc: net.sample_losses(w, xc, yc).sum(), in_dims=(0, None, None))

    def chunks(self):
        for start in range(0, self.n, self.chunk_size):
            yield self.x[start : start + self.chunk_size], self.y[start : start + self.chunk_size]

    def losses(self, weights):
        total = weights.new_zeros(weights.shape[0])
        with torch.no_grad():
            for xc, yc in self.chunks():
                total += self._batched_sum(weights, xc, yc)
        return total / self.n

    def losses_and_grads(self, weights):
        weights = weights.detach().requires_grad_(True)
        total = weights.new_zeros(weights.shape[0])
        grads = torch.zeros_like(weights)
        with torch.enable_grad():
            for xc, yc in self.chunks():
                # The rows are independent, so the gradient of the summed losses holds
                # every row's own gradient; one backward pass serves the whole batch.
                sums = self._batched_sum(weights, xc, yc)
                (g,) = torch.autograd.grad(sums.sum(), weights)
                total += sums.detach()
                grads += g
        return total / self.n, grads / self.n

    # Single vectors skip vmap: a plain forward/backward is what training needs.
    def loss(self, w):
        with torch.no_grad():
            return float(sum(self.net.sample_losses(w, xc, yc).sum() for xc, yc in self.chunks()) / self.n)

    def loss_and_grad(self, w):
        w = w.detach().requires_grad_(True)
        total = 0.0
        grad = torch.zeros_like(w)
        with torch.enable_grad():
            for xc, yc in self.chunks():
                s = self.net.sample_losses(w, xc, yc).sum()
                (g,) = torch.autograd.grad(s, w)
                total += float(s.detach())
                grad += g
        return total / self.n, grad / self.n

    def accuracy(self, w) -> float:
        with torch.no_grad():
            correct = sum(int(self.net.correct(w, xc, yc)) for xc, yc in self.chunks())
        return correct / self.n
