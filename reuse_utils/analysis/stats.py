"""Statistics over seeds, built on scipy.stats.

* :func:`summarize` — mean, std, n and Student-t 95% CI of a metric per condition.
* :func:`above_chance` — exact binomial test of an accuracy against chance, Clopper–Pearson CI.
* :func:`trend` — Spearman or Kendall rank correlation with its (one-sided by default) p-value.
* :func:`optimal_depth` — best k per condition, its CI, and the set of k statistically tied with it
  (Welch t-test against the best, p ≥ alpha).
* :func:`paired_difference` — mean per-seed difference of two conditions with a paired t-test.
* :func:`one_sample`, :func:`seed_trends`, :func:`bootstrap_argmax`, :func:`permutation_within` —
  the seed-level tests of the claims (the seed is the unit of replication).
* Degenerate-free exact tests: :func:`mann_kendall_s`, :func:`permutation_trend` (exact within-unit
  permutation test of a trend), :func:`sign_flip` / :func:`paired_sign_flip` (exact randomisation
  test of a mean), :func:`mean_ci_bounded` (a CI that never collapses to a point for a constant
  sample of a bounded variable), :func:`holm` (Holm–Bonferroni adjustment) and
  :func:`permutation_correlation` (Monte-Carlo within-block permutation test of a rank correlation).
  None of them reports p = 0, and an uninformative (constant) sample gives p = NaN, not 0 or 1.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["summarize", "above_chance", "trend", "optimal_depth", "mean_ci", "paired_difference", "one_sample",
           "seed_trends", "bootstrap_argmax", "permutation_within", "mann_kendall_s", "permutation_trend",
           "sign_flip", "paired_sign_flip", "mean_ci_bounded", "holm", "permutation_correlation",
           "loso_monotone_map", "loso_map_test", "within_block_rank_test", "kendall_tau_b"]

_ALTERNATIVES = ("greater", "less", "two-sided")


def _check_alternative(alternative: str) -> None:
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}; got {alternative!r}")


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) with a Student-t interval; CI is NaN for fewer than 2 values."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(v.mean())
    if len(v) < 2:
        return m, float("nan"), float("nan")
    se = stats.sem(v)
    if se == 0:
        return m, m, m
    lo, hi = stats.t.interval(confidence, len(v) - 1, loc=m, scale=se)
    return m, float(lo), float(hi)


def summarize(df: pd.DataFrame, by: str | list[str], value: str = "bob_test_acc",
              confidence: float = 0.95) -> pd.DataFrame:
    """Per group of ``by``: ``mean``, ``std``, ``n``, ``ci_low``, ``ci_high`` of ``value``."""
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, value] if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the data frame (have {list(df.columns)})")
    rows = []
    for key, grp in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        m, lo, hi = mean_ci(grp[value], confidence)
        rows.append({**dict(zip(by, key, strict=True)), "mean": m, "std": float(grp[value].std(ddof=1)) if len(grp) > 1 else float("nan"),
                     "n": int(grp[value].notna().sum()), "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def above_chance(acc: float, n_test: int, chance: float, alternative: str = "greater") -> dict:
    """Exact binomial test that accuracy ``acc`` on ``n_test`` items exceeds ``chance``.

    Returns ``successes``, ``n``, ``accuracy``, ``p_value`` and the Clopper–Pearson 95% CI.
    """
    if not isinstance(n_test, numbers.Integral) or n_test < 1:
        raise ValueError(f"n_test must be a positive integer; got {n_test!r}")
    if not 0 <= acc <= 1:
        raise ValueError(f"acc must be in [0, 1]; got {acc!r}")
    if not 0 < chance < 1:
        raise ValueError(f"chance must be in (0, 1); got {chance!r}")
    k = int(round(acc * n_test))
    res = stats.binomtest(k, int(n_test), chance, alternative=alternative)
    ci = res.proportion_ci(0.95, method="exact")
    return {"successes": k, "n": int(n_test), "accuracy": k / n_test, "chance": chance,
            "p_value": float(res.pvalue), "ci_low": float(ci.low), "ci_high": float(ci.high)}


def trend(x, y, method: str = "spearman", alternative: str = "greater") -> dict:
    """Rank correlation of ``y`` with ``x`` and its p-value (``alternative="greater"``: increasing)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length; got {x.shape} and {y.shape}")
    if len(x) < 3:
        raise ValueError(f"trend needs at least 3 points; got {len(x)}")
    if method == "spearman":
        r = stats.spearmanr(x, y, alternative=alternative)
    elif method == "kendall":
        r = stats.kendalltau(x, y, alternative=alternative)
    else:
        raise ValueError(f"method must be 'spearman' or 'kendall'; got {method!r}")
    stat = float(r.statistic)
    return {"method": method, "statistic": stat, "p_value": float(r.pvalue) if not math.isnan(stat) else 1.0,
            "n": len(x)}


