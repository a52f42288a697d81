rule select:
    input:
        runs=lambda wildcards: [f[k] for f in run_files(wildcards.network) for k in ("history", "train", "test")],
        sidecars=lambda wildcards: [sidecar_of(f[k]) for f in run_files(wildcards.network) for k in ("train", "test")],
        code=code("select"),
    output:
        runs="results/sets/{network}/runs.csv",
        **{s: f"results/sets/{{network}}/{s}.safetensors" for s in SETS},
        **{f"{s}_meta": f"results/sets/{{network}}/{s}.json" for s in SETS},
    params:
        runs=lambda wildcards: run_files(wildcards.network),
        n_best=config["select"]["n_best"],
    log:
        "logs/select/{network}.log",
    benchmark:
        "benchmarks/select/{network}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    conda:
        ANALYSIS_ENV
    script:
        "../../scripts/select.py"
