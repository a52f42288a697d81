"""End to end: the workflow on presets/smoke.yaml, and how it replans after edits."""

from __future__ import annotations

import os

import pandas as pd
import pytest
import yaml

from topography.workflow.config import load_config
from workflow_helpers import copy_workflow, planned_jobs, snakemake

pytestmark = pytest.mark.workflow
SMOKE = ("--configfile", "presets/smoke.yaml")


@pytest.fixture(scope="module")
def finished(smoke_run):
    """A copy of the repository after a complete smoke run (conftest.py: one per session)."""
    return smoke_run


@pytest.fixture
def edited(finished):
    """Edit a file as a user would, then put back its old contents and time.

    Snakemake (>= 9.18) notices an edited input by its checksum and an edited script by
    its time, so the test really edits, and restores both for the tests that follow."""
    saved = {}

    def edit(relative):
        path = finished / relative
        saved[path] = (path.read_bytes(), path.stat())
        path.write_text(saved[path][0].decode() + "\n# an edit\n")

    yield edit
    for path, (content, stat) in saved.items():
        path.write_bytes(content)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def smoke_config(workdir):
    """(the config the smoke run used, the smoke preset): Snakemake lays the preset's
    top-level keys over config.yaml's (nested keys merge; the lists here are replaced)."""
    with open(workdir / "presets" / "smoke.yaml") as f:
        smoke = yaml.safe_load(f)
    return load_config(workdir / "config.yaml", workdir / "presets" / "smoke.yaml"), smoke


def test_smoke_run_writes_every_training_run_and_the_sets(finished):
    config, smoke = smoke_config(finished)
    seeds = smoke["train"]["seeds"]
    for network in config["networks"]:
        for optimizer in config["optimizers"]:
            for seed in range(seeds):
                run = finished / "results" / "train" / network / optimizer / f"seed{seed}"
                for name in ("history.csv", "train.safetensors", "train.json", "test.safetensors", "test.json"):
                    assert (run / name).stat().st_size > 0, run / name
                assert (finished / "logs" / "train" / network / optimizer / f"seed{seed}.log").exists()
        runs = pd.read_csv(finished / "results" / "sets" / network / "runs.csv")
        assert runs.selected.sum() == 2 * smoke["select"]["n_best"]
    assert not list(finished.rglob("*.tmp")), "a temporary file was left behind"


def test_a_finished_run_has_nothing_left_to_do(finished):
    assert planned_jobs(finished, *SMOKE) == {}


def test_editing_the_training_code_replans_training_and_downstream_only(finished, edited):
    edited("src/topography/optim.py")
    jobs = planned_jobs(finished, *SMOKE)
    config, smoke = smoke_config(finished)
    n_runs = len(config["networks"]) * len(config["optimizers"]) * smoke["train"]["seeds"]
    assert jobs.get("train") == n_runs
    assert jobs.get("select") == len(config["networks"])
    assert "data" not in jobs


def test_editing_a_script_replans_its_rule(finished, edited):
    edited("scripts/select.py")
    jobs = planned_jobs(finished, *SMOKE)
    assert "select" in jobs and "train" not in jobs and "data" not in jobs


def test_changing_one_optimizer_setting_replans_only_its_runs(finished, tmp_path):
    config, smoke = smoke_config(finished)
    sgd = dict(smoke["train"]["sgd"], lr=smoke["train"]["sgd"]["lr"] / 2)
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"train": dict(smoke["train"], sgd=sgd)}))
    jobs = planned_jobs(finished, "--configfile", "presets/smoke.yaml", str(override))
    assert jobs.get("train") == len(config["networks"]) * smoke["train"]["seeds"]  # sgd runs only
    assert "data" not in jobs


