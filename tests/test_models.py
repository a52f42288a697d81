import pytest
import torch
from torch import nn

from topography.models import NETWORKS, PARAMETER_COUNTS, build_network


@pytest.mark.parametrize("name", NETWORKS)
def test_parameter_counts_match_the_paper(name):
    expected = {"fcp": 42_200, "lenet": 61_706, "autoencoder": 52_224, "lstm": 15_456}[name]
    assert build_network(name).n_params == expected == PARAMETER_COUNTS[name]


@pytest.mark.parametrize("name", NETWORKS)
def test_flat_vector_evaluation_matches_the_module(name):
    net = build_network(name)
    w = net.init_vector(3)
    torch.nn.utils.vector_to_parameters(w, net.module.parameters())
    x = torch.rand(5, 784)
    assert torch.equal(net.forward(w, x), net.module(x))


@pytest.mark.parametrize("name", NETWORKS)
def test_init_is_seeded_and_leaves_the_global_rng_alone(name):
    net = build_network(name)
    state = torch.random.get_rng_state()
    a, b, c = net.init_vector(0), net.init_vector(0), net.init_vector(1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(state, torch.random.get_rng_state())


def test_lstm_equals_torch_nn_lstm_with_the_same_weights():
    net = build_network("lstm")
    w = net.init_vector(0)
    params = net.unflatten(w)
    reference = nn.LSTM(input_size=28, hidden_size=48, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(reference, f"{name}_l0").copy_(params[name])
    x = torch.rand(7, 784)
    seq = x[:, params["permutation"]].reshape(7, 28, 28)
    out, _ = reference(seq)
    expected = out[:, -1] @ params["fc.weight"].T
    torch.testing.assert_close(net.forward(w, x), expected, rtol=1e-5, atol=1e-6)


def test_lstm_permutation_is_fixed_by_its_seed():
    a = build_network("lstm", lstm_permutation_seed=1234).buffers["permutation"]
    b = build_network("lstm", lstm_permutation_seed=1234).buffers["permutation"]
    c = build_network("lstm", lstm_permutation_seed=7).buffers["permutation"]
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert sorted(a.tolist()) == list(range(784))


def test_relu_option_changes_the_function():
    x = torch.rand(4, 784)
    soft, relu = build_network("fcp", "softplus"), build_network("fcp", "relu")
    w = soft.init_vector(0)
    assert not torch.allclose(soft.forward(w, x), relu.forward(w, x))


def test_autoencoder_loss_is_mean_squared_reconstruction_error():
    net = build_network("autoencoder")
    w = net.init_vector(0)
    x = torch.rand(6, 784)
    out = net.forward(w, x)
    assert out.min() >= 0 and out.max() <= 1  # sigmoid output
    torch.testing.assert_close(net.loss(w, x, None), ((out - x) ** 2).mean())


def test_unknown_names_are_rejected_clearly():
    with pytest.raises(ValueError, match="unknown network 'resnet'"):
        build_network("resnet")
    with pytest.raises(ValueError, match="unknown activation 'tanh'"):
        build_network("fcp", "tanh")


@pytest.mark.parametrize("name", NETWORKS)
def test_the_single_vector_loss_and_outputs_agree_with_the_module_forms(name):
    """loss_sum and outputs (training's and the landscape's single-vector forms, by the
    batched kernels for the autoencoder and the LSTM) equal the per-vector module's, with
    the same gradient, to float32 rounding."""
    net = build_network(name)
    w = net.init_vector(1).requires_grad_(True)
    x, y = torch.rand(40, 784), torch.randint(0, 10, (40,))
    fast = net.loss_sum(w, x, y)
    (fast_grad,) = torch.autograd.grad(fast, w)
    plain = net.sample_losses(w, x, y).sum()
    (plain_grad,) = torch.autograd.grad(plain, w)
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fast_grad, plain_grad, rtol=1e-4, atol=1e-6 * float(plain_grad.abs().max()))
    with torch.no_grad():
        torch.testing.assert_close(net.outputs(w, x), net.forward(w, x), rtol=1e-5, atol=1e-6)
