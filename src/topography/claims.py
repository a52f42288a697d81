"""The paper's findings as tests: per claim and network, a measured effect with its
uncertainty, a test, and a verdict computed from those numbers alone.

A claim is a small function registered with :func:`claim`. It receives the study's tables
(``Inputs``: a mapping of table names to DataFrames) and a network, and returns one
:class:`Evidence` per part it tests (e.g. one per pair of solution sets). Each part states
what the paper expects of it for that network (the autoencoder's barriers are the paper's
stated exception, so there the paper expects the statement *not* to hold), and its outcome
is one of:

- ``holds``: the test supports the statement at level ``alpha``;
- ``fails``: there are enough observations to tell, and the test does not support it;
- ``too few``: fewer than ``min_per_group`` observations in a group, or so few that no
  outcome of the test could reach ``alpha`` (e.g. two runs per optimizer).

A part is ``reproduced`` when its outcome is the one the paper expects, ``inconclusive``
when there were too few observations, ``not reproduced`` otherwise. A claim's verdict for a
network is ``not reproduced`` if any part is, ``reproduced`` if every part is, and
``inconclusive`` otherwise. A claim whose tables are absent is ``inconclusive`` with the
reason said.

Tests come from scipy.stats: Mann-Whitney U (one-sided), permutation tests, and percentile
bootstrap intervals, all seeded so the same tables give the same verdicts.

To add a claim, write a function ``(inputs, network, thresholds) -> list[Evidence]`` and
decorate it with ``@claim(id, statement, needs=(...table names...))``.
"""

from __future__ import annotations

import math
import warnings
import zlib
from dataclasses import asdict, dataclass, fields
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .design import COMPARISONS

# --- thresholds (overridable under the config's `report:` key)

ALPHA = 0.05  # level of every test
MIN_PER_GROUP = 3  # fewest runs, vectors or paths per group for a verdict other than inconclusive
EQUIVALENCE_FACTOR = 1.5  # test losses are "comparable" when their ratio lies within [1/1.5, 1.5]
CONFIDENCE = 0.95  # level of the bootstrap intervals shown beside each effect
N_RESAMPLES = 2000  # bootstrap and permutation resamples (permutations are exact when fewer exist)
SEED = 0  # of the resampling; each part also mixes in its own name

# The paper states the autoencoder as the exception to "SGD solutions are joined by lower
# barriers": for it the paper expects the statement not to hold.
BARRIER_EXCEPTIONS = ("autoencoder",)
# The set comparisons of the paper's geometry figures (Fig 5 / 6 and S3 / S4).
GEOMETRY_COMPARISONS = COMPARISONS
# The kernel PCA claim: the RBF kernel separates, the others do not.
SEPARATING_KERNEL = "rbf"
OTHER_KERNELS = ("linear", "poly", "sigmoid")
# Largest pairwise-difference array a vectorised resampling builds at once (elements).
_BATCH_ELEMENTS = 20_000_000

VERDICTS = ("reproduced", "not reproduced", "inconclusive")
OUTCOMES = ("holds", "fails", "too few")


@dataclass(frozen=True)
class Thresholds:
    alpha: float = ALPHA
    min_per_group: int = MIN_PER_GROUP
    equivalence_factor: float = EQUIVALENCE_FACTOR
    confidence: float = CONFIDENCE
    n_resamples: int = N_RESAMPLES
    seed: int = SEED

    @classmethod
    def from_config(cls, section: Mapping | None) -> "Thresholds":
        """Thresholds from the config's ``report:`` mapping (missing keys keep the defaults)."""
        section = dict(section or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"report.{unknown[0]}: unknown key; allowed: {', '.join(sorted(known))}")
        values = cls(**{k: v for k, v in section.items() if k in known})
        if not 0 < values.alpha < 0.5:
            raise ValueError(f"report.alpha: {values.alpha} must lie in (0, 0.5)")
        if not 0 < values.confidence < 1:
            raise ValueError(f"report.confidence: {values.confidence} must lie in (0, 1)")
        if values.equivalence_factor <= 1:
            raise ValueError(f"report.equivalence_factor: {values.equivalence_factor} must exceed 1")
        if values.min_per_group < 2 or values.n_resamples < 100:
            raise ValueError("report.min_per_group must be >= 2 and report.n_resamples >= 100")
        return values


