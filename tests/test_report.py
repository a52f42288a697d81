"""The report: claim verdicts on synthetic tables whose answer is known, the notebook job's
failure behaviour, and the report rendered from the smoke run."""

from __future__ import annotations

import math
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from topography import claims
from topography.claims import Thresholds, evaluate_claims
from topography.report import report_job, table_one_beside_paper, paper_values
from topography.runtime import Job

FAST = Thresholds(n_resamples=500)


# --- synthetic tables


def runs_table(network, lbfgs_losses, sgd_losses, column="train_loss"):
    rows = []
    for optimizer, losses in (("lbfgs", lbfgs_losses), ("sgd", sgd_losses)):
        for seed, loss in enumerate(losses):
            rows.append(dict(network=network, optimizer=optimizer, seed=seed, stop_reason="converged", selected=True,
                             train_loss=loss, test_loss=loss, n_params=10))
    return pd.DataFrame(rows)


def spread(center, factor, n, rng):
    """n values around ``center`` scattered by a few per cent, on the log scale."""
    return center * np.exp(rng.normal(0, math.log(factor), n))


def verdict(claim, inputs, network="fcp", thresholds=FAST):
    summary, details = evaluate_claims(inputs, [network], thresholds, claims=[claim])
    assert len(summary) == 1
    return summary.verdict.iloc[0], details


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# --- claim 1: lower training loss


def test_clearly_lower_lbfgs_training_loss_is_reproduced(rng):
    runs = runs_table("fcp", spread(1e-7, 1.5, 8, rng), spread(1e-3, 1.5, 8, rng))
    result, details = verdict("lower_train_loss", {"runs": runs})
    assert result == "reproduced"
    assert details.effect.iloc[0] < 1e-3 and details.p_value.iloc[0] < 0.01
    assert details.ci_low.iloc[0] <= details.effect.iloc[0] <= details.ci_high.iloc[0]


def test_higher_lbfgs_training_loss_is_not_reproduced(rng):
    runs = runs_table("fcp", spread(1e-3, 1.5, 8, rng), spread(1e-7, 1.5, 8, rng))
    result, details = verdict("lower_train_loss", {"runs": runs})
    assert result == "not reproduced"
    assert details.reason.iloc[0].startswith("reversed")


def test_two_runs_per_optimizer_are_inconclusive(rng):
    runs = runs_table("fcp", [1e-8, 2e-8], [1e-2, 2e-2])
    result, details = verdict("lower_train_loss", {"runs": runs})
    assert result == "inconclusive"
    assert details.outcome.iloc[0] == "too few"


def test_three_runs_cannot_reach_alpha_and_are_inconclusive():
    # 1 / C(6, 3) = 0.05: no one-sided rank test on 3 + 3 runs gets below alpha = 0.05
    runs = runs_table("fcp", [1e-8, 2e-8, 3e-8], [1e-2, 2e-2, 3e-2])
    assert verdict("lower_train_loss", {"runs": runs})[0] == "inconclusive"


def test_unselected_and_failed_runs_do_not_count(rng):
    runs = runs_table("fcp", spread(1e-7, 1.5, 8, rng), spread(1e-3, 1.5, 8, rng))
    runs.loc[runs.optimizer == "sgd", "selected"] = [True, True] + [False] * 6
    assert verdict("lower_train_loss", {"runs": runs})[0] == "inconclusive"


# --- claim 2: comparable test losses


def test_equal_test_losses_are_comparable(rng):
    runs = runs_table("fcp", spread(0.10, 1.05, 10, rng), spread(0.10, 1.05, 10, rng))
    assert verdict("comparable_test_loss", {"runs": runs})[0] == "reproduced"


def test_test_losses_three_times_apart_are_not_comparable(rng):
    runs = runs_table("fcp", spread(0.30, 1.05, 10, rng), spread(0.10, 1.05, 10, rng))
    result, details = verdict("comparable_test_loss", {"runs": runs})
    assert result == "not reproduced"
    assert details.ci_low.iloc[0] > 1.5  # the interval lies outside the margin too


def test_comparable_with_two_runs_is_inconclusive():
    assert verdict("comparable_test_loss", {"runs": runs_table("fcp", [0.1, 0.1], [0.1, 0.1])})[0] == "inconclusive"


# --- claim 3: barriers


