"""One training run: a network from one random initialisation, with SGD or L-BFGS-GSS.

Per epoch (for L-BFGS-GSS an epoch is one full-batch iteration, as the paper counts) the
run records the training and test loss over the whole sets, and keeps two weight vectors:
the one with the lowest training loss ("train") and the one with the lowest test loss
("test", i.e. early stopping). Epoch 0 is the initialisation.

Runs are trained out, as the paper's are, and say why they stopped (``stop_reason``):

- ``converged``: the training loss met the optimizer's stopping rule (:class:`StoppingRule`);
- ``budget``: the cap was reached while the loss was still falling by the rule's measure;
- ``diverged``: the weights or the loss stopped being finite.

L-BFGS-GSS stops as soon as its rule holds, with ``max_iterations`` as the cap. SGD runs
its fixed number of epochs at a fixed rate (plain SGD, as in the paper); its rule is read
on the finished history, so a plateau early on does not end it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import torch
from tqdm import tqdm

from .landscape import NetworkLandscape
from .models import FlatNetwork
from .optim import LBFGSGSS
from .runtime import resolve_device

# L-BFGS-GSS resets its history on a non-finite loss; this many resets in a row and the
# run is given up as diverged (it cannot recover from a point where the loss is NaN).
MAX_CONSECUTIVE_RESETS = 3


@dataclass
class Best:
    """The weights at the lowest value of one loss seen so far."""

    loss: float = math.inf
    epoch: int = -1
    weights: torch.Tensor | None = None

    def update(self, loss: float, epoch: int, w: torch.Tensor) -> None:
        if math.isfinite(loss) and loss < self.loss:
            self.loss, self.epoch, self.weights = loss, epoch, w.detach().clone()


STOP_REASONS = ("converged", "budget", "diverged")


@dataclass(frozen=True)
class StoppingRule:
    """When a training loss counts as converged.

    Converged when the loss is at or below ``loss_floor``, or when the lowest loss seen
    fell by less than the fraction ``rel_tol`` over the last ``window`` epochs. The floor
    serves losses with no finite minimum (cross-entropy on a training set the network
    separates keeps shrinking as the weights grow) and the precision of a float32 loss;
    the relative decrease serves losses that level off (the autoencoder's).
    """

    loss_floor: float
    window: int
    rel_tol: float

    @classmethod
    def from_settings(cls, settings: dict) -> "StoppingRule":
        stop = settings["stop"]
        return cls(float(stop["loss_floor"]), int(stop["window"]), float(stop["rel_tol"]))

    def converged(self, losses: list[float]) -> bool:
        """Whether the training losses of epochs 0, 1, ..., t meet the rule at epoch t."""
        if not losses or not math.isfinite(losses[-1]):
            return False
        if losses[-1] <= self.loss_floor:
            return True
        if len(losses) <= self.window:
            return False
        before = min(losses[: len(losses) - self.window])
        now = min(before, min(losses[len(losses) - self.window :]))
        return (before - now) < self.rel_tol * before


@dataclass
class RunResult:
    history: pd.DataFrame
    best_train: Best
    best_test: Best
    stop_reason: str  # one of STOP_REASONS
    epochs_run: int
    extra: dict = field(default_factory=dict)


def evaluate(landscape: NetworkLandscape, w: torch.Tensor) -> tuple[float, float]:
    """Mean loss and accuracy (NaN for the autoencoder) over the whole data set, from one
    forward pass: this runs every epoch, on both sets."""
    return landscape.loss_and_accuracy(w)


def train_run(
    net: FlatNetwork,
    optimizer: str,
    seed: int,
    train: NetworkLandscape,
    test: NetworkLandscape,
    settings: dict,
    progress: bool = True,
) -> RunResult:
    """Train ``net`` from the initialisation drawn from ``seed``.

    ``settings`` is the optimizer's config section: for "sgd" lr, momentum, batch_size,
    epochs, stop; for "lbfgs" max_iterations, history, initial_fraction, budget, tol, stop.
    ``stop`` holds the :class:`StoppingRule`'s loss_floor, window and rel_tol.
    """
    device = train.x.device
    w = net.init_vector(seed).to(device)
    rows: list[dict] = []
    train_losses: list[float] = []
    best_train, best_test = Best(), Best()
    rule = StoppingRule.from_settings(settings)

    def record(epoch: int, w: torch.Tensor) -> float:
        train_loss, train_acc = evaluate(train, w)
        test_loss, test_acc = evaluate(test, w)
        rows.append(dict(epoch=epoch, split="train", loss=train_loss, accuracy=train_acc))
        rows.append(dict(epoch=epoch, split="test", loss=test_loss, accuracy=test_acc))
        best_train.update(train_loss, epoch, w)
        best_test.update(test_loss, epoch, w)
        train_losses.append(train_loss)
        return train_loss

    record(0, w)
    if optimizer == "sgd":
        epochs, stops_early = settings["epochs"], False
        stepper = _sgd_epochs(net, w, train, settings, seed)
    elif optimizer == "lbfgs":
        epochs, stops_early = settings["max_iterations"], True
        stepper = _lbfgs_iterations(w, train, settings)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected 'sgd' or 'lbfgs'")

    stop_reason, epoch = None, 0
    bar = tqdm(total=epochs, desc=f"{net.name}/{optimizer}/seed{seed}", disable=not progress, mininterval=2.0)
    for epoch, w in enumerate(stepper, start=1):
        train_loss = record(epoch, w) if w is not None else math.nan
        bar.update(1)
        bar.set_postfix(train_loss=f"{train_loss:.4g}")
        if w is None or not math.isfinite(train_loss):
            stop_reason = "diverged"
            break
        if stops_early and rule.converged(train_losses):
            stop_reason = "converged"
            break
        if epoch >= epochs:
            break
    bar.close()
    if stop_reason is None:  # the cap or the fixed epoch count was reached
        stop_reason = "converged" if rule.converged(train_losses) else "budget"

    history = pd.DataFrame(rows)
    history.insert(0, "seed", seed)
    history.insert(0, "optimizer", optimizer)
    history.insert(0, "network", net.name)
    history["stop_reason"] = stop_reason
    return RunResult(history, best_train, best_test, stop_reason, epoch)


def _sgd_epochs(net: FlatNetwork, w: torch.Tensor, train: NetworkLandscape, settings: dict, seed: int):
    """Plain mini-batch SGD (optional heavy-ball momentum), reshuffled every epoch.

    Yields the weights after each epoch, or None once they stop being finite.
    """
    lr, momentum, batch = settings["lr"], settings.get("momentum", 0.0), settings["batch_size"]
    generator = torch.Generator().manual_seed(seed)
    velocity = torch.zeros_like(w)
    while True:
        order = torch.randperm(train.n, generator=generator).to(w.device)
        for start in range(0, train.n, batch):
            idx = order[start : start + batch]
            w.requires_grad_(True)
            loss = net.loss(w, train.x[idx], train.y[idx])
            (grad,) = torch.autograd.grad(loss, w)
            with torch.no_grad():
                velocity.mul_(momentum).add_(grad)
                w = w.detach() - lr * velocity
        if not torch.isfinite(w).all():
            yield None
            return
        yield w


def _lbfgs_iterations(w: torch.Tensor, train: NetworkLandscape, settings: dict):
    """Full-batch L-BFGS-GSS; yields the weights after each iteration, None on divergence."""
    optimizer = LBFGSGSS(
        train.loss,
        train.loss_and_grad,
        history=settings["history"],
        initial_fraction=settings["initial_fraction"],
        budget=settings["budget"],
        tol=settings["tol"],
    )
    resets = 0
    while True:
        info = optimizer.step(w)
        w = info.w
        resets = resets + 1 if info.nonfinite else 0
        if resets >= MAX_CONSECUTIVE_RESETS or not torch.isfinite(w).all():
            yield None
            return
        yield w


def train_job(
    *,
    network: str,
    optimizer: str,
    seed: int,
    train_data: str,
    test_data: str,
    outputs: dict,
    model: dict,
    settings: dict,
    chunk_size: int,
    device: str = "auto",
) -> RunResult:
    """The ``train`` rule: read the prepared data, train, write history and both weights.

    ``outputs`` maps history / train / test to file paths. The weights' sidecars carry the
    run's provenance; nothing in them depends on wall time, so reruns are byte-identical.
    """
    from .data import load_prepared
    from .io import save_vector, write_csv
    from .models import build_network
    from .provenance import provenance

    dev = resolve_device(device)
    net = build_network(network, model["activation"], model["lstm_permutation_seed"]).to(dev)
    landscapes = {}
    for split, path in (("train", train_data), ("test", test_data)):
        x, y, _ = load_prepared(path)
        landscapes[split] = NetworkLandscape(net, x.to(dev), y.to(dev), chunk_size)
    result = train_run(net, optimizer, seed, landscapes["train"], landscapes["test"], settings)

    hashed = {"model": model, "optimizer": optimizer, "settings": settings}
    base = provenance(
        hashed,
        network=network,
        optimizer=optimizer,
        seed=seed,
        n_params=net.n_params,
        stop_reason=result.stop_reason,
        epochs_run=result.epochs_run,
        train_loss=_finite_or_none(result.best_train.loss),
        train_epoch=result.best_train.epoch,
        test_loss=_finite_or_none(result.best_test.loss),
        test_epoch=result.best_test.epoch,
    )
    write_csv(outputs["history"], result.history)
    for kind, best in (("train", result.best_train), ("test", result.best_test)):
        # A run that diverged before any finite loss keeps its initial weights; it is
        # marked diverged and the select stage leaves it out.
        weights = best.weights if best.weights is not None else net.init_vector(seed)
        save_vector(outputs[kind], weights.cpu().numpy(), dict(base, kind=kind, epoch=best.epoch))
    return result


def _finite_or_none(loss: float) -> float | None:
    """A best loss for the sidecar: None (JSON null) for a run that never had a finite
    one, since JSON has no infinity and the workflow writes only valid JSON."""
    return loss if math.isfinite(loss) else None