@dataclass
class Evidence:
    """One tested part of a claim for one network."""

    claim: str
    network: str
    part: str  # which sets, landscape or kernel this part compares
    effect_name: str
    effect: float
    ci_low: float
    ci_high: float
    test: str
    p_value: float
    n_a: int
    n_b: int
    outcome: str  # one of OUTCOMES
    expected: bool = True  # whether the paper says the statement holds here
    reason: str = ""
    convergence: str = ""  # for parts that rest on runs or paths: how many converged

    @property
    def verdict(self) -> str:
        if self.outcome == "too few":
            return "inconclusive"
        return "reproduced" if (self.outcome == "holds") == self.expected else "not reproduced"


Inputs = Mapping[str, "pd.DataFrame | None"]
Evaluate = Callable[[Inputs, str, Thresholds], list[Evidence]]


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    needs: tuple[str, ...]
    evaluate: Evaluate


CLAIMS: dict[str, Claim] = {}


def claim(id: str, statement: str, needs: Sequence[str]) -> Callable[[Evaluate], Evaluate]:
    """Register a claim: ``evaluate(inputs, network, thresholds)`` returns its parts."""

    def register(evaluate: Evaluate) -> Evaluate:
        if id in CLAIMS:
            raise ValueError(f"claim {id!r} is registered twice")
        CLAIMS[id] = Claim(id, statement, tuple(needs), evaluate)
        return evaluate

    return register


def combine(verdicts: Sequence[str]) -> str:
    """A claim's verdict from its parts' verdicts."""
    if not verdicts:
        return "inconclusive"
    if "not reproduced" in verdicts:
        return "not reproduced"
    if all(v == "reproduced" for v in verdicts):
        return "reproduced"
    return "inconclusive"


SUMMARY_COLUMNS = ["claim", "network", "statement", "verdict", "evidence", "why", "convergence"]
DETAIL_COLUMNS = [f.name for f in fields(Evidence)] + ["verdict"]


