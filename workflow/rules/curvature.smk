rule curvature:
    input:
        unpack(set_inputs),
        data="results/data/{landscape}.safetensors",
        data_meta="results/data/{landscape}.json",
        model_code=lambda wildcards: model_code(wildcards.network),
        code=code("curvature"),
    output:
        record="results/curvature/{network}/{landscape}/{set}.json",
    log:
        "logs/curvature/{network}/{landscape}/{set}.log",
    benchmark:
        "benchmarks/curvature/{network}/{landscape}/{set}.tsv"
    wildcard_constraints:
        landscape="train|test",
    conda:
        TORCH_ENV
    threads: config["threads"]
    resources:
        mem_mb=mem_per_attempt(4000),
        runtime=120,
    params:
        settings=config["curvature"],
        model=lambda wildcards: model_settings(config, wildcards.network),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/curvature.py"


rule curvature_table:
    input:
        records=curvature_files(),
        code=code("curvature_table"),
    output:
        table=report("results/tables/curvature.csv", caption="../report/curvature_table.rst", category="Tables"),
    log:
        "logs/curvature_table.log",
    benchmark:
        "benchmarks/curvature_table.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=10,
    script:
        "../../scripts/curvature_table.py"


rule curvature_figure:
    input:
        table="results/tables/curvature.csv",
        code=code("figure_curvature"),
    output:
        **figure("curvature_{network}", "curvature", "Curvature"),
    log:
        "logs/figures/curvature_{network}.log",
    benchmark:
        "benchmarks/figures/curvature_{network}.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=10,
    script:
        "../../scripts/figure_curvature.py"
