"""The ``curvature`` job (not in the paper): the top Hessian eigenvalues and the trace at
every vector of one solution set, on one landscape -> a JSON record per vector. Is an
optimizer's minimum flatter? The method is curvature.py's; the table and figure
crosscheck_results.py's."""

from __future__ import annotations

import torch
from tqdm import tqdm

from ..curvature import CurvatureConfig, measure_curvature
from ..design import name_seed
from ..workflow.io import write_json
from ..workflow.provenance import provenance
from ..workflow.runtime import Job
from ..workflow.sets import load_set
from .landscapes import network_landscape

CURVATURE_KEYS = ("eigenvalues", "lanczos_iterations", "probes", "chunk_size")


def curvature_job(job: Job) -> dict:
    """The ``curvature`` rule: the curvature at the first ``settings["vectors_per_set"]``
    vectors of one set (None: all), on one landscape. A set holds its vectors best
    first (lowest training loss), so a subset is its best vectors. input: set, data;
    output: record; params: settings (the config's curvature), model, seed, device;
    wildcards: network, landscape, set."""
    network, landscape, set_name = job.wildcards["network"], job.wildcards["landscape"], job.wildcards["set"]
    set_path, data_path, output = job.input["set"], job.input["data"], job.output["record"]
    settings, model, seed = job.params["settings"], job.params["model"], job.params["seed"]
    device = job.params.get("device", "auto")
    surface, dev = network_landscape(network, data_path, model, settings["chunk_size"], device)
    weights, set_meta = load_set(set_path, network, set_name, surface.n_params)
    count = len(weights) if settings["vectors_per_set"] is None else min(len(weights), settings["vectors_per_set"])
    records = []
    for index in tqdm(range(count), desc=f"{network}/{landscape}/{set_name}", mininterval=2.0):
        config = CurvatureConfig(**{k: settings[k] for k in CURVATURE_KEYS},
                                 seed=name_seed(seed, network, landscape, set_name, index))
        record = measure_curvature(surface, torch.tensor(weights[index], device=dev), config)
        seconds = record.pop("seconds")  # in the log, not the result: reruns give the same bytes
        records.append(dict(network=network, set=set_name, landscape=landscape, vector=index,
                            seed=set_meta["seeds"][index], **record))
        print(f"vector {index}: lambda_1 {record['lambda_1']:.4g} (residual {record['residual_1']:.2g}), "
              f"trace {record['trace']:.4g} +- {record['trace_se']:.2g}, {seconds:.1f} s", flush=True)
    document = dict(records=records, provenance=provenance({"curvature": settings, "model": model, "seed": seed},
                                                           n_params=surface.n_params, n_images=surface.n))
    write_json(output, document)
    return document