def evaluate_claims(
    inputs: Inputs, networks: Sequence[str], thresholds: Thresholds | None = None, claims: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, details): one row per claim and network with its verdict, and one row per
    tested part. ``claims`` picks registered claim ids (default: all, in registration order)."""
    thresholds = thresholds or Thresholds()
    summary, details = [], []
    for claim_id in claims or list(CLAIMS):
        spec = CLAIMS[claim_id]
        missing = [name for name in spec.needs if _absent(inputs.get(name))]
        for network in networks:
            if missing:
                why = f"no {' or '.join(missing)} table: the workflow did not produce it for this config"
                summary.append(_summary_row(spec, network, "inconclusive", "", why, ""))
                continue
            parts = spec.evaluate(inputs, network, thresholds)
            if not parts:
                summary.append(_summary_row(spec, network, "inconclusive", "", f"no {network} rows to test", ""))
                continue
            verdict = combine([p.verdict for p in parts])
            evidence = "; ".join(_describe(p) for p in parts)
            why = "; ".join(f"{p.part}: {p.verdict} ({p.reason})" for p in parts)
            convergence = "; ".join(f"{p.part}: {p.convergence}" for p in parts if p.convergence)
            summary.append(_summary_row(spec, network, verdict, evidence, why, convergence))
            details.extend({**asdict(p), "verdict": p.verdict} for p in parts)
    return pd.DataFrame(summary, columns=SUMMARY_COLUMNS), pd.DataFrame(details, columns=DETAIL_COLUMNS)


def _absent(frame) -> bool:
    return frame is None or len(frame) == 0


def _summary_row(spec: Claim, network, verdict, evidence, why, convergence) -> dict:
    return dict(claim=spec.id, network=network, statement=spec.statement, verdict=verdict,
                evidence=evidence, why=why, convergence=convergence)


def _describe(p: Evidence) -> str:
    interval = "" if math.isnan(p.ci_low) else f" [{p.ci_low:.3g}, {p.ci_high:.3g}]"
    return f"{p.part}: {p.effect_name} {p.effect:.3g}{interval}, p = {p.p_value:.3g} (n = {p.n_a}, {p.n_b})"


# --- statistics


def _rng(thresholds: Thresholds, *names) -> np.random.Generator:
    """A generator seeded by the thresholds' seed and the part's names (not its position)."""
    return np.random.default_rng([thresholds.seed, zlib.crc32("/".join(map(str, names)).encode())])


def smallest_p(n_a: int, n_b: int, sides: int = 1) -> float:
    """The smallest p-value an exact rank or permutation test can give with these group
    sizes: ``sides`` of the C(n_a + n_b, n_a) splits are as extreme as the data."""
    return sides / math.comb(n_a + n_b, n_a) if n_a and n_b else 1.0


def _too_few(n_a: int, n_b: int, thresholds: Thresholds, sides: int = 1) -> str | None:
    """Why these group sizes cannot decide, or None when they can."""
    if min(n_a, n_b) < thresholds.min_per_group:
        return f"{min(n_a, n_b)} in the smaller group, fewer than min_per_group = {thresholds.min_per_group}"
    if smallest_p(n_a, n_b, sides) >= thresholds.alpha:
        return f"with {n_a} and {n_b} no test result could reach alpha = {thresholds.alpha}"
    return None


def mann_whitney(a, b, alternative: str) -> float:
    """One-sided Mann-Whitney U p-value that ``a`` is stochastically ``alternative``
    ('less' or 'greater') than ``b``."""
    return float(stats.mannwhitneyu(a, b, alternative=alternative).pvalue)


def bootstrap_interval(samples, statistic, thresholds: Thresholds, rng, confidence=None) -> tuple[float, float]:
    """Percentile bootstrap interval of a two-sample ``statistic(a, b, axis)``, resampling
    each group independently; NaN when a group has fewer than two values or every
    resample gives the same value."""
    samples = [np.asarray(s) for s in samples]
    if min(len(s) for s in samples) < 2:
        return math.nan, math.nan
    size = max(1, _BATCH_ELEMENTS // max(1, math.prod(len(s) for s in samples)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples: reported as NaN below
        result = stats.bootstrap(
            samples, statistic, n_resamples=thresholds.n_resamples, batch=size, vectorized=True,
            confidence_level=confidence or thresholds.confidence, method="percentile", rng=rng,
        )
    low, high = result.confidence_interval
    return float(low), float(high)


def permutation_p(a, b, statistic, thresholds: Thresholds, rng, alternative="greater") -> float:
    """Permutation p-value of ``statistic(a, b, axis)`` under exchangeable group labels
    (exact when fewer than n_resamples splits exist); NaN when a group has a single value,
    which scipy cannot permute."""
    if min(len(a), len(b)) < 2:
        return math.nan
    result = stats.permutation_test(
        (np.asarray(a), np.asarray(b)), statistic, permutation_type="independent",
        vectorized=True, n_resamples=thresholds.n_resamples, alternative=alternative, rng=rng,
        batch=max(1, _BATCH_ELEMENTS // max(1, len(a) * len(b))),  # bounds the pairwise statistics' memory
    )
    return float(np.real(result.pvalue))  # real even when the samples are packed as complex


def median_ratio(a, b, axis=-1):
    return np.median(a, axis=axis) / np.median(b, axis=axis)


def _pairwise(a, b, axis):
    a, b = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
    return a[..., :, None], b[..., None, :]


def hodges_lehmann(a, b, axis=-1):
    """Hodges-Lehmann shift: the median of all differences a_i - b_j."""
    x, y = _pairwise(a, b, axis)
    differences = x - y
    return np.median(differences.reshape(*differences.shape[:-2], -1), axis=-1)


def folded_auc(a, b, axis=-1):
    """How well one threshold splits a from b: max(AUC, 1 - AUC), 0.5 (none) to 1 (perfect);
    folded because the sign of a principal component is arbitrary."""
    x, y = _pairwise(a, b, axis)
    auc = ((x > y) + 0.5 * (x == y)).mean(axis=(-2, -1))
    return np.maximum(auc, 1 - auc)



def pooled_std_ratio(a_moments, b_moments, axis=-1):
    """Ratio of the std of all components of set A to that of set B, from each vector's
    (mean, mean of squares) packed as complex numbers mean + 1j * mean_sq so that one
    resampling index moves both."""

    def pooled(m):
        return np.sqrt(np.mean(m.imag, axis=axis) - np.mean(m.real, axis=axis) ** 2)

    return pooled(a_moments) / pooled(b_moments)


def _moment_samples(moments: pd.DataFrame, network: str, set_name: str) -> np.ndarray:
    rows = moments[(moments["network"] == network) & (moments["set"] == set_name)]
    return rows["mean"].to_numpy(float) + 1j * rows["mean_sq"].to_numpy(float)


# --- the claims


def _selected_runs(runs: pd.DataFrame, network: str) -> pd.DataFrame:
    rows = runs[runs["network"] == network]
    rows = rows[rows["selected"].astype(bool) & (rows["stop_reason"] != "diverged")]
    return rows


def _stop_reasons(rows: pd.DataFrame, optimizers=("lbfgs", "sgd")) -> str:
    """'L-BFGS-GSS 3/4 converged, SGD 0/4 converged' from runs' stop_reason, if recorded."""
    if "stop_reason" not in rows.columns:
        return "stop reasons not recorded"
    parts = []
    for optimizer in optimizers:
        group = rows[rows["optimizer"] == optimizer]
        parts.append(f"{_LABELS[optimizer]} {int((group['stop_reason'] == 'converged').sum())}/{len(group)} converged")
    return ", ".join(parts)


