rule path:
    input:
        set=lambda wildcards: set_file(wildcards.network, wildcards.set),
        set_meta=lambda wildcards: sidecar_of(set_file(wildcards.network, wildcards.set)),
        data="results/data/{landscape}.safetensors",
        data_meta="results/data/{landscape}.json",
        code=code("path"),
    output:
        "results/paths/{network}/{landscape}/{set}/pair{pair}.json",
    params:
        pair=lambda wildcards: pairs_of(wildcards.network, wildcards.set)[int(wildcards.pair)],
        settings=config["paths"],
        model=config["model"],
        device=config["device"],
    wildcard_constraints:
        landscape="train|test",
        pair=r"\d+",
    group:
        "paths"
    log:
        "logs/paths/{network}/{landscape}/{set}/pair{pair}.log",
    benchmark:
        "benchmarks/paths/{network}/{landscape}/{set}/pair{pair}.tsv"
    threads: config["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: memory_mb(wildcards.landscape, attempt=attempt),
        runtime=path_runtime,
        gpu=gpus(),
    conda:
        TORCH_ENV
    script:
        "../../scripts/path.py"


rule barrier_table:
    input:
        paths=path_files(),
        code=code("barrier_table"),
    output:
        barriers=report("results/tables/barriers.csv", caption="../report/barriers_table.rst", category="Tables"),
        profiles="results/tables/path_profiles.csv",
        heights="results/tables/path_heights.csv",
    params:
        converged_tol=config["paths"]["converged_tol"],
    log:
        "logs/barrier_table.log",
    benchmark:
        "benchmarks/barrier_table.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    conda:
        ANALYSIS_ENV
    script:
        "../../scripts/barrier_table.py"


rule barrier_figure:
    input:
        barriers="results/tables/barriers.csv",
        code=code("figure_barriers"),
    output:
        **figure("{figure}_barriers", "barriers", "Paths"),
    params:
        landscape=lambda wildcards: BARRIER_FIGURES[wildcards.figure],
    wildcard_constraints:
        figure="|".join(BARRIER_FIGURES),
    log:
        "logs/figures/{figure}_barriers.log",
    benchmark:
        "benchmarks/figures/{figure}_barriers.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    conda:
        ANALYSIS_ENV
    script:
        "../../scripts/figure_barriers.py"


rule barrier_budget_figure:
    input:
        heights="results/tables/path_heights.csv",
        code=code("figure_barrier_budget"),
    output:
        **figure("barrier_budget", "barrier_budget", "Paths"),
    log:
        "logs/figures/barrier_budget.log",
    benchmark:
        "benchmarks/figures/barrier_budget.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ANALYSIS_ENV
    script:
        "../../scripts/figure_barrier_budget.py"


rule toy_paths:
    input:
        code=code("toy_paths"),
    output:
        heights=report("results/tables/toy_heights.csv", caption="../report/toy_table.rst", category="Paths"),
        **figure("fig3_toy_paths", "toy", "Paths"),
    params:
        settings=config["toy"],
        seed=config["seed"],
    log:
        "logs/toy_paths.log",
    benchmark:
        "benchmarks/toy_paths.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    conda:
        TORCH_ENV
    script:
        "../../scripts/toy_paths.py"
