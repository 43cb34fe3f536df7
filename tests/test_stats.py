import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from reuse_utils.analysis.stats import (
    above_chance,
    holm,
    mann_kendall_s,
    mean_ci,
    mean_ci_bounded,
    one_sample,
    optimal_depth,
    paired_difference,
    paired_sign_flip,
    permutation_correlation,
    permutation_trend,
    sign_flip,
    summarize,
    trend,
)


def test_mean_ci_matches_t_interval():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == pytest.approx(2 - 4.302653 * 1 / np.sqrt(3), rel=1e-5)
    assert np.isnan(mean_ci([1.0])[1])


def test_summarize_groups():
    df = pd.DataFrame({"t": [0, 0, 1, 1], "acc": [0.1, 0.3, 0.8, 0.8]})
    s = summarize(df, "t", "acc")
    assert list(s["mean"]) == pytest.approx([0.2, 0.8])
    assert list(s["n"]) == [2, 2]
    assert s.loc[1, "ci_low"] == s.loc[1, "ci_high"] == pytest.approx(0.8)
    with pytest.raises(ValueError, match="columns"):
        summarize(df, "missing", "acc")


def test_above_chance_exact_binomial():
    r = above_chance(0.6, 100, 0.5)
    assert r["successes"] == 60 and r["p_value"] == pytest.approx(0.028443966820490392)
    assert r["ci_low"] < 0.6 < r["ci_high"]
    assert above_chance(0.5, 100, 0.5)["p_value"] > 0.4
    with pytest.raises(ValueError, match="chance must be"):
        above_chance(0.5, 10, 1.0)
    with pytest.raises(ValueError, match="n_test must be"):
        above_chance(0.5, 0, 0.1)


def test_trend():
    up = trend([0, 1, 2, 3, 4, 5], [0.1, 0.2, 0.3, 0.35, 0.5, 0.9])
    assert up["statistic"] == 1.0 and up["p_value"] < 0.01
    flat = trend([0, 1, 2, 3, 4, 5], [0.5, 0.1, 0.4, 0.2, 0.3, 0.2])
    assert flat["p_value"] > 0.05
    assert trend([0, 1, 2], [3, 2, 1], method="kendall")["statistic"] == -1.0
    with pytest.raises(ValueError, match="method must be"):
        trend([0, 1, 2], [0, 1, 2], method="pearson")


def test_optimal_depth_and_ties():
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(5):
        for k, mu in {1: 0.5, 2: 0.9, 3: 0.895, 4: 0.7}.items():
            rows.append({"cond": "a", "k": k, "seed": seed, "acc": mu + rng.normal(0, 0.01)})
    out = optimal_depth(pd.DataFrame(rows), "cond", "acc")
    row = out.iloc[0]
    assert row.best_k in (2, 3) and set(row.tied_ks) == {2, 3}
    assert row.min_tied_k == 2 and row.max_tied_k == 3


def test_paired_difference():
    r = paired_difference([0.9, 0.8, 0.85], [0.5, 0.45, 0.5])
    assert r["mean_diff"] == pytest.approx(0.3667, abs=1e-3) and r["p_value"] < 0.01
    with pytest.raises(ValueError):
        paired_difference([1.0], [0.5])


def test_constant_samples_give_nan_p_not_0_or_1():
    for alt in ("greater", "less", "two-sided"):
        assert np.isnan(one_sample([0.3, 0.3, 0.3], alternative=alt)["p_value"])
        assert np.isnan(one_sample([0.0, 0.0, 0.0], alternative=alt)["p_value"])
        assert np.isnan(paired_difference([0.9, 0.8], [0.4, 0.3], alternative=alt)["p_value"])
    r = one_sample([0.3, 0.3, 0.3])
    assert r["mean"] == pytest.approx(0.3) and r["n"] == 3
    # negative control: a varying sample still gets the t-test p-value
    v = [0.1, 0.3, 0.2, 0.4]
    assert one_sample(v)["p_value"] == pytest.approx(sps.ttest_1samp(v, 0, alternative="greater").pvalue)
    assert np.isnan(one_sample([0.5])["p_value"])


# --- mann_kendall_s ---------------------------------------------------------------------------------