@pytest.mark.parametrize(
    "override, key, allowed",
    [
        ({"data": {"n_train": "many"}}, "data.n_train", "integer"),
        ({"networks": ["fcp", "resnet"]}, "networks: resnet", "fcp, lenet, autoencoder, lstm"),
        ({"optimizers": ["adam"]}, "optimizers.0", "lbfgs, sgd"),
        ({"train": {"seeds": -3}}, "train.seeds", "minimum"),
        ({"train": {"sgd": {"lr": 0}}}, "train.sgd.lr", "minimum"),
        ({"device": "tpu"}, "device", "auto, cpu, cuda"),
        ({"seed": 2**40}, "seed", "maximum of 4294967295"),  # scikit-learn's split took it, and crashed
        ({"optimizers": ["sgd"]}, "optimizers", "list both"),  # geometry crashed after 8 jobs
    ],
)
def test_a_bad_config_is_rejected_before_any_job_naming_the_key(tmp_path, override, key, allowed):
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "bad.yaml").write_text(yaml.safe_dump(override))
    result = snakemake(workdir, "-n", "--configfile", "presets/smoke.yaml", "bad.yaml", check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert key in message and allowed in message, message[-2000:]
    assert not (workdir / "results").exists()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_figure_is_a_valid_non_empty_image(finished):
    figures = sorted((finished / "results" / "figures").iterdir())
    names = {f.stem for f in figures}
    for expected in ("fig2_loss_curves", "fig3_toy_paths", "fig4_barriers", "figS2_barriers", "fig5_distances", "figS3_distances", "fig6_kernel_pca",
                     "figS4_kernel_pca", "fig6_kernel_comparison", "figS4_kernel_comparison"):
        assert expected in names, expected
    for figure in figures:
        head = figure.read_bytes()[:8]
        assert head == PNG_SIGNATURE if figure.suffix == ".png" else head.startswith(b"%PDF"), figure
        assert figure.stat().st_size > 5_000, figure


def test_tables_have_their_columns_and_one_row_per_set_and_network(finished):
    config, smoke = smoke_config(finished)
    tables = finished / "results" / "tables"
    n_networks = len(config["networks"])

    table_one = pd.read_csv(tables / "table1.csv")
    assert {"network", "optimizer", "n_runs", "train_loss_mean", "train_loss_std", "test_loss_mean",
            "test_loss_std", "test_accuracy_mean", "n_params"} <= set(table_one.columns)
    assert len(table_one) == n_networks * 2
    assert (table_one.n_runs == smoke["select"]["n_best"]).all()

    stats = pd.read_csv(tables / "tableS1_weight_stats.csv")
    assert {"network", "set", "mean", "std", "n_vectors"} <= set(stats.columns)
    assert len(stats) == n_networks * 4 and not stats.duplicated(["network", "set"]).any()

    separation = pd.read_csv(tables / "kernel_separation.csv")
    assert {"network", "comparison", "kernel", "auc", "silhouette"} <= set(separation.columns)
    assert len(separation) == n_networks * 2 * 4  # two comparisons, four kernels
    assert separation.auc.between(0.5, 1).all()


def test_editing_a_figure_script_replans_only_figures(finished, edited):
    edited("scripts/figure_kernel_pca.py")
    edited("src/topography/figures/plots.py")
    jobs = planned_jobs(finished, *SMOKE)
    # the report embeds the figures, so it is redone too
    assert jobs and set(jobs) - {"all"} <= {"loss_curves_figure", "distance_figure", "kernel_pca_figures", "report"}, jobs


def test_paths_join_every_drawn_pair_on_both_landscapes(finished):
    config, smoke = smoke_config(finished)
    barriers = pd.read_csv(finished / "results" / "tables" / "barriers.csv")
    assert {"network", "landscape", "set", "pair", "i", "j", "height", "straight_height", "length"} <= set(barriers.columns)
    per_network = 4 + 2  # four sets on the training landscape, the two test sets on the test landscape
    assert len(barriers) == len(config["networks"]) * per_network * smoke["paths"]["pairs"]
    assert set(barriers[barriers.landscape == "test"].set) == {"lbfgs-test", "sgd-test"}
    assert (barriers.i < barriers.j).all() and (barriers.height > 0).all()
    profiles = pd.read_csv(finished / "results" / "tables" / "path_profiles.csv")
    assert len(profiles) == len(barriers) * smoke["paths"]["points"]


def test_toy_landscape_heights(finished):
    config, smoke = smoke_config(finished)
    heights = pd.read_csv(finished / "results" / "tables" / "toy_heights.csv")
    assert list(heights.path) == ["straight"] + [f"lambda={lam:g}" for lam in smoke["toy"]["lams"]]
    assert (heights.height > 0).all()


@pytest.mark.slow
def test_one_network_and_a_single_run_per_optimizer_give_a_clear_result(tmp_path):
    """Sets of one vector: no pair to join (no path jobs), geometry still measured."""
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "single.yaml").write_text(
        yaml.safe_dump({"networks": ["fcp"], "train": {"seeds": 1}, "select": {"n_best": 1}})
    )
    snakemake(workdir, "--configfile", "presets/smoke.yaml", "single.yaml")
    tables = workdir / "results" / "tables"
    stats = pd.read_csv(tables / "tableS1_weight_stats.csv")
    assert list(stats.network.unique()) == ["fcp"] and (stats.n_vectors == 1).all()
    separation = pd.read_csv(tables / "kernel_separation.csv")
    assert (separation.n_a == 1).all() and (separation.n_b == 1).all()
    assert separation.silhouette.isna().all()  # undefined for two points
    assert not (workdir / "results" / "paths").exists()
    assert (workdir / "results" / "figures" / "fig6_kernel_pca.png").stat().st_size > 0