_LABELS = {"lbfgs": "L-BFGS-GSS", "sgd": "SGD"}


def _directional(claim_id, network, part, a, b, alternative, effect_name, effect_fn, thresholds, expected=True,
                 convergence="") -> Evidence:
    """A one-sided Mann-Whitney U part: does ``a`` lie ``alternative`` of ``b``?"""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = _rng(thresholds, claim_id, network, part)
    effect = float(effect_fn(a, b)) if len(a) and len(b) else math.nan
    low, high = bootstrap_interval((a, b), effect_fn, thresholds, rng) if len(a) and len(b) else (math.nan, math.nan)
    p = mann_whitney(a, b, alternative) if len(a) and len(b) else math.nan
    too_few = _too_few(len(a), len(b), thresholds)
    if too_few:
        outcome, reason = "too few", too_few
    elif p < thresholds.alpha:
        outcome, reason = "holds", f"p = {p:.3g} < {thresholds.alpha}"
    else:
        reverse = mann_whitney(a, b, "greater" if alternative == "less" else "less")
        outcome = "fails"
        reason = (f"reversed: the opposite one-sided p = {reverse:.3g}" if reverse < thresholds.alpha
                  else f"p = {p:.3g} >= {thresholds.alpha}")
    return Evidence(claim_id, network, part, effect_name, effect, low, high,
                    f"one-sided Mann-Whitney U ({alternative})", p, len(a), len(b), outcome, expected, reason,
                    convergence)


@claim("lower_train_loss", "L-BFGS-GSS reaches lower training loss than SGD", needs=("runs",))
def lower_train_loss(inputs: Inputs, network: str, thresholds: Thresholds) -> list[Evidence]:
    rows = _selected_runs(inputs["runs"], network)
    lbfgs = rows.loc[rows["optimizer"] == "lbfgs", "train_loss"]
    sgd = rows.loc[rows["optimizer"] == "sgd", "train_loss"]
    if rows.empty:
        return []
    return [_directional("lower_train_loss", network, "selected runs", lbfgs, sgd, "less",
                         "median ratio L-BFGS-GSS / SGD", median_ratio, thresholds,
                         convergence=_stop_reasons(rows))]


