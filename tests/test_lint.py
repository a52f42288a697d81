"""The workflow's own style checks: Snakemake's linter and snakefmt.

``snakemake --lint`` has no finding: common.smk sets PYTHONPATH for the jobs (so that
local, cluster and conda jobs all find src/, with nothing for the user to export) and
declares it with an ``envvars`` directive. Any finding fails here, and so does a rule file
that snakefmt would change.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from workflow_helpers import REPO, SNAKEMAKE

def lint_findings(output: str) -> list[tuple[str, str]]:
    """(file name, first line of the finding) for each finding in --lint's text report."""
    findings, current = [], None
    for line in output.splitlines():
        if match := re.match(r"Lints for (?:snakefile|rule) (.+?):?$", line):
            current = Path(match.group(1).split(" (")[0]).name
        elif match := re.match(r"\s+\* (.+?)(?: in line \d+)?\.?:?$", line):
            findings.append((current, match.group(1)))
    return findings


def test_snakemake_lint_finds_nothing():
    run = subprocess.run([SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=600)
    findings = lint_findings(run.stdout + run.stderr)
    assert findings == [], run.stdout + run.stderr


def test_lint_report_parsing_sees_rule_findings():
    report = (
        "Lints for rule train (line 1, /x/workflow/rules/train.smk):\n"
        "    * No log directive defined:\n      Without a log directive...\n"
    )
    assert lint_findings(report) == [("train", "No log directive defined")]


def test_snakefmt_leaves_every_rule_file_as_it_is():
    snakefmt = str(Path(sys.executable).with_name("snakefmt"))
    files = ["Snakefile", *sorted(str(p.relative_to(REPO)) for p in (REPO / "workflow" / "rules").glob("*.smk"))]
    run = subprocess.run([snakefmt, "--check", *files], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
