"""The report: its helpers (the paper's numbers beside ours, the claims matrix, the claims
job on files), the notebook job's failure behaviour, and the report rendered from the smoke
run. The claims' statistics and verdicts are tests/test_claims.py's."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from topography import claims
from topography.jobs.report import (claims_matrix_html, paper_values, report_job, table_one_beside_paper,
                               toy_heights_beside_paper, weight_stats_beside_paper)
from topography.workflow.runtime import Job


# --- helpers of the report


def test_the_papers_numbers_stand_beside_ours_with_the_ratio():
    paper = paper_values()
    table1 = pd.DataFrame(dict(network=["fcp", "autoencoder", "mine"], optimizer=["lbfgs", "sgd", "sgd"],
                               train_loss_mean=[2.52e-8, 4.57e-2, 1.0], test_loss_mean=[0.1, 0.1, 0.1]))
    shown = table_one_beside_paper(table1, paper)
    assert list(shown.paper_n_params[:2]) == [42200, 52224]
    assert list(shown.paper_train_loss[:2]) == [1.26e-8, 4.57e-2]  # Table I, page 6
    assert shown.train_loss_ratio[:2].tolist() == pytest.approx([2.0, 1.0])
    assert shown.paper_train_loss[2] == "not in the paper" and np.isnan(shown.train_loss_ratio[2])
    stats = pd.DataFrame(dict(network=["lstm"], set=["lbfgs-train"], mean=[0.0], std=[0.733]))
    assert weight_stats_beside_paper(stats, paper).std_ratio[0] == pytest.approx(1.0)  # Table S1, page 17
    toy = pd.DataFrame(dict(path=["straight", "lambda=10"], height=[1.102, 0.323]))
    assert toy_heights_beside_paper(toy, paper).height_ratio.tolist() == pytest.approx([1.0, 0.5])  # Fig 3


def test_every_number_of_the_paper_is_recorded_with_its_page():
    paper = paper_values()
    for entry in ("n_params", "table1", "tableS1", "toy_heights"):
        assert isinstance(paper[entry]["page"], int), entry
    means = paper["table1"]["means"]
    assert all(v is not None for n in means.values() for o in n.values() for v in o.values())
    assert all(v is not None for n in paper["tableS1"]["values"].values() for s in n.values() for v in s.values())
    assert None not in paper["toy_heights"]["values"].values()


def test_the_claims_matrix_shows_every_claim_and_network_in_its_verdicts_colour():
    summary = pd.DataFrame(dict(claim=["a", "a", "b", "b"], finding=[1, 1, 0, 0], network=["fcp", "lstm"] * 2,
                                statement=["s1", "s1", "s2", "s2"], expected=["holds"] * 4,
                                verdict=["reproduced", "contradicted", "not shown", "underpowered"],
                                effect=["0.1", "2", "", "1"], why=["w"] * 4))
    soup = BeautifulSoup(claims_matrix_html(summary, {"fcp": "FCP"}), "html.parser")
    assert [th.get_text() for th in soup.find("thead").find_all("th")] == ["claim", "FCP", "lstm"]
    cells = soup.find("tbody").find_all("td")
    assert [c.find("b").get_text() for c in cells] == list(summary.verdict)
    for cell, v in zip(cells, summary.verdict):
        assert claims.VERDICT_COLOURS[v] in cell["style"]
    assert soup.find("tbody").find_all("th")[0].get_text() == "1. s1"


def test_a_failing_cell_fails_the_job_naming_it_and_leaves_no_report(tmp_path):
    import papermill

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('table is empty')")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    out = tmp_path / "out"
    with pytest.raises(papermill.PapermillExecutionError, match="table is empty"):
        report_job(Job(input={"notebook": path}, params={"parameters": {}}, log=str(tmp_path / "report.log"),
                       output={"html": out / "report.html", "executed": out / "report.ipynb"}))
    assert not (out / "report.html").exists() and not (out / "report.ipynb").exists()
    assert list(out.iterdir()) == []  # no scratch directory left either
    assert (tmp_path / "report.failed.ipynb").exists()


# --- the report of the smoke run


SECTIONS = ("Claims", "What was run", "Table I", "Loss curves", "Toy landscape", "Barriers",
            "Weight statistics (Table S1)", "Distances", "Kernel PCA", "Claims in detail", "Provenance")


@pytest.mark.workflow
def test_the_smoke_run_renders_a_self_contained_report(smoke_run):
    html_path = smoke_run / "results" / "report" / "report.html"
    html = html_path.read_text()
    soup = BeautifulSoup(html, "html.parser")

    headings = [h.get_text().rstrip("¶").strip() for h in soup.find_all(["h1", "h2"])]
    for section in SECTIONS:
        assert any(h.startswith(section) for h in headings), (section, headings)

    # figures embedded, nothing fetched from elsewhere, no code shown
    images = soup.find_all("img")
    assert len(images) >= 10 and all(img["src"].startswith("data:image/png;base64,") for img in images)
    assert not soup.find_all("script", src=True) and not soup.find_all("link", href=re.compile("^http"))
    assert "claims.evaluate_claims" not in html

    matrix = soup.find("table", class_="claims-matrix")
    assert len(matrix.find("tbody").find_all("tr")) == len(claims.CLAIMS)
    table = soup.find("table", class_="claims-table")
    header = [th.get_text() for th in table.find("thead").find_all("th")]
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    cells = [dict(zip(header, row)) for row in rows]
    pairs = [(c["claim"], c["network"]) for c in cells]
    assert len(pairs) == len(set(pairs)) == len(claims.CLAIMS) * 2  # smoke: FCP and the autoencoder
    assert {c["network"] for c in cells} == {"FCP", "Autoencoder"}
    assert all(c["verdict"] in claims.VERDICTS for c in cells)
    # two runs and one pair per set in the smoke preset: no claim can be decided, and the
    # report says so rather than passing or failing any
    assert {c["verdict"] for c in cells} == {"underpowered"}
    written = pd.read_csv(smoke_run / "results" / "tables" / "claims.csv")
    assert len(written) == len(cells) and set(written.verdict) == {"underpowered"}
    parts = pd.read_csv(smoke_run / "results" / "tables" / "claim_parts.csv")
    assert {"p_value", "p_adjusted", "smallest_p", "detectable_effect", "verdict"} <= set(parts.columns)

    executed = nbformat.read(smoke_run / "results" / "report" / "report.ipynb", as_version=4)
    assert any("injected-parameters" in cell.metadata.get("tags", []) for cell in executed.cells)
    assert not list((smoke_run / "results" / "report").glob(".report.*"))
