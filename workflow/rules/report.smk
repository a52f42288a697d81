# The report: notebooks/report.ipynb executed by papermill with the paths below, rendered by
# nbconvert into one self-contained HTML file (code hidden, figures embedded).

from pathlib import Path

# The --configfile names, for the report's "what was run" ("default" for config.yaml alone).
PRESET = ", ".join(Path(f).stem for f in workflow.overwrite_configfiles) or "default"

# Figures embedded when they exist, without being required: drawn by rules that may not be
# part of every version of the workflow.
OPTIONAL_PATH_FIGURES = ["results/figures/barrier_budget.png"]


def report_tables():
    """The tables the report reads that this config's DAG produces (no paths, no barriers)."""
    tables = {
        "table1": "results/tables/table1.csv",
        "weight_stats": "results/tables/tableS1_weight_stats.csv",
        "separation": "results/tables/kernel_separation.csv",
        "distances": "results/tables/distances.csv",
        "projections": "results/tables/kernel_pca.csv",
        "toy_heights": "results/tables/toy_heights.csv",
    }
    if path_files():
        tables["barriers"] = "results/tables/barriers.csv"
    if curvature_files():
        tables["curvature"] = "results/tables/curvature.csv"
    if bezier_files():
        tables["bezier"] = "results/tables/bezier.csv"
    return tables


def report_figures(optional=False):
    """The PNGs of this config's figures (and, with ``optional``, those embedded if present)."""
    figures = ["results/figures/fig2_loss_curves.png", "results/figures/fig3_toy_paths.png"]
    figures += [f for f in geometry_figures() + path_targets() if f.endswith(".png")]
    if optional and path_files():
        figures += OPTIONAL_PATH_FIGURES
    return figures


rule report:
    input:
        **report_tables(),
        figures=report_figures(),
        runs=expand("results/sets/{network}/runs.csv", network=NETWORKS),
        sets=[set_file(n, s) for n in NETWORKS for s in SETS],
        data=["results/data/train.json", "results/data/test.json"],
        notebook="notebooks/report.ipynb",
        template="notebooks/templates/offline/index.html.j2",
        paper="src/topography/paper_values.yaml",
        code=code("report", "claims", "sets", "style", "io", "provenance"),
    output:
        html="results/report/report.html",
        executed="results/report/report.ipynb",
    params:
        parameters=dict(
            paths=dict(
                report_tables(),
                runs=expand("results/sets/{network}/runs.csv", network=NETWORKS),
                sets={n: {s: set_file(n, s) for s in SETS} for n in NETWORKS},
                figures={Path(f).stem: f for f in report_figures(optional=True)},
                data_meta={"train": "results/data/train.json", "test": "results/data/test.json"},
                benchmarks="benchmarks",
            ),
            config=config,
            preset=PRESET,
            thresholds=config.get("report", {}),
        ),
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report.py"