def barrier_table(network, sgd_heights, lbfgs_heights, converged=None):
    rows = []
    for landscape, sets in (("train", ("sgd-train", "lbfgs-train", "sgd-test", "lbfgs-test")), ("test", ("sgd-test", "lbfgs-test"))):
        for name in sets:
            heights = sgd_heights if name.startswith("sgd") else lbfgs_heights
            for pair, height in enumerate(heights):
                rows.append(dict(network=network, landscape=landscape, set=name, pair=pair, height=height))
    table = pd.DataFrame(rows)
    if converged is not None:
        table["converged"] = converged
    return table


def test_lower_sgd_barriers_are_reproduced_on_every_landscape(rng):
    barriers = barrier_table("fcp", spread(0.1, 1.2, 10, rng), spread(1.0, 1.2, 10, rng), converged=True)
    result, details = verdict("lower_sgd_barriers", {"barriers": barriers})
    assert result == "reproduced"
    assert len(details) == 3 and (details.effect < 0).all()  # Hodges-Lehmann shift SGD - L-BFGS-GSS
    assert (details.convergence == "20/20 paths converged").all()


def test_higher_sgd_barriers_are_not_reproduced(rng):
    barriers = barrier_table("lenet", spread(1.0, 1.2, 10, rng), spread(0.1, 1.2, 10, rng))
    result, details = verdict("lower_sgd_barriers", {"barriers": barriers}, network="lenet")
    assert result == "not reproduced"
    assert (details.convergence == "path convergence not recorded").all()


def test_the_autoencoder_is_the_papers_exception(rng):
    lower = barrier_table("autoencoder", spread(0.1, 1.2, 10, rng), spread(1.0, 1.2, 10, rng))
    higher = barrier_table("autoencoder", spread(1.0, 1.2, 10, rng), spread(0.1, 1.2, 10, rng))
    assert verdict("lower_sgd_barriers", {"barriers": lower}, network="autoencoder")[0] == "not reproduced"
    assert verdict("lower_sgd_barriers", {"barriers": higher}, network="autoencoder")[0] == "reproduced"


def test_one_pair_per_set_is_inconclusive():
    assert verdict("lower_sgd_barriers", {"barriers": barrier_table("fcp", [0.1], [1.0])})[0] == "inconclusive"


# --- claim 4: spread


def moments_and_distances(network, lbfgs_scale, sgd_scale, n, rng, n_params=500):
    moments, distances = [], []
    sets = {name: rng.normal(0, lbfgs_scale if name.startswith("lbfgs") else sgd_scale, (n, n_params))
            for name in ("lbfgs-train", "lbfgs-test", "sgd-test")}
    for name, vectors in sets.items():
        for index, vector in enumerate(vectors):
            moments.append(dict(network=network, set=name, index=index, mean=vector.mean(), mean_sq=(vector**2).mean()))
    for a, b in claims.GEOMETRY_COMPARISONS:
        origin = (sets[a].mean(0) + sets[b].mean(0)) / 2
        for name in (a, b):
            for index, vector in enumerate(sets[name]):
                distances.append(dict(network=network, comparison=f"{a}_vs_{b}", set=name, kind="vector",
                                      index=index, distance=np.linalg.norm(vector - origin)))
    return {"moments": pd.DataFrame(moments), "distances": pd.DataFrame(distances)}


def test_more_spread_lbfgs_sets_are_reproduced(rng):
    result, details = verdict("lbfgs_more_spread", moments_and_distances("fcp", 2.0, 1.0, 6, rng))
    assert result == "reproduced"
    std_rows = details[details.part.str.startswith("component std")]
    assert len(details) == 4 and np.allclose(std_rows.effect, 2.0, rtol=0.1)


def test_less_spread_lbfgs_sets_are_not_reproduced(rng):
    assert verdict("lbfgs_more_spread", moments_and_distances("fcp", 1.0, 2.0, 6, rng))[0] == "not reproduced"


def test_pooled_std_ratio_matches_numpy(rng):
    a, b = rng.normal(0.1, 2.0, (5, 300)), rng.normal(-0.2, 1.0, (4, 300))
    pack = lambda x: x.mean(1) + 1j * (x**2).mean(1)  # noqa: E731
    assert claims.pooled_std_ratio(pack(a), pack(b)) == pytest.approx(a.std() / b.std())


# --- claim 5: kernel PCA