@claim("comparable_test_loss",
       "test losses at the early-stopped weights are comparable (ratio within the equivalence factor)",
       needs=("runs",))
def comparable_test_loss(inputs: Inputs, network: str, thresholds: Thresholds) -> list[Evidence]:
    """Equivalence by two one-sided Mann-Whitney tests (TOST) on the log scale: L-BFGS-GSS's
    test losses are below factor x SGD's and above SGD's / factor. The interval shown is the
    (1 - 2 alpha) bootstrap interval of the median ratio, the one TOST corresponds to."""
    rows = _selected_runs(inputs["runs"], network)
    if rows.empty:
        return []
    a = rows.loc[rows["optimizer"] == "lbfgs", "test_loss"].to_numpy(float)
    b = rows.loc[rows["optimizer"] == "sgd", "test_loss"].to_numpy(float)
    factor = thresholds.equivalence_factor
    part = f"selected runs, margin x{factor:g}"
    effect = float(median_ratio(a, b)) if len(a) and len(b) else math.nan
    rng = _rng(thresholds, "comparable_test_loss", network)
    low, high = (bootstrap_interval((a, b), median_ratio, thresholds, rng, confidence=1 - 2 * thresholds.alpha)
                 if len(a) and len(b) else (math.nan, math.nan))
    p = max(mann_whitney(a / factor, b, "less"), mann_whitney(a * factor, b, "greater")) if len(a) and len(b) else math.nan
    too_few = _too_few(len(a), len(b), thresholds)
    if too_few:
        outcome, reason = "too few", too_few
    elif p < thresholds.alpha:
        outcome, reason = "holds", f"both one-sided p < {thresholds.alpha} (TOST p = {p:.3g})"
    else:
        outcome, reason = "fails", f"TOST p = {p:.3g} >= {thresholds.alpha}: not shown within x{factor:g}"
    return [Evidence("comparable_test_loss", network, part, "median ratio L-BFGS-GSS / SGD", effect, low, high,
                     "TOST, two one-sided Mann-Whitney U", p, len(a), len(b), outcome, True, reason,
                     _stop_reasons(rows))]


# The barrier comparisons: (landscape, SGD set, L-BFGS-GSS set).
BARRIER_PARTS = (("train", "sgd-train", "lbfgs-train"), ("train", "sgd-test", "lbfgs-test"), ("test", "sgd-test", "lbfgs-test"))


def _paths_converged(rows: pd.DataFrame) -> str:
    if "converged" not in rows.columns:
        return "path convergence not recorded"
    converged = rows["converged"].astype(str).str.lower().isin(["true", "1"])
    return f"{int(converged.sum())}/{len(rows)} paths converged"


@claim("lower_sgd_barriers", "SGD solutions are joined by lower barriers than L-BFGS-GSS solutions",
       needs=("barriers",))
def lower_sgd_barriers(inputs: Inputs, network: str, thresholds: Thresholds) -> list[Evidence]:
    barriers = inputs["barriers"]
    barriers = barriers[barriers["network"] == network]
    parts = []
    for landscape, sgd_set, lbfgs_set in BARRIER_PARTS:
        on = barriers[barriers["landscape"] == landscape]
        sgd, lbfgs = on[on["set"] == sgd_set], on[on["set"] == lbfgs_set]
        if sgd.empty and lbfgs.empty:
            continue
        parts.append(_directional(
            "lower_sgd_barriers", network, f"{landscape} landscape: {sgd_set} vs {lbfgs_set}",
            sgd["height"], lbfgs["height"], "less", "Hodges-Lehmann shift SGD - L-BFGS-GSS", hodges_lehmann,
            thresholds, expected=network not in BARRIER_EXCEPTIONS,
            convergence=_paths_converged(pd.concat([sgd, lbfgs])),
        ))
    return parts