def _brute_s(x, y):
    n = len(x)
    return sum(np.sign(x[j] - x[i]) * np.sign(y[j] - y[i]) for i in range(n) for j in range(i + 1, n))


def test_mann_kendall_s_matches_brute_force_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(30):
        n = int(rng.integers(2, 12))
        x, y = rng.integers(0, 4, n).astype(float), rng.integers(0, 3, n).astype(float)
        assert mann_kendall_s(x, y) == _brute_s(x, y)
    x = np.arange(7.0)
    assert mann_kendall_s(x, x) == 21 and mann_kendall_s(x, -x) == -21
    assert mann_kendall_s(x, np.full(7, 0.4)) == 0
    # without ties τ_a = S / C(n, 2) equals scipy's τ_b
    y = rng.permutation(7).astype(float)
    assert mann_kendall_s(x, y) / 21 == pytest.approx(sps.kendalltau(x, y).statistic)


# --- permutation_trend ------------------------------------------------------------------------------

def _frame(units):
    return pd.DataFrame([{"seed": u, "k": xv, "v": yv} for u, (xs, ys) in units.items()
                         for xv, yv in zip(xs, ys, strict=True)])


def test_permutation_trend_perfect_increase_closed_form():
    units = {s: (list(range(5)), [0.1, 0.2, 0.4, 0.5, 0.9]) for s in range(5)}
    r = permutation_trend(_frame(units), "k", "v")
    assert r["p_value"] == pytest.approx((1 / 120) ** 5, rel=1e-12) and r["p_value"] > 0
    assert r["S"] == 50 and r["n"] == 5 and r["statistic"] == 1.0 and r["skipped"] == []
    assert r["method"] == "exact within-unit permutation"
    assert set(r["tau_by_unit"].values()) == {1.0}
    one = permutation_trend(_frame({0: units[0]}), "k", "v")
    assert one["p_value"] == pytest.approx(1 / 120, rel=1e-12)
    two = permutation_trend(_frame(units), "k", "v", alternative="two-sided")
    assert two["p_value"] == pytest.approx(2 / 120 ** 5, rel=1e-12)
    # negative control: the same data tested for a decrease is the least favourable outcome
    assert permutation_trend(_frame(units), "k", "v", alternative="less")["p_value"] == 1.0


def test_permutation_trend_matches_brute_force_enumeration():
    rng = np.random.default_rng(3)
    for _ in range(6):
        units = {"a": ([0, 1, 1, 2], list(rng.integers(0, 3, 4).astype(float))),
                 "b": ([0, 1, 2], list(rng.normal(size=3))),
                 "c": ([2, 0, 1, 3, 4], list(rng.integers(0, 2, 5).astype(float)))}
        units = {u: (xs, ys) for u, (xs, ys) in units.items() if len(set(ys)) > 1}
        obs = sum(_brute_s(np.array(xs, float), np.array(ys, float)) for xs, ys in units.values())
        sums = []
        for combo in itertools.product(*[itertools.permutations(ys) for _, ys in units.values()]):
            sums.append(sum(_brute_s(np.array(xs, float), np.array(p, float))
                            for (xs, _), p in zip(units.values(), combo, strict=True)))
        sums = np.array(sums)
        df = _frame(units)
        for alt, hit in {"greater": sums >= obs, "less": sums <= obs,
                         "two-sided": np.abs(sums) >= abs(obs)}.items():
            r = permutation_trend(df, "k", "v", alternative=alt)
            assert r["S"] == obs
            assert r["p_value"] == pytest.approx(hit.mean(), rel=1e-12)


def test_permutation_trend_is_valid_under_the_null():
    # enumerate every arrangement of one unit's values: an exact test rejects at most α of them
    ys = [0.1, 0.5, 0.5, 0.9, 1.3]
    ps = [permutation_trend(_frame({0: (list(range(5)), list(p))}), "k", "v")["p_value"]
          for p in itertools.permutations(ys)]
    for alpha in (0.01, 0.05, 0.1, 0.25, 0.5):
        assert np.mean(np.array(ps) <= alpha) <= alpha + 1e-12
    assert min(ps) > 0


