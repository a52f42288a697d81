# One job per network, landscape and set joins every drawn pair of the set (paths.py): the
# pairs share the job's start. With paths.pairs_per_job, a set's pairs are split over rules
# path_0, path_1, ... of at most that many pairs each (a cluster's time limit at the paper's
# scale). To redo one pair, force its file:
#   snakemake --forcerun results/paths/fcp/train/sgd-test/pair2.json
# which reruns its job; the job's other records come out byte for byte as before.
for chunk, chunk_pairs in enumerate(PATH_CHUNKS):

    rule:
        name:
            "path" if len(PATH_CHUNKS) == 1 else f"path_{chunk}"
        input:
            unpack(set_inputs),
            data="results/data/{landscape}.safetensors",
            data_meta="results/data/{landscape}.json",
            model_code=lambda wildcards: model_code(wildcards.network),
            code=code("path"),
        output:
            records=pair_records(chunk_pairs),
        log:
            f"logs/paths/{{network}}/{{landscape}}/{{set}}{chunk_suffix(chunk)}.log",
        benchmark:
            f"benchmarks/paths/{{network}}/{{landscape}}/{{set}}{chunk_suffix(chunk)}.tsv"
        wildcard_constraints:
            landscape="train|test",
        group:
            "paths"
        conda:
            TORCH_ENV
        threads: config["threads"]
        resources:
            mem_mb=lambda wildcards, attempt: memory_mb(wildcards.landscape, attempt=attempt),
            runtime=path_runtime_of(len(chunk_pairs)),
            gpu=gpus(),
        params:
            pairs=pairs_in(chunk_pairs),
            settings=config["paths"],
            model=lambda wildcards: model_settings(config, wildcards.network),
            device=config["device"],
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
    log:
        "logs/barrier_table.log",
    benchmark:
        "benchmarks/barrier_table.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        converged_tol=config["paths"]["converged_tol"],
    script:
        "../../scripts/barrier_table.py"


rule barrier_figure:
    input:
        barriers="results/tables/barriers.csv",
        code=code("figure_barriers"),
    output:
        **figure("{figure}_barriers", "barriers", "Paths"),
    log:
        "logs/figures/{figure}_barriers.log",
    benchmark:
        "benchmarks/figures/{figure}_barriers.tsv"
    wildcard_constraints:
        figure="|".join(BARRIER_FIGURES),
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        landscape=lambda wildcards: BARRIER_FIGURES[wildcards.figure],
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
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=10,
    script:
        "../../scripts/figure_barrier_budget.py"


rule toy_paths:
    input:
        code=code("toy_paths"),
    output:
        **figure("fig3_toy_paths", "toy", "Paths"),
        heights=report("results/tables/toy_heights.csv", caption="../report/toy_table.rst", category="Paths"),
    log:
        "logs/toy_paths.log",
    benchmark:
        "benchmarks/toy_paths.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        settings=config["toy"],
        seed=config["seed"],
    script:
        "../../scripts/toy_paths.py"
