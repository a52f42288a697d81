"""Which package modules a script runs: the import closure, read from the source with
``ast`` (nothing is imported). The workflow gives each rule the closure of its script as
code inputs, so an edit to a module reruns exactly the rules that can run it (and what
is downstream of them), and the lists can never go stale. Standard library only: the DAG
is built with it.

Every import statement counts, at module level or inside a function: a function-level
import runs when the job calls that function, and which functions a job calls is not
known without running it.
"""

from __future__ import annotations

import ast
import functools
import json
import sys
from pathlib import Path

PACKAGE = "topography"


def _imported_modules(source: Path, package_dir: Path, in_package: bool) -> set[str]:
    """The package modules (by name, without the package) that ``source`` imports."""
    found = set()
    for node in ast.walk(ast.parse(_python_source(source), filename=str(source))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    found.add(parts[1] if len(parts) > 1 else "__init__")
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y, from . import x
                if not in_package:
                    continue
                base = node.module.split(".")[0] if node.module else None
            elif node.module and node.module.split(".")[0] == PACKAGE:
                parts = node.module.split(".")
                base = parts[1] if len(parts) > 1 else None
            else:
                continue
            if base is not None:
                found.add(base)
            else:  # from topography import x / from . import x: x may be a module
                found.update(a.name for a in node.names if (package_dir / f"{a.name}.py").exists())
                found.add("__init__")
    return {name for name in found if (package_dir / f"{name}.py").exists()}


def _python_source(source: Path) -> str:
    """A .py file's text, or the code cells of a notebook (IPython magics left out)."""
    if source.suffix != ".ipynb":
        return source.read_text()
    cells = json.loads(source.read_text())["cells"]
    code = ("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells if c["cell_type"] == "code")
    return "\n".join(line for cell in code for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


@functools.cache
def _closure(scripts: tuple[Path, ...], package_dir: Path) -> frozenset[str]:
    todo = [name for script in scripts for name in _imported_modules(script, package_dir, in_package=False)]
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_imported_modules(package_dir / f"{name}.py", package_dir, in_package=True))
    if seen:
        seen.add("__init__")  # importing any module of the package runs its __init__
    return frozenset(seen)


def module_closure(scripts, package_dir: str | Path) -> list[str]:
    """The names of the modules of ``package_dir`` that ``scripts`` (a path or several:
    Python files or notebooks) run, sorted."""
    scripts = [scripts] if isinstance(scripts, (str, Path)) else scripts
    return sorted(_closure(tuple(Path(s).resolve() for s in scripts), Path(package_dir).resolve()))


def code_files(scripts, package_dir: str | Path, relative_to: str | Path | None = None) -> list[str]:
    """The files of :func:`module_closure`, as paths (relative to ``relative_to`` if given)."""
    package_dir = Path(package_dir)
    files = [package_dir / f"{name}.py" for name in module_closure(scripts, package_dir)]
    if relative_to is not None:
        files = [f.resolve().relative_to(Path(relative_to).resolve()) for f in files]
    return [str(f) for f in files]


def third_party_imports(scripts, package_dir: str | Path) -> set[str]:
    """The top-level names of the modules outside the standard library and the package that
    ``scripts`` and the package modules they run import (what their environment must hold)."""
    scripts = [scripts] if isinstance(scripts, (str, Path)) else list(scripts)
    package_dir = Path(package_dir)
    sources = [Path(s) for s in scripts] + [package_dir / f"{m}.py" for m in module_closure(scripts, package_dir)]
    names = set()
    for source in sources:
        for node in ast.walk(ast.parse(_python_source(source), filename=str(source))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != PACKAGE}
