rule train:
    input:
        train="results/data/train.safetensors",
        test="results/data/test.safetensors",
        data_meta=["results/data/train.json", "results/data/test.json"],
        model_code=lambda wildcards: model_code(wildcards.network),
        code=code("train"),
    output:
        history="results/train/{network}/{optimizer}/seed{seed}/history.csv",
        train="results/train/{network}/{optimizer}/seed{seed}/train.safetensors",
        train_meta="results/train/{network}/{optimizer}/seed{seed}/train.json",
        test="results/train/{network}/{optimizer}/seed{seed}/test.safetensors",
        test_meta="results/train/{network}/{optimizer}/seed{seed}/test.json",
    log:
        "logs/train/{network}/{optimizer}/seed{seed}.log",
    benchmark:
        "benchmarks/train/{network}/{optimizer}/seed{seed}.tsv"
    conda:
        TORCH_ENV
    threads: config["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: memory_mb("train", "test", attempt=attempt),
        runtime=train_runtime,
        gpu=gpus(),
    params:
        model=lambda wildcards: model_settings(config, wildcards.network),
        settings=lambda wildcards: run_settings(config, wildcards.network, wildcards.optimizer),
        chunk_size=config["train"]["chunk_size"],
        device=config["device"],
        # The run's saved state, outside the outputs so that Snakemake keeps it when the job
        # fails or is killed; a rerun resumes from it, and removes it once the outputs exist.
        checkpoint="results/.checkpoints/train/{network}/{optimizer}/seed{seed}.safetensors",
    script:
        "../../scripts/train.py"
