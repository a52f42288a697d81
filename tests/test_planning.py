"""Building the DAG: what it imports, and the code inputs it gives each rule.

- planning (``snakemake -n``) runs no torch, matplotlib or pandas import, so it is quick at
  any scale and the Python that runs Snakemake needs none of the job stack;
- every rule's code inputs are the import closure of its script (topography.workflow.imports), and
  an edit to a module makes Snakemake redo exactly the rules that run it and what is
  downstream of them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from topography.workflow.imports import code_files, module_closure
from workflow_helpers import REPO, planned_jobs

HEAVY = {"torch", "matplotlib", "pandas", "numpy", "scipy", "sklearn", "seaborn"}
# What the workflow's planning may import besides the standard library and the package.
PLANNING_THIRD_PARTY = {"yaml", "jsonschema", "snakemake"}
PACKAGE = REPO / "src" / "topography"


def test_planning_imports_no_job_stack(plan):
    modules = {module.split(".")[0] for _, module in plan["imports"]}
    assert "jsonschema" in modules and "topography" in modules  # the record sees the package's imports
    heavy = sorted((f, m) for f, m in plan["imports"] if m.split(".")[0] in HEAVY)
    assert heavy == []
    other = modules - set(sys.stdlib_module_names) - PLANNING_THIRD_PARTY - {"topography"}
    assert other == set()


def test_every_rule_with_a_script_has_its_closure_as_code(plan):
    for name, rule in plan["rules"].items():
        if rule["script"] is None:
            continue
        script = (REPO / "workflow" / "rules" / rule["script"]).resolve()
        sources = [script] + ([REPO / "notebooks" / "report.ipynb"] if name == "report" else [])
        expected = [f"src/topography/{m.replace('.', '/')}.py" for m in module_closure(sources, PACKAGE)]
        assert rule["code"] == expected, name


def test_closure_follows_every_kind_of_import(tmp_path):
    package = tmp_path / "topography"
    package.mkdir()
    files = {
        "__init__.py": "",
        "a.py": "from .b import f\nimport numpy\n",
        "b.py": "def f():\n    from . import c\n",  # a function-level import counts
        "c.py": "import topography.d\n",
        "d.py": "from topography.e import x\n",
        "e.py": "x = 1\n",
        "unused.py": "import topography.a\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    script = tmp_path / "script.py"
    script.write_text("from topography.a import g\nimport os\n")
    assert module_closure(script, package) == ["__init__", "a", "b", "c", "d", "e"]
    notebook = tmp_path / "n.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["%matplotlib inline\n", "from topography import e\n"]},
                                              {"cell_type": "markdown", "source": "from topography import a"}]}))
    assert module_closure([notebook], package) == ["__init__", "e"]


def test_closure_follows_sub_packages_and_relative_imports_of_any_depth(tmp_path):
    """A module inside a sub-package, reached by absolute, relative and parent-relative
    imports, is in the closure with every package __init__ above it; none falls out."""
    package = tmp_path / "topography"
    (package / "jobs").mkdir(parents=True)
    (package / "figures" / "style").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "core.py": "x = 1\n",
        "unused.py": "",
        "jobs/__init__.py": "",
        "jobs/paths.py": "from ..core import x\nfrom . import helpers\nfrom ..figures.style import palette\n",
        "jobs/helpers.py": "import topography.figures.plots\n",
        "figures/__init__.py": "from .plots import draw\n",
        "figures/plots.py": "def draw():\n    from .style.palette import colours\n",
        "figures/style/__init__.py": "",
        "figures/style/palette.py": "colours = {}\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    script = tmp_path / "script.py"
    script.write_text("from topography.jobs.paths import run\n")
    assert module_closure(script, package) == sorted([
        "__init__", "core", "jobs.__init__", "jobs.paths", "jobs.helpers", "figures.__init__", "figures.plots",
        "figures.style.__init__", "figures.style.palette"])
    assert "figures/style/palette.py" in {str(Path(f).relative_to(package)) for f in code_files(script, package)}
    other = tmp_path / "figure_script.py"
    other.write_text("from topography.figures import plots\n")
    assert "figures.plots" in module_closure(other, package) and "jobs.paths" not in module_closure(other, package)


# Modules edited below: together their closures' rules cover every rule of the smoke preset.
TOUCHED = ["toy", "jobs.paths", "figures.barriers", "tables", "figures.crosscheck", "figures.plots", "jobs.geometry",
           "jobs.select", "claims", "curvature", "bezier", "jobs.train", "jobs.data"]


def _closure_rules(plan, module):
    return sorted(name for name, rule in plan["rules"].items() if f"src/topography/{module.replace('.', '/')}.py" in rule["code"])


def test_touched_modules_cover_every_rule(plan):
    covered = {r for m in TOUCHED for r in _closure_rules(plan, m)}
    assert covered == {name for name, rule in plan["rules"].items() if rule["script"]}


@pytest.fixture(scope="module")
def finished(smoke_run, tmp_path_factory):
    """A private copy of the finished smoke run (mtimes kept), to touch modules in."""
    workdir = tmp_path_factory.mktemp("touch") / "w"
    shutil.copytree(smoke_run, workdir, symlinks=True)
    return workdir


@pytest.fixture(scope="module")
def smoke_rules(finished):
    """The rules in the smoke run's DAG (download_mnist, for one, is not: its data are embedded)."""
    return set(planned_jobs(finished, "--configfile", "presets/smoke.yaml", "--forceall"))


@pytest.mark.parametrize("module", TOUCHED)
def test_an_edit_reruns_exactly_the_rules_that_run_it(plan, finished, smoke_rules, module):
    """Editing a module plans the same jobs as forcing the rules whose closure holds it:
    those rules and everything downstream, and nothing else."""
    smoke = ("--configfile", "presets/smoke.yaml")
    assert planned_jobs(finished, *smoke) == {}
    rules = [rule for rule in _closure_rules(plan, module) if rule in smoke_rules]
    assert rules, module
    expected = planned_jobs(finished, *smoke, "--forcerun", *rules)
    path = finished / "src" / "topography" / f"{module.replace('.', '/')}.py"
    original, stat = path.read_bytes(), path.stat()
    try:
        # An edit, not a touch: Snakemake (>= 9.18) reruns on an input's checksum, not its mtime alone.
        path.write_bytes(original + b"\n# edited\n")
        now = time.time_ns()
        os.utime(path, ns=(now, now))  # newer than every output (the copy kept the source's old mtimes)
        assert planned_jobs(finished, *smoke) == expected
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
