"""The conda environments of envs/ (checked without creating them: no channel is reachable
here): every file parses, every rule names one, each provides every third-party module its
rule's script and the package modules it runs import, and the pins are requirements.lock's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from topography.workflow.imports import third_party_imports
from workflow_helpers import REPO

ENVS = sorted((REPO / "envs").glob("*.yaml"))
# Import name -> the distribution that provides it, where the two differ.
DISTRIBUTION = {"yaml": "pyyaml", "sklearn": "scikit-learn", "IPython": "ipython"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(env_file: Path) -> dict[str, str]:
    """Distribution -> version of an environment's pip section."""
    spec = yaml.safe_load(env_file.read_text())
    assert set(spec) >= {"channels", "dependencies"}, env_file
    pip = [d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, f"{env_file.name}: one pip section expected"
    out = {}
    for line in pip[0]:
        name, sep, version = line.partition("==")
        assert sep, f"{env_file.name}: {line!r} is not pinned"
        out[_normalise(name)] = version
    return out


def test_there_is_an_environment_per_kind_of_rule():
    assert {e.stem for e in ENVS} == {"torch", "analysis", "report"}
    assert "torch" not in pins(REPO / "envs" / "analysis.yaml")


@pytest.mark.parametrize("env_file", ENVS, ids=lambda p: p.name)
def test_pins_agree_with_requirements_lock(env_file):
    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.split(";")[0].strip().partition("==")
            lock[_normalise(name)] = version.split("+")[0]
    for name, version in pins(env_file).items():
        assert name in lock, f"{env_file.name}: {name} is not in requirements.lock"
        assert lock[name] == version.split("+")[0], f"{env_file.name}: {name}=={version}, lock {lock[name]}"


def test_every_rule_names_an_environment_that_holds_its_imports(plan):
    for name, rule in plan["rules"].items():
        if rule["script"] is None:
            continue
        assert rule["conda"], f"rule {name} names no conda environment"
        env_file = (REPO / "workflow" / "rules" / rule["conda"]).resolve()
        assert env_file in ENVS, f"rule {name}: {rule['conda']}"
        script = (REPO / "workflow" / "rules" / rule["script"]).resolve()
        sources = [script] + ([REPO / "notebooks" / "report.ipynb"] if name == "report" else [])
        needed = {_normalise(DISTRIBUTION.get(m, m)) for m in third_party_imports(sources, REPO / "src" / "topography")}
        missing = needed - set(pins(env_file))
        assert not missing, f"rule {name}: {env_file.name} lacks {', '.join(sorted(missing))}"


def test_table_and_figure_rules_do_not_import_torch(plan):
    for name, rule in plan["rules"].items():
        if rule["conda"] and rule["conda"].endswith("analysis.yaml"):
            script = (REPO / "workflow" / "rules" / rule["script"]).resolve()
            assert "torch" not in third_party_imports([script], REPO / "src" / "topography"), name
