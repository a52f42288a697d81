"""The config's networks checked while the DAG is built, before any job runs or any output
is deleted: each custom network's factory imports and returns a module, and every network
takes one example of the data (a researcher's data file, or an MNIST image) and gives an
output that fits its loss and the labels. Also each network's parameter count, which the
jobs that read weight files check them against."""

from __future__ import annotations

from ..design import NETWORKS, PARAMETER_COUNTS
from ..workflow.config import ConfigError, model_settings
from ..workflow.data_file import read_data_file
from ..workflow.mnist_files import DataError


def check_networks(config: dict) -> dict[str, int]:
    """{network: parameter count} for ``config["networks"]``; ConfigError naming the config
    key or file otherwise. Built-in networks on MNIST need no torch, so planning the
    default run stays light; anything else is built and run on one example."""
    networks = config["networks"]
    file_data = config["data"]["source"] == "file"
    if not file_data and all(n in NETWORKS for n in networks):
        return {n: PARAMETER_COUNTS[n] for n in networks}

    import torch

    from ..models import NetworkError, build_network, check_network

    if file_data:
        try:
            arrays = read_data_file(config["data"]["path"])
        except DataError as err:
            raise ConfigError(str(err)) from err
        x = torch.from_numpy(arrays["x_train"][:1])
        y = torch.from_numpy(arrays["y_train"]) if "y_train" in arrays else None
        where_data = f"data.path {config['data']['path']}"
    else:  # MNIST as the data job prepares it: [N, 784] in [0, 1], labels 0..9
        x, y, where_data = torch.zeros(1, 784), torch.arange(10), "MNIST"
    counts = {}
    for network in networks:
        key = f"custom_networks.{network}" if network not in NETWORKS else f"networks: {network}"
        try:
            net = build_network(network, **model_settings(config, network))
            check_network(net, x, y, f"{key} on {where_data}")
        except NetworkError as err:
            raise ConfigError(str(err) if str(err).startswith(key) else f"{key}: {err}") from err
        counts[network] = net.n_params
    return counts
