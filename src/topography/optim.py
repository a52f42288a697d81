"""L-BFGS with a derivative-free Golden Section Search line search ("L-BFGS-GSS").

The optimizer of Yu & Morozov (docs/method.md, "Training"), written for a flat weight vector:
each iteration takes the full-batch gradient g, forms the quasi-Newton direction r with the
L-BFGS two-loop recursion over the last m pairs (s, y), and moves along -r/|r| by a step
found with a bracketing + golden-section search that spends at most `budget` loss evaluations.

Everything works on one flat torch vector of whatever floating dtype and device the caller
gives. Dot products are taken in that dtype (as torch would); the few scalars built from them
(rho, alpha, gamma, cosines, losses, step lengths) are kept as Python floats (double), except
that the authors' mode keeps the two-loop recursion's scalars as tensors of that dtype, as the
notebook does.

Two line searches, chosen by ``line_search`` (config ``train.lbfgs.line_search``):

- ``"authors"`` (the default): the line search of the authors' notebook
  (github.com/jy856-jpg/path-finding, ``L-BFGS_GSS_NN.ipynb``, class ``LBFGS_Brent``), which
  produced the published solutions, step for step, with its arithmetic (see
  :func:`authors_line_search` and :class:`LBFGSGSS`). A test pins it to a loss trajectory of
  the notebook's own optimizer.
- ``"paper"``: this project's reading of the paper's text, :func:`golden_section_line_search`.
  Where the text is silent or ambiguous its choices are marked "Reading:" below, and where it
  departs from the notebook it says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional, Sequence

import torch

# The golden fraction as the paper and the authors' code write it ((3 - sqrt 5) / 2 = 0.381966...).
GOLDEN = 0.382

# The two line searches (and their L-BFGS arithmetic): the authors' notebook, the paper's text.
LINE_SEARCHES = ("authors", "paper")


def _fit(alpha: float, dtype: torch.dtype) -> float:
    """A Python scalar made safe as torch's ``alpha=`` for ``dtype``: torch raises on finite values
    beyond the dtype's range (e.g. 1e40 for float32) instead of overflowing to inf, so map those
    to +-inf and let the finiteness checks catch the result."""
    if math.isfinite(alpha) and abs(alpha) > torch.finfo(dtype).max:
        return math.copysign(math.inf, alpha)
    return alpha


class LineSearchResult(NamedTuple):
    step: float  # distance moved along the unit direction (0.0 if no trial improved on phi(0))
    value: float  # phi(step)
    evaluations: int  # calls of phi made (the known phi0 is free)


def golden_section_line_search(
    phi: Callable[[float], float],
    max_step: float,
    initial_fraction: float = 0.2,
    budget: int = 6,
    tol: float = 1e-4,
    phi0: Optional[float] = None,
) -> LineSearchResult:
    """Minimise ``phi(alpha)``, alpha >= 0, with at most ``budget`` calls of ``phi``.

    ``phi(alpha)`` is the loss at distance ``alpha`` along a unit descent direction and
    ``max_step`` the quasi-Newton direction's norm |r|. ``phi0 = phi(0)`` is free when given;
    when not, evaluating it counts against the budget.

    1. Bracketing: trial steps ``initial_fraction * 2**k * max_step`` for k = 0, 1, 2, ... while
       the loss keeps (strictly) falling. If the very first trial is not better than phi0, shrink
       toward 0 instead: each new trial is 0.382 times the previous one, until one beats phi0.
    2. Golden section: with a bracket a < x < b around the best point x, each new trial lies in
       the larger of [a, x] and [x, b], at the golden fraction 0.382 of the bracket (b - a) from
       the bracket's far end, i.e. at the symmetric point of the classic golden-section search.
       Stops early when b - a < tol or |phi(a) - phi(b)| < tol.

    Non-finite values of phi count as +inf, so they are never chosen. Returns the best point
    found, or step 0 with phi0 when no trial improved on phi0.
    """
    budget = int(budget)
    evaluations = 0

    def f(alpha: float) -> float:
        nonlocal evaluations
        evaluations += 1
        value = float(phi(alpha))
        return value if math.isfinite(value) else math.inf

    if phi0 is None:
        if budget < 1:
            return LineSearchResult(0.0, math.nan, 0)
        phi0 = f(0.0)
    else:
        phi0 = float(phi0)
        if not math.isfinite(phi0):
            phi0 = math.inf
    max_step = float(max_step)
    if not (math.isfinite(max_step) and max_step > 0.0) or evaluations >= budget:
        return LineSearchResult(0.0, phi0, evaluations)

    base = initial_fraction * max_step
    a, fa = 0.0, phi0
    t = base
    ft = f(t)
    if ft < phi0:
        # Expand while the loss keeps falling. The paper's sequence k = 0, 1, 2, ...; the
        # authors' notebook increments k twice after the first success and so skips k = 1.
        x, fx = t, ft
        k = 1
        while True:
            if evaluations >= budget:
                return LineSearchResult(x, fx, evaluations)
            t = base * 2.0**k
            k += 1
            ft = f(t)
            if ft < fx:
                a, fa, x, fx = x, fx, t, ft
            else:
                b, fb = t, ft
                break
    else:
        # Shrink toward 0 at the golden fraction. Reading: the early stop on tol belongs to the
        # golden-section stage (a bracket around an improving point); it is not applied while
        # shrinking, where it could only return step 0 and stall the optimizer (near a minimum
        # every bracket is narrower than an absolute 1e-4). The authors' notebook applies it here
        # but then returns the worse end b, moving uphill; we never return a worse point.
        b, fb = t, ft
        while True:
            if evaluations >= budget:
                return LineSearchResult(0.0, phi0, evaluations)
            t = a + GOLDEN * (b - a)  # a == 0: trial = 0.382 * previous trial
            ft = f(t)
            if ft < phi0:
                x, fx = t, ft
                break
            b, fb = t, ft

    # Golden section search on a < x < b with fx < fa and fx <= fb.
    while evaluations < budget:
        if b - a < tol or abs(fa - fb) < tol:
            break
        d = GOLDEN * (b - a)
        # Reading: the new trial goes into the larger side, 0.382 (b - a) from the far end.
        # The notebook writes `u = a + d if (b - x) > (x - a) else b - d`, whose first branch can
        # land on x itself (wasting an evaluation) or in the smaller side.
        u = b - d if (b - x) > (x - a) else a + d
        fu = f(u)
        if fu < fx:
            if u > x:
                a, fa = x, fx
            else:
                b, fb = x, fx
            x, fx = u, fu
        elif u > x:
            b, fb = u, fu
        else:
            a, fa = u, fu
    return LineSearchResult(x, fx, evaluations)


def authors_line_search(
    phi: Callable[[float], float],
    max_step: float,
    phi0: float,
    initial_fraction: float = 0.2,
    budget: int = 6,
    tol: float = 1e-4,
) -> LineSearchResult:
    """The line search of the authors' notebook (``LBFGS_Brent._brent_line_search`` in
    ``L-BFGS_GSS_NN.ipynb``), step for step; ``phi``, ``max_step`` = |r| and ``phi0`` as in
    :func:`golden_section_line_search`, and the same three stages (expand, or shrink, then
    golden section), with what the notebook does where the paper's reading differs:

    - Expanding: after a first trial ``initial_fraction * |r|`` that beats phi0, the notebook
      increments k twice, so the trials are 0.2, 0.8, 1.6, 3.2, ... times |r| (0.4 is skipped).
      The budget ends it with the best point.
    - Shrinking (the first trial worse than phi0): before each new trial 0.382 b the early stop
      is checked (b < tol or |phi0 - phi(b)| < tol) and returns b, the last trial, although it
      is worse than phi0; so does a budget spent while shrinking. Such a step goes uphill.
    - Equal losses: a trial whose loss equals (is neither below nor above) the one it is set
      against while expanding or shrinking ends the search at the midpoint of [a, trial],
      evaluated once more (beyond the budget if it is spent) and returned whatever its loss.
      In the golden-section stage a trial equal to the best point's ends the search there.
    - Golden section: the trial is ``a + 0.382 (b - a)`` when the best point x is nearer a than
      b, else ``b - 0.382 (b - a)``; it can fall in the smaller side or on x itself.
    - Losses are compared as Python compares them: a NaN trial is neither below nor above, so it
      counts as equal (the midpoint is returned); +inf counts as worse. Nothing is mapped to inf.

    phi0 is required (the notebook always has the gradient call's loss), and budget must be at
    least 2: the notebook stops on ``evaluations == budget``, which for 1 would never hold while
    expanding; from 2 on that is the same as the ``>=`` used here. Returned ``evaluations``
    counts every call of phi, the midpoint's included.
    """
    budget = int(budget)
    if budget < 2:
        raise ValueError(f"the authors' line search needs budget >= 2, got {budget}")
    evaluations = 0

    def f(alpha: float) -> float:
        nonlocal evaluations
        evaluations += 1
        return float(phi(alpha))

    def midpoint(lo: float, hi: float) -> LineSearchResult:
        # The notebook's answer to a tie: one more evaluation, and that point whatever it gives.
        alpha = (lo + hi) / 2
        value = f(alpha)
        return LineSearchResult(alpha, value, evaluations)

    max_step = float(max_step)
    # Written as the notebook writes it (fraction * 2**k * |r|), so the trials are the same floats.
    def trial(k: int) -> float:
        return initial_fraction * 2**k * max_step

    a, fa = 0.0, float(phi0)
    t = trial(0)
    ft = f(t)
    if ft < fa:
        x, fx = t, ft
        k = 2  # the notebook's double increment: the trial after 0.2 |r| is 0.8 |r|
        while True:
            t = trial(k)
            k += 1
            ft = f(t)
            if ft < fx:
                a, fa, x, fx = x, fx, t, ft
                if evaluations >= budget:
                    return LineSearchResult(x, fx, evaluations)
            elif ft > fx:
                b, fb = t, ft
                if evaluations >= budget:
                    return LineSearchResult(x, fx, evaluations)
                break
            else:
                return midpoint(a, t)
    elif ft > fa:
        b, fb = t, ft
        while True:
            if abs(b - a) < tol or abs(fa - fb) < tol:
                return LineSearchResult(b, fb, evaluations)  # uphill: b is worse than phi0
            t = a + GOLDEN * (b - a)  # a == 0 here: 0.382 times the last trial
            ft = f(t)
            if ft < fa:
                x, fx = t, ft
                if evaluations >= budget:
                    return LineSearchResult(x, fx, evaluations)
                break
            elif ft > fa:
                b, fb = t, ft
                if evaluations >= budget:
                    return LineSearchResult(b, fb, evaluations)  # uphill as well
            else:
                return midpoint(a, t)
    else:
        return midpoint(a, t)

    # Golden section on a < x < b, fx below fa and fb.
    while evaluations < budget:
        if abs(b - a) < tol or abs(fa - fb) < tol:
            break
        d = GOLDEN * (b - a)
        u = a + d if (b - x) > (x - a) else b - d
        fu = f(u)
        if fu < fx:
            if u >= x:
                a, fa = x, fx
            else:
                b, fb = x, fx
            x, fx = u, fu
        elif fu > fx:
            if u < x:
                a, fa = u, fu
            elif u > x:
                b, fb = u, fu
        else:
            break  # a tie with the best point: keep it
    return LineSearchResult(x, fx, evaluations)


def authors_two_loop_direction(
    grad: torch.Tensor,
    s_list: Sequence[torch.Tensor],
    y_list: Sequence[torch.Tensor],
    eps: float = 1e-6,
) -> torch.Tensor:
    """The two-loop recursion as the authors' notebook computes it: the same H g as
    :func:`two_loop_direction`, but with every scalar (rho, alpha, beta, gamma) kept as a
    0-dim tensor in the vectors' dtype rather than a Python double, and the updates written
    as ``q - alpha y`` and ``r + s (alpha - beta)``. In float32 this rounds as the notebook
    does, which the reference-trajectory test needs; mathematically it is the same direction.
    Empty history: gamma = 1, so the gradient itself (a copy).
    """
    q = grad.detach().clone()
    m = len(s_list)
    if m == 0:
        return q
    rho = [None] * m
    alpha = [None] * m
    for i in range(m - 1, -1, -1):
        rho[i] = 1.0 / (torch.dot(y_list[i], s_list[i]) + eps)
        alpha[i] = rho[i] * torch.dot(s_list[i], q)
        q = q - alpha[i] * y_list[i]
    # No guard on y.y == 0: gamma is then inf or NaN and the caller's check catches r.
    gamma = torch.dot(s_list[-1], y_list[-1]) / torch.dot(y_list[-1], y_list[-1])
    r = gamma * q
    for i in range(m):
        beta = rho[i] * torch.dot(y_list[i], r)
        r = r + s_list[i] * (alpha[i] - beta)
    return r


def two_loop_direction(
    grad: torch.Tensor,
    s_list: Sequence[torch.Tensor],
    y_list: Sequence[torch.Tensor],
    eps: float = 1e-6,
) -> torch.Tensor:
    """The L-BFGS two-loop recursion: r = H g for the limited-memory inverse Hessian H.

    Pairs are ordered oldest first. rho_i = 1 / (y_i.s_i + eps); the initial matrix is
    gamma I with gamma = s.y / y.y of the newest pair (NaN if y.y == 0, so that a caller's
    finiteness check catches it). Empty history: returns a copy of the gradient.
    """
    q = grad.detach().clone()
    m = len(s_list)
    if m == 0:
        return q
    rho = [0.0] * m
    alpha = [0.0] * m
    for i in range(m - 1, -1, -1):
        s, y = s_list[i], y_list[i]
        rho[i] = 1.0 / (torch.dot(y, s).item() + eps)
        alpha[i] = rho[i] * torch.dot(s, q).item()
        q.add_(y, alpha=_fit(-alpha[i], q.dtype))
    s, y = s_list[-1], y_list[-1]
    yy = torch.dot(y, y).item()
    gamma = torch.dot(s, y).item() / yy if yy != 0.0 else math.nan
    r = q.mul_(gamma)
    for i in range(m):
        s, y = s_list[i], y_list[i]
        beta = rho[i] * torch.dot(y, r).item()
        r.add_(s, alpha=_fit(alpha[i] - beta, r.dtype))
    return r


@dataclass
class StepInfo:
    w: torch.Tensor  # weights after the step (the input weights, unchanged, if step == 0)
    loss_before: float  # loss at the input weights
    loss_after: float  # loss at the returned weights (authors: at the line search's trial point)
    step: float  # distance moved, |w_new - w|
    evaluations: int  # loss evaluations in the line search (the gradient call not counted)
    reset: bool  # history cleared in this iteration
    reset_reason: Optional[str]  # None or one of RESET_REASONS
    nonfinite: bool  # loss or gradient at the input weights not finite (caller may mark divergence)
    grad_norm: float
    direction_norm: float  # |r| actually used (after any fallback to the gradient)
    history: int  # pairs stored after the step


RESET_REASONS = (
    "nonfinite_loss",  # loss at the current weights is NaN/inf: nothing to do this iteration
    "nonfinite_grad",  # gradient at the current weights has NaN/inf
    "zero_pair",  # a stored pair has |s| |y| == 0 (e.g. the previous line search found no step)
    "curvature",  # cos(y, s) of a stored pair below cos_tol (negative or vanishing curvature)
    "nonfinite_direction",  # the two-loop direction has NaN/inf
)


class LBFGSGSS:
    """L-BFGS-GSS on a flat weight vector.

    ``loss_fn(w) -> float`` is called (under torch.no_grad) for the line-search trials;
    ``loss_and_grad_fn(w) -> (float, grad)`` once per iteration for the full-batch gradient.
    The state is the pair history and the previous (w, g); ``reset()`` clears it all.

    ``line_search`` picks one of LINE_SEARCHES. ``"authors"`` (the default) runs the iteration
    as the authors' notebook does, so that it rounds as the notebook does in float32:

    - the line search is :func:`authors_line_search`, the two-loop recursion
      :func:`authors_two_loop_direction`;
    - a trial point is ``w - t * (r / |r|)``, and the new weights ``w + s`` with the pair's
      ``s = (-t * r) / |r|``, kept as computed (not re-derived as ``w_new - w``);
    - the step taken is the line search's answer even when it is worse than phi(0), and
      ``loss_after`` is the loss the line search measured at its trial point.

    The safeguards (eps, the zero-length pair, the cosine test, a NaN direction) are the
    notebook's in both modes. Beyond the notebook, both modes guard what would turn the
    weights to NaN there: a non-finite loss or gradient at ``w`` (stay put, report it), an
    infinite direction (the notebook checks only NaN; here it resets like NaN) and a zero or
    infinite |r| (no move). A healthy run never meets them, so they change no trajectory.
    ``"paper"`` is :func:`golden_section_line_search` with the weights moved by
    ``torch.add(w, d, alpha=-t)``, steps of 0 when nothing improves, and pairs s = w_k - w_{k-1}.
    """

    def __init__(
        self,
        loss_fn: Callable[[torch.Tensor], float],
        loss_and_grad_fn: Callable[[torch.Tensor], tuple],
        history: int = 10,
        initial_fraction: float = 0.2,
        budget: int = 6,
        tol: float = 1e-4,
        eps: float = 1e-6,
        cos_tol: float = 1e-4,
        line_search: str = "authors",
    ):
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        if line_search not in LINE_SEARCHES:
            raise ValueError(f"line_search must be one of {', '.join(LINE_SEARCHES)}; got {line_search!r}")
        if line_search == "authors" and int(budget) < 2:
            raise ValueError(f"the authors' line search needs budget >= 2, got {budget}")
        self.line_search = line_search
        self.loss_fn = loss_fn
        self.loss_and_grad_fn = loss_and_grad_fn
        self.history = int(history)
        self.initial_fraction = float(initial_fraction)
        self.budget = int(budget)
        self.tol = float(tol)
        self.eps = float(eps)
        self.cos_tol = float(cos_tol)
        self.reset()

    def reset(self) -> None:
        """Forget the pair history and the previous point (the next step is a gradient step)."""
        self.s_list: list[torch.Tensor] = []
        self.y_list: list[torch.Tensor] = []
        self._prev_w: Optional[torch.Tensor] = None  # paper: s = w - prev_w
        self._prev_s: Optional[torch.Tensor] = None  # authors: the step's s, as computed
        self._prev_g: Optional[torch.Tensor] = None

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The state that carries over between iterations (pair history, previous g, and the
        previous w (paper) or the last step's s (authors)), as named tensors, for a checkpoint."""
        state = {}
        for i, (s, y) in enumerate(zip(self.s_list, self.y_list)):
            state[f"s.{i}"], state[f"y.{i}"] = s, y
        if self._prev_w is not None:
            state["prev_w"] = self._prev_w
        if self._prev_s is not None:
            state["prev_s"] = self._prev_s
        if self._prev_g is not None:
            state["prev_g"] = self._prev_g
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Take up the state saved by :meth:`state_dict`; the next step is the one the
        saving optimizer would have taken."""
        self.reset()
        pairs = sum(1 for name in state if name.startswith("s."))
        self.s_list = [state[f"s.{i}"] for i in range(pairs)]
        self.y_list = [state[f"y.{i}"] for i in range(pairs)]
        self._prev_w = state.get("prev_w")
        self._prev_s = state.get("prev_s")
        self._prev_g = state.get("prev_g")

    def _clear_history(self) -> None:
        self.s_list.clear()
        self.y_list.clear()

    def _bad_pair(self) -> Optional[str]:
        # All stored pairs are checked ("any stored pair"); since a bad pair clears the history,
        # in practice only the newest can fail. A NaN cosine fails too (the test is `not >=`).
        for s, y in zip(self.s_list, self.y_list):
            norms = torch.linalg.vector_norm(s).item() * torch.linalg.vector_norm(y).item()
            if norms == 0.0:
                return "zero_pair"
            if not torch.dot(y, s).item() / norms >= self.cos_tol:
                return "curvature"
        return None

    def step(self, w: torch.Tensor) -> StepInfo:
        """One L-BFGS-GSS iteration from ``w`` (not modified); the new weights are ``info.w``.

        Never raises on bad numbers: a non-finite loss or gradient at ``w`` clears the state
        and returns ``w`` with ``nonfinite=True`` (the caller decides whether the run diverged);
        a bad pair or direction clears the history and takes a plain gradient direction.
        """
        w = w.detach()
        loss, g = self.loss_and_grad_fn(w)
        loss = float(loss)
        with torch.no_grad():
            g = g.detach()
            if not math.isfinite(loss) or not bool(torch.isfinite(g).all()):
                # Nothing sensible to do from here: forget everything, stay put, and say so.
                self.reset()
                reason = "nonfinite_loss" if not math.isfinite(loss) else "nonfinite_grad"
                return StepInfo(w.clone(), loss, loss, 0.0, 0, True, reason, True,
                                torch.linalg.vector_norm(g).item(), math.nan, 0)

            authors = self.line_search == "authors"
            # The pair from the previous iteration: s = w_k - w_{k-1}, y = g_k - g_{k-1}.
            # authors: s as the last step computed it (the notebook's), not re-derived from w.
            prev = self._prev_s if authors else self._prev_w
            if prev is not None and self._prev_g is not None:
                self.s_list.append(prev if authors else w - prev)
                self.y_list.append(g - self._prev_g)
                if len(self.s_list) > self.history:
                    del self.s_list[0], self.y_list[0]

            reason = self._bad_pair()
            if reason is not None:
                self._clear_history()
                r = g
            elif authors:
                r = authors_two_loop_direction(g, self.s_list, self.y_list, self.eps)
            else:
                r = two_loop_direction(g, self.s_list, self.y_list, self.eps)
            r_norm = torch.linalg.vector_norm(r).item()
            if not (bool(torch.isfinite(r).all()) and math.isfinite(r_norm)):
                reason = reason or "nonfinite_direction"
                self._clear_history()
                r = g
                r_norm = torch.linalg.vector_norm(r).item()

            self._prev_g = g.clone()
            if authors:
                self._prev_s = torch.zeros_like(w)  # until a step is taken: a zero pair, reset
            else:
                self._prev_w = w.clone()

            if not (r_norm > 0.0 and math.isfinite(r_norm)):
                # Stationary point (g == 0), or |g| overflowing the dtype: no move.
                return StepInfo(w.clone(), loss, loss, 0.0, 0, reason is not None, reason, False,
                                torch.linalg.vector_norm(g).item(), r_norm, len(self.s_list))

            d = r / r_norm  # move along -d

            if authors:
                return self._authors_move(w, r, r_norm, d, loss, g, reason)

            def phi(alpha: float) -> float:
                return float(self.loss_fn(torch.add(w, d, alpha=_fit(-alpha, w.dtype))))

            result = golden_section_line_search(
                phi, r_norm, self.initial_fraction, self.budget, self.tol, phi0=loss
            )
            # step 0 leaves w unchanged; the zero pair it makes resets the history next time
            # (the paper's "stored pair has zero length" safeguard), as in the authors' code.
            if result.step > 0.0:
                w_new = torch.add(w, d, alpha=_fit(-result.step, w.dtype))
            else:
                w_new = w.clone()
            return self._moved(w_new, result, loss, g, r_norm, reason)

    def _authors_move(self, w, r, r_norm, d, loss, g, reason) -> StepInfo:
        """The notebook's line search and update: the trials at ``w - t * d`` (d = r / |r|),
        the new weights at ``w - (t * r) / |r|``, which can differ from the trial in the last
        bit, and the step taken whatever its loss."""

        def phi(alpha: float) -> float:
            return float(self.loss_fn(w - alpha * d))

        result = authors_line_search(phi, r_norm, loss, self.initial_fraction, self.budget, self.tol)
        s = (-result.step * r) / r_norm
        self._prev_s = s
        return self._moved(w + s, result, loss, g, r_norm, reason)

    def _moved(self, w_new, result, loss, g, r_norm, reason) -> StepInfo:
        """The record of a step that moved along the direction (either line search)."""
        return StepInfo(
            w=w_new,
            loss_before=loss,
            loss_after=result.value,
            step=result.step,
            evaluations=result.evaluations,
            reset=reason is not None,
            reset_reason=reason,
            nonfinite=False,
            grad_norm=torch.linalg.vector_norm(g).item(),
            direction_norm=r_norm,
            history=len(self.s_list),
        )

    def minimize(
        self,
        w0: torch.Tensor,
        iterations: int,
        callback: Optional[Callable[[int, StepInfo], Optional[bool]]] = None,
    ) -> torch.Tensor:
        """Run ``iterations`` steps from ``w0`` (starting from a fresh state); return the last w.

        ``callback(iteration, info)`` is called after every step; returning True stops early.
        """
        self.reset()
        w = w0.detach().clone()
        for it in range(iterations):
            info = self.step(w)
            w = info.w
            if callback is not None and callback(it, info):
                break
        return w
