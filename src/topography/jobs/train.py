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

A run given a :class:`~topography.workflow.checkpoint.Checkpoint` saves its whole state every few
epochs and on SIGTERM, and a rerun resumes from it with results identical to the bit.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import pandas as pd
import torch
from tqdm import tqdm

from ..workflow.checkpoint import Checkpoint, Interrupted, StopSignal, log, run_key
from ..workflow.device import resolve_device
from ..landscape import NetworkLandscape
from ..models import FlatNetwork
from ..optim import LBFGSGSS
from ..workflow.runtime import Job

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
    checkpoint: Checkpoint | None = None,
) -> RunResult:
    """Train ``net`` from the initialisation drawn from ``seed``.

    ``settings`` is the optimizer's config section: for "sgd" lr, momentum, batch_size,
    epochs, stop; for "lbfgs" max_iterations, history, initial_fraction, budget, tol,
    line_search (optim.LINE_SEARCHES), stop.
    ``stop`` holds the :class:`StoppingRule`'s loss_floor, window and rel_tol.

    With a ``checkpoint``, the run starts from its saved state when there is one for these
    settings, saves its state every ``checkpoint.every`` epochs, and on SIGTERM saves it at
    the end of the epoch and raises :class:`Interrupted`. A resumed run ends with the same
    numbers, bit for bit, as one that was never stopped.
    """
    device = train.x.device
    w = net.init_vector(seed).to(device)
    rows: list[dict] = []
    train_losses: list[float] = []
    best = {"train": Best(), "test": Best()}
    rule = StoppingRule.from_settings(settings)

    def record(epoch: int, w: torch.Tensor) -> float:
        train_loss, train_acc = evaluate(train, w)
        test_loss, test_acc = evaluate(test, w)
        rows.append(dict(epoch=epoch, split="train", loss=train_loss, accuracy=train_acc))
        rows.append(dict(epoch=epoch, split="test", loss=test_loss, accuracy=test_acc))
        best["train"].update(train_loss, epoch, w)
        best["test"].update(test_loss, epoch, w)
        train_losses.append(train_loss)
        return train_loss

    if optimizer == "sgd":
        epochs, stops_early = settings["epochs"], False
        stepper = _SGDEpochs(net, w, train, settings, seed)
    elif optimizer == "lbfgs":
        epochs, stops_early = settings["max_iterations"], True
        stepper = _LBFGSIterations(train, settings)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected 'sgd' or 'lbfgs'")

    def save(epoch: int, w: torch.Tensor, reason: str) -> None:
        tensors = {"w": w, "rng.torch": torch.get_rng_state()}
        tensors.update({f"optimizer.{k}": v for k, v in stepper.state_dict().items()})
        tensors.update({f"best.{k}": b.weights for k, b in best.items() if b.weights is not None})
        records = {k: [b.loss, b.epoch] for k, b in best.items()}
        checkpoint.save(tensors, dict(epoch=epoch, rows=rows, best=records, reason=reason))

    start = 0
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is None:
        record(0, w)
    else:
        tensors, state = saved
        start = int(state["epoch"])
        w = tensors["w"].to(device)
        torch.set_rng_state(tensors["rng.torch"])
        stepper.load_state_dict({k.split(".", 1)[1]: v.to(device) for k, v in tensors.items() if k.startswith("optimizer.")})
        for k, (loss, at) in state["best"].items():
            weights = tensors.get(f"best.{k}")
            best[k] = Best(loss, at, None if weights is None else weights.to(device))
        rows.extend(state["rows"])
        train_losses.extend(row["loss"] for row in rows if row["split"] == "train")
        log(f"resuming from {checkpoint.path} at epoch {start}")

    stop_reason, epoch = None, start
    bar = tqdm(total=epochs, initial=start, desc=f"{net.name}/{optimizer}/seed{seed}", disable=not progress, mininterval=2.0)
    with StopSignal() if checkpoint is not None else contextlib.nullcontext() as stop:
        for epoch in range(start + 1, epochs + 1):
            w = stepper.step(w)
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
            if checkpoint is not None and (stop.requested or checkpoint.due(epoch)):
                save(epoch, w, "signal" if stop.requested else "every")
                if stop.requested:
                    bar.close()
                    message = f"stopped by SIGTERM after epoch {epoch}; state saved to {checkpoint.path}, a rerun resumes"
                    log(message)
                    raise Interrupted(message)
    bar.close()
    if stop_reason is None:  # the cap or the fixed epoch count was reached
        stop_reason = "converged" if rule.converged(train_losses) else "budget"

    history = pd.DataFrame(rows)
    history.insert(0, "seed", seed)
    history.insert(0, "optimizer", optimizer)
    history.insert(0, "network", net.name)
    history["stop_reason"] = stop_reason
    return RunResult(history, best["train"], best["test"], stop_reason, epoch)


