"""What every Snakemake job does before its real work: log file, threads, device."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Iterator

import torch


@contextlib.contextmanager
def job(log_path: str | None, threads: int = 1) -> Iterator[None]:
    """Send stdout/stderr (tqdm's bar, warnings, tracebacks) to the rule's log, pin threads.

    Any exception is written to the log and raised again, so Snakemake reports the job as
    failed and removes its outputs.
    """
    torch.set_num_threads(max(1, int(threads)))
    if not log_path:
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as log, contextlib.redirect_stderr(log), contextlib.redirect_stdout(log):
        try:
            yield
        except BaseException:
            import traceback

            traceback.print_exc(file=log)
            raise
