rule select:
    input:
        runs=lambda wildcards: [f[k] for f in run_files(wildcards.network) for k in ("history", "train", "test")],
        sidecars=lambda wildcards: [sidecar_of(f[k]) for f in run_files(wildcards.network) for k in ("train", "test")],
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
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        runs=lambda wildcards: run_files(wildcards.network),
        n_best=config["select"]["n_best"],
    script:
        "../../scripts/select.py"