def optimal_depth(df: pd.DataFrame, by: str | list[str], value: str = "bob_test_acc",
                  k_col: str = "k", alpha: float = 0.05) -> pd.DataFrame:
    """Best ``k`` per condition: ``best_k``, ``mean``, ``ci_low``, ``ci_high`` and ``tied_ks``
    (every k whose seeds are not significantly worse than the best's, Welch t-test p ≥ alpha),
    plus ``min_tied_k`` / ``max_tied_k``."""
    by = [by] if isinstance(by, str) else list(by)
    rows = []
    for key, grp in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        means = grp.groupby(k_col)[value].mean()
        best = int(means.idxmax())
        best_vals = grp.loc[grp[k_col] == best, value].to_numpy(float)
        m, lo, hi = mean_ci(best_vals)
        tied = []
        for k, vals in grp.groupby(k_col)[value]:
            v = vals.to_numpy(float)
            if int(k) == best:
                tied.append(best)
                continue
            if len(v) < 2 or len(best_vals) < 2:
                continue
            if len(v) == len(best_vals) and np.allclose(np.sort(v), np.sort(best_vals)):
                tied.append(int(k))
                continue
            p = stats.ttest_ind(best_vals, v, equal_var=False, alternative="greater").pvalue
            if not np.isnan(p) and p >= alpha:
                tied.append(int(k))
        tied.sort()
        rows.append({**dict(zip(by, key, strict=True)), "best_k": best, "mean": m, "ci_low": lo, "ci_high": hi,
                     "tied_ks": tied, "min_tied_k": min(tied), "max_tied_k": max(tied)})
    return pd.DataFrame(rows)


def paired_difference(a, b, alternative: str = "greater") -> dict:
    """Mean of per-seed differences a − b, its 95% CI, and a paired t-test p-value.

    A constant difference (every a − b equal) carries no variance for a t-test: its ``p_value`` is
    NaN (not 0 or 1); use :func:`paired_sign_flip` for an exact test that is defined there."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"a and b must be 1-D, equal length ≥ 2; got {a.shape} and {b.shape}")
    d = a - b
    m, lo, hi = mean_ci(d)
    if np.allclose(d, d[0]):
        p = float("nan")
    else:
        p = float(stats.ttest_rel(a, b, alternative=alternative).pvalue)
    return {"mean_diff": m, "ci_low": lo, "ci_high": hi, "p_value": p, "n": len(d)}


def one_sample(values, alternative: str = "greater", popmean: float = 0.0) -> dict:
    """Student-t test of the mean of per-unit ``values`` against ``popmean``: ``mean``, 95% ``ci``
    (Student-t), ``p_value``, ``n``. ``p_value`` is NaN for fewer than 2 values and for a constant
    sample (a t-test is undefined there; use :func:`sign_flip` for an exact test)."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    m, lo, hi = mean_ci(v)
    if len(v) < 2:
        p = float("nan")
    elif np.allclose(v, v[0]):
        p = float("nan")
    else:
        p = float(stats.ttest_1samp(v, popmean, alternative=alternative).pvalue)
    return {"mean": m, "ci": [lo, hi], "p_value": p, "n": int(len(v))}


def seed_trends(df: pd.DataFrame, x: str, value: str, unit: str = "seed") -> pd.Series:
    """Kendall τ between ``x`` and ``value`` within each ``unit`` (a seed): one τ per unit, NaN where
    the unit has fewer than 2 levels or a constant value. The per-unit τ are the replicates that a
    seed-clustered trend test (:func:`one_sample`) uses — the seed, not the test item, is the unit."""
    out = {}
    for key, grp in df.groupby(unit):
        g = grp[[x, value]].dropna()
        if g[x].nunique() < 2 or g[value].nunique() < 2:
            out[key] = float("nan")
            continue
        out[key] = float(stats.kendalltau(g[x].to_numpy(float), g[value].to_numpy(float)).statistic)
    return pd.Series(out, name="kendall_tau")


def bootstrap_argmax(df: pd.DataFrame, by: str, value: str, unit: str = "seed", n_boot: int = 1000,
                     seed: int = 0) -> dict:
    """The ``by`` level with the highest mean ``value`` over units, and its 95% percentile interval
    over ``n_boot`` resamples of the units (with replacement)."""
    table = df.pivot_table(index=unit, columns=by, values=value, aggfunc="mean")
    best = table.mean().idxmax()
    rng = np.random.default_rng(seed)
    picks = [table.iloc[rng.integers(0, len(table), len(table))].mean().idxmax() for _ in range(n_boot)]
    lo, hi = np.percentile(np.asarray(picks, float), [2.5, 97.5])
    return {"best": best, "ci": [float(lo), float(hi)], "n": int(len(table))}


