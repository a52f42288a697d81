"""The jobs of two measurements the paper's conclusions rest on but the paper does not make:
the curvature at every solution (is an optimizer's minimum flatter?), and a second path
method (do the barriers depend on FourierPathFinder?).

- ``curvature_job``: every vector of one solution set, on one landscape -> a JSON record
  per vector (top Hessian eigenvalues, trace, scale-aware measures);
- ``bezier_job``: the first pairs of each set of a network, joined by quadratic Bezier
  curves on one landscape, with the same data and points as the Fourier paths;
- ``curvature_table`` and ``bezier_table``: the tidy tables the figures and the report read.

The plotting lives in ``crosscheck_figures`` so that redrawing a figure reruns no job here;
each job imports its method (``curvature``, ``bezier``) itself, so that editing one method
reruns only its own jobs.
"""

from __future__ import annotations

import zlib
from typing import Iterable, Mapping

import pandas as pd
import torch
from tqdm import tqdm

from .data import load_prepared
from .io import read_json, write_csv, write_json
from .landscape import NetworkLandscape
from .models import NETWORKS, PARAMETER_COUNTS, build_network
from .provenance import provenance
from .runtime import resolve_device
from .sets import load_set

SET_ORDER = ("lbfgs-train", "lbfgs-test", "sgd-train", "sgd-test")
LANDSCAPE_ORDER = ("train", "test")
CURVATURE_KEYS = ("eigenvalues", "lanczos_iterations", "probes", "chunk_size")
BEZIER_KEYS = ("steps", "lr", "samples_per_step")


def name_seed(seed: int, *names) -> int:
    """A seed derived from the master seed and names (not list positions), so that adding
    a set or a network changes no other draw."""
    return (seed * 1_000_003 + zlib.crc32("/".join(map(str, names)).encode())) % 2**63


def _landscape(network: str, data_path: str, model: dict, chunk_size: int, device: str):
    dev = resolve_device(device)
    net = build_network(network, model["activation"], model["lstm_permutation_seed"]).to(dev)
    x, y, _ = load_prepared(data_path)
    return NetworkLandscape(net, x.to(dev), y.to(dev), chunk_size), dev


# ---------------------------------------------------------------------------------------
# curvature


def curvature_job(*, network: str, landscape: str, set_name: str, set_path: str, data_path: str, output: str,
                  settings: dict, model: dict, seed: int, device: str = "auto") -> dict:
    """The ``curvature`` rule: the curvature at the first ``settings["vectors_per_set"]``
    vectors of one set (None: all), on one landscape. A set holds its vectors best
    first (lowest training loss), so a subset is its best vectors."""
    from .curvature import CurvatureConfig, measure_curvature

    weights, set_meta = load_set(set_path, network, set_name, PARAMETER_COUNTS[network])
    surface, dev = _landscape(network, data_path, model, settings["chunk_size"], device)
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


def curvature_table(documents: Iterable[Mapping]) -> pd.DataFrame:
    """One row per (network, set, landscape, vector), in the paper's order."""
    rows = [record for document in documents for record in document["records"]]
    if not rows:
        raise ValueError("no curvature records to tabulate")
    return _ordered(pd.DataFrame(rows), ["vector"])


def curvature_table_job(*, inputs: list[str], output: str) -> None:
    write_csv(output, curvature_table(read_json(p) for p in inputs))


# ---------------------------------------------------------------------------------------
# Bezier curves


def bezier_job(*, network: str, landscape: str, pairs: Mapping[str, list], set_paths: Mapping[str, str],
               data_path: str, output: str, settings: dict, paths: dict, model: dict, seed: int,
               device: str = "auto") -> dict:
    """The ``bezier`` rule: for each set of ``pairs`` (set name -> [(k, (i, j)), ...], k
    the pair's number in the path stage), a Bezier curve between vectors i and j on one
    landscape; the points M and the chunk size are the path stage's (``paths``)."""
    from .bezier import BezierConfig, find_bezier_path

    surface, dev = _landscape(network, data_path, model, paths["chunk_size"], device)
    records = []
    for set_name, set_pairs in pairs.items():
        weights, set_meta = load_set(set_paths[set_name], network, set_name, PARAMETER_COUNTS[network])
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


BEZIER_COLUMNS = ("network", "landscape", "set", "pair", "i", "j", "bezier_height", "fourier_height",
                  "straight_height", "bezier_length", "fourier_length", "straight_length")


def bezier_table(documents: Iterable[Mapping], fourier_records: Iterable[Mapping]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(heights, profiles): one row per pair with the Bezier, Fourier and straight-line
    heights side by side; one row per pair and point with the loss along the Bezier curve.

    Every Bezier pair must have its Fourier path (the same network, landscape, set and
    pair number, joining the same vectors); a missing or mismatched one is an error.
    """
    fourier = {(r["network"], r["landscape"], r["set"], r["pair"]): r for r in fourier_records}
    rows, profiles = [], []
    for document in documents:
        for record in document["records"]:
            key = (record["network"], record["landscape"], record["set"], record["pair"])
            if key not in fourier:
                raise ValueError(f"no Fourier path for the Bezier pair {'/'.join(map(str, key))}")
            other = fourier[key]
            if (other["i"], other["j"]) != (record["i"], record["j"]) or len(other["t"]) != len(record["t"]):
                raise ValueError(f"the Fourier path {'/'.join(map(str, key))} joins vectors ({other['i']}, {other['j']}) at "
                                 f"{len(other['t'])} points, the Bezier curve ({record['i']}, {record['j']}) at {len(record['t'])}")
            rows.append(dict(
                zip(("network", "landscape", "set", "pair"), key), i=record["i"], j=record["j"],
                bezier_height=record["height"], fourier_height=other["height"],
                # The straight line is the same for both methods (same ends, points, data).
                straight_height=record["straight_height"],
                bezier_length=record["length"], fourier_length=other["length"],
                straight_length=record["straight_length"],
            ))
            profiles.append(pd.DataFrame(dict(zip(("network", "landscape", "set", "pair"), key), t=record["t"],
                                              loss=record["losses"], straight_loss=record["straight_losses"])))
    if not rows:
        raise ValueError("no Bezier curves to tabulate")
    return _ordered(pd.DataFrame(rows, columns=list(BEZIER_COLUMNS)), ["pair"]), _ordered(pd.concat(profiles), ["pair", "t"])


def bezier_table_job(*, bezier: list[str], fourier: list[str], outputs: Mapping[str, str]) -> None:
    heights, profiles = bezier_table((read_json(p) for p in bezier), (read_json(p) for p in fourier))
    write_csv(outputs["heights"], heights)
    write_csv(outputs["profiles"], profiles)


# ---------------------------------------------------------------------------------------


def _ordered(table: pd.DataFrame, then: list[str]) -> pd.DataFrame:
    """Rows in the paper's order of networks, landscapes and sets (unknown names last)."""
    order = {"network": NETWORKS, "landscape": LANDSCAPE_ORDER, "set": SET_ORDER}
    ranks = {f"_{c}": table[c].map(lambda v, names=names: names.index(v) if v in names else len(names))
             for c, names in order.items()}
    table = table.assign(**ranks).sort_values(list(ranks) + list(order) + then, kind="stable")
    return table.drop(columns=list(ranks)).reset_index(drop=True)
