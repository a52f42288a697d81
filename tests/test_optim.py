"""Tests of the L-BFGS-GSS optimizer (topography.optim)."""

import math

import pytest
import torch

from topography.optim import (
    LBFGSGSS,
    StepInfo,
    golden_section_line_search,
    two_loop_direction,
)

F64 = torch.float64


def paper_lbfgs(*args, **kwargs):
    """The optimizer with the paper-text line search (``line_search="paper"``): the tests
    from here to the authors' section pin that mode, as they did before it had a name."""
    return LBFGSGSS(*args, line_search="paper", **kwargs)


# ---------------------------------------------------------------- test problems


def make_quadratic(n=20, cond=1e3, seed=0, dtype=F64):
    """f(w) = 1/2 (w - w*)' A (w - w*) with eigenvalues log-spaced in [1, cond]."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=F64))
    eigenvalues = torch.logspace(0, math.log10(cond), n, dtype=F64)
    a = (q * eigenvalues) @ q.T
    w_star = torch.randn(n, generator=gen, dtype=F64)
    a, w_star = a.to(dtype), w_star.to(dtype)

    def loss(w):
        d = w - w_star
        return float(0.5 * d @ (a @ d))

    def loss_and_grad(w):
        d = w - w_star
        return float(0.5 * d @ (a @ d)), a @ d

    return a, w_star, loss, loss_and_grad


def rosenbrock(w):
    x, y = w[0].item(), w[1].item()
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_and_grad(w):
    x, y = w[0].item(), w[1].item()
    g = torch.tensor([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], dtype=w.dtype)
    return rosenbrock(w), g


def iterations_to_reach(opt, w0, w_star, max_iterations, tol=1e-6):
    """Number of steps until |w - w*| < tol (None if never), and the final w."""
    w = w0.clone()
    for it in range(1, max_iterations + 1):
        info = opt.step(w)
        assert not info.nonfinite
        w = info.w
        if torch.linalg.vector_norm(w - w_star).item() < tol:
            return it, w
    return None, w


# ---------------------------------------------------------------- convergence


def test_quadratic_paper_settings_reaches_minimiser():
    # With the paper's eps = 1e-6 added to y.s, once steps shrink to |s| ~ 1e-3 (y.s ~ 1e-6 for
    # unit curvature) eps dominates rho, the two-loop degenerates to a gamma-scaled gradient,
    # and the tail is linear and slow: 2,692 iterations here (measured), so allow 3,500.
    _, w_star, loss, loss_and_grad = make_quadratic()
    opt = paper_lbfgs(loss, loss_and_grad)  # paper defaults: m=10, budget 6, tol 1e-4, eps 1e-6
    n_iter, w = iterations_to_reach(opt, torch.zeros(20, dtype=F64), w_star, 3500)
    assert n_iter is not None, torch.linalg.vector_norm(w - w_star).item()
    assert w.dtype == F64


def test_quadratic_without_eps_reaches_minimiser_fast():
    # Same problem without the eps safeguard: 156 iterations (measured), allow 300.
    _, w_star, loss, loss_and_grad = make_quadratic()
    opt = paper_lbfgs(loss, loss_and_grad, eps=0.0)
    n_iter, w = iterations_to_reach(opt, torch.zeros(20, dtype=F64), w_star, 300)
    assert n_iter is not None, torch.linalg.vector_norm(w - w_star).item()


def test_rosenbrock_reaches_minimiser():
    # Paper settings from (-1.2, 1): 34 iterations (measured), allow 200.
    opt = paper_lbfgs(rosenbrock, rosenbrock_and_grad)
    w0 = torch.tensor([-1.2, 1.0], dtype=F64)
    w_star = torch.ones(2, dtype=F64)
    n_iter, w = iterations_to_reach(opt, w0, w_star, 200)
    assert n_iter is not None, torch.linalg.vector_norm(w - w_star).item()


def test_minimize_and_callback_and_float32():
    _, w_star, loss, loss_and_grad = make_quadratic(n=5, cond=10.0, dtype=torch.float32)
    opt = paper_lbfgs(loss, loss_and_grad)
    seen = []

    def callback(it, info):
        assert isinstance(info, StepInfo)
        assert info.loss_after <= info.loss_before
        assert info.evaluations <= 6
        seen.append(it)
        return it == 19  # stop after 20 steps

    w0 = torch.zeros(5, dtype=torch.float32)
    w = opt.minimize(w0, 1000, callback)
    assert seen == list(range(20))
    assert w.dtype == torch.float32
    assert torch.equal(w0, torch.zeros(5))  # the start is not modified
    assert loss(w) < 1e-3 * loss(w0)


# ---------------------------------------------------------------- line search


def counting(phi):
    calls = []

    def wrapped(alpha):
        calls.append(alpha)
        return phi(alpha)

    return wrapped, calls


def test_line_search_unimodal_budget_6():
    # phi = (a - 1.3)^2, |r| = 1: bracketing tries 0.2, 0.4, 0.8, 1.6 (falling) and 3.2 (rising),
    # 5 evaluations; the 6th is one golden trial at 3.2 - 0.382 * 2.4 = 2.283 (worse). The
    # budget therefore resolves the minimiser only to the bracketing grid: best point 1.6,
    # error 0.3.
    phi, calls = counting(lambda a: (a - 1.3) ** 2)
    res = golden_section_line_search(phi, 1.0, phi0=1.3**2)
    assert res.evaluations == len(calls) == 6
    assert calls[:5] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2])
    assert res.step == pytest.approx(1.6)
    assert res.value == pytest.approx(0.09)
    assert abs(res.step - 1.3) <= 0.3 + 1e-12


@pytest.mark.parametrize("budget", [6, 8, 10, 15, 20, 25, 30])
def test_line_search_unimodal_error_within_budget_bound(budget):
    # With tol = 0 the search runs the whole budget: after the 5 bracketing evaluations the
    # bracket is [0.8, 3.2] (width 2.4), and each golden trial shrinks it by about 0.618, so
    # the error is within 2.4 * 0.618^(budget - 5) (1.8e-3 at budget 20, 1.4e-5 at 30).
    res = golden_section_line_search(lambda a: (a - 1.3) ** 2, 1.0, budget=budget, tol=0.0,
                                     phi0=1.69)
    assert res.evaluations == budget
    assert abs(res.step - 1.3) <= 2.4 * 0.618 ** (budget - 5)


def test_line_search_early_stop_on_tol():
    # With tol = 1e-4 and a generous budget the search stops itself once the bracket ends
    # differ by < tol in loss; on a unit-curvature parabola that is about sqrt(tol) in step.
    res = golden_section_line_search(lambda a: (a - 1.3) ** 2, 1.0, budget=100, tol=1e-4,
                                     phi0=1.69)
    assert res.evaluations < 100
    assert abs(res.step - 1.3) < math.sqrt(1e-4)


def test_line_search_shrinks_toward_zero():
    # Minimiser at 0.01 with |r| = 1: the first trial 0.2 is worse than phi(0), so trials shrink
    # by 0.382: 0.0764, 0.0292, 0.0111 (better), then golden section.
    phi, calls = counting(lambda a: (a - 0.01) ** 2)
    res = golden_section_line_search(phi, 1.0, budget=6, phi0=1e-4)
    assert calls[:4] == pytest.approx([0.2, 0.2 * 0.382, 0.2 * 0.382**2, 0.2 * 0.382**3])
    assert res.evaluations == len(calls) <= 6
    assert 0 < res.step < 0.0292
    assert res.value < 1e-4


def test_line_search_returns_zero_when_nothing_improves():
    phi, calls = counting(lambda a: 1.0 + a)  # increasing: every trial is worse than phi(0)
    res = golden_section_line_search(phi, 2.0, budget=6, phi0=1.0)
    assert (res.step, res.value, res.evaluations) == (0.0, 1.0, 6)
    assert len(calls) == 6
    assert all(a > 0 for a in calls)  # phi0 was given, so phi(0) is never asked for


def test_line_search_never_chooses_nonfinite():
    # The true minimiser 1.3 lies where phi is NaN; the search must stay below 1.
    res = golden_section_line_search(lambda a: (a - 1.3) ** 2 if a < 1 else math.nan, 1.0,
                                     budget=20, phi0=1.69)
    assert res.step < 1
    assert math.isfinite(res.value)


PHIS = {
    "parabola": lambda a: (a - 1.3) ** 2,
    "far": lambda a: (a - 1e3) ** 2,  # keeps falling: bracketing exhausts the budget
    "near_zero": lambda a: (a - 1e-3) ** 2,  # first trial worse: shrink
    "increasing": lambda a: a,
    "flat": lambda a: 0.0,
    "wiggly": lambda a: math.sin(7 * a) + 0.1 * a,
    "nan_beyond": lambda a: (a - 1.3) ** 2 if a < 0.5 else math.nan,
    "inf": lambda a: math.inf,
}


@pytest.mark.parametrize("name", PHIS)
@pytest.mark.parametrize("budget", [0, 1, 2, 3, 6, 10])
@pytest.mark.parametrize("give_phi0", [True, False])
def test_line_search_never_exceeds_budget(name, budget, give_phi0):
    phi, calls = counting(PHIS[name])
    phi0 = PHIS[name](0.0) if give_phi0 else None
    res = golden_section_line_search(phi, 1.0, budget=budget, phi0=phi0)
    assert len(calls) <= budget
    assert res.evaluations == len(calls)
    if budget and give_phi0:
        assert res.value <= PHIS[name](0.0)
        assert res.value == PHIS[name](res.step) or res.step == 0.0


# ---------------------------------------------------------------- two-loop recursion


def dense_bfgs_inverse(s_list, y_list, eps):
    """H = gamma I, then for each pair: H <- (I - rho s y') H (I - rho y s') + rho s s'."""
    n = s_list[0].numel()
    s, y = s_list[-1], y_list[-1]
    h = (s @ y) / (y @ y) * torch.eye(n, dtype=F64)
    eye = torch.eye(n, dtype=F64)
    for s, y in zip(s_list, y_list):
        rho = 1.0 / (y @ s + eps)
        h = (eye - rho * torch.outer(s, y)) @ h @ (eye - rho * torch.outer(y, s))
        h = h + rho * torch.outer(s, s)
    return h