@pytest.mark.slow
def test_all_four_networks_run_end_to_end(tmp_path):
    """The smoke preset holds two networks to stay fast; LeNet and the LSTM go through
    every stage here."""
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "four.yaml").write_text(yaml.safe_dump({"networks": ["fcp", "lenet", "autoencoder", "lstm"]}))
    snakemake(workdir, "--configfile", "presets/smoke.yaml", "four.yaml")
    table_one = pd.read_csv(workdir / "results" / "tables" / "table1.csv")
    assert set(table_one.network) == {"fcp", "lenet", "autoencoder", "lstm"}
    barriers = pd.read_csv(workdir / "results" / "tables" / "barriers.csv")
    assert set(barriers.network) == {"fcp", "lenet", "autoencoder", "lstm"}


def test_curvature_and_bezier_tables_cover_every_vector_and_the_first_pairs(finished):
    config, smoke = smoke_config(finished)
    tables = finished / "results" / "tables"
    curvature = pd.read_csv(tables / "curvature.csv")
    k = smoke["curvature"]["eigenvalues"]
    assert {"network", "set", "landscape", "vector", "trace", "trace_se", "lambda_1_x_norm2", "adaptive_trace"} \
        <= set(curvature.columns)
    assert {f"lambda_{i}" for i in range(1, k + 1)} | {f"residual_{i}" for i in range(1, k + 1)} <= set(curvature.columns)
    vectors = min(smoke["select"]["n_best"], smoke["curvature"]["vectors_per_set"] or smoke["select"]["n_best"])
    per_landscape = len(config["networks"]) * 4 * vectors
    assert len(curvature) == per_landscape * len(smoke["curvature"]["landscapes"])
    assert (curvature.lambda_1 >= curvature.lambda_2).all() and (curvature.residual_1 >= 0).all()
    bezier = pd.read_csv(tables / "bezier.csv")
    assert len(bezier) == len(config["networks"]) * 4 * smoke["bezier"]["pairs_per_set"]  # training landscape
    assert bezier[["bezier_height", "fourier_height", "straight_height"]].gt(0).all().all()
    barriers = pd.read_csv(tables / "barriers.csv").set_index(["network", "landscape", "set", "pair"])
    joined = bezier.set_index(["network", "landscape", "set", "pair"])
    assert (joined.fourier_height == barriers.loc[joined.index, "height"]).all()
    for network in config["networks"]:
        assert (finished / "results" / "figures" / f"curvature_{network}.png").exists()
