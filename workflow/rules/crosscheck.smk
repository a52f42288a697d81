# A second path method beside FourierPathFinder: quadratic Bezier curves (Garipov et al.
# 2018) between the first pairs of each set, with the path stage's data and points.


rule bezier:
    input:
        unpack(bezier_inputs),
        data="results/data/{landscape}.safetensors",
        data_meta="results/data/{landscape}.json",
        model_code=lambda wildcards: model_code(wildcards.network),
        code=code("bezier"),
    output:
        record="results/bezier/{network}/{landscape}.json",
    log:
        "logs/bezier/{network}/{landscape}.log",
    benchmark:
        "benchmarks/bezier/{network}/{landscape}.tsv"
    wildcard_constraints:
        landscape="train|test",
    conda:
        TORCH_ENV
    threads: config["threads"]
    resources:
        mem_mb=mem_per_attempt(4000),
        runtime=240,
    params:
        pairs=lambda wildcards: bezier_pairs(wildcards.network, wildcards.landscape),
        settings=config["bezier"],
        paths=config["paths"],
        model=lambda wildcards: model_settings(config, wildcards.network),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/bezier.py"


rule bezier_table:
    input:
        bezier=bezier_files(),
        fourier=bezier_fourier_files(),
        code=code("bezier_table"),
    output:
        heights=report("results/tables/bezier.csv", caption="../report/bezier_table.rst", category="Tables"),
        profiles="results/tables/bezier_profiles.csv",
    log:
        "logs/bezier_table.log",
    benchmark:
        "benchmarks/bezier_table.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=10,
    script:
        "../../scripts/bezier_table.py"


rule bezier_figure:
    input:
        table="results/tables/bezier.csv",
        code=code("figure_bezier"),
    output:
        **figure("bezier_vs_fourier", "bezier", "Paths"),
    log:
        "logs/figures/bezier_vs_fourier.log",
    benchmark:
        "benchmarks/figures/bezier_vs_fourier.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=10,
    script:
        "../../scripts/figure_bezier.py"