@pytest.mark.parametrize("eps", [0.0, 1e-6])
def test_two_loop_matches_dense_bfgs(eps):
    gen = torch.Generator().manual_seed(1)
    a, _, _, _ = make_quadratic(n=8, cond=50.0, seed=2)
    s_list = [torch.randn(8, generator=gen, dtype=F64) for _ in range(5)]
    y_list = [a @ s for s in s_list]  # curvature pairs of an SPD matrix: y.s > 0
    g = torch.randn(8, generator=gen, dtype=F64)
    r = two_loop_direction(g, s_list, y_list, eps=eps)
    expected = dense_bfgs_inverse(s_list, y_list, eps) @ g
    torch.testing.assert_close(r, expected, rtol=1e-10, atol=1e-12)


def test_two_loop_is_newton_direction_after_n_conjugate_pairs():
    # For a quadratic, n A-conjugate steps (here A's eigenvectors) make H exactly A^-1.
    a, _, _, _ = make_quadratic(n=6, cond=1e3, seed=3)
    _, vectors = torch.linalg.eigh(a)
    s_list = [vectors[:, i] * (i + 1) for i in range(6)]
    y_list = [a @ s for s in s_list]
    g = torch.randn(6, generator=torch.Generator().manual_seed(4), dtype=F64)
    r = two_loop_direction(g, s_list, y_list, eps=0.0)
    torch.testing.assert_close(r, torch.linalg.solve(a, g), rtol=1e-9, atol=1e-12)


