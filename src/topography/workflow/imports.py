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


def _module_file(package_dir: Path, name: str) -> Path:
    """The file of a module named by its dotted path inside the package: ``"__init__"`` is the
    package's own, ``"figures.plots"`` is figures/plots.py, ``"jobs.__init__"`` jobs/__init__.py."""
    return package_dir.joinpath(*name.split(".")).with_suffix(".py")


def _resolve(dotted: str, package_dir: Path) -> set[str]:
    """The modules that importing ``dotted`` (a path inside the package, "" for the package)
    runs: the module itself, or a sub-package's __init__, and the __init__ of every package
    above it; nothing when no such module exists (an attribute, say)."""
    parts = [p for p in dotted.split(".") if p]
    if package_dir.joinpath(*parts, "__init__.py").exists():
        found = {".".join([*parts, "__init__"])}
    elif parts and package_dir.joinpath(*parts).with_suffix(".py").exists():
        found = {".".join(parts)}
    else:
        return set()
    for depth in range(len(parts)):
        found.add(".".join([*parts[:depth], "__init__"]))
    return found


def _imported_modules(source: Path, package_dir: Path, module: str | None) -> set[str]:
    """The package modules (dotted names inside the package) that ``source`` imports;
    ``module`` is its own dotted name when it is a module of the package (None for a script),
    which relative imports are resolved against."""
    found = set()
    for node in ast.walk(ast.parse(_python_source(source), filename=str(source))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    found |= _resolve(".".join(parts[1:]), package_dir)
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:  # relative: from .x import y, from .. import x
            if module is None:
                continue
            package = module.split(".")[:-1]  # a module's package; an __init__'s own package
            if node.level - 1 > len(package):
                continue
            base = package[: len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
        elif node.module and node.module.split(".")[0] == PACKAGE:
            base = node.module.split(".")[1:]
        else:
            continue
        found |= _resolve(".".join(base), package_dir)
        for alias in node.names:  # from x import name: name may be a module of x
            found |= _resolve(".".join([*base, alias.name]), package_dir)
    return found


def _python_source(source: Path) -> str:
    """A .py file's text, or the code cells of a notebook (IPython magics left out)."""
    if source.suffix != ".ipynb":
        return source.read_text()
    cells = json.loads(source.read_text())["cells"]
    code = ("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells if c["cell_type"] == "code")
    return "\n".join(line for cell in code for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


@functools.cache
def _closure(scripts: tuple[Path, ...], package_dir: Path) -> frozenset[str]:
    todo = [name for script in scripts for name in _imported_modules(script, package_dir, module=None)]
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_imported_modules(_module_file(package_dir, name), package_dir, module=name))
    if seen:
        seen.add("__init__")  # importing any module of the package runs its __init__
    return frozenset(seen)


def direct_imports(module: str, package_dir: str | Path) -> list[str]:
    """The package modules (dotted names, as :func:`module_closure` gives them) that the
    package module ``module`` imports itself, sorted: its edges in the import graph."""
    package_dir = Path(package_dir).resolve()
    return sorted(_imported_modules(_module_file(package_dir, module), package_dir, module=module))


def module_closure(scripts, package_dir: str | Path) -> list[str]:
    """The dotted names (inside the package, sub-packages' modules included) of the modules
    of ``package_dir`` that ``scripts`` (a path or several: Python files or notebooks) run,
    sorted; "__init__" is the package's own, "sub.__init__" a sub-package's."""
    scripts = [scripts] if isinstance(scripts, (str, Path)) else scripts
    return sorted(_closure(tuple(Path(s).resolve() for s in scripts), Path(package_dir).resolve()))


def code_files(scripts, package_dir: str | Path, relative_to: str | Path | None = None) -> list[str]:
    """The files of :func:`module_closure`, as paths (relative to ``relative_to`` if given)."""
    package_dir = Path(package_dir)
    files = [_module_file(package_dir, name) for name in module_closure(scripts, package_dir)]
    if relative_to is not None:
        files = [f.resolve().relative_to(Path(relative_to).resolve()) for f in files]
    return [str(f) for f in files]


def third_party_imports(scripts, package_dir: str | Path) -> set[str]:
    """The top-level names of the modules outside the standard library and the package that
    ``scripts`` and the package modules they run import (what their environment must hold)."""
    scripts = [scripts] if isinstance(scripts, (str, Path)) else list(scripts)
    package_dir = Path(package_dir)
    sources = [Path(s) for s in scripts] + [_module_file(package_dir, m) for m in module_closure(scripts, package_dir)]
    names = set()
    for source in sources:
        for node in ast.walk(ast.parse(_python_source(source), filename=str(source))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != PACKAGE}
