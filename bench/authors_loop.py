"""The authors' own path step, as their notebook takes it: the bench's second baseline.

What ``path_finding_NN_architecture.ipynb`` (github.com/jy856-jpg/path-finding) does per
Adam step, written here in our words on the stock modules of bench/stock_loop.py:

- the path's points are built by a Python loop over the sine terms, with autograd on;
- per point, every parameter of the stock module is rebound to a view of the point's
  weights (``param.data = ...``: no copy), the gradients zeroed, one forward and backward
  pass on all images, the parameter gradients flattened by concatenation, and the
  coefficient gradients summed by hand, ``b_grad[n] += sin((n + 1) pi t_m) g_m`` for each
  n: no autograd through the path for the loss term;
- the length term sum |w_{m+1} - w_m|^2 by a Python loop over the segments, differentiated
  by autograd and added to the hand-summed gradient.

One difference, which favours this baseline: the notebook evaluates all M points every
step, the two fixed ends included; here, as in the package and the stock loop, only the
M - 2 inner points are (the ends' gradients carry sin(0) = sin(n pi) = 0 and their losses
are constants), so speedups against it are lower bounds by up to M / (M - 2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from stock_loop import stock_module
from topography.models import FlatNetwork


class AuthorsLoop:
    """The notebook's per-point loss and gradient on ``net``'s stock module, all of x at once."""

    def __init__(self, net: FlatNetwork, x: torch.Tensor, y: torch.Tensor):
        self.module = stock_module(net).to(x.dtype)
        self.params = list(self.module.parameters())
        assert [p.shape for p in self.params] == list(net.shapes), "stock module's parameters differ from the package's"
        self.reconstruct = net.task == "reconstruct"
        self.x, self.y = x.reshape(len(x), 784), y

    def loss_and_grad(self, w: torch.Tensor) -> tuple[float, torch.Tensor]:
        index = 0
        for p in self.params:  # rebound, not copied: the module computes on views of w
            p.data = w[index : index + p.numel()].view(p.shape)
            index += p.numel()
        self.module.zero_grad()
        with torch.enable_grad():
            out = self.module(self.x)
            loss = F.mse_loss(out, self.x) if self.reconstruct else F.cross_entropy(out, self.y)
            loss.backward()
        flat = torch.tensor([], dtype=w.dtype)
        for p in self.params:  # concatenated one parameter at a time, as the notebook does
            flat = torch.cat((flat, p.grad.flatten()))
        return loss.item(), flat


def authors_points(path, t: torch.Tensor) -> torch.Tensor:
    """The path's points [M, P], the sine terms added one at a time (autograd on)."""
    s = t.to(path.w_a)[:, None]
    points = (1 - s) * path.w_a + s * path.w_b
    for n in range(len(path.coefficients)):
        points = points + path.coefficients[n][None, :] * torch.sin((n + 1) * math.pi * s)
    return points


def authors_backward_objective(path, t: torch.Tensor, loop: AuthorsLoop, lam: float) -> float:
    """pathfinder.backward_objective as the notebook computes it: the inner points' losses
    plus lam * sum |w_{m+1} - w_m|^2, the gradient left in path.coefficients.grad."""
    points = authors_points(path, t)
    coefficient_grads = torch.zeros_like(path.coefficients)
    total = 0.0
    for m in range(1, len(t) - 1):
        loss, grad = loop.loss_and_grad(points[m].detach())
        for n in range(len(coefficient_grads)):
            coefficient_grads[n] += grad * torch.sin((n + 1) * math.pi * t[m]).to(grad.dtype)
        total += loss
    length_term = 0.0
    for m in range(len(t) - 1):
        length_term = length_term + torch.norm(points[m + 1] - points[m]) ** 2
    length_term = lam * length_term
    length_term.backward()
    path.coefficients.grad.add_(coefficient_grads)
    return total + float(length_term.detach())
