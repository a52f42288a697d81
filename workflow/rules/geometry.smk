rule geometry:
    input:
        unpack(geometry_inputs),
        code=code("geometry"),
    output:
        **{kind: f"results/geometry/{{network}}/{kind}.csv" for kind in GEOMETRY_KINDS},
    log:
        "logs/geometry/{network}.log",
    benchmark:
        "benchmarks/geometry/{network}.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 30 * attempt,
    script:
        "../../scripts/geometry.py"


rule tables:
    input:
        **{
            kind: expand("results/geometry/{network}/{kind}.csv", network=NETWORKS, kind=kind)
            for kind in GEOMETRY_KINDS
        },
        runs=expand("results/sets/{network}/runs.csv", network=NETWORKS),
        histories=train_outputs("history.csv"),
        code=code("tables"),
    output:
        table_one=report("results/tables/table1.csv", caption="../report/table1.rst", category="Tables"),
        weight_stats=report(
            "results/tables/tableS1_weight_stats.csv", caption="../report/tableS1.rst", category="Tables"
        ),
        separation=report("results/tables/kernel_separation.csv", caption="../report/separation.rst", category="Tables"),
        distances="results/tables/distances.csv",
        projections="results/tables/kernel_pca.csv",
        loss_curves="results/tables/loss_curves.csv",
    log:
        "logs/tables.log",
    benchmark:
        "benchmarks/tables.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 30 * attempt,
    script:
        "../../scripts/tables.py"
