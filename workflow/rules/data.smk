rule data:
    input:
        # With source idx, the four IDX files, checked when the DAG is built (before any job
        # runs or any output is deleted): present, published size and sha256, enough images.
        idx=idx_inputs,
        file=data_file_inputs,
        code=code("prepare_data"),
    output:
        train="results/data/train.safetensors",
        train_meta="results/data/train.json",
        test="results/data/test.safetensors",
        test_meta="results/data/test.json",
    log:
        "logs/data.log",
    benchmark:
        "benchmarks/data.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: memory_mb("train", "test", attempt=attempt),
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        data=dict(config["data"], seed=config["seed"]),
    script:
        "../../scripts/prepare_data.py"


# With data.download: true, the four published .gz files, each checked against its sha256.
rule download_mnist:
    input:
        code=code("download_mnist"),
    output:
        gz=[f"{config['data'].get('idx_dir', 'data/mnist')}/{stem}.gz" for stem in IDX_FILES.values()],
    log:
        "logs/download_mnist.log",
    benchmark:
        "benchmarks/download_mnist.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(1000),
        runtime=30,
    params:
        base_url=config["data"].get("base_url"),
        sha256=checksums(config["data"]),
    script:
        "../../scripts/download_mnist.py"
