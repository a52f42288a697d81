"""The ``path`` job: every drawn pair of one solution set joined by FourierPathFinder on
one landscape, one record per pair. The barrier tables and figures are barriers.py's, the
2D toy of paper Fig 3 toy.py's.

One job per (network, landscape, set), not per pair: a path job of a small network is
mostly its start (importing torch, reading the data, building the landscape), which the
set's pairs now share. The pairs are optimised one after another, each exactly as a job of
its own would (its own seed, its own Adam state and kept path, the same passes through the
landscape), so each record is byte for byte what joining that pair alone writes
(tests/test_paths.py). Passes that mix the points of several pairs were measured no faster
on the CPU (docs/performance.md) and would change the summation order, so they are not made.
"""

from __future__ import annotations

from typing import Mapping

import torch
from tqdm import tqdm

from ..workflow.io import nonfinite_keys, write_json
from ..landscape import measure_pass_shape
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


def path_job(job: Job) -> list[dict]:
    """The ``path`` rule: join the pairs ``params["pairs"]`` ({pair number: (i, j)}) of one
    set on the train or test landscape, writing pair k's record to the k-th file of
    ``output["records"]`` (pair numbers in the mapping's order). A subset of a set's pairs
    gives those pairs' records unchanged. input: set, data; params: pairs, settings (the
    config's paths), model, device; wildcards: network, landscape, set."""
    network, landscape, set_name = job.wildcards["network"], job.wildcards["landscape"], job.wildcards["set"]
    pairs = {int(k): tuple(pair) for k, pair in job.params["pairs"].items()}
    outputs = job.output["records"]
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    if len(outputs) != len(pairs):
        raise ValueError(f"path job {network}/{landscape}/{set_name}: {len(pairs)} pairs in params 'pairs' "
                         f"but {len(outputs)} files in output 'records'")
    set_path, data_path = job.input["set"], job.input["data"]
    settings, model, device = job.params["settings"], job.params["model"], job.params.get("device", "auto")
    surface, dev = network_landscape(network, data_path, model, settings["chunk_size"], device)
    weights, set_meta = load_set(set_path, network, set_name, surface.n_params)
    for k, (i, j) in pairs.items():
        if max(i, j) >= len(weights):
            raise ValueError(f"{set_path}: pair {k} is ({i}, {j}) but the set holds {len(weights)} vectors")
    measured = {}
    if settings.get("pass_shape", "fixed") == "measured":
        surface, measured = _measured(surface, weights, next(iter(pairs.values())), settings["points"], dev)
    records = []
    for (k, pair), output in zip(pairs.items(), outputs):
        record = _join_pair(surface, dev, weights, set_meta, pair, k, settings, model,
                            f"{network}/{landscape}/{set_name}", set_path, measured)
        records.append(dict(record, network=network, landscape=landscape, set=set_name))
        write_json(output, records[-1])  # as each pair ends (write_json sorts the keys)
    return records


def _measured(surface, weights, pair, points: int, dev):
    """(surface, provenance entry) with the pass shape measured on the straight line of the
    job's first pair (its inner points: what every step evaluates), shared by its pairs."""
    t = torch.linspace(0, 1, points, dtype=torch.float64)[1:-1, None].to(dev, torch.float32)
    w_a, w_b = torch.tensor(weights[pair[0]], device=dev), torch.tensor(weights[pair[1]], device=dev)
    shape, seconds = measure_pass_shape(surface, (1 - t) * w_a + t * w_b)
    timings = ", ".join(f"{rows} x {p}: {1e6 * s:.2f}" for (rows, p), s in seconds.items())
    print(f"pass shape measured: {shape[0]} rows x {shape[1]} points per pass (microseconds per image and "
          f"point, rows x points: {timings})", flush=True)
    return surface.with_pass_shape(*shape), {"pass_shape": list(shape)}


def _join_pair(surface, dev, weights, set_meta: Mapping, pair, k: int, settings: dict, model: dict,
               name: str, set_path, measured: dict) -> dict:
    """One pair's record (without network, landscape, set); PathError if its loss diverged."""
    i, j = pair
    config = path_config(settings, seed=k)  # the pair's number seeds it, as a job of its own
    bar = tqdm(total=config.steps, desc=f"{name}/pair{k}", mininterval=2.0)

    def progress(step, objective):
        bar.update(1)
        # Reading the objective waits for the device (a GPU stops running ahead of the
        # host): every 10th step and the last, not every step.
        if (step + 1) % 10 == 0 or step + 1 == config.steps:
            bar.set_postfix(objective=f"{float(objective):.4g}")

    w_a, w_b = torch.tensor(weights[i], device=dev), torch.tensor(weights[j], device=dev)
    result = find_path(surface, w_a, w_b, config, progress)
    bar.close()
    print(f"pair {k}: height {result.height:.4g} (straight line {result.straight_height:.4g}), "
          f"{result.seconds:.1f} s", flush=True)
    bad = nonfinite_keys(result.to_dict())
    if bad:
        raise PathError(
            f"{name} pair {k} (vectors {i} and {j} of {set_path}, seeds "
            f"{set_meta['seeds'][i]} and {set_meta['seeds'][j]}): the loss along the path is not finite "
            f"({', '.join(bad[:5])}); the path optimisation diverged: lower paths.lr and rerun"
        )
    return dict(
        result.to_dict(), pair=k, i=i, j=j,
        seed_i=set_meta["seeds"][i], seed_j=set_meta["seeds"][j],
        provenance=provenance({"paths": settings, "model": model}, n_params=surface.n_params, **measured),
    )
