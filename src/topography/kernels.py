"""The hand-written batched kernels behind the networks' ``forward_batched`` (models.py):
one network at K weight vectors at once, on the same images.

Path finding evaluates ~50 vectors at every step. Large and batched matmuls
(``shared_linear``, ``batched_linear``) and, where autograd's own backward walks several
large temporaries, fused passes that form the gradients in the forward pass
(``FCPCrossEntropySums`` for FCP's whole pass, ``ActPool`` for LeNet's activation and
pooling, ``SigmoidMSESums`` for the autoencoder's output layer) are faster than a loop over
the vectors or a generic ``vmap``; bench/pathfinder.py measures by how much, and the tests
check every kernel equals the loop. ``lstm_cell`` is the LSTM's step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

ACTIVATIONS = {"softplus": F.softplus, "relu": F.relu}


class FCPCrossEntropySums(torch.autograd.Function):
    """sum_n cross_entropy(FCP_k(x_n), y_n) for K weight vectors at once -> [K], forward and
    backward written out.

    The first layer is one large matmul of the shared images by all K first-layer
    matrices, [n, 784] x [784, K*50], and its weight gradient one more, [K*50, n] x
    [n, 784]: nearly all of the flops, near the machine's matmul rate. Everything
    between those two runs on ``block`` images at a time, small enough to stay in the
    caches: the activations, the two small layers (batched matmuls), the loss, its
    gradient and the backward pass to the first layer's pre-activations, which are
    written straight into the [n, K*50] buffer that the weight-gradient matmul reads.
    Autograd through the same pass keeps [K, n, 50] activations in a transposed layout
    and walks them several times more (layout copies, softplus' backward on mixed
    strides). As in SigmoidMSESums the gradients are formed in the forward pass and
    scaled by the incoming per-vector gradient in backward().
    """

    block = 128  # images per block: [128, K*50] floats, 1.2 MB at K = 48

    @staticmethod
    def forward(ctx, w1, w2, w3, x, y, activation):
        # w1 [K, H, I], w2 [K, H, H], w3 [K, C, H], x [n, I], y [n] -> [K]
        k, hidden, _ = w1.shape
        n = x.shape[0]
        with_grads = any(ctx.needs_input_grad[:3])
        pre1 = (x @ w1.reshape(k * hidden, -1).T).view(n, k, hidden)  # [n, K, H]
        sums = x.new_zeros(k)
        if with_grads:
            grad_pre1 = torch.empty_like(pre1)
            grad_w2, grad_w3 = torch.zeros_like(w2), torch.zeros_like(w3)
        block = images_per_block(FCPCrossEntropySums.block, x)
        for start in range(0, n, block):
            # The first layer's pre-activations [B, K, H] are contiguous: elementwise work on
            # them runs there, and the batched matmuls read the [K, B, H] transposed views.
            z1 = pre1[start : start + block]
            labels = y[start : start + block]
            h1 = ACTIVATIONS[activation](z1).transpose(0, 1)
            z2 = torch.bmm(h1, w2.transpose(1, 2))
            h2 = ACTIVATIONS[activation](z2)
            # Classes first, [K, C, B]: the softmax then reduces over C rows of B contiguous
            # images, vectorised along the images (over the last axis of 10 it is not).
            logits = torch.bmm(w3, h2.transpose(1, 2))
            log_probs = torch.log_softmax(logits, dim=1)
            at_label = labels.view(1, 1, -1).expand(k, 1, -1)
            picked = log_probs.gather(1, at_label)  # log p_y [K, 1, B]
            sums -= picked.sum(dim=(1, 2))
            if not with_grads:
                continue
            # d/dlogits of the summed cross-entropy: softmax - one-hot, i.e. p_y - 1 at the label.
            grad_logits = log_probs.exp_().scatter_(1, at_label, picked.exp_().sub_(1))
            grad_w3.baddbmm_(grad_logits, h2)
            grad_z2 = torch.bmm(grad_logits.transpose(1, 2), w3).mul_(slope(z2, activation))
            grad_w2.baddbmm_(grad_z2.transpose(1, 2), h1)
            grad_h1 = torch.bmm(grad_z2, w2)
            torch.mul(grad_h1.transpose(0, 1), slope(z1, activation), out=grad_pre1[start : start + len(labels)])
        if with_grads:
            grad_w1 = (grad_pre1.view(n, k * hidden).T @ x).view_as(w1)
            ctx.save_for_backward(grad_w1, grad_w2, grad_w3)
        return sums

    @staticmethod
    def backward(ctx, grad_sums):
        scale = grad_sums.view(-1, 1, 1)
        return *(g * scale for g in ctx.saved_tensors), None, None, None


def images_per_block(block: int, x: torch.Tensor) -> int:
    """Images per block of a fused kernel on the images ``x``: ``block`` on the CPU, where
    blocks are sized for its caches; elsewhere (a GPU) all of them in one block, since a
    block's dozen small kernels would cost more in launches than in work (the landscape's
    pass shape already bounds the pass's memory, blocks included)."""
    return block if x.device.type == "cpu" else max(1, x.shape[0])


