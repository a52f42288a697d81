# The report: notebooks/report.ipynb executed by papermill with the paths from common.smk
# (report_tables, report_figures), rendered by nbconvert into one self-contained HTML file.


rule claims:
    input:
        **claim_tables(),
        runs=expand("results/sets/{network}/runs.csv", network=NETWORKS),
        histories=train_outputs(),
        sets=with_sidecars(*(set_file(n, s) for n in NETWORKS for s in SETS)),
        code=code("claims"),
    output:
        claims=report("results/tables/claims.csv", caption="../report/claims_table.rst", category="Tables"),
        parts="results/tables/claim_parts.csv",
    log:
        "logs/claims.log",
    benchmark:
        "benchmarks/claims.tsv"
    conda:
        REPORT_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(4000),
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        networks=NETWORKS,
        sets={n: {s: set_file(n, s) for s in SETS} for n in NETWORKS},
        thresholds=config.get("report", {}),
    script:
        "../../scripts/claims.py"


rule report:
    input:
        **report_tables(),
        claims="results/tables/claims.csv",
        claim_parts="results/tables/claim_parts.csv",
        figures=report_figures(),
        runs=expand("results/sets/{network}/runs.csv", network=NETWORKS),
        sets=with_sidecars(*(set_file(n, s) for n in NETWORKS for s in SETS)),
        data=["results/data/train.json", "results/data/test.json"],
        notebook=repo_file("notebooks/report.ipynb"),
        template=repo_file("notebooks/templates/offline/index.html.j2"),
        paper=repo_file("src/topography/jobs/paper_values.yaml"),
        code=code("report", "notebooks/report.ipynb"),
    output:
        html="results/report/report.html",
        executed="results/report/report.ipynb",
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv"
    conda:
        REPORT_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(4000),
        runtime=60,
    params:
        parameters=dict(
            paths=dict(
                report_tables(),
                claims="results/tables/claims.csv",
                claim_parts="results/tables/claim_parts.csv",
                runs=expand("results/sets/{network}/runs.csv", network=NETWORKS),
                sets={n: {s: set_file(n, s) for s in SETS} for n in NETWORKS},
                figures={Path(f).stem: f for f in report_figures(optional=True)},
                data_meta={"train": "results/data/train.json", "test": "results/data/test.json"},
            ),
            config=config,
            preset=PRESET,
            thresholds=config.get("report", {}),
        ),
    script:
        "../../scripts/report.py"
