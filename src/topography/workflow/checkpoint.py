"""A training run's saved state, so that a killed run (walltime, preemption) resumes.

One file per run holds everything the run needs to go on exactly where it was: tensors
(weights, optimizer state, RNG states, best-so-far weights) in a safetensors file, and the
rest (epoch, history rows, best-so-far losses) as JSON in that file's header. It is written
to a temporary name and renamed, so a kill mid-write leaves the previous checkpoint intact,
and it is read without pickle.

The file carries a key: a hash of everything that decides the run's numbers (settings,
data, code, device, threads). A file whose key differs from the run's is not resumed.

SLURM sends SIGTERM at a job's time limit and SIGKILL some seconds later. :class:`StopSignal`
turns SIGTERM into a flag that the training loop reads between epochs, so the loop can save
its state and exit instead of dying mid-epoch.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Iterable, Mapping

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .io import atomic_path
from .mnist_files import sha256_of_file

# Bumped when the layout of the saved state changes, so an old file is not misread.
FORMAT = 1


def code_digest() -> str:
    """sha256 over the package's source files: a checkpoint from other code is not resumed.

    The whole package, not only the modules training imports: an edit anywhere costs a
    run its saved progress at worst, never a mixed result.
    """
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(settings: Mapping, data_files: Iterable[str | Path] = ()) -> str:
    """The hash that a checkpoint must carry to be resumed by a run with these settings.

    ``settings`` is every JSON-serialisable value that shapes the run's numbers; the data
    files' bytes, the package's code, torch's version and thread count and the format
    are added here.
    """
    record = {
        "format": FORMAT,
        "settings": settings,
        "data": [sha256_of_file(p) for p in data_files],
        "code": code_digest(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def log(message: str) -> None:
    print(f"checkpoint: {message}", file=sys.stderr, flush=True)


class Checkpoint:
    """Where a run keeps its state, how often it saves it (epochs), and its key."""

    def __init__(self, path: str | Path, every: int, key: str):
        self.path = Path(path)
        self.every = int(every)
        self.key = key

    def due(self, epoch: int) -> bool:
        return self.every > 0 and epoch % self.every == 0

    def save(self, tensors: Mapping[str, torch.Tensor], state: Mapping) -> None:
        """Write the state atomically (tensors as safetensors, ``state`` as JSON in the header)."""
        tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
        header = {"key": self.key, "state": json.dumps(state)}  # key order kept: rows become columns
        with atomic_path(self.path) as tmp:
            save_file(tensors, str(tmp), metadata=header)

    def load(self) -> tuple[dict[str, torch.Tensor], dict] | None:
        """The saved tensors and state, or None (with a log line) when there is nothing to
        resume: no file, an unreadable one, or one written for other settings."""
        if not self.path.exists():
            return None
        try:
            with safe_open(str(self.path), framework="pt") as f:
                header = f.metadata() or {}
                if header.get("key") != self.key:
                    log(f"{self.path} was written by a run with other settings, data or code "
                        f"(key {str(header.get('key'))[:12]}, this run {self.key[:12]}); starting afresh")
                    return None
                # clone: fresh, aligned memory, as the uninterrupted run's tensors have
                tensors = {name: f.get_tensor(name).clone() for name in f.keys()}
            state = json.loads(header["state"])
        except Exception as error:  # a file we cannot read is no progress to keep
            log(f"{self.path} cannot be read ({error}); starting afresh")
            return None
        return tensors, state

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class StopSignal:
    """Within ``with StopSignal() as stop:``, SIGTERM sets ``stop.requested`` instead of
    killing the process; the previous handler comes back on exit. Outside the main thread
    (where Python cannot install handlers) SIGTERM keeps its usual effect."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        self.requested = True  # only a flag: printing here could re-enter a stream mid-write

    def __enter__(self) -> "StopSignal":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None


class Interrupted(SystemExit):
    """Raised after the state was saved on SIGTERM: exits with 128 + SIGTERM, as a process
    killed by the signal would, so Snakemake and SLURM see a failed job."""

    def __init__(self, message: str):
        super().__init__(128 + signal.SIGTERM)
        self.message = message

    def __str__(self) -> str:
        return self.message