def test_permutation_trend_skips_uninformative_units_and_nans():
    units = {0: ([0, 1, 2, 3], [0.1, 0.2, 0.3, 0.4]),
             1: ([0, 1, 2, 3], [0.5, 0.5, 0.5, 0.5]),      # constant value
             2: ([1, 1, 1], [0.1, 0.2, 0.3]),              # constant x
             3: ([0], [0.3])}                              # one row
    df = _frame(units)
    df = pd.concat([df, pd.DataFrame({"seed": [0, 4], "k": [np.nan, 1.0], "v": [9.0, np.nan]})])
    r = permutation_trend(df, "k", "v")
    assert r["n"] == 1 and sorted(r["skipped"]) == [1, 2, 3, 4]
    assert r["p_value"] == pytest.approx(1 / 24, rel=1e-12) and r["tau_by_unit"] == {0: 1.0}
    dead = permutation_trend(_frame({1: units[1], 2: units[2]}), "k", "v")
    assert dead["n"] == 0 and np.isnan(dead["p_value"]) and np.isnan(dead["statistic"])
    with pytest.raises(ValueError, match="alternative"):
        permutation_trend(df, "k", "v", alternative="up")


def test_permutation_trend_monte_carlo_agrees_with_exact():
    rng = np.random.default_rng(5)
    units = {s: (list(range(6)), list(np.arange(6) * 0.05 + rng.normal(0, 0.2, 6))) for s in range(3)}
    df = _frame(units)
    exact = permutation_trend(df, "k", "v", alternative="two-sided")
    mc = permutation_trend(df, "k", "v", alternative="two-sided", max_exact=100, n_mc=20000, seed=1)
    assert mc["method"] == "Monte Carlo within-unit permutation (20000)"
    assert mc["S"] == exact["S"] and mc["statistic"] == exact["statistic"]
    se = math.sqrt(exact["p_value"] * (1 - exact["p_value"]) / 20000)
    assert abs(mc["p_value"] - exact["p_value"]) < 4 * se + 1e-4
    mc_top = permutation_trend(_frame({0: (list(range(9)), list(range(9)))}), "k", "v", n_mc=999)
    assert mc_top["p_value"] >= 1 / 1000 and mc_top["method"].startswith("Monte Carlo")


# --- sign_flip --------------------------------------------------------------------------------------

def _brute_sign_flip(d, alternative):
    obs = np.mean(d)
    means = np.array([np.mean(np.array(s) * d) for s in itertools.product([-1, 1], repeat=len(d))])
    if alternative == "greater":
        return np.mean(means >= obs - 1e-12)
    if alternative == "less":
        return np.mean(means <= obs + 1e-12)
    return np.mean(np.abs(means) >= abs(obs) - 1e-12)


def test_sign_flip_closed_forms():
    r = sign_flip([0.1, 0.2, 0.3, 0.4, 0.5])
    assert r["p_value"] == 1 / 32 and r["n"] == 5 and r["mean"] == pytest.approx(0.3)
    assert r["method"] == "exact sign-flip (2^5)"
    assert sign_flip([0.1, 0.2, 0.3, 0.4, 0.5], alternative="two-sided")["p_value"] == 2 / 32
    assert sign_flip([0.2] * 5)["p_value"] == 1 / 32          # constant but informative
    assert sign_flip([0.1, 0.2, 0.3, 0.4, 0.5], alternative="less")["p_value"] == 1.0  # negative control
    # d_i = ±2^i: all 2^n signed sums are distinct and ordered like binary numbers, so
    # P(sum ≥ obs) = (2^n − B)/2^n with B the binary number of the observed '+' positions
    n = 18
    rng = np.random.default_rng(2)
    plus = rng.integers(0, 2, n)
    d = np.where(plus == 1, 1.0, -1.0) * 2.0 ** np.arange(n)
    b = int(sum(2 ** i for i in range(n) if plus[i]))
    assert sign_flip(d, max_exact=20)["p_value"] == (2 ** n - b) / 2 ** n
    assert sign_flip(d, alternative="less", max_exact=20)["p_value"] == (b + 1) / 2 ** n


def test_sign_flip_matches_brute_force():
    rng = np.random.default_rng(4)
    for _ in range(10):
        n = int(rng.integers(1, 10))
        d = np.round(rng.normal(0.1, 1, n), 1)
        d[rng.integers(0, n)] = 0.0                              # zeros flip to themselves
        for alt in ("greater", "less", "two-sided"):
            r = sign_flip(d + 0.5, alternative=alt, popmean=0.5)
            if np.all(d == 0):
                assert np.isnan(r["p_value"])
            else:
                assert r["p_value"] == pytest.approx(_brute_sign_flip(d, alt), rel=1e-12)


