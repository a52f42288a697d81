"""The documents' runnable examples run: docs/api.md's code blocks, in order, in one
namespace, in a scratch directory; whatever they assert or print must not fail."""

from __future__ import annotations

import contextlib
import io
import math
import re

from workflow_helpers import REPO


def python_blocks(path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_the_api_document_has_its_example():
    assert len(python_blocks(REPO / "docs" / "api.md")) >= 1


def test_the_api_example_runs_and_reports_a_path_and_a_curvature(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in python_blocks(REPO / "docs" / "api.md"):
            exec(compile(block, "docs/api.md", "exec"), namespace)
    path, curvature, landscape = namespace["path"], namespace["curvature"], namespace["landscape"]
    # what the example claims to show: two minima, a path between them no higher than the
    # straight line, a finite top eigenvalue
    assert landscape.loss(namespace["w_a"]) < 1e-3 and landscape.loss(namespace["w_b"]) < 1e-3
    assert path.height <= path.straight_height
    assert math.isfinite(curvature["lambda_1"]) and curvature["lambda_1"] > 0
    assert "barrier" in printed.getvalue()
