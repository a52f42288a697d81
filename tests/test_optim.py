"""Tests of the L-BFGS-GSS optimizer (topography.optim)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from topography.optim import (
    LBFGSGSS,
    StepInfo,
    authors_line_search,
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


# ---------------------------------------------------------------- the authors' notebook
#
# line_search="authors" (the default) follows LBFGS_Brent in the authors' L-BFGS_GSS_NN.ipynb.
# The first tests pin its line search branch by branch, with expectations worked out by hand
# from the notebook; the last ones pin whole trajectories to numbers the notebook's own class
# produced (tests/reference/lbfgs_brent.json; how, in their docstrings).

REFERENCE = json.loads((Path(__file__).parent / "reference" / "lbfgs_brent.json").read_text())


def test_authors_expansion_increments_k_twice_then_places_its_golden_trial_from_a():
    # (t - 5)^2, |r| = 1: 0.2, then 0.8 (0.4 skipped), 1.6, 3.2, 6.4 keep falling, 12.8 rises.
    # Bracket a = 3.2 < x = 6.4 < b = 12.8; x is nearer a, so the trial is a + 0.382 (b - a)
    # = 6.8672 (the paper reading's would be b - 0.382 (b - a) = 9.1328).
    phi, calls = counting(lambda t: (t - 5.0) ** 2)
    res = authors_line_search(phi, 1.0, phi0=25.0, budget=7, tol=0.0)
    assert calls == pytest.approx([0.2, 0.8, 1.6, 3.2, 6.4, 12.8, 3.2 + 0.382 * 9.6])
    assert res.evaluations == 7 and res.step == pytest.approx(6.4)


def test_authors_golden_trial_can_land_on_the_best_point_and_the_tie_ends_the_search():
    # (t - 0.08)^2, |r| = 1: 0.2 is worse than phi(0), so shrink to x = 0.382 * 0.2. With a = 0,
    # b = 0.2 the golden trial a + 0.382 (b - a) is x itself: equal losses, the search stops.
    phi, calls = counting(lambda t: (t - 0.08) ** 2)
    res = authors_line_search(phi, 1.0, phi0=0.08**2)
    assert calls == [0.2, 0.382 * 0.2, 0.382 * 0.2]
    assert (res.step, res.evaluations) == (0.382 * 0.2, 3)


def test_authors_shrink_stops_early_and_returns_the_worse_far_end():
    # The first trial is worse by 2e-6 < tol: the notebook returns it, moving uphill.
    phi, calls = counting(lambda t: 1.0 + 1e-5 * t)
    res = authors_line_search(phi, 1.0, phi0=1.0)
    assert calls == [0.2]
    assert (res.step, res.evaluations) == (0.2, 1) and res.value > 1.0
    # The paper reading tries smaller steps instead and, finding none better, stays put.
    assert golden_section_line_search(phi, 1.0, phi0=1.0).step == 0.0


def test_authors_shrink_that_spends_the_budget_returns_its_last_worse_trial():
    phi, calls = counting(lambda t: 1.0 + t)  # every trial worse, each by more than tol
    res = authors_line_search(phi, 1.0, phi0=1.0, budget=6)
    assert calls == pytest.approx([0.2 * 0.382**i for i in range(6)])
    assert res.step == calls[-1] and res.value == 1.0 + calls[-1] and res.evaluations == 6


def test_authors_equal_losses_end_at_the_midpoint_whatever_its_loss():
    # First trial equal to phi(0): the midpoint of [0, 0.2], evaluated once more and returned.
    phi, calls = counting(lambda t: 1.0)
    res = authors_line_search(phi, 1.0, phi0=1.0)
    assert calls == [0.2, 0.1] and (res.step, res.value, res.evaluations) == (0.1, 1.0, 2)
    # Expanding, 0.8 ties with 0.2: the midpoint of [a, 0.8] = 0.4 is returned though it is
    # worse than phi(0).
    phi, calls = counting(lambda t: 0.5 if t in (0.2, 0.8) else 2.0)
    res = authors_line_search(phi, 1.0, phi0=1.0)
    assert calls == [0.2, 0.8, 0.4] and (res.step, res.value, res.evaluations) == (0.4, 2.0, 3)
    # A NaN compares neither below nor above, so the notebook treats it as a tie.
    phi, calls = counting(lambda t: math.nan if t == 0.2 else 0.5)
    res = authors_line_search(phi, 1.0, phi0=1.0)
    assert calls == [0.2, 0.1] and (res.step, res.value) == (0.1, 0.5)


def test_authors_mode_needs_a_budget_of_two_and_a_known_name():
    with pytest.raises(ValueError, match="budget >= 2"):
        authors_line_search(lambda t: t, 1.0, phi0=0.0, budget=1)
    with pytest.raises(ValueError, match="budget >= 2"):
        LBFGSGSS(rosenbrock, rosenbrock_and_grad, budget=1)
    with pytest.raises(ValueError, match="line_search must be one of authors, paper"):
        LBFGSGSS(rosenbrock, rosenbrock_and_grad, line_search="brent")
    assert LBFGSGSS(rosenbrock, rosenbrock_and_grad).line_search == "authors"  # the default


def rosenbrock_f32(w):
    # Written with the same torch operations, in the same order, as the reference run's closure.
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def rosenbrock_f32_and_grad(w):
    w = w.detach().requires_grad_(True)
    with torch.enable_grad():
        value = rosenbrock_f32(w)
        (grad,) = torch.autograd.grad(value, w)
    return float(value.detach()), grad


def test_authors_mode_reproduces_the_notebook_bit_for_bit_on_rosenbrock():
    """The notebook's optimizer on the float32 Rosenbrock function, every number to the bit.

    Reference: ``REFERENCE["rosenbrock"]``, produced outside this repository as follows. The
    notebook ``L-BFGS_GSS_NN.ipynb`` of github.com/jy856-jpg/path-finding (commit e11b717, whose
    optimizer cell is unchanged since 5a68028) was read as JSON; from its first code cell the
    text from ``class LBFGS_Brent`` up to ``device = torch.device`` was exec'd unchanged (with
    torch, math, numpy and torch.optim.optimizer.Optimizer in its namespace) in torch 2.13.0+cpu,
    one thread. The optimizer, ``LBFGS_Brent([w], max_history=10, line_search_budget=6)`` with
    its defaults (tolerance 1e-4), ran 60 steps (the first 40 are stored) on one float32
    parameter w = (-1.2, 1.0) with the closure: zero_grad, loss = (1 - w[0])**2 + 100 *
    (w[1] - w[0]**2)**2, backward, return loss. Recorded per step: the loss of the step's first
    closure call ("before"), what step() returned ("after": the line search's loss), the step
    size the line search returned (the instance's ``_brent_line_search`` wrapped to record
    it), the closure calls after the first ("evaluations", the midpoint's included) and w after
    the step. The generating script stayed outside the repository with the notebook's code.

    Here all the arithmetic is the same float32 torch arithmetic, so every number must agree
    exactly. The run covers every branch: expansion, shrinking, golden section, the early
    stop that returns a worse b (iterations 30-32 go uphill), ties at the midpoint (36, 38),
    and resets on curvature (32) and on zero-length pairs (37, 39).
    """
    ref = REFERENCE["rosenbrock"]
    opt = LBFGSGSS(lambda w: float(rosenbrock_f32(w)), rosenbrock_f32_and_grad)
    w = torch.tensor(ref["w0"], dtype=torch.float32)
    uphill = 0
    for i in range(len(ref["before"])):
        info = opt.step(w)
        w = info.w
        got = (info.loss_before, info.loss_after, info.step, info.evaluations, w.tolist())
        want = (ref["before"][i], ref["after"][i], ref["steps"][i], ref["evaluations"][i], ref["w"][i])
        assert got == want, f"iteration {i}"
        uphill += info.loss_after > info.loss_before
    assert uphill >= 3  # the early stop's uphill steps are in the pinned stretch


def test_authors_mode_matches_the_notebook_on_fcp_to_float32_rounding():
    """FCP on 300 embedded digits: our authors mode against the notebook's optimizer.

    Reference: ``REFERENCE["fcp"]``, produced outside this repository with torch 2.13.0+cpu on
    one thread. The class ``LBFGS_Brent`` was exec'd from ``L-BFGS_GSS_NN.ipynb`` (as in the
    Rosenbrock test above) and the module ``FCP`` from the same repository's ``NN_arch.py``
    (its text from ``class FCP`` up to ``class Autoencoder``: 784-50-50-10, softplus, no
    biases). Inputs: the training images and labels of
    ``topography.jobs.data.load_embedded(300, 100, seed=0)["train"]`` (float32 [300, 784] in
    [0, 1], int64 labels; their sums are in ``REFERENCE["fcp"]["inputs"]``), and the initial
    vector ``topography.models.build_network("fcp", "softplus").init_vector(0)`` copied into
    FCP's fc1, fc2, fc3 weights in that order. ``LBFGS_Brent(net.parameters(),
    max_history=10, line_search_budget=6)`` ran 30 steps (the first 20 are stored), full batch,
    with the notebook's closure (zero_grad, ``nn.CrossEntropyLoss()(net(x), y)``, backward,
    return loss); recorded per step as in the Rosenbrock test.

    Our loss is the same cross-entropy but summed per image and divided once in double
    (landscape.py), and its gradient comes from another autograd graph, so the two runs differ
    from the first step by float32 rounding (1e-7 relative), which L-BFGS amplifies slowly:
    measured up to 7e-6 at iteration 10 and 4e-5 at 15, on one or two threads. The line search's discrete choices must
    agree for all 20 steps (the same number of evaluations), the losses within 1e-5 and the
    step sizes within 1e-3 for the first 12. The paper reading misses the first step by 13%.
    """
    from topography.jobs.data import load_embedded
    from topography.landscape import NetworkLandscape
    from topography.models import build_network

    ref = REFERENCE["fcp"]
    x, y = load_embedded(ref["inputs"]["n_train"], 100, seed=0)["train"]
    x, y = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    net = build_network("fcp", "softplus")
    w = net.init_vector(0)
    # The inputs are those of the reference run (else a mismatch below would mislead).
    assert x.dtype == w.dtype == torch.float32 and x.shape == (300, 784)
    assert float(x.double().sum()) == pytest.approx(ref["inputs"]["x_sum"], rel=1e-12)
    assert int(y.sum()) == ref["inputs"]["y_sum"]
    assert float(w.double().sum()) == pytest.approx(ref["inputs"]["w0_sum"], rel=1e-12)
    assert float((w.double() ** 2).sum()) == pytest.approx(ref["inputs"]["w0_sq"], rel=1e-12)

    landscape = NetworkLandscape(net, x, y)
    opt = LBFGSGSS(landscape.loss, landscape.loss_and_grad)
    for i in range(len(ref["before"])):
        info = opt.step(w)
        w = info.w
        assert info.evaluations == ref["evaluations"][i], f"iteration {i}"
        if i < 12:
            assert info.loss_before == pytest.approx(ref["before"][i], rel=1e-5), f"iteration {i}"
            assert info.loss_after == pytest.approx(ref["after"][i], rel=1e-5), f"iteration {i}"
            assert info.step == pytest.approx(ref["steps"][i], rel=1e-3), f"iteration {i}"

    # The test can tell the two modes apart: the paper reading's first step is another one.
    paper = paper_lbfgs(landscape.loss, landscape.loss_and_grad).step(net.init_vector(0))
    assert paper.step != pytest.approx(ref["steps"][0], rel=1e-2)


def test_authors_mode_resumes_from_its_state_to_the_same_bits():
    # Its pairs use s as computed, not w - w_prev, so the state carries s ("prev_s").
    def run(stop_at=None):
        opt = LBFGSGSS(lambda w: float(rosenbrock_f32(w)), rosenbrock_f32_and_grad)
        w = torch.tensor([-1.2, 1.0])
        for i in range(25):
            if i == stop_at:
                state = {k: v.clone() for k, v in opt.state_dict().items()}
                assert "prev_s" in state and "prev_w" not in state
                opt = LBFGSGSS(lambda w: float(rosenbrock_f32(w)), rosenbrock_f32_and_grad)
                opt.load_state_dict(state)
            w = opt.step(w).w
        return w

    assert torch.equal(run(), run(stop_at=12))
