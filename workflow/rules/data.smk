rule data:
    input:
        code=code("prepare_data"),
    output:
        train="results/data/train.safetensors",
        train_meta="results/data/train.json",
        test="results/data/test.safetensors",
        test_meta="results/data/test.json",
    params:
        data=dict(config["data"], seed=config["seed"]),
    log:
        "logs/data.log",
    benchmark:
        "benchmarks/data.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: memory_mb("train", "test", attempt=attempt),
        runtime=lambda wildcards, attempt: 30 * attempt,
    conda:
        TORCH_ENV
    script:
        "../../scripts/prepare_data.py"