@claim("lbfgs_more_spread", "L-BFGS-GSS weight sets are more spread out (component std, distance to the common origin)",
       needs=("moments", "distances"))
def lbfgs_more_spread(inputs: Inputs, network: str, thresholds: Thresholds) -> list[Evidence]:
    moments, distances = inputs["moments"], inputs["distances"]
    distances = distances[(distances["network"] == network) & (distances["kind"] == "vector")]
    parts = []
    for lbfgs_set, sgd_set in GEOMETRY_COMPARISONS:
        a, b = _moment_samples(moments, network, lbfgs_set), _moment_samples(moments, network, sgd_set)
        if len(a) and len(b):
            parts.append(_std_ratio_part(network, lbfgs_set, sgd_set, a, b, thresholds))
        comparison = distances[distances["comparison"] == f"{lbfgs_set}_vs_{sgd_set}"]
        if not comparison.empty:
            parts.append(_directional(
                "lbfgs_more_spread", network, f"distance to origin: {lbfgs_set} vs {sgd_set}",
                comparison.loc[comparison["set"] == lbfgs_set, "distance"],
                comparison.loc[comparison["set"] == sgd_set, "distance"], "greater",
                "median ratio L-BFGS-GSS / SGD", median_ratio, thresholds,
            ))
    return parts


def _std_ratio_part(network, lbfgs_set, sgd_set, a, b, thresholds) -> Evidence:
    """Component std of the L-BFGS-GSS set over the SGD set's, a permutation test over
    vectors (exchanging whole vectors between the sets), a bootstrap interval over vectors."""
    part = f"component std: {lbfgs_set} vs {sgd_set}"
    rng = _rng(thresholds, "lbfgs_more_spread", network, part)
    effect = float(pooled_std_ratio(a, b))
    low, high = bootstrap_interval((a, b), pooled_std_ratio, thresholds, rng)
    p = permutation_p(a, b, pooled_std_ratio, thresholds, rng, alternative="greater")
    too_few = _too_few(len(a), len(b), thresholds)
    if too_few:
        outcome, reason = "too few", too_few
    elif p < thresholds.alpha:
        outcome, reason = "holds", f"p = {p:.3g} < {thresholds.alpha}"
    else:
        outcome, reason = "fails", f"p = {p:.3g} >= {thresholds.alpha}" + (" (ratio below 1)" if effect < 1 else "")
    return Evidence("lbfgs_more_spread", network, part, "std ratio L-BFGS-GSS / SGD", effect, low, high,
                    "one-sided permutation test", p, len(a), len(b), outcome, True, reason)


@claim("rbf_kernel_separates",
       "kernel PCA (PC1) separates L-BFGS-GSS train from SGD test solutions with the RBF kernel, "
       "not with linear, polynomial or sigmoid kernels",
       needs=("projections",))
def rbf_kernel_separates(inputs: Inputs, network: str, thresholds: Thresholds) -> list[Evidence]:
    set_a, set_b = GEOMETRY_COMPARISONS[0]
    projections = inputs["projections"]
    rows = projections[(projections["network"] == network) & (projections["comparison"] == f"{set_a}_vs_{set_b}")]
    parts = []
    for kernel in (SEPARATING_KERNEL, *OTHER_KERNELS):
        on = rows[rows["kernel"] == kernel]
        if on.empty:
            continue
        a = on.loc[on["set"] == set_a, "pc1"].to_numpy(float)
        b = on.loc[on["set"] == set_b, "pc1"].to_numpy(float)
        rng = _rng(thresholds, "rbf_kernel_separates", network, kernel)
        effect = float(folded_auc(a, b)) if len(a) and len(b) else math.nan
        p = permutation_p(a, b, folded_auc, thresholds, rng) if len(a) and len(b) else math.nan
        too_few = _too_few(len(a), len(b), thresholds, sides=2)  # a perfect split is extreme both ways round
        if too_few:
            outcome, reason = "too few", too_few
        elif p < thresholds.alpha:
            outcome, reason = "holds", f"separates: p = {p:.3g} < {thresholds.alpha}"
        else:
            outcome, reason = "fails", f"does not separate: p = {p:.3g} >= {thresholds.alpha}"
        parts.append(Evidence(
            "rbf_kernel_separates", network, f"{kernel} kernel", "PC1 separation (folded AUC)", effect,
            math.nan, math.nan, "permutation test of the folded AUC", p, len(a), len(b), outcome,
            kernel == SEPARATING_KERNEL, reason,
        ))
    return parts


