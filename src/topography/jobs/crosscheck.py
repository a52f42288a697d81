"""The ``bezier`` job (not in the paper): a second path method beside FourierPathFinder.
The first pairs of each set of a network, joined by quadratic Bezier curves on one
landscape with the same data and points as the Fourier paths. Do the barriers depend on
the path method? The method is bezier.py's; the table and figure
crosscheck_results.py's."""

from __future__ import annotations

from typing import Mapping

import torch
from tqdm import tqdm

from ..bezier import BezierConfig, find_bezier_path
from ..design import name_seed
from ..workflow.io import write_json
from ..workflow.provenance import provenance
from ..workflow.runtime import Job
from ..workflow.sets import load_set
from .landscapes import network_landscape

BEZIER_KEYS = ("steps", "lr", "samples_per_step")


def bezier_job(job: Job) -> dict:
    """The ``bezier`` rule: for each set of ``params["pairs"]`` (set name -> [(k, (i, j)),
    ...], k the pair's number in the path stage), a Bezier curve between vectors i and j on
    one landscape; the points M and the chunk size are the path stage's (``paths``).
    input: each set of pairs under its name, data; output: record; params: pairs, settings
    (the config's bezier), paths, model, seed, device; wildcards: network, landscape."""
    network, landscape = job.wildcards["network"], job.wildcards["landscape"]
    pairs: Mapping[str, list] = job.params["pairs"]
    set_paths = {set_name: job.input[set_name] for set_name in pairs}
    data_path, output = job.input["data"], job.output["record"]
    settings, paths, model, seed = (job.params[k] for k in ("settings", "paths", "model", "seed"))
    device = job.params.get("device", "auto")
    surface, dev = network_landscape(network, data_path, model, paths["chunk_size"], device)
    records = []
    for set_name, set_pairs in pairs.items():
        weights, set_meta = load_set(set_paths[set_name], network, set_name, surface.n_params)
        for k, (i, j) in set_pairs:
            if max(i, j) >= len(weights):
                raise ValueError(f"{set_paths[set_name]}: pair ({i}, {j}) but the set holds {len(weights)} vectors")
            config = BezierConfig(**{key: settings[key] for key in BEZIER_KEYS}, points=paths["points"],
                                  seed=name_seed(seed, network, landscape, set_name, k))
            bar = tqdm(total=config.steps, desc=f"{network}/{landscape}/{set_name}/pair{k}", mininterval=2.0)
            result = find_bezier_path(surface, torch.tensor(weights[i], device=dev),
                                      torch.tensor(weights[j], device=dev), config,
                                      lambda step, objective: bar.update(1))
            bar.close()
            print(f"{set_name} pair {k}: height {result.height:.4g}, {result.seconds:.1f} s", flush=True)
            records.append(dict(result.to_dict(), network=network, landscape=landscape, set=set_name, pair=k,
                                i=i, j=j, seed_i=set_meta["seeds"][i], seed_j=set_meta["seeds"][j]))
    document = dict(records=records, provenance=provenance(
        {"bezier": settings, "paths": paths, "model": model, "seed": seed}, n_params=surface.n_params, n_images=surface.n))
    write_json(output, document)
    return document
