"""Snakemake `train` rule: one network, one optimizer, one seed."""

from topography.runtime import job
from topography.train import train_job

with job(snakemake.log[0], snakemake.threads, outputs=snakemake.output):
    train_job(
        network=snakemake.wildcards.network,
        optimizer=snakemake.wildcards.optimizer,
        seed=int(snakemake.wildcards.seed),
        train_data=snakemake.input.train,
        test_data=snakemake.input.test,
        outputs=dict(snakemake.output.items()),
        model=snakemake.params.model,
        settings=snakemake.params.settings,
        chunk_size=snakemake.params.chunk_size,
        device=snakemake.params.device,
        checkpoint=snakemake.params.checkpoint,
        # Read from the config, not a param: how often the state is saved changes no result,
        # so changing it must not make Snakemake redo finished runs (params trigger reruns).
        checkpoint_every=snakemake.config["train"]["checkpoint_every"],
    )