# --- beyond the paper: what it asserts without measuring (curvature), and a second path method


@claim("sgd_flatter",
       "SGD solutions sit in flatter minima than L-BFGS-GSS solutions (top Hessian eigenvalue, Hessian trace)",
       needs=("curvature",))
def sgd_flatter(inputs: Inputs, network: str, thresholds: Thresholds) -> list[Evidence]:
    """Per landscape measured, the vectors of both sets of each optimizer pooled: is SGD's top
    eigenvalue, and its trace, lower (one-sided Mann-Whitney U)?"""
    curvature = inputs["curvature"]
    rows = curvature[curvature["network"] == network]
    optimizer = rows["set"].str.split("-").str[0]
    parts = []
    for landscape in [k for k in ("train", "test") if k in set(rows["landscape"])]:
        on = rows["landscape"] == landscape
        for column, name in (("lambda_1", "top eigenvalue"), ("trace", "trace")):
            sgd = rows.loc[on & (optimizer == "sgd"), column]
            lbfgs = rows.loc[on & (optimizer == "lbfgs"), column]
            parts.append(_directional("sgd_flatter", network, f"{landscape} landscape: {name}", sgd, lbfgs, "less",
                                      "median ratio SGD / L-BFGS-GSS", median_ratio, thresholds))
    return parts


@claim("same_barrier_ordering",
       "the barriers rank the pairs alike under both path methods (Fourier and Bezier heights)",
       needs=("bezier",))
def same_barrier_ordering(inputs: Inputs, network: str, thresholds: Thresholds) -> list[Evidence]:
    """Per landscape, over the pairs both methods joined: Spearman's rank correlation of the
    Bezier and Fourier heights, one-sided (positive); the per-set medians' orders are named."""
    bezier = inputs["bezier"]
    rows = bezier[bezier["network"] == network]
    parts = []
    for landscape in [k for k in ("train", "test") if k in set(rows["landscape"])]:
        on = rows[rows["landscape"] == landscape]
        fourier, curve = on["fourier_height"].to_numpy(float), on["bezier_height"].to_numpy(float)
        n = len(on)
        if n < max(thresholds.min_per_group, 3):
            outcome, reason, rho, p = "too few", f"{n} pairs joined by both methods", math.nan, math.nan
        else:
            result = stats.spearmanr(fourier, curve, alternative="greater")
            rho, p = float(result.statistic), float(result.pvalue)
            medians = on.groupby("set")[["fourier_height", "bezier_height"]].median()
            orders = [" < ".join(medians.sort_values(c).index) for c in ("fourier_height", "bezier_height")]
            same = "the same" if orders[0] == orders[1] else "different"
            outcome = "holds" if p < thresholds.alpha else "fails"
            reason = (f"rho = {rho:.3g}, p = {p:.3g} {'<' if outcome == 'holds' else '>='} {thresholds.alpha}; "
                      f"set medians in {same} order (Fourier: {orders[0]}; Bezier: {orders[1]})")
        parts.append(Evidence("same_barrier_ordering", network, f"{landscape} landscape", "Spearman rho",
                              rho, math.nan, math.nan, "one-sided Spearman rank correlation", p, n, n,
                              outcome, True, reason))
    return parts
