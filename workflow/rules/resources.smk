# What each job asks a cluster for (threads are the config's), scaled with the config:
# runtime with the images, iterations / epochs / steps and points M; memory with the images
# a job holds; a GPU only with device: cuda. Every request grows with the attempt, so a job
# killed at its time or memory limit is retried (profiles/slurm: retries) with more.
import math

MNIST_IMAGES = {"train": 60_000, "test": 10_000}  # data.n_train / n_test null: all of them

# CPU seconds per image at one thread, measured with bench/estimate.py on the 2-core
# development machine (2026-11-25, torch 2.13): one L-BFGS-GSS iteration and one SGD epoch
# per image of train + test (recording both sets' losses included); one path step per image
# and inner point of the path.
SECONDS_PER_IMAGE = {
    "lbfgs": {"fcp": 6.0e-5, "lenet": 1.2e-3, "autoencoder": 7.0e-5, "lstm": 8.7e-4},
    "sgd": {"fcp": 6.0e-5, "lenet": 6.8e-4, "autoencoder": 4.6e-5, "lstm": 7.1e-4},
    "path": {"fcp": 6.2e-6, "lenet": 2.4e-4, "autoencoder": 1.0e-5, "lstm": 2.1e-4},
}
SAFETY = 2  # other nodes' cores, data sizes past the caches, a busy node
START_MINUTES = 5  # importing torch, reading the data, writing the results
MIN_MINUTES, MAX_MINUTES = 10, 7 * 24 * 60
BASE_MB = 1500  # Python, torch and the package, and the bounded passes (landscape.PASS_SHAPES)


# With data.source file, the sizes of the researcher's data file (checked while planning).
DATA_SHAPES = data_shapes(config["data"]["path"]) if config["data"]["source"] == "file" else None


def n_images(split):
    if config["data"][f"n_{split}"]:
        return config["data"][f"n_{split}"]
    return DATA_SHAPES[f"x_{split}"][0] if DATA_SHAPES else MNIST_IMAGES[split]


def values_per_image():
    return math.prod(DATA_SHAPES["x_train"][1:]) if DATA_SHAPES else 28 * 28


def seconds_per_image(kind, network):
    """The measured rate of a built-in network; a custom one's scaled from FCP's by its
    parameter count (a dense network's work per image grows with its weights)."""
    rates = SECONDS_PER_IMAGE[kind]
    return rates[network] if network in rates else rates["fcp"] * N_PARAMS[network] / design.PARAMETER_COUNTS["fcp"]


def minutes(seconds, attempt):
    """A time limit for ``seconds`` of estimated work: SAFETY x, doubled per retry."""
    limit = START_MINUTES + SAFETY * seconds / 60
    return int(min(MAX_MINUTES, max(MIN_MINUTES, math.ceil(limit * 2 ** (attempt - 1)))))


def mem_per_attempt(mb):
    """A mem_mb request: ``mb`` on the first attempt, ``mb`` times the attempt on a retry."""
    return lambda wildcards, attempt: mb * attempt


def memory_mb(*splits, attempt=1):
    """BASE_MB and three copies of the float32 images of ``splits`` (read, tensor, chunk)."""
    data_mb = sum(n_images(s) for s in splits) * values_per_image() * 4 / 1e6
    return int(math.ceil(BASE_MB + 3 * data_mb) * attempt)


def train_runtime(wildcards, attempt):
    settings = run_settings(config, wildcards.network, wildcards.optimizer)
    units = settings["max_iterations"] if wildcards.optimizer == "lbfgs" else settings["epochs"]
    per_image = seconds_per_image(wildcards.optimizer, wildcards.network)
    return minutes(units * per_image * (n_images("train") + n_images("test")), attempt)


def path_runtime(wildcards, attempt, pairs):
    paths = config["paths"]
    images = paths["batch_size"] or n_images(wildcards.landscape)
    per_step = seconds_per_image("path", wildcards.network) * (paths["points"] - 2)
    # the steps on `images`, then the straight and final paths on the whole landscape
    seconds = per_step * (paths["steps"] * images + 2 * n_images(wildcards.landscape))
    # the job's pairs, one after another (one start)
    return minutes(max(1, pairs) * seconds, attempt)


def path_runtime_of(pairs):
    """The runtime request of a path job of ``pairs`` pairs."""
    return lambda wildcards, attempt: path_runtime(wildcards, attempt, pairs)


def gpus():
    """SLURM's gpu resource: one where the config says cuda, none otherwise (device: auto
    uses a GPU only where the node it lands on has one)."""
    return 1 if config["device"] == "cuda" else 0