def test_sign_flip_uninformative_and_nan_handling():
    assert np.isnan(sign_flip([0.0, 0.0, 0.0])["p_value"])
    assert np.isnan(sign_flip([0.7, 0.7], popmean=0.7)["p_value"])
    assert np.isnan(sign_flip([])["p_value"]) and sign_flip([])["n"] == 0
    r = sign_flip([0.1, np.nan, 0.2, 0.3])
    assert r["n"] == 3 and r["p_value"] == 1 / 8
    # symmetric data: no evidence either way
    assert sign_flip([-1.0, 1.0, -2.0, 2.0])["p_value"] > 0.5
    # constant sample with bounds: CI is a real interval, not a point
    lo, hi = sign_flip([1.0] * 5, low=-1, high=1)["ci"]
    assert lo < hi == 1.0


def test_sign_flip_monte_carlo():
    rng = np.random.default_rng(6)
    d = rng.normal(0.3, 1, 14)
    exact = sign_flip(d)["p_value"]
    mc = sign_flip(d, max_exact=10, n_mc=20000, seed=3)
    assert mc["method"] == "Monte Carlo sign-flip (20000)"
    assert abs(mc["p_value"] - exact) < 4 * math.sqrt(exact * (1 - exact) / 20000) + 1e-4
    assert sign_flip(np.ones(30), n_mc=500)["p_value"] == 1 / 501


def test_paired_sign_flip():
    a, b = [0.9, 0.8, 0.85, 0.7], [0.5, 0.45, 0.5, 0.6]
    r = paired_sign_flip(a, b)
    assert r["mean_diff"] == pytest.approx(np.mean(np.subtract(a, b))) and r["p_value"] == 1 / 16
    assert paired_sign_flip(b, a)["p_value"] == 1.0
    assert np.isnan(paired_sign_flip([0.5, 0.6], [0.5, 0.6])["p_value"])
    with pytest.raises(ValueError):
        paired_sign_flip([1.0, 2.0], [1.0])


# --- mean_ci_bounded --------------------------------------------------------------------------------

def test_mean_ci_bounded():
    v = [0.2, 0.4, 0.5, 0.9]
    assert mean_ci_bounded(v) == pytest.approx(mean_ci(v))
    assert mean_ci_bounded(v, 0, 1) == pytest.approx(mean_ci(v))      # bounds not binding
    m, lo, hi = mean_ci_bounded([0.95, 1.0, 1.0], low=0, high=1)
    assert hi == 1.0 and lo == pytest.approx(mean_ci([0.95, 1.0, 1.0])[1]) and m < 1
    # constant: Hoeffding half-width (high − low)·sqrt(ln(2/α)/(2n))
    m, lo, hi = mean_ci_bounded([1.0] * 5, low=-1, high=1)
    half = 2 * math.sqrt(math.log(40) / 10)
    assert (m, lo, hi) == pytest.approx((1.0, 1 - half, 1.0))
    m, lo, hi = mean_ci_bounded([0.5] * 10, low=0, high=1, confidence=0.9)
    half = math.sqrt(math.log(20) / 20)
    assert (lo, hi) == pytest.approx((0.5 - half, 0.5 + half)) and lo < 0.5 < hi
    assert np.isnan(mean_ci_bounded([0.5] * 3)[1:]).all()
    assert np.isnan(mean_ci_bounded([0.5], 0, 1)[1:]).all() and mean_ci_bounded([0.5])[0] == 0.5
    assert np.isnan(mean_ci_bounded([np.nan])).all()
    with pytest.raises(ValueError):
        mean_ci_bounded(v, 1, 0)


def test_hoeffding_interval_covers_for_bounded_variables():
    # coverage check for the Hoeffding bound itself (it holds for any [0, 1] variable)
    rng = np.random.default_rng(7)
    n, reps, covered = 8, 4000, 0
    for _ in range(reps):
        v = rng.beta(0.3, 0.3, n)
        half = math.sqrt(math.log(2 / 0.05) / (2 * n))
        covered += abs(v.mean() - 0.5) <= half
    assert covered / reps >= 0.95


