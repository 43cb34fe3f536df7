"""Claim evaluations: each function states its test and returns
``{statement, passed, statistic, p_value_or_ci, details}`` for :func:`reuse_utils.claims.record_claim`.

Significance level 0.05 throughout; every test is named in the statement it checks. Trends use
Kendall's τ, whose p-value is exact for few levels without ties (Spearman's t-approximation is
not valid for 3–6 points).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from reuse_utils.analysis.stats import (
    above_chance,
    mean_ci,
    optimal_depth,
    paired_difference,
    trend,
)

__all__ = ["claim_monotonic", "claim_zero_corr", "claim_luck", "claim_optimal_depth",
           "claim_attribution_shift", "claim_linear_limits", "claim_generator", "claim_semantic", "ALPHA"]

ALPHA = 0.05


def _result(statement, passed, statistic, p, details=None) -> dict:
    return {"statement": statement, "passed": bool(passed), "statistic": statistic, "p_value_or_ci": p,
            "details": details or {}}


def claim_monotonic(df: pd.DataFrame, x: str, *, k: int = 1, mode: str = "reinit", label: str,
                    value: str = "bob_test_acc") -> dict:
    """Seeds-averaged ``value`` (Bob's accuracy, or a gain column) of the top-k retrained Bob rises
    with ``x``: one-sided Kendall trend over the levels of ``x`` (p < 0.05), plus the fraction of
    adjacent steps that go up."""
    sub = df[(df.k == k) & (df["mode"] == mode) & (df.source == "alice")]
    means = sub.groupby(x)[value].mean().sort_index()
    what = "accuracy" if value == "bob_test_acc" else value.replace("_", " ")
    if len(means) < 3:
        return _result(f"Bob's {what} increases with {label}", False, {"levels": len(means)},
                       "needs ≥ 3 levels", {"means": means.to_dict()})
    t = trend(means.index.to_numpy(float), means.to_numpy(float), method="kendall")
    ups = float(np.mean(np.diff(means.to_numpy()) > 0))
    return _result(
        f"Bob's {what} (k={k}, {mode}, seeds averaged) increases with {label}: one-sided Kendall "
        f"trend over {len(means)} levels, p < {ALPHA}",
        t["p_value"] < ALPHA and t["statistic"] > 0,
        {"kendall_tau": t["statistic"], "levels": len(means), "fraction_increasing_steps": ups},
        {"p_value": t["p_value"]},
        {"mean_accuracy_by_level": {str(k_): float(v) for k_, v in means.items()}})


def claim_zero_corr(df: pd.DataFrame, *, arch: str = "cnn", optimizer: str = "adam", k: int = 1) -> dict:
    """At (0, 0), Bob (top-k) beats chance (exact binomial test on test items pooled over seeds)
    and the random-init control (paired t-test over seeds)."""
    base = df[(df.task_corr == 0) & (df.feature_corr == 0) & (df.arch == arch) & (df.k == k)
              & (df["mode"] == "reinit")]
    bob = base[(base.source == "alice") & (base.alice_optimizer == optimizer)].sort_values("seed")
    ctrl = base[base.source == "random"].drop_duplicates("seed").sort_values("seed")
    n_test = int(bob.n_test.iloc[0]) if "n_test" in bob else 0
    pooled = above_chance(float(bob.bob_test_acc.mean()), n_test * len(bob), float(bob.chance.mean()))
    diff = paired_difference(bob.bob_test_acc.to_numpy(), ctrl.bob_test_acc.to_numpy())
    passed = pooled["p_value"] < ALPHA and diff["p_value"] < ALPHA and diff["mean_diff"] > 0
    return _result(
        f"At task_corr = feature_corr = 0, Bob ({arch}, Alice {optimizer}, k={k}) beats chance "
        f"(exact binomial, pooled over seeds) and the random-init control (paired t-test over seeds), p < {ALPHA}",
        passed,
        {"bob_acc": pooled["accuracy"], "chance": pooled["chance"],
         "random_control_acc": float(ctrl.bob_test_acc.mean()), "seeds": len(bob)},
        {"binomial_p": pooled["p_value"], "binomial_ci": [pooled["ci_low"], pooled["ci_high"]],
         "vs_control_p": diff["p_value"], "vs_control_diff_ci": [diff["ci_low"], diff["ci_high"]]})


def claim_luck(df: pd.DataFrame, norms: pd.DataFrame | None = None, *, k: int = 1) -> dict:
    """Bob's zero-correlation advantage over chance (top-k) differs between Alice's architecture ×
    optimizer conditions: Kruskal–Wallis test over conditions, per-seed values, p < 0.05."""
    sub = df[(df.task_corr == 0) & (df.feature_corr == 0) & (df.source == "alice") & (df.k == k)
             & (df["mode"] == "reinit")].copy()
    sub["advantage"] = sub.bob_test_acc - sub.chance
    groups = {f"{a}/{o}": g.advantage.to_numpy() for (a, o), g in sub.groupby(["arch", "alice_optimizer"])}
    h, p = stats.kruskal(*groups.values()) if len(groups) > 1 else (float("nan"), 1.0)
    means = {name: float(v.mean()) for name, v in groups.items()}
    details = {"mean_advantage_over_chance": means}
    if norms is not None:
        ratios = norms.groupby(["arch", "alice_optimizer"]).bob_vs_init.mean()
        details["bob_panel_weights_vs_init"] = {f"{a}/{o}": float(v) for (a, o), v in ratios.items()}
    best = max(means, key=means.get) if means else None
    worst = min(means, key=means.get) if means else None
    return _result(
        f"Bob's advantage over chance at zero correlation (k={k}) depends on Alice's architecture and "
        f"optimizer: Kruskal–Wallis over {len(groups)} conditions, p < {ALPHA}",
        p < ALPHA, {"H": float(h), "conditions": len(groups), "best": best, "worst": worst},
        {"p_value": float(p)}, details)


def claim_optimal_depth(df: pd.DataFrame, *, mode: str = "reinit") -> dict:
    """The optimal number of retrained layers falls as task correlation rises: one-sided Kendall
    (decreasing) between task_corr and the best k (seed-mean accuracy), p < 0.05; and at the
    lowest correlation the best k is > 1 (retraining more than the head)."""
    sub = df[(df.source == "alice") & (df["mode"] == mode) & (df.feature_corr == 0)]
    best = optimal_depth(sub, "task_corr")
    t = trend(best.task_corr.to_numpy(float), best.best_k.to_numpy(float), method="kendall", alternative="less")
    low = best.sort_values("task_corr").iloc[0]
    passed = t["p_value"] < ALPHA and int(low.best_k) > 1
    return _result(
        f"The optimal number of retrained layers k* ({mode}) decreases with task correlation "
        f"(one-sided Kendall, p < {ALPHA}), and at the lowest correlation k* > 1",
        passed, {"kendall_tau": t["statistic"], "k_star_at_lowest": int(low.best_k),
                 "k_star_at_highest": int(best.sort_values("task_corr").iloc[-1].best_k)},
        {"p_value": t["p_value"]},
        {"best_k": {str(r.task_corr): int(r.best_k) for r in best.itertuples()},
         "tied_ks": {str(r.task_corr): list(r.tied_ks) for r in best.itertuples()}})


def claim_attribution_shift(table: pd.DataFrame) -> dict:
    """Alice's Integrated-Gradients share on Bob's panel rises with task correlation (one-sided
    Kendall over per-seed values, p < 0.05) — the deep counterpart of w*(α) taking up x_B; the
    agreement between Bob's attribution share and his behavioural reliance on his panel is reported."""
    alice = table[table.model == "alice"]
    t = trend(alice.task_corr.to_numpy(float), alice.bob_share.to_numpy(float), method="kendall")
    bobs = table[table.model != "alice"].dropna(subset=["bob_reliance"])
    agree = (stats.spearmanr(bobs.bob_share, bobs.bob_reliance) if len(bobs) > 2 else None)
    by_t = alice.groupby("task_corr").bob_share.mean()
    return _result(
        f"Alice's attribution share on Bob's panel increases with task correlation "
        f"(Integrated Gradients; one-sided Kendall over {len(alice)} models, p < {ALPHA})",
        t["p_value"] < ALPHA and t["statistic"] > 0,
        {"kendall_tau": t["statistic"], "share_at_lowest": float(by_t.iloc[0]), "share_at_highest": float(by_t.iloc[-1])},
        {"p_value": t["p_value"]},
        {"ig_vs_randomised_reliance_spearman": None if agree is None else float(agree.statistic),
         "ig_vs_randomised_reliance_p": None if agree is None else float(agree.pvalue)})


def claim_linear_limits(noise: float = 0.5, fitted: dict | None = None, n_fit: int | None = None) -> dict:
    """w*(0) ∝ [1, 0] and w*(±0.999) ∝ [1, ±1] (cosine ≥ 0.99, k = 1); optional fitted weights agree
    with the closed form (cosine ≥ 0.99)."""
    from reuse_utils.analysis.linear import alice_optimal_weights, cosine

    c0 = cosine(alice_optimal_weights(0.0, 1, "pairwise", noise), np.array([1.0, 0.0]))
    cp = cosine(alice_optimal_weights(0.999, 1, "pairwise", noise), np.array([1.0, 1.0]))
    cm = cosine(alice_optimal_weights(-0.999, 1, "pairwise", noise), np.array([1.0, -1.0]))
    fit_min = min(fitted.values()) if fitted else None
    passed = min(c0, cp, cm) >= 0.99 and (fit_min is None or fit_min >= 0.99)
    return _result(
        "Alice's optimal weights: w* ∝ [1, 0] at α = 0 and → [1, ±1] as α → ±1 (cosine ≥ 0.99); "
        "logistic-regression fits agree with the closed form (cosine ≥ 0.99)",
        passed, {"cos_alpha0": c0, "cos_alpha+0.999": cp, "cos_alpha-0.999": cm, "min_fit_cos": fit_min},
        "deterministic (closed form)", {"noise": noise, "samples_per_fit": n_fit})


def claim_generator(table: pd.DataFrame, tol: float = 0.03, feature_tol: float = 0.05) -> dict:
    """Identity check of the generator: measured task correlation (bias-corrected Cramér's V) within
    ±``tol`` of t and measured feature correlation (label-cell residual correlation) within
    ±``feature_tol`` of α at every setting; at (0, 0) no label dependence (chi-square p ≥ 0.05 in
    most seeds)."""
    err = (table.task_corr - table.task_corr_dial).abs()
    ferr = (table.feature_corr - table.feature_corr_dial).abs()
    zero = table[(table.task_corr_dial == 0) & (table.feature_corr_dial == 0)]
    frac_indep = float((zero.task_corr_p_value >= 0.05).mean()) if len(zero) else float("nan")
    m, lo, hi = mean_ci(err)
    return _result(
        f"The generator delivers both dials: |measured − dial| ≤ {tol} for task and ≤ {feature_tol} for feature "
        "correlation at every setting; independence not rejected at (0, 0)",
        float(err.max()) <= tol and float(ferr.max()) <= feature_tol and (frac_indep >= 0.5 if len(zero) else True),
        {"max_abs_error": float(err.max()), "mean_abs_error": m, "max_abs_feature_error": float(ferr.max()),
         "settings": len(table)},
        {"mean_abs_error_ci": [lo, hi], "fraction_chi2_p_ge_0.05_at_zero": frac_indep})


def claim_semantic(gains: pd.DataFrame) -> dict:
    """C7: Bob's gain over scratch is larger for semantically related tasks: one-sided Kendall trend
    of per-seed gain against relatedness (related > other > unrelated), p < 0.05; the trend of
    the gain against the measured task correlation is reported alongside."""
    t = trend(gains.relatedness.to_numpy(float), gains.gain.to_numpy(float), method="kendall")
    m = trend(gains.measured_corr.to_numpy(float), gains.gain.to_numpy(float), method="kendall")
    by_task = gains.groupby("task")[["gain", "measured_corr", "best_k"]].mean()
    return {"statement": "Bob's gain over training from scratch is larger when his task is semantically related "
                         "to Alice's dog-vs-cat (one-sided Kendall trend of gain vs relatedness, p < 0.05)",
            "passed": bool(t["p_value"] < 0.05 and t["statistic"] > 0),
            "statistic": {"kendall_tau_relatedness": t["statistic"], "kendall_tau_measured_corr": m["statistic"],
                          "points": t["n"]},
            "p_value_or_ci": {"p_value": t["p_value"], "p_value_measured_corr": m["p_value"]},
            "details": {"mean_gain_by_task": by_task.gain.to_dict(),
                        "measured_corr_by_task": by_task.measured_corr.to_dict(),
                        "best_k_by_task": by_task.best_k.to_dict()}}