def permutation_within(df: pd.DataFrame, factor: str, value: str, blocks: list[str], n_perm: int = 2000,
                       seed: int = 0) -> dict:
    """Permutation test that ``factor`` moves ``value``: the statistic is the variance of the factor's
    level means (pooled over ``blocks``); labels are shuffled within each block (e.g. architecture ×
    seed), which is exact under the null of no factor effect. Returns ``statistic``, ``p_value``."""
    data = df[[factor, value, *blocks]].dropna().reset_index(drop=True)

    def stat(labels: np.ndarray) -> float:
        return float(pd.Series(data[value].to_numpy(float)).groupby(labels).mean().var(ddof=0))

    labels = data[factor].to_numpy()
    observed = stat(labels)
    rng = np.random.default_rng(seed)
    groups = [idx.to_numpy() for _, idx in data.groupby(blocks).groups.items()]
    hits = 0
    for _ in range(n_perm):
        perm = labels.copy()
        for idx in groups:
            perm[idx] = perm[rng.permutation(idx)]
        hits += stat(perm) >= observed - 1e-15
    return {"statistic": observed, "p_value": (1 + hits) / (1 + n_perm), "n_perm": n_perm}


# --- degenerate-free exact tests -------------------------------------------------------------------


def _pair_signs(v: np.ndarray) -> np.ndarray:
    """sign(v_j − v_i) for every pair i < j (row-major upper triangle), as int64."""
    i, j = np.triu_indices(len(v), 1)
    return np.sign(v[j] - v[i]).astype(np.int64)


