"""Statistics over seeds, built on scipy.stats.

* :func:`summarize` — mean, std, n and Student-t 95% CI of a metric per condition.
* :func:`above_chance` — exact binomial test of an accuracy against chance, Clopper–Pearson CI.
* :func:`trend` — Spearman or Kendall rank correlation with its (one-sided by default) p-value.
* :func:`optimal_depth` — best k per condition, its CI, and the set of k statistically tied with it
  (Welch t-test against the best, p ≥ alpha).
* :func:`paired_difference` — mean per-seed difference of two conditions with a paired t-test.
* :func:`one_sample`, :func:`seed_trends`, :func:`bootstrap_argmax`, :func:`permutation_within` —
  the seed-level tests of the claims (the seed is the unit of replication).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["summarize", "above_chance", "trend", "optimal_depth", "mean_ci", "paired_difference", "one_sample",
           "seed_trends", "bootstrap_argmax", "permutation_within"]


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
    """Mean of per-seed differences a − b, its 95% CI, and a paired t-test p-value."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"a and b must be 1-D, equal length ≥ 2; got {a.shape} and {b.shape}")
    d = a - b
    m, lo, hi = mean_ci(d)
    if np.allclose(d, d[0]):
        p = 0.0 if (d[0] > 0 and alternative == "greater") or (d[0] < 0 and alternative == "less") else 1.0
    else:
        p = float(stats.ttest_rel(a, b, alternative=alternative).pvalue)
    return {"mean_diff": m, "ci_low": lo, "ci_high": hi, "p_value": p, "n": len(d)}


def one_sample(values, alternative: str = "greater", popmean: float = 0.0) -> dict:
    """Student-t test of the mean of per-unit ``values`` against ``popmean``: ``mean``, 95% ``ci``
    (Student-t), ``p_value`` (NaN for fewer than 2 values; a constant sample decides by its sign),
    ``n``."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    m, lo, hi = mean_ci(v)
    if len(v) < 2:
        p = float("nan")
    elif np.allclose(v, v[0]):
        side = v[0] - popmean
        p = 0.0 if (side > 0 and alternative == "greater") or (side < 0 and alternative == "less") else 1.0
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