def test_two_loop_empty_history_is_gradient():
    g = torch.tensor([1.0, -2.0, 3.0])
    r = two_loop_direction(g, [], [])
    assert torch.equal(r, g) and r is not g


# ---------------------------------------------------------------- safeguards


def test_nonfinite_loss_resets_and_signals():
    _, w_star, loss, loss_and_grad = make_quadratic(n=5, cond=10.0)
    calls = {"n": 0}

    def flaky_loss_and_grad(w):
        calls["n"] += 1
        value, g = loss_and_grad(w)
        return (math.nan, g) if calls["n"] == 4 else (value, g)

    opt = paper_lbfgs(loss, flaky_loss_and_grad)
    w = torch.zeros(5, dtype=F64)
    for _ in range(3):
        w = opt.step(w).w
    assert len(opt.s_list) == 2
    info = opt.step(w)  # the 4th gradient call returns a NaN loss
    assert info.nonfinite and info.reset and info.reset_reason == "nonfinite_loss"
    assert torch.equal(info.w, w) and info.step == 0.0 and info.evaluations == 0
    assert opt.s_list == [] and opt.y_list == []
    # It recovers: the next step is a plain gradient step that forms no pair with the NaN point.
    info = opt.step(w)
    assert not info.nonfinite and not info.reset and info.history == 0
    assert info.loss_after < info.loss_before


def test_nonfinite_gradient_resets_and_signals():
    _, _, loss, loss_and_grad = make_quadratic(n=5, cond=10.0)
    opt = paper_lbfgs(loss, lambda w: (loss(w), torch.full_like(w, math.inf)))
    info = opt.step(torch.zeros(5, dtype=F64))
    assert info.nonfinite and info.reset_reason == "nonfinite_grad"