def slope(z, activation):
    """The activation's derivative at z: softplus' = sigmoid, relu' = [z > 0]."""
    return torch.sigmoid(z) if activation == "softplus" else (z > 0).to(z.dtype)


class ActPool(torch.autograd.Function):
    """avg_pool2d(act(z), 2) of channels-last pre-activations z [n, H, W, C] -> [n, C, H/2, W/2]
    (channels-last memory): both of LeNet's convolutions are followed by this.

    The convolutions' outputs of all K vectors are the largest tensors of LeNet's batched
    pass; autograd's backward through pooling and the activation walks them five times
    (zero fill, scatter, layout copies, the activation's derivative). Here the
    activation's slope is kept from the forward pass, and the backward pass spreads each
    pooled gradient over its 2x2 window and multiplies by the slope in one broadcast
    multiply, in place, in the layout the convolution's backward wants.
    """

    @staticmethod
    def forward(ctx, z, activation):
        if ctx.needs_input_grad[0]:  # the slope is needed only for gradients
            ctx.save_for_backward(slope(z, activation))
        out = ACTIVATIONS[activation](z)
        # The permuted view is channels-last, and so is avg_pool2d's output.
        return F.avg_pool2d(out.permute(0, 3, 1, 2), 2)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        n, height, width, c = slope.shape
        # Each pooled value is the mean of a 2x2 window: a quarter of its gradient
        # reaches each of the four, broadcast over the window's axes.
        window = grad.permute(0, 2, 3, 1).mul(0.25).reshape(n, height // 2, 1, width // 2, 1, c)
        return slope.reshape(n, height // 2, 2, width // 2, 2, c).mul_(window).view(n, height, width, c), None


class SigmoidMSESums(torch.autograd.Function):
    """sum_n mean_j (sigmoid(h_n W^T)_j - x_nj)^2 for K weight matrices W at once -> [K].

    The [K, n, 784] outputs are the largest tensors of the autoencoder's batched pass.
    Here they exist only for ``block`` images at a time, small enough to stay in the
    caches: each block's outputs, its gradient factor s (1 - s) (s - x) and both of
    its gradient products (by W, and by h) are formed back to back, and only the
    gradients, [K, n, i] and [K, 784, i], are kept. Since the loss of each vector is
    one number, the incoming gradient is one scale per vector, applied in backward().
    """

    block = 128  # images per block: [K, 128, 784] floats, ~5 MB at K = 12

    @staticmethod
    def forward(ctx, h, weight, x):
        # h [K, n, i], weight [K, P, i], x [n, P] -> [K]
        k, n, _ = h.shape
        pixels = x.shape[-1]
        with_grads = any(ctx.needs_input_grad[:2])
        sums = h.new_zeros(k)
        if with_grads:
            grad_h, grad_weight = torch.empty_like(h), torch.zeros_like(weight)
        block = images_per_block(SigmoidMSESums.block, x)
        outputs = h.new_empty(k, min(n, block), pixels)
        diffs = torch.empty_like(outputs)
        for start in range(0, n, block):
            h_block = h[:, start : start + block]
            rows = h_block.shape[1]
            s = torch.bmm(h_block, weight.transpose(1, 2), out=outputs[:, :rows]).sigmoid_()
            diff = torch.sub(s, x[start : start + rows], out=diffs[:, :rows])
            sums += torch.linalg.vector_norm(diff.reshape(k, -1), dim=1).square_()
            if with_grads:
                factor = s.addcmul_(s, s, value=-1).mul_(diff)  # s (1 - s) (s - x), in place
                torch.bmm(factor, weight, out=grad_h[:, start : start + rows])
                grad_weight.baddbmm_(factor.transpose(1, 2), h_block)
        if with_grads:
            ctx.save_for_backward(grad_h, grad_weight)
        return sums / pixels

    @staticmethod
    def backward(ctx, grad_sums):
        grad_h, grad_weight = ctx.saved_tensors
        scale = (grad_sums * (2 / grad_weight.shape[1])).view(-1, 1, 1)  # d mean_j / d s_j: 2 (s - x) / P
        return grad_h * scale, grad_weight * scale, None


def lstm_cell(gates, c):
    """One LSTM step from the summed gate pre-activations (order i, f, g, o)."""
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def shared_linear(x, weight):
    """Input ``x`` [n, i] shared by K weight matrices [K, o, i] -> [K, n, o].

    The K matrices are stacked into one [K*o, i] matrix, so all K products are a single
    large matmul, which runs near the machine's peak rate (K separate ones do not).
    """
    k, o, i = weight.shape
    return (x @ weight.reshape(k * o, i).T).view(-1, k, o).transpose(0, 1)


def batched_linear(h, weight, bias=None):
    """Inputs [K, n, i], one weight matrix [K, o, i] each -> [K, n, o]."""
    if bias is None:
        return torch.bmm(h, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
