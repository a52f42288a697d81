rule select:
    input:
        unpack(select_inputs),
        code=code("select"),
    output:
        **{s: f"results/sets/{{network}}/{s}.safetensors" for s in SETS},
        **{f"{s}_meta": f"results/sets/{{network}}/{s}.json" for s in SETS},
        runs="results/sets/{network}/runs.csv",
    log:
        "logs/select/{network}.log",
    benchmark:
        "benchmarks/select/{network}.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        runs=RUNS,
        n_best=config["select"]["n_best"],
        n_params=lambda wildcards: N_PARAMS[wildcards.network],
    script:
        "../../scripts/select.py"
