"""The loss landscape of one network on one prepared data file, on the config's device:
what the path, curvature and Bezier jobs all start from."""

from __future__ import annotations

import torch

from .data import load_prepared
from ..workflow.device import resolve_device
from ..landscape import NetworkLandscape
from ..models import build_network


def network_landscape(network: str, data_path: str, model: dict, chunk_size: int,
                      device: str = "auto") -> tuple[NetworkLandscape, torch.device]:
    """(landscape, device): ``network`` built from the config's ``model`` section, with the
    images and labels of ``data_path`` (results/data/{landscape}.safetensors) on ``device``."""
    dev = resolve_device(device)
    net = build_network(network, **model).to(dev)
    x, y, _ = load_prepared(data_path)
    return NetworkLandscape(net, x.to(dev), y.to(dev), chunk_size), dev