def test_nan_in_line_search_is_never_taken():
    # The loss is NaN beyond w[0] > 0.5; the minimiser (1, 1, ...) is out there, so the optimizer
    # must creep toward the edge without ever stepping into the NaN region.
    w_star = torch.ones(3, dtype=F64)

    def loss(w):
        return math.nan if w[0] > 0.5 else float(((w - w_star) ** 2).sum())

    def loss_and_grad(w):
        return loss(w), 2 * (w - w_star)

    opt = paper_lbfgs(loss, loss_and_grad)
    w = torch.zeros(3, dtype=F64)
    for _ in range(20):
        info = opt.step(w)
        assert not info.nonfinite and math.isfinite(info.loss_after)
        w = info.w
    assert w[0] <= 0.5


def test_nonfinite_direction_resets_history():
    # A valid pair (cos = 1) with tiny curvature y.s = 1e-3 scales a large float32 gradient
    # past the dtype's range: r = 1e36 / 1e-3 = inf. History is cleared, the gradient is the
    # fallback; its norm overflows float32 too, so no move is made and no exception raised.
    g = torch.tensor([1e36, 0.0, 0.0, 0.0])
    opt = paper_lbfgs(lambda w: 1.0, lambda w: (1.0, g.clone()))
    opt.s_list = [torch.tensor([1.0, 0.0, 0.0, 0.0])]
    opt.y_list = [torch.tensor([1e-3, 0.0, 0.0, 0.0])]
    w = torch.zeros(4)
    info = opt.step(w)
    assert info.reset and info.reset_reason == "nonfinite_direction" and not info.nonfinite
    assert opt.s_list == [] and info.history == 0
    assert info.step == 0.0 and torch.equal(info.w, w)


def test_negative_curvature_pair_resets_history():
    # f = sum(w^4/4 - w^2/2) is concave for |w| < 1/sqrt(3). From w = 0.1 the first (gradient)
    # step gives a pair with y.s < 0, so the second step must clear the history.
    def loss(w):
        return float((w**4 / 4 - w**2 / 2).sum())

    def loss_and_grad(w):
        return loss(w), w**3 - w

    opt = paper_lbfgs(loss, loss_and_grad)
    w0 = torch.tensor([0.1, 0.2], dtype=F64)
    info1 = opt.step(w0)
    assert not info1.reset and info1.step > 0
    s = info1.w - w0
    y = loss_and_grad(info1.w)[1] - loss_and_grad(w0)[1]
    assert torch.dot(y, s) < 0  # the premise of the test
    info2 = opt.step(info1.w)
    assert info2.reset and info2.reset_reason == "curvature"
    assert info2.history == 0
    assert info2.loss_after < info2.loss_before  # a plain gradient step still makes progress


def test_small_positive_cosine_below_cos_tol_resets():
    _, _, loss, loss_and_grad = make_quadratic(n=3, cond=10.0)
    opt = paper_lbfgs(loss, loss_and_grad)  # cos_tol = 1e-4
    opt.s_list = [torch.tensor([1.0, 0.0, 0.0], dtype=F64)]
    opt.y_list = [torch.tensor([1e-6, 1.0, 0.0], dtype=F64)]  # cos(y, s) ~ 1e-6 > 0
    info = opt.step(torch.zeros(3, dtype=F64))
    assert info.reset and info.reset_reason == "curvature" and opt.s_list == []


def test_zero_step_gives_zero_pair_reset():
    # Every line-search trial is +inf, so no step is taken; the next iteration's pair has
    # zero length and the history is cleared.
    _, _, _, loss_and_grad = make_quadratic(n=3, cond=10.0)
    opt = paper_lbfgs(lambda w: math.inf, loss_and_grad)
    w = torch.ones(3, dtype=F64)
    info1 = opt.step(w)
    assert info1.step == 0.0 and torch.equal(info1.w, w) and info1.evaluations == 6
    assert info1.loss_after == info1.loss_before
    info2 = opt.step(info1.w)
    assert info2.reset and info2.reset_reason == "zero_pair"


def test_history_is_capped():
    _, _, loss, loss_and_grad = make_quadratic(n=10, cond=100.0)
    opt = paper_lbfgs(loss, loss_and_grad, history=3)
    w = torch.zeros(10, dtype=F64)
    lengths = []
    for _ in range(8):
        info = opt.step(w)
        w = info.w
        lengths.append(info.history)
    assert max(lengths) == 3 and lengths[-1] == 3
    opt.reset()
    assert opt.s_list == [] and opt.y_list == []
