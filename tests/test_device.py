"""The code that differs on a GPU, run on the CPU through the same dispatch: pass shapes sized
from a device's memory (a memory figure given, as the driver would report it), the fused
kernels' one-block form, the clocks' wait, and the path loop's choices made on the device.
No test here needs a GPU; the CUDA-only lines they cannot reach are named in
docs/performance.md ("GPU")."""

import math

import pytest
import torch

from topography import kernels, landscape
from topography.landscape import (
    BYTES_PER_ROW, MEMORY_FRACTION, PASS_SHAPES, ROW_SCALES, NetworkLandscape, device_pass_shape, row_scales,
    synchronizer,
)
from topography.models import NETWORKS, build_network
from topography.pathfinder import _height, _Kept

GIB = 2**30


@pytest.mark.parametrize("network", NETWORKS)
def test_the_cpu_keeps_its_cache_sized_passes(network):
    assert device_pass_shape(network, "cpu") == PASS_SHAPES[network]
    x = torch.zeros(3, 784)
    surface = NetworkLandscape(build_network(network), x, torch.zeros(3, dtype=torch.long))
    assert (surface.rows_per_pass, surface.points_per_pass) == PASS_SHAPES[network]


def test_a_gpu_pass_holds_what_a_share_of_its_memory_holds():
    # 80 GiB free, half of it for a pass: LeNet at 160 kB a row
    rows, points = device_pass_shape("lenet", "cuda", memory_bytes=80 * GIB)
    assert rows == int(80 * GIB * MEMORY_FRACTION) // BYTES_PER_ROW["lenet"] == 268_435
    assert points == rows  # a path's inner points all in one pass; the images split to fit
    # half the memory, half the rows
    assert device_pass_shape("lenet", "cuda:1", memory_bytes=40 * GIB)[0] == 134_217
    # the LSTM still one vector at a time (cuDNN's fused kernel), on many images
    rows, points = device_pass_shape("lstm", "cuda", memory_bytes=40 * GIB)
    assert points == 1 and rows == int(40 * GIB * MEMORY_FRACTION) // BYTES_PER_ROW["lstm"]


def test_a_gpu_pass_is_never_smaller_than_the_cpus_nor_over_2_31_values():
    for network in NETWORKS:
        assert device_pass_shape(network, "cuda", memory_bytes=1)[0] == PASS_SHAPES[network][0]
    # FCP in 1 TB: memory would allow 134M rows; int32 indexing of its [rows, 100] tensors allows 21M
    rows, _ = device_pass_shape("fcp", "cuda", memory_bytes=1000 * GIB)
    assert rows == (2**31 - 1) // landscape.VALUES_PER_ROW["fcp"]
    assert rows * landscape.VALUES_PER_ROW["fcp"] < 2**31


def test_a_gpu_shape_drives_the_passes_as_a_cpu_shape_does():
    """The shape device_pass_shape gives a GPU, given to a landscape on the CPU: the same
    losses and gradients as the CPU's own shape (the passes differ, the sums do not)."""
    net = build_network("lenet")
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(30, 784, generator=generator), torch.randint(0, 10, (30,), generator=generator)
    weights = torch.stack([net.init_vector(k) for k in range(5)])
    cpu = NetworkLandscape(net, x, y, rows_per_pass=40, points_per_pass=2)
    gpu = NetworkLandscape(net, x, y).with_pass_shape(*device_pass_shape("lenet", "cuda", memory_bytes=8 * GIB))
    assert list(gpu._blocks(5)) == [(slice(0, 5), 30)]  # one pass: all vectors, all images
    (a, ga), (b, gb) = cpu.losses_and_grads(weights), gpu.losses_and_grads(weights)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=0)
    torch.testing.assert_close(ga, gb, rtol=1e-4, atol=1e-7)