class _SGDEpochs:
    """Plain mini-batch SGD (optional heavy-ball momentum), reshuffled every epoch.

    ``step(w)`` runs one epoch and returns the weights after it, or None once they stop
    being finite. The state between epochs is the velocity and the data-order generator.
    """

    def __init__(self, net: FlatNetwork, w: torch.Tensor, train: NetworkLandscape, settings: dict, seed: int):
        self.net, self.train = net, train
        self.lr, self.momentum = settings["lr"], settings.get("momentum", 0.0)
        self.batch = settings["batch_size"]
        self.generator = torch.Generator().manual_seed(seed)
        self.velocity = torch.zeros_like(w)

    def step(self, w: torch.Tensor) -> torch.Tensor | None:
        net, train = self.net, self.train
        order = torch.randperm(train.n, generator=self.generator).to(w.device)
        for start in range(0, train.n, self.batch):
            idx = order[start : start + self.batch]
            w.requires_grad_(True)
            loss = net.loss(w, train.x[idx], train.y[idx])
            (grad,) = torch.autograd.grad(loss, w)
            with torch.no_grad():
                self.velocity.mul_(self.momentum).add_(grad)
                w = w.detach() - self.lr * self.velocity
        return w if torch.isfinite(w).all() else None

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"velocity": self.velocity, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.velocity = state["velocity"]
        self.generator.set_state(state["generator"].cpu())


class _LBFGSIterations:
    """Full-batch L-BFGS-GSS; ``step(w)`` is one iteration, None on divergence."""

    def __init__(self, train: NetworkLandscape, settings: dict):
        self.optimizer = LBFGSGSS(
            train.loss,
            train.loss_and_grad,
            history=settings["history"],
            initial_fraction=settings["initial_fraction"],
            budget=settings["budget"],
            tol=settings["tol"],
            line_search=settings["line_search"],
        )
        self.resets = 0

    def step(self, w: torch.Tensor) -> torch.Tensor | None:
        info = self.optimizer.step(w)
        self.resets = self.resets + 1 if info.nonfinite else 0
        if self.resets >= MAX_CONSECUTIVE_RESETS or not torch.isfinite(info.w).all():
            return None
        return info.w

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.optimizer.state_dict(), resets=torch.tensor(self.resets))

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.resets = int(state.pop("resets"))
        self.optimizer.load_state_dict(state)


def train_job(job: Job) -> RunResult:
    """The ``train`` rule: read the prepared data, train, write history and both weights.

    input: train, test (the prepared data); output: history, train, test (the weights at
    the best training and the best test loss); params: model, settings (the run's, from
    config.run_settings), chunk_size, device, checkpoint; wildcards: network, optimizer,
    seed. The weights' sidecars carry the run's provenance; nothing in them depends on
    wall time, so reruns are byte-identical.

    ``params["checkpoint"]`` is where the run keeps its state (outside the rule's outputs,
    so that Snakemake leaves it when the job fails): saved every
    ``config["train"]["checkpoint_every"]`` epochs (0 or absent: only on SIGTERM), resumed
    by a rerun with the same settings, data and code, and removed once the outputs are
    written. None: no checkpoint. How often it is saved changes no result, so it is read
    from the config, not a param (a changed param makes Snakemake redo finished runs).
    """
    network, optimizer, seed = job.wildcards["network"], job.wildcards["optimizer"], int(job.wildcards["seed"])
    train_data, test_data, outputs = job.input["train"], job.input["test"], job.output
    model, settings, chunk_size = job.params["model"], job.params["settings"], job.params["chunk_size"]
    device, checkpoint = job.params.get("device", "auto"), job.params.get("checkpoint")
    checkpoint_every = job.config.get("train", {}).get("checkpoint_every", 0)
    from .data import load_prepared
    from ..workflow.io import save_vector, write_csv
    from ..models import build_network
    from ..workflow.provenance import provenance

    dev = resolve_device(device)
    net = build_network(network, **model).to(dev)
    landscapes = {}
    for split, path in (("train", train_data), ("test", test_data)):
        x, y, _ = load_prepared(path)
        landscapes[split] = NetworkLandscape(net, x.to(dev), y.to(dev), chunk_size)
    state = None
    if checkpoint is not None:
        # Everything that shapes the run's numbers; how often it is saved does not.
        run = dict(network=network, optimizer=optimizer, seed=seed, model=model, settings=settings,
                   chunk_size=chunk_size, device=str(dev))
        state = Checkpoint(checkpoint, checkpoint_every, run_key(run, [train_data, test_data]))
    result = train_run(net, optimizer, seed, landscapes["train"], landscapes["test"], settings, checkpoint=state)

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
    if state is not None:
        state.remove()  # the outputs are complete: nothing left to resume
    return result


def _finite_or_none(loss: float) -> float | None:
    """A best loss for the sidecar: None (JSON null) for a run that never had a finite
    one, since JSON has no infinity and the workflow writes only valid JSON."""
    return loss if math.isfinite(loss) else None
