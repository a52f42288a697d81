"""The package's layout is its architecture: what each part may import.

- the library (the modules at the top of src/topography) imports design and other library
  modules, never jobs/, figures/ or workflow/; design imports the standard library alone;
- workflow/ (plumbing) imports design and workflow/ only;
- figures/ imports the library, design, figures/ and workflow/, never jobs/;
- jobs/ may import anything, and nothing imports jobs/.

Checked on the import statements (topography.workflow.imports), so a violation fails here
before it is ever run. Also: ``import topography`` gives the public API lazily, and no
module, script or notebook imports an API name from the package's top (the rules' code
inputs follow import statements, not the lazy table).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

import topography
from topography.workflow.imports import direct_imports
from workflow_helpers import REPO

PACKAGE = REPO / "src" / "topography"
PARTS = ("jobs", "figures", "workflow")
# part -> the parts it may import ("top": the package's own __init__)
ALLOWED = {
    "design": {"top", "design"},
    "library": {"top", "design", "library"},
    "workflow": {"top", "design", "workflow"},
    "figures": {"top", "design", "library", "workflow", "figures"},
    "jobs": {"top", "design", "library", "workflow", "figures", "jobs"},
    "top": {"top"},
}


def part(module: str) -> str:
    """The part of the package a dotted module name (module_closure's naming) belongs to."""
    first = module.split(".")[0]
    if module == "__init__":
        return "top"
    if first in PARTS:
        return first
    return "design" if module == "design" else "library"


def modules() -> list[str]:
    return sorted(".".join(p.relative_to(PACKAGE).with_suffix("").parts) for p in PACKAGE.rglob("*.py"))


def test_every_module_imports_only_what_its_part_may():
    broken = [(m, i) for m in modules() for i in direct_imports(m, PACKAGE) if part(i) not in ALLOWED[part(m)]]
    assert broken == []


def test_the_layering_check_sees_a_library_module_importing_workflow(tmp_path):
    package = tmp_path / "topography"
    (package / "workflow").mkdir(parents=True)
    for name, text in {"__init__.py": "", "landscape.py": "def f():\n    from .workflow.io import x\n",
                       "workflow/__init__.py": "", "workflow/io.py": "x = 1\n"}.items():
        (package / name).write_text(text)
    imported = direct_imports("landscape", package)
    assert "workflow.io" in imported and part("landscape") == "library"
    assert not {part(i) for i in imported} <= ALLOWED["library"]


def test_design_imports_the_standard_library_alone():
    tree = ast.parse((PACKAGE / "design.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    assert names <= set(sys.stdlib_module_names) | {"__future__"}, names


def test_every_sub_package_says_what_it_holds_and_may_import():
    for sub in PARTS:
        doc = ast.get_docstring(ast.parse((PACKAGE / sub / "__init__.py").read_text()))
        assert doc and "import" in doc, sub


def test_the_public_api_is_exported_lazily():
    run = subprocess.run([sys.executable, "-c", "import sys, topography; "
                          "assert 'torch' not in sys.modules, 'torch imported'; "
                          "assert callable(topography.find_path) and 'torch' in sys.modules; "
                          "print(sorted(topography.__all__))"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for name in topography.API:
        assert getattr(topography, name) is getattr(__import__(f"topography.{topography.API[name]}",
                                                                fromlist=[name]), name)
    with pytest.raises(AttributeError):
        topography.no_such_name


def test_nothing_imports_an_api_name_from_the_top():
    """``from topography import find_path`` would hide pathfinder from the rules' code inputs."""
    sources = [*PACKAGE.rglob("*.py"), *(REPO / "scripts").glob("*.py"), *(REPO / "bench").glob("*.py"),
               REPO / "notebooks" / "report.ipynb"]
    offending = []
    for source in sources:
        text = source.read_text()
        if source.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code")
            text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module == "topography" and not node.level:
                offending += [(source.name, a.name) for a in node.names if a.name in topography.API]
    assert offending == []
