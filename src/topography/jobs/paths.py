"""The ``path`` job: one pair of a solution set joined by FourierPathFinder on one
landscape. The barrier tables and figures are barriers.py's, the 2D toy of paper Fig 3
toy.py's."""

from __future__ import annotations

import torch
from tqdm import tqdm

from ..design import PARAMETER_COUNTS
from ..workflow.io import nonfinite_keys, write_json
from ..pathfinder import PathConfig, find_path
from ..workflow.provenance import provenance
from ..workflow.runtime import Job
from ..workflow.sets import load_set
from .landscapes import network_landscape


class PathError(ValueError):
    """A path that cannot be recorded; the message names the pair."""


def path_config(settings: dict, seed: int) -> PathConfig:
    """PathConfig from the config's ``paths`` section (``pairs`` is the experiment's)."""
    keys = ("n_fourier", "points", "lam", "steps", "lr", "chunk_size", "batch_size", "keep")
    return PathConfig(**{k: settings[k] for k in keys}, seed=seed)


def path_job(job: Job) -> dict:
    """The ``path`` rule: join vectors ``params["pair"]`` (i, j) of one set on the train or
    test landscape. input: set, data; output: record; params: pair, settings (the config's
    paths), model, device; wildcards: network, landscape, set, pair (its number)."""
    network, landscape, set_name = job.wildcards["network"], job.wildcards["landscape"], job.wildcards["set"]
    pair_index, pair = int(job.wildcards["pair"]), job.params["pair"]
    set_path, data_path, output = job.input["set"], job.input["data"], job.output["record"]
    settings, model, device = job.params["settings"], job.params["model"], job.params.get("device", "auto")
    weights, set_meta = load_set(set_path, network, set_name, PARAMETER_COUNTS[network])
    i, j = pair
    if max(i, j) >= len(weights):
        raise ValueError(f"{set_path}: pair ({i}, {j}) but the set holds {len(weights)} vectors")
    surface, dev = network_landscape(network, data_path, model, settings["chunk_size"], device)
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
        provenance=provenance({"paths": settings, "model": model}, n_params=surface.n_params),
    )
    write_json(output, record)
    return record
