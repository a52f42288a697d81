"""How every Snakemake job runs: what the rule gives it (:class:`Job`), and what each job
does before its real work (:func:`job`: log file, threads, memory reuse, stale
temporaries). No torch: table and figure jobs, which never import it, use this too.

Every job function of the package takes one :class:`Job`, so every script in scripts/ is
the same call, ``run(some_job, snakemake)``, and a test calls a job the same way with a
``Job`` of plain dicts.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

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


@dataclass(frozen=True)
class Job:
    """What a rule hands its job, as plain values: named ``input``, ``output`` (a file path,
    or a list of them), ``params`` and ``wildcards`` (strings, as Snakemake matched them),
    the ``config``, the ``log`` file and the ``threads``. A job function reads what it needs
    by name, e.g. ``job.input["set"]``, ``job.wildcards["network"]``."""

    input: Mapping[str, Any] = field(default_factory=dict)
    output: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    wildcards: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    log: str | None = None
    threads: int = 1

    @classmethod
    def from_snakemake(cls, smk) -> "Job":
        """The ``snakemake`` object of a rule's script as a Job. Every input and output of
        the rule must be named: the job reads them by name, never by position."""
        rule = getattr(smk, "rule", "?")
        return cls(
            input=_files(smk.input, f"rule {rule}: input"),
            output=_files(smk.output, f"rule {rule}: output"),
            params=dict(smk.params.items()),
            wildcards={k: str(v) for k, v in smk.wildcards.items()},
            config=smk.config,
            log=str(smk.log[0]) if len(smk.log) else None,
            threads=int(smk.threads),
        )

    def output_files(self) -> list[str]:
        """Every output file (a list-valued output contributes each of its files)."""
        return [f for value in self.output.values() for f in (value if isinstance(value, list) else [value])]


def _files(named, what: str) -> dict[str, str | list[str]]:
    """Snakemake's named input or output as name -> path (str) or list of paths."""
    files = {name: [str(f) for f in value] if isinstance(value, list) else str(value) for name, value in named.items()}
    counted = sum(len(v) if isinstance(v, list) else 1 for v in files.values())
    if counted != len(named):
        raise ValueError(f"{what} has {len(named) - counted} unnamed file(s): name every file (name=...)")
    return files


def run(function: Callable[[Job], Any], smk) -> Any:
    """A rule's script: ``function`` on the rule's :class:`Job`, inside :func:`job` (its log,
    threads, stale temporaries removed). What the job logs with ``logging`` (papermill,
    for one) goes to the log too, from INFO on."""
    spec = Job.from_snakemake(smk)
    with job(spec.log, spec.threads, outputs=spec.output_files()):
        handler = logging.StreamHandler(sys.stderr)  # the log file, inside job()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            return function(spec)
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