def projections(network, separated: dict[str, bool], n=6):
    rows = []
    for kernel, apart in separated.items():
        for index in range(n):
            rows.append(dict(network=network, comparison="lbfgs-train_vs_sgd-test", kernel=kernel, set="lbfgs-train",
                             index=index, pc1=(10.0 if apart else 0.0) + index))
            rows.append(dict(network=network, comparison="lbfgs-train_vs_sgd-test", kernel=kernel, set="sgd-test",
                             index=index, pc1=-(10.0 if apart else 0.0) + index + 0.5))
    return pd.DataFrame(rows)


def test_only_the_rbf_kernel_separating_is_reproduced():
    table = projections("fcp", {"rbf": True, "linear": False, "poly": False, "sigmoid": False})
    result, details = verdict("rbf_kernel_separates", {"projections": table})
    assert result == "reproduced"
    assert details.set_index("part").loc["rbf kernel", "effect"] == 1.0


def test_every_kernel_separating_is_not_reproduced():
    table = projections("fcp", {"rbf": True, "linear": True, "poly": False, "sigmoid": False})
    assert verdict("rbf_kernel_separates", {"projections": table})[0] == "not reproduced"


def test_rbf_not_separating_is_not_reproduced():
    table = projections("fcp", {"rbf": False, "linear": False, "poly": False, "sigmoid": False})
    assert verdict("rbf_kernel_separates", {"projections": table})[0] == "not reproduced"


def test_two_vectors_per_set_cannot_show_separation():
    table = projections("fcp", {"rbf": True, "linear": False, "poly": False, "sigmoid": False}, n=2)
    assert verdict("rbf_kernel_separates", {"projections": table})[0] == "inconclusive"


# --- the table of claims


def test_sets_of_one_vector_are_inconclusive_for_every_claim(rng):
    inputs = moments_and_distances("fcp", 2.0, 1.0, 1, rng)
    inputs["runs"] = runs_table("fcp", [1e-8], [1e-2])
    inputs["projections"] = projections("fcp", {"rbf": True, "linear": False, "poly": False, "sigmoid": False}, n=1)
    inputs["barriers"] = None  # one vector per set: no pairs, no paths
    summary, _ = evaluate_claims(inputs, ["fcp"], FAST)
    assert (summary.verdict == "inconclusive").all()



def test_every_claim_gives_one_verdict_per_network_and_absent_tables_say_so(rng):
    runs = pd.concat([runs_table(n, spread(1e-7, 1.5, 6, rng), spread(1e-3, 1.5, 6, rng)) for n in ("fcp", "lstm")])
    summary, _ = evaluate_claims({"runs": runs, "barriers": None}, ["fcp", "lstm"], FAST)
    assert len(summary) == len(claims.CLAIMS) * 2
    assert not summary.duplicated(["claim", "network"]).any()
    assert set(summary.verdict) <= set(claims.VERDICTS)
    barrier_rows = summary[summary.claim == "lower_sgd_barriers"]
    assert (barrier_rows.verdict == "inconclusive").all() and barrier_rows.why.str.contains("no barriers table").all()


def test_same_tables_give_the_same_numbers(rng):
    barriers = barrier_table("fcp", spread(0.1, 1.2, 10, rng), spread(1.0, 1.2, 10, rng))
    first = evaluate_claims({"barriers": barriers}, ["fcp"], FAST, claims=["lower_sgd_barriers"])[1]
    second = evaluate_claims({"barriers": barriers}, ["fcp"], FAST, claims=["lower_sgd_barriers"])[1]
    pd.testing.assert_frame_equal(first, second)


def test_thresholds_from_config_name_a_bad_key():
    assert Thresholds.from_config({"alpha": 0.01}).alpha == 0.01
    with pytest.raises(ValueError, match="report.aplha"):
        Thresholds.from_config({"aplha": 0.01})
    with pytest.raises(ValueError, match="report.alpha"):
        Thresholds.from_config({"alpha": 2})


def test_hodges_lehmann_is_the_median_pairwise_difference():
    a, b = np.array([1.0, 2.0, 7.0]), np.array([0.0, 3.0])
    assert claims.hodges_lehmann(a, b) == np.median([1, -2, 2, -1, 7, 4])


# --- helpers of the report


