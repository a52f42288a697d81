"""The ``toy_paths`` job of paths.smk: paper Fig 3, FourierPathFinder on the 2D toy
landscape (toy.py), drawn by figures/toy.py."""

from __future__ import annotations

from ..figures.toy import plot_toy
from ..toy import run_toy
from ..workflow.io import write_csv
from ..workflow.runtime import Job


def toy_job(job: Job) -> None:
    """The ``toy_paths`` rule: paper Fig 3 and the heights of its paths. params: settings
    (the config's toy), seed; output: heights, png, pdf."""
    settings, seed = job.params["settings"], job.params["seed"]
    heights, figure_paths = job.output["heights"], [job.output["png"], job.output["pdf"]]
    table, profiles = run_toy(
        lams=settings["lams"], points=settings["points"], steps=settings["steps"],
        lr=settings["lr"], grad_noise=settings["grad_noise"], seed=seed,
        objective=settings["objective"], n_fourier=settings["n_fourier"], keep=settings["keep"],
    )
    write_csv(heights, table)
    plot_toy(profiles, *figure_paths, objective=settings["objective"])
