"""The claims' statistics: each test's false-positive rate under a simulated null whose unit
is what varies independently (runs drawn from one distribution; barriers built from shared
endpoints), and the four verdicts on tables whose answer is known."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from topography import claims
from topography.claims import Thresholds, evaluate_claims

FAST = Thresholds(n_resamples=500)
DRAWS = 1000
CEILING = 1.5 * FAST.alpha  # the largest false-positive rate a test may have under its null


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def verdict(claim, inputs, networks=("fcp",), thresholds=FAST):
    summary, details = evaluate_claims(inputs, list(networks), thresholds, claims=[claim])
    return summary.set_index("network").verdict.to_dict(), details


# --- tables


def runs_table(network, lbfgs, sgd, column="train_loss"):
    rows = []
    for optimizer, losses in (("lbfgs", lbfgs), ("sgd", sgd)):
        for seed, loss in enumerate(losses):
            rows.append(dict(network=network, optimizer=optimizer, seed=seed, stop_reason="converged", selected=True,
                             train_loss=loss, test_loss=loss))
    return pd.DataFrame(rows)


def shared_endpoint_heights(n, rng, model="additive", scale=1.0):
    """Every pair of n vectors, heights built from the endpoints they share: log h =
    u_i + u_j + noise, or max(u_i, u_j) (a barrier set by the worse endpoint)."""
    u = rng.standard_normal(n)
    rows = []
    for i, j in itertools.combinations(range(n), 2):
        value = u[i] + u[j] + 0.5 * rng.standard_normal() if model == "additive" else max(u[i], u[j])
        rows.append(dict(i=i, j=j, height=scale * math.exp(value)))
    return pd.DataFrame(rows)


def barrier_table(network, sets: dict[str, pd.DataFrame], landscape="train"):
    frames = [t.assign(network=network, landscape=landscape, set=s, converged=True) for s, t in sets.items()]
    return pd.concat(frames, ignore_index=True)


# --- false-positive rates under the null


@pytest.mark.parametrize("model", ["additive", "max"])
@pytest.mark.parametrize("n_a,n_b", [(5, 5), (5, 8)])
def test_the_barrier_test_keeps_its_level_with_shared_endpoints(model, n_a, n_b):
    rng = np.random.default_rng([n_a, n_b, len(model)])
    rejections = 0
    for _ in range(DRAWS):
        a, b = shared_endpoint_heights(n_a, rng, model), shared_endpoint_heights(n_b, rng, model)
        part = claims.jackknife_part("c", "fcp", "p", a, b, "less", FAST)
        rejections += part.p_value < FAST.alpha
    assert rejections / DRAWS <= CEILING


def test_the_pairwise_mann_whitney_it_replaces_does_not():
    """The review's finding: pairs as if independent reject far above alpha."""
    rng = np.random.default_rng(3)
    rejections = 0
    for _ in range(300):
        a, b = shared_endpoint_heights(8, rng), shared_endpoint_heights(8, rng)
        rejections += stats.mannwhitneyu(a.height, b.height, alternative="less").pvalue < FAST.alpha
    assert rejections / 300 > 2 * CEILING


def test_the_paired_barrier_test_keeps_its_level():
    rng = np.random.default_rng(11)
    rejections = 0
    for _ in range(DRAWS):
        a, b = shared_endpoint_heights(6, rng), shared_endpoint_heights(6, rng)
        rejections += claims.jackknife_part("c", "fcp", "p", a, b, "greater", FAST, paired=True).p_value < FAST.alpha
    assert rejections / DRAWS <= CEILING


def test_the_run_tests_keep_their_level():
    rng = np.random.default_rng(5)
    rank, paired = 0, 0
    for _ in range(DRAWS):
        a, b = rng.lognormal(size=5), rng.lognormal(size=5)
        rank += claims.rank_part("c", "fcp", "p", a, b, "less", FAST).p_value < FAST.alpha
        paired += claims.paired_t_part("c", "fcp", "p", rng.standard_normal(5), "greater", FAST).p_value < FAST.alpha
    assert rank / DRAWS <= CEILING and paired / DRAWS <= CEILING


def test_the_distance_test_keeps_its_level_with_unequal_sizes():
    """Sets of 4 and 8 vectors from one distribution: the origin (midpoint of the centroids)
    sits nearer the smaller set's centroid in relative terms, so distances alone would be
    biased; the permutation recomputes it per relabelling."""
    rng = np.random.default_rng(13)
    rejections = 0
    for _ in range(300):
        vectors = rng.standard_normal((12, 20)) + rng.standard_normal(20)
        gram = vectors @ vectors.T
        _, greater, _, _ = claims.distance_permutation(gram, 4, FAST, rng)
        rejections += greater < FAST.alpha
    assert rejections / 300 <= CEILING


