# The report: notebooks/report.ipynb executed by papermill with the paths below, rendered by
# nbconvert into one self-contained HTML file (code hidden, figures embedded).

from pathlib import Path

# The --configfile names, for the report's "what was run" ("default" for config.yaml alone).
PRESET = ", ".join(Path(f).stem for f in workflow.overwrite_configfiles) or "default"

REPORT_TABLES = {
    "table1": "results/tables/table1.csv",
    "weight_stats": "results/tables/tableS1_weight_stats.csv",
    "separation": "results/tables/kernel_separation.csv",
    "distances": "results/tables/distances.csv",
    "projections": "results/tables/kernel_pca.csv",
    "toy_heights": "results/tables/toy_heights.csv",
}
# Figures the report embeds: every figure of the DAG and, when it exists, the
# barrier-against-budget curve. Absent ones are named as absent in the report.
REPORT_FIGURES = ["fig2_loss_curves", "fig3_toy_paths", "fig4_barriers", "figS2_barriers", "barrier_budget"] + [
    f"{figure}_{kind}" for figure in DISTANCE_FIGURES for kind in ("distances",)
] + [f"{figure}_{kind}" for figure in KERNEL_PCA_FIGURES for kind in ("kernel_pca", "kernel_comparison")]


def report_inputs():
    """The files the report reads that this config's DAG produces."""
    inputs = dict(REPORT_TABLES)
    if path_files():
        inputs["barriers"] = "results/tables/barriers.csv"
    figures = ["results/figures/fig2_loss_curves.png", "results/figures/fig3_toy_paths.png"]
    figures += [f for f in geometry_figures() + path_targets() if f.endswith(".png")]
    return inputs, figures


rule report:
    input:
        **report_inputs()[0],
        figures=report_inputs()[1],
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
        parameters=lambda wildcards, input: dict(
            paths=dict(
                {name: input[name] for name in list(REPORT_TABLES) + (["barriers"] if path_files() else [])},
                runs=list(input.runs),
                sets={n: {s: set_file(n, s) for s in SETS} for n in NETWORKS},
                figures={name: f"results/figures/{name}.png" for name in REPORT_FIGURES},
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
        runtime=30,
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report.py"
