"""The job layer: a rule's snakemake object becomes one Job of plain values, and run()
calls a job function with it inside runtime.job (log, stale temporaries)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from snakemake.iocontainers import Namedlist

from topography.workflow.runtime import Job, run


def named(files: list, names: dict) -> Namedlist:
    """A Namedlist as Snakemake builds a rule's input or output: flat files, names over
    single files (index) or slices (index, end)."""
    out = Namedlist(toclone=files)
    for name, span in names.items():
        out._set_name(name, *span)
    return out


def fake_snakemake(tmp_path, output=None):
    return SimpleNamespace(
        rule="demo",
        input=named(["a.csv", "b1.json", "b2.json"], {"table": (0,), "records": (1, 3)}),
        output=output if output is not None else named([str(tmp_path / "out.csv")], {"table": (0,)}),
        params=named([{"k": 1}, 0.5], {"settings": (0,), "tol": (1,)}),
        wildcards=named(["fcp", "3"], {"network": (0,), "seed": (1,)}),
        config={"seed": 7},
        log=[str(tmp_path / "logs" / "demo.log")],
        threads=2,
    )


def test_a_job_holds_the_rules_names_as_plain_values(tmp_path):
    job = Job.from_snakemake(fake_snakemake(tmp_path))
    assert job.input == {"table": "a.csv", "records": ["b1.json", "b2.json"]}
    assert type(job.input["table"]) is str and type(job.input["records"]) is list
    assert job.params == {"settings": {"k": 1}, "tol": 0.5}
    assert job.wildcards == {"network": "fcp", "seed": "3"}
    assert job.output_files() == [str(tmp_path / "out.csv")]
    assert (job.config, job.log, job.threads) == ({"seed": 7}, str(tmp_path / "logs" / "demo.log"), 2)


def test_an_unnamed_file_is_refused_naming_the_rule(tmp_path):
    output = named([str(tmp_path / "a"), str(tmp_path / "b")], {"a": (0,)})
    with pytest.raises(ValueError, match="rule demo: output has 1 unnamed file"):
        Job.from_snakemake(fake_snakemake(tmp_path, output))


def test_run_calls_the_job_with_its_log_and_removes_stale_temporaries(tmp_path):
    from topography.workflow.io import TMP_PREFIX, TMP_SUFFIX

    smk = fake_snakemake(tmp_path)
    stale = tmp_path / f"{TMP_PREFIX}out.csv.killed{TMP_SUFFIX}"  # what a killed atomic write leaves
    stale.write_text("half")
    seen = []

    def demo_job(job: Job) -> str:
        seen.append(job)
        print("working on", job.wildcards["network"])
        logging.getLogger("papermill").info("a library's progress")
        return "result"

    handlers = list(logging.getLogger().handlers)
    assert run(demo_job, smk) == "result"
    assert seen[0].input["records"] == ["b1.json", "b2.json"]
    log = (tmp_path / "logs" / "demo.log").read_text()
    assert "working on fcp" in log and "papermill a library's progress" in log
    assert not stale.exists() and f"removed {stale}" in log
    assert logging.getLogger().handlers == handlers  # the log's handler is taken down


def test_a_failing_job_is_logged_and_raised(tmp_path):
    def broken_job(job: Job) -> None:
        raise ValueError("results/x.csv lacks the column seed")

    with pytest.raises(ValueError, match="lacks the column"):
        run(broken_job, fake_snakemake(tmp_path))
    assert "ValueError: results/x.csv lacks the column seed" in (tmp_path / "logs" / "demo.log").read_text()