def test_a_researchers_own_network_keeps_its_middle_shape_on_a_gpu():
    """No estimate of its bytes per row: the shape it has on the CPU (measure_pass_shape
    is how to size it on a GPU)."""
    assert device_pass_shape("my_net", "cuda", memory_bytes=80 * GIB) == landscape.CUSTOM_PASS_SHAPE
    assert device_pass_shape("my_net", "cpu") == landscape.CUSTOM_PASS_SHAPE


def test_only_a_cuda_device_is_asked_its_memory():
    with pytest.raises(ValueError, match="give memory_bytes"):
        device_pass_shape("fcp", "meta")


def test_a_gpu_measures_only_shapes_its_memory_holds():
    assert row_scales("cpu") == ROW_SCALES
    assert row_scales("cuda") == (0.25, 0.5, 1)


def test_a_clock_waits_for_a_gpu_and_not_for_the_cpu():
    assert synchronizer("cpu")() is None
    assert callable(synchronizer("cuda"))  # not called: there may be no GPU
    with pytest.raises(ValueError, match="no way to wait"):
        synchronizer("meta")


def test_fused_kernels_take_a_gpus_images_in_one_block():
    assert kernels.images_per_block(128, torch.zeros(1000, 784)) == 128
    assert kernels.images_per_block(128, torch.zeros(1000, 784, device="meta")) == 1000
    assert kernels.images_per_block(128, torch.zeros(0, 784, device="meta")) == 1


@pytest.mark.parametrize("network", ["fcp", "autoencoder"])
def test_one_block_of_all_images_computes_what_cache_sized_blocks_do(network, monkeypatch):
    """What the fused kernels do on a GPU (every image in one block), on the CPU."""
    net = build_network(network)
    generator = torch.Generator().manual_seed(1)
    x, y = torch.rand(300, 784, generator=generator), torch.randint(0, 10, (300,), generator=generator)
    weights = torch.stack([net.init_vector(k) for k in range(3)])
    surface = NetworkLandscape(net, x, y)
    blocked, blocked_grads = surface.losses_and_grads(weights)
    for kernel in (kernels.FCPCrossEntropySums, kernels.SigmoidMSESums):
        monkeypatch.setattr(kernel, "block", 10**6)
    whole, whole_grads = surface.losses_and_grads(weights)
    torch.testing.assert_close(whole, blocked, rtol=1e-5, atol=0)
    torch.testing.assert_close(whole_grads, blocked_grads, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("end, inner", [(1.0, [0.5, 2.0]), (1.0, [0.5, 0.7]), (1.0, [math.nan, 0.5]),
                                        (math.nan, [2.0]), (1.0, [math.inf]), (1.0, [1.0])])
def test_the_height_on_the_device_is_pythons_max(end, inner):
    inner = torch.tensor(inner)
    expected = max(end, float(inner.max()))
    got = float(_height(torch.tensor(end, dtype=torch.float64), inner))
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_the_kept_path_is_chosen_on_the_device_as_in_python():
    """The first lowest objective wins; NaN never does; nothing finite: step -1."""
    def kept_step(values):
        kept = _Kept()
        for step, value in enumerate(values):
            kept.offer(torch.tensor(value, dtype=torch.float64), step, torch.full((2, 3), float(step)),
                       torch.full((4,), float(step)))
        return int(kept.step), kept
    step, kept = kept_step([3.0, 2.0, math.nan, 2.0, 5.0])
    assert step == 1 and float(kept.value) == 2.0
    assert torch.equal(kept.coefficients, torch.full((2, 3), 1.0)) and torch.equal(kept.losses, torch.full((4,), 1.0))
    assert kept_step([math.nan, math.inf])[0] == -1
    assert kept_step([math.nan, 4.0])[0] == 1


def test_a_gpu_job_computes_in_full_float32():
    """What resolve_device does for a CUDA device, on the flags alone (no GPU needed)."""
    from topography.workflow.device import full_float32

    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = True  # torch's default
        full_float32()
        assert torch.backends.cuda.matmul.allow_tf32 is False and torch.backends.cudnn.allow_tf32 is False
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