def mann_kendall_s(x, y) -> float:
    """Mann–Kendall S = Σ_{i<j} sign(x_j − x_i)·sign(y_j − y_i).

    Concordant minus discordant pairs; tied pairs (in x or y) count 0, so S is defined with ties and
    is 0 for a constant ``x`` or ``y``. Kendall τ_a = S / (n(n−1)/2)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length; got {x.shape} and {y.shape}")
    if len(x) < 2:
        return 0.0
    return float(int(_pair_signs(x) @ _pair_signs(y)))


def _unit_s_distribution(x: np.ndarray, y: np.ndarray) -> Counter:
    """Exact null distribution {S: count} of S(x, y[π]) over all m! permutations π (with multiplicity)."""
    m = len(x)
    sx = _pair_signs(x)
    i, j = np.triu_indices(m, 1)
    dist: Counter = Counter()
    perms = itertools.permutations(range(m))
    while True:
        block = np.fromiter(itertools.chain.from_iterable(itertools.islice(perms, 8192)), dtype=np.int64)
        if block.size == 0:
            break
        yp = y[block.reshape(-1, m)]
        s = np.sign(yp[:, j] - yp[:, i]).astype(np.int64) @ sx
        vals, counts = np.unique(s, return_counts=True)
        for v, c in zip(vals.tolist(), counts.tolist(), strict=True):
            dist[int(v)] += int(c)
    return dist


def _convolve(a: Counter, b: Counter) -> Counter:
    out: Counter = Counter()
    for sa, ca in a.items():
        for sb, cb in b.items():
            out[sa + sb] += ca * cb
    return out


def _mc_unit_s(x: np.ndarray, y: np.ndarray, n_mc: int, rng: np.random.Generator) -> np.ndarray:
    """S(x, y[π]) for ``n_mc`` uniformly random permutations π (chunked to bound memory)."""
    m = len(x)
    sx = _pair_signs(x)
    i, j = np.triu_indices(m, 1)
    chunk = max(1, int(4_000_000 // max(1, len(sx))))
    out = np.empty(n_mc, dtype=np.int64)
    for start in range(0, n_mc, chunk):
        k = min(chunk, n_mc - start)
        yp = rng.permuted(np.tile(y, (k, 1)), axis=1)
        out[start:start + k] = np.sign(yp[:, j] - yp[:, i]).astype(np.int64) @ sx
    return out


def _as_key(k):
    return k.item() if isinstance(k, np.generic) else k


def permutation_trend(df: pd.DataFrame, x: str, value: str, unit: str = "seed", alternative: str = "greater",
                      max_exact: int = 40320, n_mc: int = 20000, seed: int = 0) -> dict:
    """Exact within-unit permutation test of a monotone trend of ``value`` along ``x``.

    Per unit (e.g. a seed) the statistic is Mann–Kendall S (:func:`mann_kendall_s`); the test
    statistic is ΣS over units. Null: within each unit the values are exchangeable across its rows.
    The exact null distribution convolves every unit's distribution of S over all m! permutations of
    its values (integer counts, with multiplicity); p = P(ΣS ≥ obs) (``"greater"``), P(ΣS ≤ obs)
    (``"less"``) or P(|ΣS| ≥ |obs|) (``"two-sided"``) — never 0. If a unit has m! > ``max_exact``,
    the whole statistic is resampled ``n_mc`` times: p = (1 + hits)/(1 + n_mc).

    Rows with NaN in ``x``/``value`` are dropped; units with < 2 rows, constant ``x`` or constant
    ``value`` carry no information and are listed in ``skipped``. With no usable unit, ``p_value``
    and ``statistic`` are NaN and ``n`` is 0.

    Returns ``statistic`` (mean over units of τ_a = S/(m(m−1)/2)), ``tau_by_unit``, ``S`` (total),
    ``p_value``, ``n`` (units used), ``method``, ``alternative``, ``skipped``."""
    _check_alternative(alternative)
    missing = [c for c in (x, value, unit) if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the data frame (have {list(df.columns)})")
    units, skipped = [], []
    for key, grp in df[[unit, x, value]].groupby(unit, sort=True):
        grp = grp.dropna(subset=[x, value])
        xv, yv = grp[x].to_numpy(float), grp[value].to_numpy(float)
        if len(xv) < 2 or np.all(xv == xv[0]) or np.all(yv == yv[0]):
            skipped.append(_as_key(key))
            continue
        units.append((_as_key(key), xv, yv))
    out = {"statistic": float("nan"), "tau_by_unit": {}, "S": 0, "p_value": float("nan"), "n": 0,
           "method": "exact within-unit permutation", "alternative": alternative, "skipped": skipped}
    if not units:
        return out
    s_by_unit = {key: int(mann_kendall_s(xv, yv)) for key, xv, yv in units}
    tau = {key: s_by_unit[key] / (len(xv) * (len(xv) - 1) / 2) for key, xv, _ in units}
    observed = sum(s_by_unit.values())
    out.update(statistic=float(np.mean(list(tau.values()))), tau_by_unit=tau, S=observed, n=len(units))
    if all(math.factorial(len(xv)) <= max_exact for _, xv, _ in units):
        dist: Counter = Counter({0: 1})
        for _, xv, yv in units:
            dist = _convolve(dist, _unit_s_distribution(xv, yv))
        total = sum(dist.values())
        if alternative == "greater":
            hits = sum(c for s, c in dist.items() if s >= observed)
        elif alternative == "less":
            hits = sum(c for s, c in dist.items() if s <= observed)
        else:
            hits = sum(c for s, c in dist.items() if abs(s) >= abs(observed))
        out["p_value"] = hits / total
    else:
        rng = np.random.default_rng(seed)
        sims = np.zeros(n_mc, dtype=np.int64)
        for _, xv, yv in units:
            sims += _mc_unit_s(xv, yv, n_mc, rng)
        if alternative == "greater":
            hits = int(np.sum(sims >= observed))
        elif alternative == "less":
            hits = int(np.sum(sims <= observed))
        else:
            hits = int(np.sum(np.abs(sims) >= abs(observed)))
        out["p_value"] = (1 + hits) / (1 + n_mc)
        out["method"] = f"Monte Carlo within-unit permutation ({n_mc})"
    return out


def mean_ci_bounded(values, low: float | None = None, high: float | None = None,
                    confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) that never collapses to a point for a constant bounded sample.

    A varying sample (≥ 2 values, std > 0) gets the Student-t interval, clipped to [low, high] when
    bounds are given. A constant sample of a variable known to lie in [low, high] gets the
    distribution-free Hoeffding interval mean ± (high − low)·sqrt(ln(2/(1 − confidence))/(2n)),
    clipped to [low, high]; a constant sample without both bounds gives (mean, NaN, NaN). NaNs are
    dropped; fewer than 2 values give a NaN CI."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    if low is not None and high is not None and not low < high:
        raise ValueError(f"need low < high; got low={low!r}, high={high!r}")
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    nan = float("nan")
    if len(v) == 0:
        return nan, nan, nan
    m = float(v.mean())
    if len(v) < 2:
        return m, nan, nan
    lo_b = -math.inf if low is None else float(low)
    hi_b = math.inf if high is None else float(high)
    if float(v.std()) > 0:
        lo, hi = stats.t.interval(confidence, len(v) - 1, loc=m, scale=stats.sem(v))
        return m, float(min(max(lo, lo_b), hi_b)), float(max(min(hi, hi_b), lo_b))
    if low is None or high is None:
        return m, nan, nan
    half = (hi_b - lo_b) * math.sqrt(math.log(2 / (1 - confidence)) / (2 * len(v)))
    return m, float(max(m - half, lo_b)), float(min(m + half, hi_b))


def _sign_flip_means(d: np.ndarray) -> np.ndarray:
    """Means of s·d over all 2^n sign vectors s (order unspecified; meet-in-the-middle, float64)."""
    n = len(d)
    k = min(n, 16)

    def subset_sums(part: np.ndarray) -> np.ndarray:
        bits = (np.arange(2 ** len(part))[:, None] >> np.arange(len(part))) & 1
        return (2 * bits - 1) @ part

    low = subset_sums(d[:k])
    high = subset_sums(d[k:]) if n > k else np.zeros(1)
    return ((low[None, :] + high[:, None]) / n).ravel()


def sign_flip(values, alternative: str = "greater", popmean: float = 0.0, max_exact: int = 20,
              n_mc: int = 20000, seed: int = 0, *, low: float | None = None, high: float | None = None,
              confidence: float = 0.95) -> dict:
    """Exact sign-flip (randomisation) test of the mean of d = values − popmean.

    Under the null each d_i is symmetric about 0, so all 2^n sign vectors s are equally likely;
    p = fraction of s with mean(s·d) ≥ mean(d) (``"greater"``), ≤ (``"less"``) or
    |mean(s·d)| ≥ |mean(d)| (``"two-sided"``), with a 1e-12 (× max|d| when > 1) tolerance for ties.
    Exact for n ≤ ``max_exact``; otherwise ``n_mc`` random sign vectors and p = (1 + hits)/(1 + n_mc).
    NaNs are dropped; zeros in d are allowed. If n = 0 or every d is 0 the test is uninformative
    and ``p_value`` is NaN. ``ci`` is :func:`mean_ci_bounded` of the values (``low``/``high`` are the
    variable's bounds, optional). Returns ``mean``, ``ci``, ``p_value``, ``n``, ``method``."""
    _check_alternative(alternative)
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    n = len(v)
    m, lo, hi = mean_ci_bounded(v, low, high, confidence)
    d = v - popmean
    out = {"mean": m, "ci": [lo, hi], "p_value": float("nan"), "n": int(n),
           "method": f"exact sign-flip (2^{n})" if n <= max_exact else f"Monte Carlo sign-flip ({n_mc})"}
    if n == 0 or np.all(d == 0):
        return out
    obs = float(d.mean())
    tol = 1e-12 * max(1.0, float(np.max(np.abs(d))))

    def count(means: np.ndarray) -> int:
        if alternative == "greater":
            return int(np.sum(means >= obs - tol))
        if alternative == "less":
            return int(np.sum(means <= obs + tol))
        return int(np.sum(np.abs(means) >= abs(obs) - tol))

    if n <= max_exact:
        out["p_value"] = count(_sign_flip_means(d)) / 2 ** n
    else:
        rng = np.random.default_rng(seed)
        hits, chunk = 0, max(1, 4_000_000 // n)
        for start in range(0, n_mc, chunk):
            k = min(chunk, n_mc - start)
            signs = rng.choice(np.array([-1.0, 1.0]), size=(k, n))
            hits += count(signs @ d / n)
        out["p_value"] = (1 + hits) / (1 + n_mc)
    return out


def paired_sign_flip(a, b, alternative: str = "greater", **kw) -> dict:
    """:func:`sign_flip` of the paired differences a − b (pairs with a NaN dropped); the same dict
    plus ``mean_diff`` (= ``mean``, the mean of a − b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D of equal length; got {a.shape} and {b.shape}")
    res = sign_flip(a - b, alternative=alternative, **kw)
    res["mean_diff"] = res["mean"]
    return res


def holm(pvalues) -> list[float]:
    """Holm–Bonferroni step-down adjusted p-values.

    With the m non-NaN p-values sorted p_(1) ≤ … ≤ p_(m), adj_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j));
    H_i is rejected at family-wise level α by Holm's procedure iff adj_i < α (as every caller here compares). Returned in input
    order; NaN entries stay NaN and do not count in m."""
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if len(ok):
        if np.any((p[ok] < 0) | (p[ok] > 1)):
            raise ValueError("p-values must lie in [0, 1]")
        order = ok[np.argsort(p[ok], kind="stable")]
        m = len(order)
        adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
        out[order] = adj
    return [float(q) for q in out]


def permutation_correlation(x, y, blocks=None, alternative: str = "greater", n_mc: int = 20000, seed: int = 0,
                            method: str = "spearman") -> dict:
    """Monte-Carlo permutation test of the Spearman ρ (or Kendall τ_b) between ``x`` and ``y``.

    ``y`` is permuted within each block (``blocks``: one label per row, or a DataFrame of label
    columns; all rows one block if None), which is exact under the null that ``y`` is exchangeable
    within blocks. p = (1 + hits)/(1 + n_mc), hits = permutations with statistic ≥ observed
    (``"greater"``), ≤ (``"less"``) or |·| ≥ |observed| (``"two-sided"``), 1e-12 tolerance. Rows with
    a NaN are dropped. A NaN statistic (constant input, < 2 rows) gives p NaN. Returns
    ``statistic``, ``p_value``, ``n``, ``n_perm``, ``method``."""
    _check_alternative(alternative)
    if method not in ("spearman", "kendall"):
        raise ValueError(f"method must be 'spearman' or 'kendall'; got {method!r}")
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length; got {x.shape} and {y.shape}")
    if blocks is None:
        codes = np.zeros(len(x), dtype=np.int64)
    elif isinstance(blocks, pd.DataFrame):
        codes = blocks.groupby(list(blocks.columns), sort=False, dropna=False).ngroup().to_numpy()
    else:
        codes = pd.factorize(pd.Series(list(blocks)), use_na_sentinel=False)[0]
    if len(codes) != len(x):
        raise ValueError(f"blocks must have one label per row; got {len(codes)} for {len(x)} rows")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y, codes = x[keep], y[keep], codes[keep]
    n = len(x)
    out = {"statistic": float("nan"), "p_value": float("nan"), "n": int(n), "n_perm": int(n_mc),
           "method": f"Monte Carlo within-block permutation ({method})"}
    if n < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return out

    if method == "spearman":
        rx, ry = stats.rankdata(x), stats.rankdata(y)
        rx, ry = rx - rx.mean(), ry - ry.mean()
        scale = math.sqrt(float(rx @ rx) * float(ry @ ry))
        base = ry

        def stat(yp: np.ndarray) -> np.ndarray:
            return yp @ rx / scale
    else:
        i, j = np.triu_indices(n, 1)
        sx = _pair_signs(x)
        n0 = len(sx)
        tx = n0 - int(np.count_nonzero(sx))
        ty = n0 - int(np.count_nonzero(_pair_signs(y)))
        scale = math.sqrt(float(n0 - tx) * float(n0 - ty))
        base = y

        def stat(yp: np.ndarray) -> np.ndarray:
            return (np.sign(yp[:, j] - yp[:, i]).astype(np.int64) @ sx) / scale

    observed = float(stat(base[None, :])[0])
    out["statistic"] = observed
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    width = n if method == "spearman" else n * (n - 1) // 2
    chunk = max(1, 4_000_000 // max(1, width))
    hits = 0
    for start in range(0, n_mc, chunk):
        k = min(chunk, n_mc - start)
        yp = np.tile(base, (k, 1))
        for idx in groups:
            if len(idx) > 1:
                yp[:, idx] = rng.permuted(yp[:, idx], axis=1)
        sims = stat(yp)
        if alternative == "greater":
            hits += int(np.sum(sims >= observed - 1e-12))
        elif alternative == "less":
            hits += int(np.sum(sims <= observed + 1e-12))
        else:
            hits += int(np.sum(np.abs(sims) >= abs(observed) - 1e-12))
    out["p_value"] = (1 + hits) / (1 + n_mc)
    return out


def _iso_predict(x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray) -> np.ndarray:
    """Isotonic regression of ``y_tr`` on ``x_tr`` (scikit-learn), increasing when Spearman's ρ of the
    training rows is ≥ 0 (scikit-learn's ``increasing="auto"`` rule), clipped outside their range."""
    from sklearn.isotonic import IsotonicRegression

    with warnings.catch_warnings():  # spearmanr on a constant column: ρ is NaN, the map then increases
        warnings.simplefilter("ignore")
        rho = stats.spearmanr(x_tr, y_tr).statistic
    iso = IsotonicRegression(increasing=not (rho < 0), out_of_bounds="clip")
    return iso.fit(x_tr, y_tr).predict(x_te)


def loso_monotone_map(fit: pd.DataFrame, x: str, target: str, predict: pd.DataFrame | None = None,
                      unit: str = "seed") -> pd.DataFrame:
    """Leave-one-unit-out monotone prediction of ``target`` from ``x``.

    For each unit u of ``predict`` (default ``fit``): an isotonic regression of ``target`` on ``x``
    (:func:`_iso_predict`: its direction from the sign of Spearman's ρ in the training rows, clipped
    outside their range) fitted on the rows of ``fit`` whose unit is not u, and the constant baseline
    — the median of those rows' ``target`` (the best constant under absolute error). Returns
    ``predict``'s rows (NaN ``x`` dropped) with ``pred`` and ``const``; a unit whose training rows
    hold fewer than two distinct ``x`` gets NaN."""
    predict = fit if predict is None else predict
    for name, df in (("fit", fit), ("predict", predict)):
        missing = {x, target, unit} - set(df.columns)
        if missing:
            raise ValueError(f"{name} lacks the columns {sorted(missing)}")
    fit = fit.dropna(subset=[x, target])
    rows = predict.dropna(subset=[x]).sort_values(unit, kind="mergesort")
    pred, const = _loso_predict(fit[x].to_numpy(float), fit[target].to_numpy(float), fit[unit].to_numpy(),
                                rows[x].to_numpy(float), rows[unit].to_numpy())
    return rows.assign(pred=pred, const=const)


def _loso_predict(fx, fy, fu, px, pu) -> tuple[np.ndarray, np.ndarray]:
    """For each predict row (``px``, unit ``pu``): the isotonic map's prediction and the constant (the
    median of ``fy``), both fitted on the fit rows of the other units; NaN where those rows hold fewer
    than two distinct x."""
    pred, const = np.full(len(px), np.nan), np.full(len(px), np.nan)
    for u in np.unique(pu):
        tr, te = fu != u, pu == u
        if len(np.unique(fx[tr])) < 2:
            continue
        pred[te] = _iso_predict(fx[tr], fy[tr], px[te])
        const[te] = float(np.median(fy[tr]))
    return pred, const


def _loso_gains(fx, fy, fu, px, py, pu, units) -> np.ndarray:
    """Per unit of ``units``: mean |constant − truth| minus mean |map − truth| on that unit's predict
    rows (:func:`_loso_predict`; NaN where it cannot be fitted)."""
    pred, const = _loso_predict(fx, fy, fu, px, pu)
    out = np.full(len(units), np.nan)
    for i, u in enumerate(units):
        te = (pu == u) & np.isfinite(pred)
        if te.any():
            out[i] = np.mean(np.abs(const[te] - py[te])) - np.mean(np.abs(pred[te] - py[te]))
    return out


def loso_map_test(conditions: list[tuple[pd.DataFrame, pd.DataFrame | None]], x: str, target: str,
                  unit: str = "seed", n_mc: int = 499, seed: int = 0) -> dict:
    """Permutation test that :func:`loso_monotone_map` predicts ``target`` from ``x`` better than the
    constant guess.

    ``conditions``: (fit, predict) frames, one pair per condition (predict None: the fit rows
    themselves). Statistic: per unit, the constant's mean absolute error minus the map's on that
    unit's rows, averaged over conditions; then the mean over units. Null: within each unit the levels
    of ``target`` are exchangeable — each copy relabels every unit's levels by one random permutation,
    applied to all of that unit's rows in every frame and condition (rows that share a unit and a level,
    such as two n_bob of one Alice, move together, and the design's balance is kept) — and the whole
    leave-one-unit-out procedure is rerun on each of ``n_mc`` copies; p = (1 + #{null ≥ observed}) /
    (1 + n_mc), never 0. Returns ``mean``, ``ci``
    (:func:`mean_ci` of the per-unit values), ``p_value``, ``p_min`` (1 / (1 + n_mc)), ``n`` (units
    with a value), ``per_unit``, ``method``."""
    prepared, units = [], set()
    for fit, predict in conditions:
        fit = fit.dropna(subset=[x, target])
        same = predict is None
        pr = fit if same else predict.dropna(subset=[x, target])
        prepared.append((fit[x].to_numpy(float), fit[target].to_numpy(float), fit[unit].to_numpy(),
                         pr[x].to_numpy(float), pr[target].to_numpy(float), pr[unit].to_numpy(), same))  # noqa: E501
        units |= set(pr[unit].tolist())
    units = np.array(sorted(units))

    levels: dict = {}
    for _, fy, fu, _, py, pu, _ in prepared:
        for ys, us in ((fy, fu), (py, pu)):
            for u, v in zip(us.tolist(), ys.tolist(), strict=True):
                levels.setdefault(u, set()).add(v)
    levels = {u: np.array(sorted(v)) for u, v in levels.items()}

    def stat(rng: np.random.Generator | None) -> tuple[float, np.ndarray]:
        relabel = None if rng is None else {u: dict(zip(lv.tolist(), rng.permutation(lv).tolist(), strict=True))
                                            for u, lv in levels.items()}
        per = []
        for fx, fy, fu, px, py, pu, _ in prepared:
            if relabel is not None:
                fy = np.array([relabel[u][v] for u, v in zip(fu.tolist(), fy.tolist(), strict=True)])
                py = np.array([relabel[u][v] for u, v in zip(pu.tolist(), py.tolist(), strict=True)])
            per.append(_loso_gains(fx, fy, fu, px, py, pu, units))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            by_unit = np.nanmean(np.vstack(per), axis=0) if per else np.array([])
        return (float(np.nanmean(by_unit)) if np.isfinite(by_unit).any() else np.nan), by_unit

    obs, by_unit = stat(None)
    vals = by_unit[np.isfinite(by_unit)]
    m, lo, hi = mean_ci(vals) if len(vals) >= 2 else (obs, np.nan, np.nan)
    out = {"mean": obs, "ci": [lo, hi], "p_value": np.nan, "p_min": 1.0 / (1 + n_mc), "n": int(len(vals)),
           "per_unit": {str(u): float(v) for u, v in zip(units, by_unit, strict=True) if np.isfinite(v)},
           "method": f"permutation of {target} within {unit} ({n_mc} Monte Carlo copies), leave-one-{unit}-out refit"}
    if not np.isfinite(obs):
        return out
    rng = np.random.default_rng(seed)
    null = np.array([stat(rng)[0] for _ in range(n_mc)])
    out["p_value"] = float((1 + np.sum(null >= obs - 1e-12)) / (1 + n_mc))
    return out



def kendall_tau_b(a, b) -> float:
    """Kendall τ_b of ``a`` against ``b``; 0 where either side does not move (a constant ranks nothing)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(stats.kendalltau(a, b).statistic)


def within_block_rank_test(df: pd.DataFrame, x: str, y: str, block: list[str], unit: str = "seed",
                           shared: list[str] | None = None, align: str = "k", n_mc: int = 9999,
                           seed: int = 0) -> dict:
    """Permutation test that ``x`` ranks ``y`` within blocks (e.g. a score ranking Bob's depths within
    each world): per block Kendall τ_b of x against y (0 where either is constant); the statistic is
    the mean over units of their blocks' mean τ_b. Null: within each block the x values are
    exchangeable across its rows; blocks that agree on ``shared`` (e.g. the worlds of one Alice) get
    one permutation, applied to their rows aligned by ``align``. Every group's τ over all its
    permutations is enumerated (≤ 8 rows a block), and ``n_mc`` Monte Carlo copies draw one per group;
    p = (1 + #{null ≥ observed}) / (1 + n_mc). Returns ``mean``, ``ci`` (of the per-unit means, bounded
    to [-1, 1]), ``p_value``, ``p_min``, ``n`` (units), ``per_unit``, ``method``."""
    rng = np.random.default_rng(seed)
    shared = list(shared or block)
    blocks = []
    for key, g in df.sort_values(align).groupby(block, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        info = dict(zip(block, key, strict=True))
        if len(g) > 8:
            raise ValueError(f"blocks must hold at most 8 rows to enumerate; got {len(g)}")
        blocks.append((tuple(info[c] for c in shared), g[unit].iloc[0], g[align].tolist(),
                       g[x].to_numpy(float), g[y].to_numpy(float)))
    units = sorted({b[1] for b in blocks})
    count = {u: sum(b[1] == u for b in blocks) for u in units}
    weight = [1.0 / (count[b[1]] * len(units)) for b in blocks]
    taus = np.array([kendall_tau_b(b[3], b[4]) for b in blocks])
    obs = float(np.dot(weight, taus)) if len(blocks) else np.nan
    per_unit = {str(u): float(np.mean([t for t, b in zip(taus, blocks, strict=True) if b[1] == u])) for u in units}
    m, lo, hi = mean_ci_bounded(list(per_unit.values()), -1.0, 1.0) if per_unit else (np.nan, np.nan, np.nan)
    out = {"mean": obs, "ci": [lo, hi], "p_value": np.nan, "p_min": 1.0 / (1 + n_mc), "n": len(units),
           "per_unit": per_unit, "method": f"permutation within {'/'.join(block)}, shared across "
                                          f"{'/'.join(shared)} (exact per group, {n_mc} Monte Carlo copies)"}
    if not blocks:
        return out
    groups: dict = {}
    for i, b in enumerate(blocks):
        groups.setdefault(b[0], []).append(i)
    nulls = []
    for members in groups.values():
        order = blocks[members[0]][2]
        if any(blocks[i][2] != order for i in members):
            raise ValueError(f"blocks sharing a permutation must hold the same {align} values")
        perms = list(itertools.permutations(range(len(order))))
        nulls.append(np.array([sum(weight[i] * kendall_tau_b(blocks[i][3][list(p)], blocks[i][4]) for i in members)
                               for p in perms]))
    draws = np.column_stack([null[rng.integers(0, len(null), n_mc)] for null in nulls]).sum(1)
    out["p_value"] = float((1 + np.sum(draws >= obs - 1e-12)) / (1 + n_mc))
    return out