# --- holm -------------------------------------------------------------------------------------------

def _holm_rejects(p, alpha):
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = set()
    for rank, i in enumerate(order):
        if p[i] <= alpha / (len(p) - rank):
            rejected.add(i)
        else:
            break
    return rejected


def test_holm_hand_example_and_nans():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = holm([0.01, np.nan, 0.04, 0.03, 0.005])
    assert np.isnan(out[1]) and [out[i] for i in (0, 2, 3, 4)] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.3, 0.6]) == [0.6, 0.6]                       # capped / monotone
    assert holm([0.9, 0.8]) == [1.0, 1.0]
    assert holm([0.04]) == [0.04] and holm([]) == []
    assert np.isnan(holm([np.nan])).all()


def test_holm_matches_brute_force_procedure():
    rng = np.random.default_rng(8)
    for _ in range(50):
        p = list(np.round(rng.uniform(0, 0.2, int(rng.integers(1, 8))), 3))
        adj = holm(p)
        assert all(0 <= q <= 1 for q in adj)
        for alpha in sorted(set(adj) | {0.01, 0.05, 0.1}):
            # H_i is rejected at level α iff its adjusted p is ≤ α (hand-rolled step-down)
            assert _holm_rejects(p, alpha + 1e-12) == {i for i, q in enumerate(adj) if q <= alpha + 1e-12}
        ranks = np.argsort(p, kind="stable")
        assert np.all(np.diff(np.array(adj)[ranks]) >= -1e-15)


# --- permutation_correlation ------------------------------------------------------------------------

def test_permutation_correlation_statistic_and_exact_agreement():
    rng = np.random.default_rng(9)
    x = np.arange(6.0)
    y = np.array([0.1, 0.3, 0.2, 0.5, 0.4, 0.8])
    for method, fn in (("spearman", sps.spearmanr), ("kendall", sps.kendalltau)):
        r = permutation_correlation(x, y, method=method, n_mc=20000, seed=1)
        obs = fn(x, y).statistic
        assert r["statistic"] == pytest.approx(obs) and r["n"] == 6 and r["n_perm"] == 20000
        exact = np.mean([fn(x, np.array(p)).statistic >= obs - 1e-12 for p in itertools.permutations(y)])
        assert abs(r["p_value"] - exact) < 4 * math.sqrt(exact * (1 - exact) / 20000) + 1e-4
        assert r["p_value"] >= 1 / 20001
    tied = rng.integers(0, 3, 12).astype(float)
    r = permutation_correlation(np.arange(12.0), tied, method="kendall", n_mc=100)
    assert r["statistic"] == pytest.approx(sps.kendalltau(np.arange(12.0), tied).statistic)


def test_permutation_correlation_blocks_remove_between_block_confound():
    # x and y are both driven by the block, unrelated within blocks
    rng = np.random.default_rng(10)
    blocks = np.repeat(np.arange(4), 6)
    x = blocks + rng.normal(0, 0.1, 24)
    y = blocks + rng.normal(0, 0.1, 24)
    pooled = permutation_correlation(x, y, n_mc=2000)
    within = permutation_correlation(x, y, blocks=blocks, n_mc=2000)
    assert pooled["p_value"] < 0.01
    assert within["p_value"] > 0.05 and within["statistic"] == pooled["statistic"]
    frame = pd.DataFrame({"b": blocks})
    assert permutation_correlation(x, y, blocks=frame, n_mc=2000)["p_value"] == within["p_value"]


def test_permutation_correlation_degenerate_and_nan():
    r = permutation_correlation([0, 1, 2, 3], [0.5, 0.5, 0.5, 0.5])
    assert np.isnan(r["statistic"]) and np.isnan(r["p_value"])
    r = permutation_correlation([0, 1, np.nan, 3, 4], [0.1, 0.2, 5.0, 0.3, 0.4], n_mc=500)
    assert r["n"] == 4 and r["statistic"] == 1.0 and r["p_value"] < 0.1
    assert permutation_correlation([0, 1, 2, 3, 4], [0.4, 0.3, 0.2, 0.1, 0.0], n_mc=500)["p_value"] == 1.0
    with pytest.raises(ValueError, match="method"):
        permutation_correlation([0, 1], [0, 1], method="pearson")
