"""What every Snakemake job does before its real work: log file, threads, memory reuse.
No torch: table and figure jobs, which never import it, use this too."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Iterable, Iterator

from .io import remove_stale_temporaries
from .memory import keep_freed_memory


@contextlib.contextmanager
def job(log_path: str | None, threads: int = 1, outputs: Iterable[str] = ()) -> Iterator[None]:
    """Send stdout/stderr (tqdm's bar, warnings, tracebacks) to the rule's log, pin threads,
    and remove the temporary files that an earlier, killed attempt left next to ``outputs``.

    Any exception is written to the log and raised again, so Snakemake reports the job as
    failed and removes its outputs.
    """
    # A torch job's script has imported torch (through its job's module) before this runs;
    # the other jobs never load it, and pinning its threads would cost them the import.
    torch = sys.modules.get("torch")
    if torch is not None:
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
