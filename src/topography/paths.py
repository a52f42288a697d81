"""The jobs of the path stage: one pair of solutions joined on one landscape, the barrier
table of all pairs, and the 2D toy landscape of paper Fig 3."""

from __future__ import annotations

import torch
from tqdm import tqdm

from .data import load_prepared
from .io import nonfinite_keys, read_json, read_table, write_csv, write_json
from .landscape import NetworkLandscape
from .models import PARAMETER_COUNTS, build_network
from .pathfinder import PathConfig, find_path
from .provenance import provenance
from .sets import load_set
from .runtime import resolve_device

# The plotting and table modules (matplotlib, pandas) are imported inside the jobs that
# need them: a path job is a process of its own and there are many, so its imports count.


class PathError(ValueError):
    """A path that cannot be recorded; the message names the pair."""


def path_config(settings: dict, seed: int) -> PathConfig:
    """PathConfig from the config's ``paths`` section (``pairs`` is the experiment's)."""
    keys = ("n_fourier", "points", "lam", "steps", "lr", "chunk_size", "batch_size", "keep")
    return PathConfig(**{k: settings[k] for k in keys}, seed=seed)


def path_job(
    *,
    network: str,
    landscape: str,
    set_name: str,
    pair_index: int,
    pair: tuple[int, int],
    set_path: str,
    data_path: str,
    output: str,
    settings: dict,
    model: dict,
    device: str = "auto",
) -> dict:
    """The ``path`` rule: join vectors ``pair`` of a set on the train or test landscape."""
    dev = resolve_device(device)
    weights, set_meta = load_set(set_path, network, set_name, PARAMETER_COUNTS[network])
    i, j = pair
    if max(i, j) >= len(weights):
        raise ValueError(f"{set_path}: pair ({i}, {j}) but the set holds {len(weights)} vectors")
    net = build_network(network, model["activation"], model["lstm_permutation_seed"]).to(dev)
    x, y, _ = load_prepared(data_path)
    surface = NetworkLandscape(net, x.to(dev), y.to(dev), settings["chunk_size"])
    config = path_config(settings, seed=pair_index)

    bar = tqdm(total=config.steps, desc=f"{network}/{landscape}/{set_name}/pair{pair_index}", mininterval=2.0)

    def progress(step, objective):
        bar.update(1)
        bar.set_postfix(objective=f"{objective:.4g}")

    w_a, w_b = torch.tensor(weights[i], device=dev), torch.tensor(weights[j], device=dev)
    result = find_path(surface, w_a, w_b, config, progress)
    bar.close()
    print(f"height {result.height:.4g} (straight line {result.straight_height:.4g}), {result.seconds:.1f} s", flush=True)
    bad = nonfinite_keys(result.to_dict())
    if bad:
        raise PathError(
            f"{network}/{landscape}/{set_name} pair {pair_index} (vectors {i} and {j} of {set_path}, seeds "
            f"{set_meta['seeds'][i]} and {set_meta['seeds'][j]}): the loss along the path is not finite "
            f"({', '.join(bad[:5])}); the path optimisation diverged: lower paths.lr and rerun"
        )
    record = dict(
        result.to_dict(),
        network=network, landscape=landscape, set=set_name, pair=pair_index, i=i, j=j,
        seed_i=set_meta["seeds"][i], seed_j=set_meta["seeds"][j],
        provenance=provenance({"paths": settings, "model": model}, n_params=net.n_params),
    )
    write_json(output, record)
    return record


def barrier_table_job(*, paths: list[str], outputs: dict, converged_tol: float) -> None:
    """The ``barrier_table`` rule: every pair's height (and whether it converged), every
    path's loss profile, and every path's height after each step."""
    from .barriers import collect_barriers, collect_heights, collect_profiles

    records = [read_json(p) for p in paths]
    write_csv(outputs["barriers"], collect_barriers(records, converged_tol))
    write_csv(outputs["profiles"], collect_profiles(records))
    write_csv(outputs["heights"], collect_heights(records))


def barrier_budget_figure_job(*, heights: str, figure_paths: list[str]) -> None:
    from .barriers import plot_barrier_budget

    plot_barrier_budget(read_table(heights), *figure_paths)


def barrier_figure_job(*, barriers: str, landscape: str, figure_paths: list[str]) -> None:
    from .barriers import plot_barriers

    plot_barriers(read_table(barriers), landscape, *figure_paths)


def toy_job(*, settings: dict, seed: int, heights: str, figure_paths: list[str]) -> None:
    """The ``toy_paths`` rule: paper Fig 3 and the heights of its paths."""
    from .toy import plot_toy, run_toy

    table, profiles = run_toy(
        lams=settings["lams"], points=settings["points"], steps=settings["steps"],
        lr=settings["lr"], grad_noise=settings["grad_noise"], seed=seed,
        objective=settings["objective"], n_fourier=settings["n_fourier"], keep=settings["keep"],
    )
    write_csv(heights, table)
    plot_toy(profiles, *figure_paths, objective=settings["objective"])