def test_holm_matches_its_definition():
    adjusted = claims.holm([0.01, 0.04, 0.03, math.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted[3])


def test_the_moses_interval_is_the_one_the_rank_test_inverts(rng):
    a, b = rng.standard_normal(6), rng.standard_normal(7) + 0.3
    low, high = claims.moses_interval(a, b, 0.90)
    for shift in (low - 1e-9, high + 1e-9):  # just outside: the one-sided test at 5% rejects that shift
        side = "less" if shift > high else "greater"
        assert stats.mannwhitneyu(a - shift, b, alternative=side).pvalue <= 0.05
    for shift in (low + 1e-9, high - 1e-9):
        side = "less" if shift > (low + high) / 2 else "greater"
        assert stats.mannwhitneyu(a - shift, b, alternative=side).pvalue > 0.05


# --- the four verdicts


def test_lower_training_loss_verdicts(rng):
    clear = runs_table("fcp", rng.lognormal(-16, 0.3, 6), rng.lognormal(-7, 0.3, 6))
    assert verdict("lower_train_loss", {"runs": clear})[0] == {"fcp": "reproduced"}
    reversed_ = runs_table("fcp", rng.lognormal(-7, 0.3, 6), rng.lognormal(-16, 0.3, 6))
    assert verdict("lower_train_loss", {"runs": reversed_})[0] == {"fcp": "contradicted"}
    null = runs_table("fcp", rng.lognormal(-7, 0.3, 12), rng.lognormal(-7, 0.3, 12))
    assert verdict("lower_train_loss", {"runs": null})[0] == {"fcp": "not shown"}
    few = runs_table("fcp", [1e-8, 2e-8, 3e-8], [1e-3, 2e-3, 3e-3])
    result, details = verdict("lower_train_loss", {"runs": few})
    assert result == {"fcp": "underpowered"}
    assert details.smallest_p.iloc[0] == pytest.approx(1 / 20)


def test_holm_over_networks_can_make_a_decidable_part_underpowered(rng):
    """5 runs each: 1/252 alone; with 4 networks Holm's floor is 4/252 < 0.05, with 16 it is not."""
    runs = pd.concat([runs_table(n, rng.lognormal(-16, 0.3, 5), rng.lognormal(-7, 0.3, 5)) for n in "abcd"])
    assert set(verdict("lower_train_loss", {"runs": runs}, networks="abcd")[0].values()) == {"reproduced"}
    many = [f"n{k}" for k in range(16)]
    runs = pd.concat([runs_table(n, rng.lognormal(-16, 0.3, 5), rng.lognormal(-7, 0.3, 5)) for n in many])
    assert set(verdict("lower_train_loss", {"runs": runs}, networks=many)[0].values()) == {"underpowered"}


def test_comparable_test_losses(rng):
    equal = runs_table("fcp", rng.lognormal(-2, 0.05, 10), rng.lognormal(-2, 0.05, 10))
    result, details = verdict("comparable_test_loss", {"runs": equal})
    assert result == {"fcp": "reproduced"}
    assert 1 / 1.5 < details.ci_low.iloc[0] <= details.ci_high.iloc[0] < 1.5  # the interval the TOST inverts
    apart = runs_table("fcp", rng.lognormal(-1, 0.05, 10), rng.lognormal(-2.5, 0.05, 10))
    assert verdict("comparable_test_loss", {"runs": apart})[0] == {"fcp": "contradicted"}


def test_barrier_verdicts(rng):
    def table(sgd_scale, lbfgs_scale, n=6):
        return barrier_table("fcp", {"sgd-train": shared_endpoint_heights(n, rng, scale=sgd_scale),
                                     "lbfgs-train": shared_endpoint_heights(n, rng, scale=lbfgs_scale)})

    assert verdict("lower_sgd_barriers", {"barriers": table(0.01, 1.0)})[0] == {"fcp": "reproduced"}
    assert verdict("lower_sgd_barriers", {"barriers": table(1.0, 0.01)})[0] == {"fcp": "contradicted"}
    assert verdict("lower_sgd_barriers", {"barriers": table(1.0, 1.0, n=5)})[0] == {"fcp": "not shown"}
    assert verdict("lower_sgd_barriers", {"barriers": table(0.01, 1.0, n=4)})[0] == {"fcp": "underpowered"}


def test_the_autoencoder_barriers_need_positive_evidence_of_no_effect(rng):
    """The paper's exception: equal barriers are 'not shown' unless equivalence is shown."""
    noisy = barrier_table("autoencoder", {"sgd-train": shared_endpoint_heights(5, rng),
                                          "lbfgs-train": shared_endpoint_heights(5, rng)})
    assert verdict("lower_sgd_barriers", {"barriers": noisy}, networks=["autoencoder"])[0] == {
        "autoencoder": "not shown"}
    tight = noisy.assign(height=1.0 + 0.01 * rng.standard_normal(len(noisy)))
    assert verdict("lower_sgd_barriers", {"barriers": tight}, networks=["autoencoder"])[0] == {
        "autoencoder": "reproduced"}


def bezier_table(fourier, bezier, sets):
    return pd.DataFrame(dict(network="fcp", landscape="train", set=sets, fourier_height=fourier, bezier_height=bezier))


@pytest.mark.parametrize("n", [3, 4])
def test_spearman_of_a_perfect_ranking_at_small_n_has_its_exact_p(n):
    """scipy's spearmanr gives p = 0 for a perfect ranking of 3 or 4 pairs; the exact
    permutation p is 1/n!: 1/6 (never significant) and 1/24 (significant for one network,
    not once Holm spreads it over four)."""
    values = np.arange(1.0, n + 1)
    table = bezier_table(values, values, ["sgd-train"] * n)
    result, details = verdict("same_barrier_ordering", {"bezier": table})
    assert details.p_value.iloc[0] == pytest.approx(1 / math.factorial(n))
    assert details.smallest_p.iloc[0] == pytest.approx(1 / math.factorial(n))
    assert result == {"fcp": "underpowered" if n == 3 else "reproduced"}
    four = pd.concat([table.assign(network=network) for network in ("fcp", "lenet", "autoencoder", "lstm")])
    result, _ = verdict("same_barrier_ordering", {"bezier": four}, networks=("fcp", "lenet", "autoencoder", "lstm"))
    assert set(result.values()) == {"underpowered"}


def test_spearman_within_sets_reproduces_a_shared_ranking(rng):
    values = rng.lognormal(size=20)
    sets = ["sgd-train"] * 10 + ["lbfgs-train"] * 10
    assert verdict("same_barrier_ordering", {"bezier": bezier_table(values, values * 1.1, sets)})[0] == {
        "fcp": "reproduced"}


def test_curvature_uses_one_value_per_run_and_never_pools_train_with_test(rng):
    rows = []
    for kind in ("train", "test"):
        for optimizer, scale in (("sgd", 1.0), ("lbfgs", 100.0)):
            for vector in range(6):
                rows.append(dict(network="fcp", landscape="train", set=f"{optimizer}-{kind}", vector=vector,
                                 lambda_1=scale * rng.lognormal(0, 0.2), trace=scale * rng.lognormal(0, 0.2)))
    result, details = verdict("sgd_flatter", {"curvature": pd.DataFrame(rows)})
    assert result == {"fcp": "reproduced"}
    assert set(details.n_a) == {6} and len(details) == 4


def test_every_claim_gives_one_verdict_per_network_and_absent_tables_say_so(rng):
    runs = runs_table("fcp", rng.lognormal(-16, 0.3, 3), rng.lognormal(-7, 0.3, 3))
    summary, _ = evaluate_claims({"runs": runs}, ["fcp", "lstm"], FAST)
    assert len(summary) == len(claims.CLAIMS) * 2
    assert set(summary.verdict) <= set(claims.VERDICTS)
    assert summary.loc[summary.claim == "lower_sgd_barriers", "why"].str.contains("no barriers table").all()
    findings = {c.finding for c in claims.CLAIMS.values()}
    assert set(range(1, 11)) <= findings  # every finding the paper lists is a claim


def test_thresholds_from_config_name_a_bad_key():
    with pytest.raises(ValueError, match="report.bogus"):
        Thresholds.from_config({"bogus": 1})
    with pytest.raises(ValueError, match="report.auc_equivalence"):
        Thresholds.from_config({"auc_equivalence": 0.4})


# --- spread, distances and kernel PCA, from vectors


def geometry_inputs(network, lbfgs_scale, sgd_scale, n, rng, n_params=400):
    """The moments and Gram tables of three sets of n random vectors each (the report's
    set_summaries computes the same from set files), and their distances table."""
    sets = {name: rng.normal(0, lbfgs_scale if name.startswith("lbfgs") else sgd_scale, (n, n_params))
            for name in ("lbfgs-train", "lbfgs-test", "sgd-test")}
    moments, distances = [], []
    for name, vectors in sets.items():
        for index, vector in enumerate(vectors):
            moments.append(dict(network=network, set=name, index=index, mean=vector.mean(), mean_sq=(vector**2).mean()))
    for a, b in claims.GEOMETRY_COMPARISONS:
        origin = (sets[a].mean(0) + sets[b].mean(0)) / 2
        for name in (a, b):
            for index, vector in enumerate(sets[name]):
                distances.append(dict(network=network, comparison=f"{a}_vs_{b}", set=name, kind="vector",
                                      index=index, distance=np.linalg.norm(vector - origin)))
        distances.append(dict(network=network, comparison=f"{a}_vs_{b}", set=a, kind="centroid", index=-1,
                              distance=np.linalg.norm(sets[a].mean(0) - origin)))
    stacked = np.concatenate(list(sets.values()))
    names = [f"{s}/{i}" for s, v in sets.items() for i in range(len(v))]
    grams = pd.DataFrame(stacked @ stacked.T, columns=names)
    grams.insert(0, "index", [int(k.split("/")[1]) for k in names])
    grams.insert(0, "set", [k.split("/")[0] for k in names])
    grams.insert(0, "network", network)
    return {"moments": pd.DataFrame(moments), "distances": pd.DataFrame(distances), "grams": grams}


def test_spread_verdicts(rng):
    result, details = verdict("lbfgs_more_spread", geometry_inputs("fcp", 2.0, 1.0, 6, rng))
    assert result == {"fcp": "reproduced"}
    assert len(details) == 4  # std and distance, for each of the two comparisons
    assert np.allclose(details[details.part.str.startswith("component std")].effect, 2.0, rtol=0.1)
    assert verdict("lbfgs_more_spread", geometry_inputs("fcp", 1.0, 2.0, 6, rng))[0] == {"fcp": "contradicted"}
    assert verdict("lbfgs_more_spread", geometry_inputs("fcp", 1.0, 1.0, 6, rng))[0] == {"fcp": "not shown"}
    assert verdict("lbfgs_more_spread", geometry_inputs("fcp", 2.0, 1.0, 3, rng))[0] == {"fcp": "underpowered"}


def test_the_spread_test_keeps_its_level():
    """Vectors of one distribution in both sets: the permutation of whole vectors keeps alpha."""
    rng = np.random.default_rng(17)
    rejections = 0
    for _ in range(DRAWS):
        vectors = rng.standard_normal((10, 50)) * rng.lognormal(0, 0.3, (10, 1))  # each vector its own scale
        pack = vectors.mean(1) + 1j * (vectors**2).mean(1)
        rejections += claims.permutation_p(pack[:5], pack[5:], claims.pooled_std_ratio, FAST, rng) < FAST.alpha
    assert rejections / DRAWS <= CEILING


def test_pooled_std_ratio_matches_numpy(rng):
    a, b = rng.normal(0.1, 2.0, (5, 300)), rng.normal(-0.2, 1.0, (4, 300))
    pack = lambda x: x.mean(1) + 1j * (x**2).mean(1)  # noqa: E731
    assert claims.pooled_std_ratio(pack(a), pack(b)) == pytest.approx(a.std() / b.std())


def test_the_distance_permutation_recomputes_the_distances_the_table_holds(rng):
    inputs = geometry_inputs("fcp", 2.0, 1.0, 5, rng)
    gram, n_a = claims._gram(inputs["grams"], "fcp", "lbfgs-train", "sgd-test")
    effect, _, _, _ = claims.distance_permutation(gram, n_a, FAST, rng)
    rows = inputs["distances"][(inputs["distances"].comparison == "lbfgs-train_vs_sgd-test")
                               & (inputs["distances"].kind == "vector")]
    medians = rows.groupby("set").distance.median()
    assert effect == pytest.approx(medians["lbfgs-train"] / medians["sgd-test"])


def projections(network, separated: dict[str, bool], n=6, comparison="lbfgs-train_vs_sgd-test", rng=None):
    rng = rng or np.random.default_rng(0)
    a_set, b_set = comparison.split("_vs_")
    rows = []
    for kernel, apart in separated.items():
        for index in range(n):
            rows.append(dict(network=network, comparison=comparison, kernel=kernel, set=a_set, index=index,
                             pc1=(10.0 if apart else 0.0) + rng.standard_normal()))
            rows.append(dict(network=network, comparison=comparison, kernel=kernel, set=b_set, index=index,
                             pc1=-(10.0 if apart else 0.0) + rng.standard_normal()))
    return pd.DataFrame(rows)


def test_kernel_verdicts(rng):
    only_rbf = {"rbf": True, "linear": False, "poly": False, "sigmoid": False}
    result, details = verdict("rbf_kernel_separates", {"projections": projections("fcp", only_rbf, n=8, rng=rng)})
    assert details.set_index("part").loc["rbf kernel", "effect"] == 1.0
    assert details.set_index("part").loc["rbf kernel", "verdict"] == "reproduced"
    # equal sets give "no separation" only with positive evidence: at 8 vectors each the
    # bootstrap bound of the folded AUC rarely falls below 0.75, so that part is "not shown"
    assert result["fcp"] in ("reproduced", "not shown")
    every = dict(only_rbf, linear=True)
    assert verdict("rbf_kernel_separates", {"projections": projections("fcp", every, n=8, rng=rng)})[0] == {
        "fcp": "contradicted"}
    none = dict(only_rbf, rbf=False)
    result, details = verdict("rbf_kernel_separates", {"projections": projections("fcp", none, n=8, rng=rng)})
    assert details.set_index("part").loc["rbf kernel", "verdict"] == "not shown"
    two = projections("fcp", only_rbf, n=2, rng=rng)
    assert verdict("rbf_kernel_separates", {"projections": two})[0] == {"fcp": "underpowered"}


def test_the_separation_test_keeps_its_level():
    rng = np.random.default_rng(19)
    rejections = 0
    for _ in range(DRAWS):
        a, b = rng.standard_normal(5), rng.standard_normal(5)
        rejections += claims.permutation_p(a, b, claims.folded_auc, FAST, rng) < FAST.alpha
    assert rejections / DRAWS <= CEILING


def test_the_within_set_spearman_keeps_its_level():
    rng = np.random.default_rng(23)
    sets = np.repeat(["lbfgs-train", "lbfgs-test", "sgd-train", "sgd-test"], 3)
    rejections = 0
    for _ in range(300):
        _, greater, _, _, _ = claims.within_set_spearman(rng.standard_normal(12), rng.standard_normal(12), sets,
                                                      Thresholds(n_resamples=200), rng)
        rejections += greater < FAST.alpha
    assert rejections / 300 <= CEILING


def test_the_same_tables_give_the_same_numbers(rng):
    inputs = geometry_inputs("fcp", 2.0, 1.0, 6, rng)
    first = evaluate_claims(inputs, ["fcp"], FAST, claims=["lbfgs_more_spread"])[1]
    second = evaluate_claims(inputs, ["fcp"], FAST, claims=["lbfgs_more_spread"])[1]
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_the_critical_value_is_the_least_extreme_value_that_reaches_alpha(alternative):
    null = np.random.default_rng(3).standard_normal(400).round(2)
    v = claims.critical_value(null, 0.05, alternative)
    sign = 1 if alternative == "greater" else -1
    assert np.mean(sign * null >= sign * v) <= 0.05
    inner = null[sign * null < sign * v]
    nearer = inner.max() if alternative == "greater" else inner.min()
    assert np.mean(sign * null >= sign * nearer) > 0.05
    assert math.isnan(claims.critical_value(np.zeros(10), 0.05))  # every value tied: no p below 1


def test_permutation_parts_report_the_effect_they_could_detect():
    """The folded AUC at 5 + 5 vectors: of the 252 splits, 2 x (1 + 1 + 2) have U >= 23 of
    25 (p = 8/252 = 0.032) and 2 x 7 have U >= 22 (0.056), so the least AUC that reaches
    alpha = 0.05 is 23/25 = 0.92; a within-set Spearman over 4 sets of 3 pairs can detect a
    mean rho below 1."""
    a, b = np.arange(5.0), np.arange(5.0) + 0.5
    p, detectable = claims.permutation_test(a, b, claims.folded_auc, FAST, np.random.default_rng(0))
    assert detectable == pytest.approx(0.92) and p > 0.05
    sets = np.repeat(["a", "b", "c", "d"], 3)
    x = np.tile([1.0, 2.0, 3.0], 4)
    exact = Thresholds(n_resamples=2000)  # 6^4 = 1,296 orders: enumerated
    rho, greater, _, floor, rho_needed = claims.within_set_spearman(x, x, sets, exact, np.random.default_rng(0))
    assert rho == pytest.approx(1.0) and floor == pytest.approx(1 / 6**4) and 0 < rho_needed < 1
