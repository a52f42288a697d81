"""What every Snakemake job does before its real work: log file, threads, memory reuse."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterable, Iterator

import torch

from .io import remove_stale_temporaries
from .landscape import keep_freed_memory


@contextlib.contextmanager
def job(log_path: str | None, threads: int = 1, outputs: Iterable[str] = ()) -> Iterator[None]:
    """Send stdout/stderr (tqdm's bar, warnings, tracebacks) to the rule's log, pin threads,
    and remove the temporary files that an earlier, killed attempt left next to ``outputs``.

    Any exception is written to the log and raised again, so Snakemake reports the job as
    failed and removes its outputs.
    """
    torch.set_num_threads(max(1, int(threads)))
    keep_freed_memory()  # large temporaries reuse pages instead of faulting in fresh ones
    removed = remove_stale_temporaries(outputs)
    if not log_path:
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as log, contextlib.redirect_stderr(log), contextlib.redirect_stdout(log):
        for path in removed:
            print(f"removed {path}, left by an earlier attempt that was killed", flush=True)
        try:
            yield
        except BaseException:
            import traceback

            traceback.print_exc(file=log)
            raise


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config device is 'cuda' but torch sees no CUDA device")
    return torch.device(name)