def test_table_one_sets_the_papers_values_beside_and_leaves_unknown_ones_unknown():
    table1 = pd.DataFrame(dict(network=["fcp", "autoencoder"], optimizer=["lbfgs", "lbfgs"], train_loss_mean=[1.0, 2.0]))
    shown = table_one_beside_paper(table1, paper_values())
    assert list(shown.paper_n_params) == [42200, 52224]
    assert list(shown.paper_train_loss_range) == ["1e-08 to 1e-06", "not yet recorded"]
    assert (shown.paper_train_loss == "not yet recorded").all()


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

    table = soup.find("table", class_="claims-table")
    header = [th.get_text() for th in table.find("thead").find_all("th")]
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    cells = [dict(zip(header, row)) for row in rows]
    pairs = [(c["claim"], c["network"]) for c in cells]
    assert len(pairs) == len(set(pairs)) == len(claims.CLAIMS) * 2  # smoke: FCP and the autoencoder
    assert {c["network"] for c in cells} == {"FCP", "Autoencoder"}
    assert all(c["verdict"] in claims.VERDICTS for c in cells)
    # two runs and one pair per set in the smoke preset: none of the paper's claims can be
    # decided (the curvature and Bezier claims pool vectors and pairs, so they can be)
    paper_claims = {"lower_train_loss", "comparable_test_loss", "lower_sgd_barriers", "lbfgs_more_spread",
                    "rbf_kernel_separates"}
    assert paper_claims < {c["claim"] for c in cells}
    assert {c["verdict"] for c in cells if c["claim"] in paper_claims} == {"inconclusive"}

    executed = nbformat.read(smoke_run / "results" / "report" / "report.ipynb", as_version=4)
    assert any("injected-parameters" in cell.metadata.get("tags", []) for cell in executed.cells)
    assert not list((smoke_run / "results" / "report").glob(".report.*"))


# --- beyond the paper: curvature and the second path method


def curvature_table(network, sgd_values, lbfgs_values, landscape="train"):
    rows = []
    for optimizer, values in (("sgd", sgd_values), ("lbfgs", lbfgs_values)):
        for k, value in enumerate(values):
            rows.append(dict(network=network, landscape=landscape, set=f"{optimizer}-{'train' if k % 2 else 'test'}",
                             vector=k // 2, lambda_1=value, trace=10 * value))
    return pd.DataFrame(rows)


def test_flatter_sgd_minima_are_reproduced(rng):
    table = curvature_table("fcp", spread(1.0, 1.3, 6, rng), spread(50.0, 1.3, 6, rng))
    result, details = verdict("sgd_flatter", {"curvature": table})
    assert result == "reproduced" and len(details) == 2  # top eigenvalue and trace


def test_sharper_sgd_minima_are_not_reproduced(rng):
    table = curvature_table("fcp", spread(50.0, 1.3, 6, rng), spread(1.0, 1.3, 6, rng))
    assert verdict("sgd_flatter", {"curvature": table})[0] == "not reproduced"


def test_curvature_of_two_vectors_per_optimizer_is_inconclusive(rng):
    table = curvature_table("fcp", [1.0, 1.1], [50.0, 51.0])
    assert verdict("sgd_flatter", {"curvature": table})[0] == "inconclusive"


def bezier_table(network, fourier, bezier):
    sets = ["lbfgs-train", "lbfgs-test", "sgd-train", "sgd-test"]
    return pd.DataFrame([dict(network=network, landscape="train", set=sets[k % 4], pair=k // 4,
                              fourier_height=f, bezier_height=b) for k, (f, b) in enumerate(zip(fourier, bezier))])


def test_both_path_methods_ranking_the_pairs_alike_is_reproduced(rng):
    fourier = np.linspace(0.1, 2.0, 12)
    result, details = verdict("same_barrier_ordering", {"bezier": bezier_table("fcp", fourier, 3 * fourier + 0.5)})
    assert result == "reproduced" and details.effect.iloc[0] == pytest.approx(1.0)
    assert "same order" in details.reason.iloc[0]


def test_reversed_rankings_are_not_reproduced():
    fourier = np.linspace(0.1, 2.0, 12)
    assert verdict("same_barrier_ordering", {"bezier": bezier_table("fcp", fourier, fourier[::-1])})[0] == "not reproduced"


def test_two_pairs_joined_by_both_methods_are_inconclusive():
    assert verdict("same_barrier_ordering", {"bezier": bezier_table("fcp", [0.1, 0.2], [0.3, 0.4])})[0] == "inconclusive"
