"""The study's claims as tests: each evaluator turns measured runs into one claim record, as the
claims spec (:mod:`reuse_utils.analysis.claims_spec`) states it.

Conventions (stated once, used by every claim):

* **The unit of replication is the seed** (the task in the case studies): per-seed summaries are
  the replicates, never pooled test items (test pairs share base images across seeds).
* **Trends** are exact within-seed permutation tests of Mann–Kendall's S
  (:func:`~reuse_utils.analysis.stats.permutation_trend`); paired comparisons exact sign-flip tests
  (:func:`~reuse_utils.analysis.stats.sign_flip`): never p = 0 from a constant sample. Effects carry
  their unit; CIs are Student-t over units, or distribution-free (Hoeffding) when every unit agrees.
* **Selections** (the configuration Bob would deploy: k, mode; k*) use validation accuracy
  (:data:`SELECT_ON`), never test accuracy; test accuracy is reported for what was chosen.
* The verdict is the **primary** test's: ``pass`` when p < its level with the effect in the stated
  direction, ``fail`` otherwise, ``not tested`` when the instrument cannot test it (the spec's
  ``not_tested_when``). Secondaries come with Holm-adjusted p-values within the claim.
* **Identities** (C0, C6), **diagnostics** (D1–D3: protocol health) and **manipulation checks**
  (M1) are kept apart from **findings** (``kind="empirical"``).

Each evaluator returns ``statement`` (the paper's words), ``operationalisation``, ``test``,
``unit``, ``effect_unit``, ``n``, ``effect``, ``ci`` ([low, high], 95%), ``p_value``, ``passed``,
``verdict``, ``secondary`` (list of ``{name, effect, effect_unit, ci, p_value, p_holm, passed}``)
and ``details``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reuse_utils.analysis.claims_spec import HEALTH_MAX, SPEC, SPEC_VERSION, spec_hash
from reuse_utils.analysis.stats import (
    holm,
    kendall_tau_b,
    loso_map_test,
    loso_monotone_map,
    mann_kendall_s,
    mean_ci,
    mean_ci_bounded,
    paired_sign_flip,
    permutation_correlation,
    permutation_trend,
    permutation_within,
    sign_flip,
    within_block_rank_test,
)
from reuse_utils.experiments.grid import AXES, WORLD_AXES

__all__ = ["claim_monotonic_task", "claim_monotonic_feature", "claim_zero_corr", "claim_luck", "claim_optimal_depth",
           "claim_attribution_shift", "claim_attribution_reliance", "claim_linear_limits", "claim_generator",
           "claim_semantic", "claim_protocol_health", "claim_depth_reveals", "claim_estimators_predict_depth", "depth_signals", "chosen_config", "label_copy_floor", "ALPHA", "IDENTITIES",
           "SELECT_ON", "VERDICTS", "WORLD_KEYS", "ALICE_KEYS", "holm_reachable", "secondary_results"]

ALPHA = 0.05
IDENTITIES = ("C0_generator_calibrated", "C6_linear_model_limits")
SELECT_ON = "bob_val_acc"  #: the column every selection (k, mode, k*) is made on — validation, never test
VERDICTS = ("pass", "fail", "not tested")


def _nan(v) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def _claim(claim_id: str, n: int, effect, ci, p_value, passed: bool, details: dict | None = None, *,
           verdict: str | None = None, secondary: list[dict] | None = None, operationalisation: str | None = None) -> dict:
    """A claim record's fields from the spec entry ``claim_id`` and the primary's numbers."""
    spec = SPEC[claim_id]
    verdict = verdict or ("pass" if passed else "fail")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {list(VERDICTS)}; got {verdict!r}")
    return {"statement": spec.paper_words, "operationalisation": operationalisation or spec.primary.statistic,
            "test": spec.primary.method, "unit": spec.primary.unit, "effect_unit": spec.primary.effect_unit,
            "n": int(n), "effect": _nan(effect),
            "ci": [_nan(v) for v in ci] if ci is not None else None,
            "p_value": _nan(p_value), "passed": bool(passed) and verdict == "pass", "verdict": verdict,
            "secondary": secondary or [], "details": {**({"caveat": spec.caveat} if spec.caveat else {}), **(details or {})},
            "spec_version": SPEC_VERSION,
            "spec_hash": spec_hash()}


def holm_reachable(p_mins: list[float | None], i: int, level: float) -> bool:
    """Whether secondary ``i`` can pass Holm's step-down at ``level`` at all: in the best case every test
    reaches its smallest possible p (``p_mins``; None: no bound known, taken as 0) and ``i`` comes last
    among equals; it passes if every step up to it rejects."""
    order = sorted(range(len(p_mins)), key=lambda j: ((p_mins[j] or 0.0), j == i))
    m = len(order)
    for step, j in enumerate(order):
        if (m - step) * (p_mins[j] or 0.0) >= level:
            return False
        if j == i:
            return True
    return False


def secondary_results(claim_id: str, results: list[dict]) -> list[dict]:
    """The spec's secondaries of ``claim_id`` with their results (``effect``, ``ci``, ``p_value``,
    ``direction_ok``, optionally ``p_min``: the smallest p its test can reach with these units) and
    Holm-adjusted p-values within the claim. A secondary that cannot pass Holm's step-down with these
    units even when every test reaches its smallest p (:func:`holm_reachable`), or has no p, is
    ``"not tested"``, never "does not hold"."""
    tests = SPEC[claim_id].secondaries
    if len(tests) != len(results):
        raise ValueError(f"{claim_id}: {len(tests)} secondaries in the spec, {len(results)} computed")
    pvals = [np.nan if r.get("p_value") is None else r["p_value"] for r in results]
    adj = holm(pvals)
    live = [i for i, p in enumerate(pvals) if not np.isnan(p)]
    p_mins = [results[i].get("p_min") for i in live]
    out = []
    for i, (t, r, p_adj) in enumerate(zip(tests, results, adj, strict=True)):
        p_adj = _nan(p_adj)
        passed = bool(p_adj is not None and p_adj < t.level and r.get("direction_ok", True))
        testable = i in live and holm_reachable(p_mins, live.index(i), t.level)
        verdict = "holds" if passed else ("does not hold" if testable else "not tested")
        out.append({"name": t.name, "statistic": t.statistic, "effect": _nan(r.get("effect")),
                    "effect_unit": t.effect_unit, "ci": [_nan(v) for v in r.get("ci") or [None, None]],
                    "p_value": _nan(r.get("p_value")), "p_holm": p_adj, "n": int(r.get("n") or 0),
                    "passed": passed, "verdict": verdict,
                    **({"p_min": float(r["p_min"])} if r.get("p_min") is not None else {})})
    return out


def _trend(df: pd.DataFrame, x: str, value: str, alternative: str = "greater", unit: str = "seed") -> dict:
    """:func:`permutation_trend` with the effect — mean Kendall τ_a over every unit with two or more
    levels of ``x``, a unit whose value does not move counting τ_a = 0 (it carries no evidence for the
    test, but it is part of the effect) — its CI, and whether it points the stated way."""
    res = permutation_trend(df, x, value, unit=unit, alternative=alternative)
    taus = []
    for _, g in df[[unit, x, value]].dropna().groupby(unit):
        m = len(g)
        if m >= 2 and g[x].nunique() >= 2:
            taus.append(mann_kendall_s(g[x].to_numpy(float), g[value].to_numpy(float)) / (m * (m - 1) / 2))
    m, lo, hi = mean_ci_bounded(taus, -1.0, 1.0) if taus else (np.nan, np.nan, np.nan)
    ok = (m > 0) if alternative == "greater" else (m < 0)
    return {"effect": m, "ci": [lo, hi], "p_value": res["p_value"], "n": res["n"], "direction_ok": bool(ok),
            "tau_by_unit": {str(k): v for k, v in res["tau_by_unit"].items()}, "method": res["method"],
            "units_without_movement": len(taus) - res["n"]}


def _flip(values, alternative: str = "greater", low: float = -1.0, high: float = 1.0) -> dict:
    res = sign_flip(np.asarray(values, float), alternative=alternative, low=low, high=high)
    ok = (res["mean"] > 0) if alternative == "greater" else (res["mean"] < 0)
    # exact: one sign vector of 2^n (two of them two-sided); Monte Carlo (sign_flip's 20,000 draws): 1/(1 + draws)
    p_min = ((2.0 if alternative == "two-sided" else 1.0) * 0.5 ** res["n"] if res["n"] <= 20 else 1.0 / 20001)
    return {"effect": res["mean"], "ci": res["ci"], "p_value": res["p_value"], "n": res["n"], "direction_ok": bool(ok),
            "p_min": p_min}


def _holds(r: dict, level: float = ALPHA) -> bool:
    p = r.get("p_value")
    return p is not None and not np.isnan(p) and p < level and bool(r.get("direction_ok"))


def label_copy_floor(alice_acc, task_corr, n_classes) -> np.ndarray:
    """Accuracy Bob gets for free by predicting π(Alice's prediction): ``acc_A·t + (1 − t)/K``.

    Linked samples (probability t) are right exactly when Alice is; an unlinked sample's label is
    uniform, so any fixed guess is right with probability 1/K."""
    a, t, k = (np.asarray(v, float) for v in (alice_acc, task_corr, n_classes))
    return a * t + (1.0 - t) / k


#: A world's columns (:data:`~reuse_utils.experiments.grid.WORLD_AXES`) in the grid's axis order.
WORLD_KEYS = [a for a in AXES if a in WORLD_AXES]


def chosen_config(df: pd.DataFrame, candidates: pd.Series | None = None, within: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per world (:data:`WORLD_KEYS` present in ``df``; and per value of the columns ``within``, e.g.
    ``("k",)`` for the best mode at each depth), the run Bob would deploy: the (k, mode) with the
    highest :data:`SELECT_ON` (validation accuracy; ties: the lower validation loss, then the smaller
    k, then reinit) among the rows (where ``candidates`` holds). Test accuracy plays no part."""
    keys = [k for k in WORLD_KEYS if k in df.columns] + list(within)
    rows = df if candidates is None else df[candidates]
    loss = rows["bob_val_loss"] if "bob_val_loss" in rows.columns else 0.0
    order = rows.assign(_neg=-rows[SELECT_ON], _loss=loss, _fin=rows["mode"] != "reinit").sort_values(
        ["_neg", "_loss", "k", "_fin"], kind="mergesort").drop(columns=["_loss", "_fin"])
    return order.drop_duplicates(keys).drop(columns="_neg").sort_values(keys).reset_index(drop=True)


def _at_scratch(df: pd.DataFrame) -> pd.Series:
    return (df.k == df.n_layers) & (df["mode"] == "reinit")


def _minus(rows: pd.DataFrame, ref: pd.DataFrame, on: list[str], name: str) -> pd.Series:
    """``rows.bob_test_acc`` minus the reference run's (``ref``, one per key ``on``), aligned with ``rows``."""
    on = [c for c in on if c in rows.columns and c in ref.columns]
    ref = ref.drop_duplicates(on)[on + ["bob_test_acc"]].rename(columns={"bob_test_acc": name})
    merged = rows[on].merge(ref, on=on, how="left")
    return pd.Series(rows.bob_test_acc.to_numpy() - merged[name].to_numpy(), index=rows.index)


def _largest_n_bob(df: pd.DataFrame) -> pd.DataFrame:
    return df[df.n_bob == df.n_bob.max()] if "n_bob" in df.columns and len(df) else df


def claim_monotonic_task(df: pd.DataFrame) -> dict:
    """C1: Bob's raw test accuracy at his validation-chosen (k, mode) rises with t (α = 0, Alice's
    network; at the largest n_bob of ``df``)."""
    sub = _largest_n_bob(df[(df.source == "alice") & (df.feature_corr == 0)])
    chosen = chosen_config(sub)
    primary = _trend(chosen, "task_corr", "bob_test_acc")
    chosen["gain_vs_scratch"] = _minus(chosen, sub[_at_scratch(sub)], WORLD_KEYS, "scratch_acc")
    sec = secondary_results("C1_monotonic_task", [_trend(chosen, "task_corr", "gain_vs_scratch"),
                                            _trend(chosen, "task_corr", "bob_test_acc_unlinked")])
    per_k = {f"k={k}, {mode}": _trend(g, "task_corr", "bob_test_acc")["effect"]
             for (k, mode), g in sub.groupby(["k", "mode"])}
    floor = label_copy_floor(chosen.alice_test_acc, chosen.task_corr, chosen.n_classes)
    return _claim("C1_monotonic_task", primary["n"], primary["effect"], primary["ci"], primary["p_value"],
                  _holds(primary), {
                      "tau_by_seed": primary["tau_by_unit"],
                      "mean_acc_by_t": {str(t): float(v) for t, v in chosen.groupby("task_corr").bob_test_acc.mean().items()},
                      "chosen_k_by_t": {str(t): [int(v) for v in g.k] for t, g in chosen.groupby("task_corr")},
                      "mean_tau_at_each_k": per_k,
                      "mean_label_copy_floor_by_t": {str(t): float(v) for t, v in
                                                     pd.Series(np.asarray(floor)).groupby(chosen.task_corr.to_numpy()).mean().items()},
                      "method": primary["method"]}, secondary=sec)


def claim_monotonic_feature(glm: pd.DataFrame, glm_fixed_t: pd.DataFrame, images: pd.DataFrame) -> dict:
    """C1b: in the GLM world Bob's (k = 1) accuracy rises with |α| (θ = 0); secondaries at fixed t = 0
    in the GLM world and along the image overlay (gains at his validation-chosen k)."""
    def k1(d: pd.DataFrame) -> pd.DataFrame:
        d = d[(d.source == "alice") & (d.k == 1)].copy()
        d["abs_alpha"] = d.feature_corr.abs()
        return d

    primary = _trend(k1(glm), "abs_alpha", "bob_test_acc")
    img = _largest_n_bob(images[(images.source == "alice") & (images.task_corr == 0)])
    chosen = chosen_config(img, ~_at_scratch(img))
    rnd = images[(images.source == "random") & (images.task_corr == 0)]
    chosen["gain_vs_scratch"] = _minus(chosen, img[_at_scratch(img)], WORLD_KEYS, "scratch_acc")
    random_keys = [c for c in WORLD_KEYS if c != "alice_optimizer"] + ["k", "mode"]
    chosen["gain_vs_random"] = _minus(chosen, rnd, random_keys, "random_acc")
    sec = secondary_results("C1b_monotonic_feature", [_trend(k1(glm_fixed_t), "abs_alpha", "bob_test_acc"),
                                                 _trend(chosen, "feature_corr", "gain_vs_scratch"),
                                                 _trend(chosen, "feature_corr", "gain_vs_random")])
    return _claim("C1b_monotonic_feature", primary["n"], primary["effect"], primary["ci"], primary["p_value"],
                  _holds(primary), {
                      "tau_by_seed": primary["tau_by_unit"],
                      "glm_mean_acc_by_alpha": {str(a): float(v) for a, v in
                                                k1(glm).groupby("feature_corr").bob_test_acc.mean().items()},
                      "image_mean_gain_vs_scratch_by_alpha": {str(a): float(v) for a, v in
                                                              chosen.groupby("feature_corr").gain_vs_scratch.mean().items()},
                      "image_mean_gain_vs_random_by_alpha": {str(a): float(v) for a, v in
                                                             chosen.groupby("feature_corr").gain_vs_random.mean().items()},
                      "method": primary["method"]}, secondary=sec)


def _zero(df: pd.DataFrame, k: int = 1) -> pd.DataFrame:
    return df[(df.task_corr == 0) & (df.feature_corr == 0) & (df.k == k) & (df["mode"] == "reinit")]


def claim_zero_corr(df: pd.DataFrame, *, arch: str = "cnn", optimizer: str = "adam") -> dict:
    """C2: at (0, 0), head-only Bob on Alice's frozen network beats chance (secondary: the random-init control)."""
    base = _zero(df)
    base = base[base.arch == arch]
    bob = base[(base.source == "alice") & (base.alice_optimizer == optimizer)].sort_values("seed")
    ctrl = base[base.source == "random"].drop_duplicates("seed").set_index("seed").bob_test_acc.reindex(bob.seed)
    primary = _flip((bob.bob_test_acc - bob.chance).to_numpy())
    vs_ctrl = paired_sign_flip(bob.bob_test_acc.to_numpy(), ctrl.to_numpy(), low=-1.0, high=1.0)
    sec = secondary_results("C2_zero_corr_above_chance", [{
        "effect": vs_ctrl["mean_diff"], "ci": vs_ctrl["ci"], "p_value": vs_ctrl["p_value"], "n": vs_ctrl["n"],
        "direction_ok": vs_ctrl["mean_diff"] > 0}])
    return _claim("C2_zero_corr_above_chance", primary["n"], primary["effect"], primary["ci"], primary["p_value"],
                  _holds(primary), {"bob_acc": float(bob.bob_test_acc.mean()), "chance": float(bob.chance.mean()),
                                    "random_control_acc": float(ctrl.mean()), "arch": arch, "optimizer": optimizer},
                  secondary=sec)


def claim_luck(df: pd.DataFrame, norms: pd.DataFrame | None = None, *, n_perm: int = 2000) -> dict:
    """C3: at (0, 0), Bob's above-chance accuracy (k = 1) is higher on Alice's cnn than on her mlp and
    falls with her SGD weight decay (both must hold); secondaries: optimizer family, benefit over
    random init per architecture."""
    base = _zero(df)
    alice = base[base.source == "alice"].assign(above=lambda d: d.bob_test_acc - d.chance)
    per = alice.groupby(["seed", "arch"]).above.mean().unstack("arch")
    arch = _flip((per["cnn"] - per["mlp"]).to_numpy()) if {"cnn", "mlp"} <= set(per.columns) else {
        "effect": np.nan, "ci": [np.nan, np.nan], "p_value": np.nan, "n": 0, "direction_ok": False}
    decay = {"sgd": 0.0, "sgd_wd1e-4": 1e-4, "sgd_wd1e-3": 1e-3}
    sgd = alice[alice.alice_optimizer.isin(list(decay))].assign(weight_decay=lambda d: d.alice_optimizer.map(decay))
    per_wd = sgd.groupby(["seed", "weight_decay"]).above.mean().reset_index()  # both architectures: one seed, one unit
    wd = _trend(per_wd, "weight_decay", "above", alternative="less")
    passed = _holds(arch) and _holds(wd)
    fam = permutation_within(alice, "alice_optimizer", "above", ["arch", "seed"], n_perm=n_perm)
    ctrl = base[base.source == "random"].drop_duplicates(["arch", "seed"]).set_index(["arch", "seed"]).bob_test_acc
    benefit = {}
    for a in ("cnn", "mlp"):
        mine = alice[alice.arch == a].groupby("seed").bob_test_acc.mean()
        if len(mine) and a in ctrl.index.get_level_values(0):
            r = paired_sign_flip(mine.to_numpy(), ctrl.loc[a].reindex(mine.index).to_numpy(), low=-1.0, high=1.0)
            benefit[a] = {"effect": r["mean_diff"], "ci": r["ci"], "p_value": r["p_value"], "n": r["n"],
                          "direction_ok": r["mean_diff"] > 0}
        else:
            benefit[a] = {"effect": np.nan, "ci": [np.nan, np.nan], "p_value": np.nan, "n": 0}
    sec = secondary_results("C3_luck_from_architecture_optimizer", [
        {"effect": fam["statistic"], "ci": None, "p_value": fam["p_value"], "n": int(alice.seed.nunique())},
        benefit["cnn"], benefit["mlp"]])
    means = alice.groupby(["arch", "alice_optimizer"]).above.mean()
    details = {"architecture_cnn_minus_mlp": arch, "weight_decay_trend": wd,
               "mean_above_chance": {f"{a}/{o}": float(v) for (a, o), v in means.items()}}
    if norms is not None:
        ratios = norms.groupby(["arch", "alice_optimizer"]).bob_vs_init.mean()
        details["bob_panel_weights_vs_init"] = {f"{a}/{o}": float(v) for (a, o), v in ratios.items()}
    return _claim("C3_luck_from_architecture_optimizer", arch["n"], arch["effect"], arch["ci"],
                  max(arch["p_value"], wd["p_value"]) if not (np.isnan(arch["p_value"]) or np.isnan(wd["p_value"]))
                  else np.nan, passed, details, secondary=sec)


def claim_optimal_depth(df: pd.DataFrame) -> dict:
    """C4: (i) at the lowest t the validation-chosen k* beats k = 1 on test; (ii) k* falls as t rises.
    Per (seed, t) the k* of every mode and n_bob are averaged (they share the seed's Alice and world:
    the seed is the unit); secondary: Δ(t) = acc(k=2) − acc(k=1) (reinit, averaged over n_bob) falls."""
    sub = df[(df.source == "alice") & (df.feature_corr == 0)].copy()
    sub["block"] = sub.seed.astype(str) + "/" + sub["mode"] + "/" + sub.n_bob.astype(str)
    loss = sub["bob_val_loss"] if "bob_val_loss" in sub.columns else 0.0
    best = sub.assign(_neg=-sub[SELECT_ON], _loss=loss).sort_values(["_neg", "_loss", "k"], kind="mergesort").drop_duplicates(
        ["block", "task_corr"]).drop(columns=["_neg", "_loss"])
    t0 = sub.task_corr.min()
    k1 = sub[sub.k == 1].drop_duplicates(["block", "task_corr"]).set_index(["block", "task_corr"]).bob_test_acc
    low = best[best.task_corr == t0]
    low = low.assign(gain=low.bob_test_acc.to_numpy() - k1.reindex(list(zip(low.block, low.task_corr,
                                                                            strict=True))).to_numpy())
    first = _flip(low.groupby("seed").gain.mean().to_numpy())
    per_seed = best.groupby(["seed", "task_corr"]).k.mean().rename("k_star").reset_index()
    falls = _trend(per_seed, "task_corr", "k_star", alternative="less")
    passed = _holds(first) and _holds(falls)
    reinit = sub[(sub["mode"] == "reinit") & sub.k.isin([1, 2])]
    wide = reinit.pivot_table(index=["seed", "n_bob", "task_corr"], columns="k", values="bob_test_acc").dropna()
    delta = pd.DataFrame()
    if {1, 2} <= set(wide.columns):
        delta = (wide[2] - wide[1]).rename("delta").reset_index().groupby(["seed", "task_corr"]).delta.mean().reset_index()
    sec = secondary_results("C4_optimal_depth_tracks_correlation", [
        _trend(delta, "task_corr", "delta", alternative="less") if len(delta) else
        {"effect": np.nan, "ci": [np.nan, np.nan], "p_value": np.nan, "n": 0}])
    p = max(first["p_value"], falls["p_value"]) if not (np.isnan(first["p_value"]) or np.isnan(falls["p_value"])) else np.nan
    at_low = best[best.task_corr == t0]
    return _claim("C4_optimal_depth_tracks_correlation", falls["n"], falls["effect"], falls["ci"], p, passed, {
        "k_star_gain_over_k1_at_lowest_t": first, "k_star_trend": falls,
        "fraction_k_star_is_scratch_at_lowest_t": float((at_low.k == at_low.n_layers).mean()) if len(at_low) else None,
        "mean_k_star_by_t": {f"{m}, t={t}": float(v) for (m, t), v in best.groupby(["mode", "task_corr"]).k.mean().items()},
        "delta_by_t": ({str(t): float(v) for t, v in delta.groupby("task_corr").delta.mean().items()} if len(delta) else {})},
        secondary=sec)


def claim_attribution_shift(table: pd.DataFrame, *, task_corr: float = 0.0) -> dict:
    """M1 (manipulation check): Alice's IG share on Bob's panel rises with the overlay dial α at fixed t."""
    alice = table[(table.model == "alice") & (table.task_corr == task_corr)]
    r = _trend(alice, "feature_corr", "bob_share")
    return _claim("M1_attribution_shift", r["n"], r["effect"], r["ci"], r["p_value"], _holds(r),
                  {"tau_by_seed": r["tau_by_unit"],
                   "mean_share_by_alpha": {str(a): float(v) for a, v in alice.groupby("feature_corr").bob_share.mean().items()}})


def claim_attribution_reliance(table: pd.DataFrame, n_mc: int = 20000) -> dict:
    """C5: across Bob's models, the IG share on Bob's panel agrees with reliance on it (Spearman ρ > 0;
    reliance permuted within each α × model, so the trend both share along the overlay dial is not
    taken for agreement)."""
    bobs = table[table.model != "alice"].dropna(subset=["bob_share", "bob_reliance"])
    r = permutation_correlation(bobs.bob_share.to_numpy(float), bobs.bob_reliance.to_numpy(float),
                                blocks=(bobs.feature_corr.astype(str) + "/" + bobs.model.astype(str)).to_numpy(),
                                alternative="greater", n_mc=n_mc)
    ok = r["statistic"] is not None and not np.isnan(r["statistic"]) and r["statistic"] > 0
    holds = ok and r["p_value"] is not None and not np.isnan(r["p_value"]) and r["p_value"] < ALPHA
    return _claim("C5_attribution_matches_reliance", r["n"], r["statistic"], None, r["p_value"], holds,
                  {"n_perm": r["n_perm"], "method": r["method"], "models": sorted(bobs.model.unique().tolist())})


def claim_linear_limits(noise: float = 0.5, fitted: dict | None = None, n_fit: int | None = None) -> dict:
    """C6 (identity): w* ∝ [1, 0] at α = 0 and → [1, ±1] as α → ±1; fits agree with the closed form."""
    from reuse_utils.analysis.linear import alice_optimal_weights, cosine

    c0 = cosine(alice_optimal_weights(0.0, 1, "pairwise", noise), np.array([1.0, 0.0]))
    cp = cosine(alice_optimal_weights(0.999, 1, "pairwise", noise), np.array([1.0, 1.0]))
    cm = cosine(alice_optimal_weights(-0.999, 1, "pairwise", noise), np.array([1.0, -1.0]))
    fit_min = min(fitted.values()) if fitted else None
    worst = min(c0, cp, cm, *([fit_min] if fit_min is not None else []))
    return _claim(
        "C6_linear_model_limits", 3 + (len(fitted) if fitted else 0), worst, None, None, worst >= 0.99,
        {"cos_alpha0": c0, "cos_alpha+0.999": cp, "cos_alpha-0.999": cm, "min_fit_cos": fit_min,
         "samples_per_fit": n_fit})


def _secondaries_not_tested(secondaries: list[dict], why: str) -> list[dict]:
    """``secondaries`` with the verdict "not tested" (numbers kept) where the data cannot ask the
    claim's question at all (stand-in data, no headroom, labels the measurement contradicts)."""
    return [{**sec, "passed": False, "verdict": "not tested", "not_tested_because": why} for sec in secondaries]


def claim_semantic(gains: pd.DataFrame, scratch_ceiling: float = 0.85, *, stand_in: bool = False) -> dict:
    """C7: related tasks gain over scratch at Bob's validation-chosen configuration, and the gain rises
    with relatedness over tasks; "not tested" on ``stand_in`` data (the claim is about real photographs:
    the tests run, the real-data question is not asked), when the instrument has no headroom (scratch
    above ``scratch_ceiling`` on a task) or the measured task correlation disagrees with the relatedness labels."""
    by_task = gains.groupby("task").agg(relatedness=("relatedness", "first"), gain=("gain", "mean"),
                                        scratch=("scratch_acc", "mean"), measured_corr=("measured_corr", "mean"),
                                        rer=("error_reduction", "mean"), best_k=("best_k", "first"),
                                        best_mode=("best_mode", "first"))
    related = gains[gains.relatedness == gains.relatedness.max()]
    first = _flip(related.gain.to_numpy())
    rises = _trend(by_task.reset_index().assign(unit=0), "relatedness", "gain", unit="unit")
    sec = secondary_results("C7_semantic_transfer", [_trend(by_task.reset_index().assign(unit=0), "measured_corr", "rer",
                                                       unit="unit")])
    rel_corr = by_task[by_task.relatedness == by_task.relatedness.max()].measured_corr.mean()
    unrel_corr = by_task[by_task.relatedness == by_task.relatedness.min()].measured_corr.mean()
    reasons = ["stand-in data, not Oxford-IIIT Pet → Open Images photographs: the real-data question is not "
               "asked"] if stand_in else []
    if (by_task.scratch > scratch_ceiling).any():
        reasons.append(f"no headroom: scratch reaches {by_task.scratch.max():.3f} > {scratch_ceiling} on "
                       f"{', '.join(by_task.index[by_task.scratch > scratch_ceiling])}")
    if not rel_corr > unrel_corr:
        reasons.append(f"the measured task correlation is not higher on related ({rel_corr:.3f}) than on unrelated "
                       f"({unrel_corr:.3f}) tasks")
    data_reasons = list(reasons)  # the data cannot ask the question: the secondaries are not tested either
    reach_i = 0.5 ** len(related)  # the smallest p each part's exact test can give with these units
    levels = by_task.relatedness.value_counts()
    reach_ii = float(np.prod([math.factorial(int(c)) for c in levels]) / math.factorial(len(by_task)))
    if max(reach_i, reach_ii) >= ALPHA:
        reasons.append(f"too few units: the smallest p the tests can reach is {reach_i:.3g} ({len(related)} related "
                       f"task × seed pairs) and {reach_ii:.3g} ({len(by_task)} tasks), not below {ALPHA}")
    passed = _holds(first) and _holds(rises)
    p = max(first["p_value"], rises["p_value"]) if not (np.isnan(first["p_value"]) or np.isnan(rises["p_value"])) else np.nan
    details = {"gain_by_task": by_task.gain.to_dict(), "scratch_by_task": by_task.scratch.to_dict(),
               "relatedness_by_task": by_task.relatedness.to_dict(), "measured_corr_by_task": by_task.measured_corr.to_dict(),
               "error_reduction_by_task": by_task.rer.to_dict(), "best_k_by_task": by_task.best_k.to_dict(),
               "best_mode_by_task": by_task.best_mode.to_dict(), "related_gain": first, "gain_rises_with_relatedness": rises}
    if reasons:
        details["not_tested_because"] = "; ".join(reasons)
        if data_reasons:
            sec = _secondaries_not_tested(sec, "; ".join(data_reasons))
        return _claim("C7_semantic_transfer", first["n"], first["effect"], first["ci"], p, False, details,
                      verdict="not tested", secondary=sec)
    return _claim("C7_semantic_transfer", first["n"], first["effect"], first["ci"], p, passed, details, secondary=sec)


def depth_signals(df: pd.DataFrame) -> pd.DataFrame:
    """Per world (:data:`WORLD_KEYS`) of ``df``'s Alice rows, what Bob's validation curve over k says —
    validation data only: ``delta_val`` = validation accuracy at k = 2 (reinit) minus at k = 1,
    ``head_val`` (k = 1), ``scratch_val`` (k = L, reinit: no use of Alice), ``k_star`` (the
    validation-chosen depth over both modes, :func:`chosen_config`); NaN where a depth is missing."""
    keys = [k for k in WORLD_KEYS if k in df.columns]
    sub = df[df.source == "alice"]
    reinit = sub[(sub.k == 1) | (sub["mode"] == "reinit")]
    wide = reinit.pivot_table(index=keys, columns="k", values=SELECT_ON, aggfunc="mean")
    out = chosen_config(sub).set_index(keys)[["k", "n_layers"]].rename(columns={"k": "k_star"})
    col = lambda k: wide[k].reindex(out.index) if k in wide.columns else np.nan  # noqa: E731
    out["head_val"] = col(1)
    out["delta_val"] = col(2) - out.head_val
    scratch = reinit[reinit.k == reinit.n_layers].groupby(keys)[SELECT_ON].mean()
    out["scratch_val"] = scratch.reindex(out.index)
    return out.reset_index()


def _conditions(fit: pd.DataFrame, by: list[str], predict: pd.DataFrame | None = None) -> list[tuple]:
    """(label, fit, predict) per condition ``by`` of ``fit``: its rows, and ``predict``'s rows of the same
    condition (None: predict the fit rows themselves); conditions with nothing to predict are left out."""
    by = [c for c in by if c in fit.columns]
    out = []
    for cond, f in (fit.groupby(by) if by else [((), fit)]):
        cond = cond if isinstance(cond, tuple) else (cond,)
        pr = predict
        if predict is not None and by:
            pr = predict[np.logical_and.reduce([predict[c] == v for c, v in zip(by, cond, strict=True)])]
        if pr is not None and not len(pr):
            continue
        out.append(("/".join(map(str, cond)) or "all", f, pr))
    return out


def _map_errors(fit: pd.DataFrame, x: str, target: str, predict: pd.DataFrame | None = None,
                by: list[str] | None = None) -> dict:
    """Per condition ``by``: the leave-one-seed-out map's and the constant's mean absolute errors
    (:func:`~reuse_utils.analysis.stats.loso_monotone_map`) and the mean prediction at each true value."""
    out = {}
    for label, f, pr in _conditions(fit, by or [], predict):
        rows = loso_monotone_map(f, x, target, pr).dropna(subset=["pred", target])
        if not len(rows):
            continue
        out[label] = {
            "mae_map": float((rows.pred - rows[target]).abs().mean()),
            "mae_constant": float((rows.const - rows[target]).abs().mean()),
            "mean_prediction_by_truth": {str(k): float(v) for k, v in rows.groupby(target).pred.mean().items()}}
    return out


def _map_test(conditions: list[tuple], x: str, target: str, n_mc: int) -> dict:
    """:func:`~reuse_utils.analysis.stats.loso_map_test` over :func:`_conditions` as a result dict."""
    if not conditions:
        return {"effect": np.nan, "ci": [np.nan, np.nan], "p_value": np.nan, "n": 0}
    r = loso_map_test([(f, pr) for _, f, pr in conditions], x, target, n_mc=n_mc)
    return {"effect": r["mean"], "ci": r["ci"], "p_value": r["p_value"], "n": r["n"], "p_min": r["p_min"],
            "direction_ok": bool(r["mean"] > 0), "per_seed": r["per_unit"], "method": r["method"]}


def _too_few(n: int, p_min: float | None = None) -> str | None:
    """Why a test over ``n`` units cannot reach p < ALPHA, else None."""
    if n < 3:
        return f"too few units: {n} seeds"
    if p_min is not None and p_min >= ALPHA:
        return f"too few units: {n} seeds, the smallest p the test can reach is {p_min:.3g}"
    return None


def claim_depth_reveals(depth: pd.DataFrame, feat: pd.DataFrame | None = None, n_mc: int = 499) -> dict:
    """C4b (companion): t is recoverable from Bob's validation curve over k — a leave-one-seed-out
    isotonic map from Δ_val to t per (arch, n_bob) at α = 0, against the constant guess, tested by
    permuting t within seed and rerunning the whole procedure. Secondaries: the map from k* alone (the
    converse read literally); Δ_val against a map from scratch accuracy alone (beyond task
    difficulty); across n_bob; across α (``feat``: the feature axis); α recovered at fixed t."""
    sig = depth_signals(depth[depth.feature_corr == 0])
    cond = ["arch", "n_bob"]
    first = _map_test(_conditions(sig, cond), "delta_val", "task_corr", n_mc)
    kst = _map_test(_conditions(sig, cond), "k_star", "task_corr", n_mc)
    both = sig.dropna(subset=["delta_val", "scratch_val"])  # the same rows for the two maps: same constant
    d_gain = _map_test(_conditions(both, cond), "delta_val", "task_corr", 0)
    s_gain = _map_test(_conditions(both, cond), "scratch_val", "task_corr", 0)
    common = sorted(set(d_gain.get("per_seed", {})) & set(s_gain.get("per_seed", {})))
    beyond = _flip([d_gain["per_seed"][u] - s_gain["per_seed"][u] for u in common], low=-2.0, high=2.0)
    nan = {"effect": np.nan, "ci": [np.nan, np.nan], "p_value": np.nan, "n": 0}
    n_max = sig.n_bob.max() if len(sig) else None
    small = sig[sig.n_bob < n_max] if len(sig) else sig
    across_n = _map_test(_conditions(sig[sig.n_bob == n_max], ["arch"], small), "delta_val", "task_corr", n_mc) \
        if len(small) else nan
    across_a = recover = nan
    details_a, details_r = {}, {}
    if feat is not None and len(feat):
        fs = depth_signals(feat)
        base = sig[sig.n_bob == fs.n_bob.iloc[0]]
        overlay = fs[fs.feature_corr > 0]
        across_a = _map_test(_conditions(base, ["arch"], overlay), "delta_val", "task_corr", n_mc)
        recover = _map_test(_conditions(fs, ["arch", "task_corr"]), "delta_val", "feature_corr", n_mc)
        details_a = _map_errors(base, "delta_val", "task_corr", overlay, by=["arch"])
        details_r = _map_errors(fs, "delta_val", "feature_corr", by=["arch", "task_corr"])
    sec = secondary_results("C4b_depth_reveals_correlation", [kst, beyond, across_n, across_a, recover])
    details = {"baseline": "a constant guess of t (the other seeds' median): no Bob curve used; the secondary "
                           "'beyond task difficulty' sets Δ_val against a map from scratch accuracy alone",
               "map_by_condition": _map_errors(sig, "delta_val", "task_corr", by=cond),
               "k_star_map_by_condition": _map_errors(sig, "k_star", "task_corr", by=cond),
               "scratch_accuracy_map_by_condition": _map_errors(sig, "scratch_val", "task_corr", by=cond),
               "head_accuracy_map_by_condition": _map_errors(sig, "head_val", "task_corr", by=cond),
               "across_n_bob": _map_errors(sig[sig.n_bob == n_max], "delta_val", "task_corr", small, by=["arch"])
               if len(small) else {},
               "across_alpha": details_a, "alpha_recovery_by_t": details_r,
               "delta_val_by_t": {f"n_bob={n}, t={t}": float(v) for (n, t), v in
                                  sig.groupby(["n_bob", "task_corr"]).delta_val.mean().items()},
               "primary_test": first}
    levels = sig.task_corr.nunique() if len(sig) else 0
    why = [r for r in (_too_few(first["n"]), f"only {levels} task-correlation levels" if levels < 3 else None) if r]
    if why:
        details["not_tested_because"] = "; ".join(why)
        return _claim("C4b_depth_reveals_correlation", first["n"], first["effect"], first["ci"], first["p_value"],
                      False, details, verdict="not tested", secondary=sec)
    return _claim("C4b_depth_reveals_correlation", first["n"], first["effect"], first["ci"], first["p_value"],
                  _holds(first), details, secondary=sec)


def _rank(cuts: pd.DataFrame, x: str, y: str, n_mc: int = 9999) -> dict:
    """:func:`~reuse_utils.analysis.stats.within_block_rank_test` per world, one permutation of the
    depths shared by the worlds of one Alice (her n_bob worlds move together through her)."""
    keys = [k for k in WORLD_KEYS if k in cuts.columns]
    alice = [k for k in ALICE_KEYS if k in cuts.columns]
    r = within_block_rank_test(cuts.dropna(subset=[x, y]), x, y, keys, shared=alice, n_mc=n_mc)
    return {"effect": r["mean"], "ci": r["ci"], "p_value": r["p_value"], "n": r["n"], "p_min": r["p_min"],
            "direction_ok": bool(r["mean"] > 0), "per_seed": r["per_unit"]}


def _prior_taus(cuts: pd.DataFrame) -> pd.DataFrame:
    """Per world: Kendall τ_b of a featureless prior — the other seeds' mean validation curve over k at
    the same (arch, n_bob) — with the world's validation curve, and the test accuracy lost by retraining
    that prior's best depth (the best fixed k learned from other runs) instead of k*."""
    keys = [k for k in WORLD_KEYS if k in cuts.columns]
    rows = []
    for world, g in cuts.groupby(keys, sort=True):
        g = g.sort_values("k")
        base = dict(zip(keys, world, strict=True))
        others = cuts[(cuts.seed != base["seed"]) & (cuts.n_bob == base["n_bob"]) & (cuts.arch == base["arch"])]
        prior = others.groupby("k").val_acc.mean().reindex(g.k).to_numpy(float)
        val, test, ks = g.val_acc.to_numpy(float), g.test_acc.to_numpy(float), g.k.to_numpy()
        star = int(np.lexsort((ks, g.val_loss.to_numpy(float), -val))[0])
        fixed = int(np.nanargmax(prior)) if np.isfinite(prior).any() else star
        a, b = prior[np.isfinite(prior)], val[np.isfinite(prior)]
        tau = kendall_tau_b(a, b)
        rows.append({**base, "tau_prior": tau, "regret_fixed_k": float(test[star] - test[fixed]), "k_fixed": int(ks[fixed])})
    return pd.DataFrame(rows)


def claim_estimators_predict_depth(table: pd.DataFrame, cuts: pd.DataFrame, n_mc: int = 9999) -> dict:
    """C8 (companion): the per-cut scores rank Bob's depths. ``cuts``:
    :func:`reuse_utils.analysis.depth_reveal.cut_table`; ``table``: its
    :func:`~reuse_utils.analysis.depth_reveal.estimator_table`. Primary: LogME's Kendall τ_b with Bob's
    validation accuracy over k, per seed over the α = 0 worlds where he trained every depth, tested by
    permuting the score across depths within each world. Secondaries: both H-scores; LogME against
    Bob's reinit curve alone; LogME against a featureless prior from the other seeds (paired sign flip)."""
    full = cuts.groupby([k for k in WORLD_KEYS if k in cuts.columns]).k.transform("size") == cuts.n_layers
    main_cuts = cuts[full & (cuts.feature_corr == 0)]
    main = table[(table.n_depths == table.n_layers) & (table.feature_corr == 0)]
    first = _rank(main_cuts, "logme_ranked", "val_acc", n_mc)
    prior = _prior_taus(main_cuts)
    keys = [k for k in WORLD_KEYS if k in prior.columns]
    logme = main[main.score == "logme"].merge(prior, on=keys)
    vs_prior = _flip((logme.tau - logme.tau_prior).groupby(logme.seed).mean().to_numpy(), low=-2.0, high=2.0)
    sec = secondary_results("C8_estimators_predict_depth", [
        _rank(main_cuts, "hscore_ranked", "val_acc", n_mc), _rank(main_cuts, "hscore_lw_ranked", "val_acc", n_mc),
        _rank(main_cuts, "logme_ranked", "val_acc_reinit", n_mc) if "val_acc_reinit" in main_cuts.columns else
        {"effect": np.nan, "ci": [np.nan, np.nan], "p_value": np.nan, "n": 0}, vs_prior])

    def summary(rows: pd.DataFrame, by: list[str]) -> dict:
        agg = rows.groupby(by + ["score"])[["tau", "hit", "regret", "regret_k1", "saturated"]].mean()
        return {"/".join(map(str, k)): {c: float(v) for c, v in r.items()} for k, r in agg.iterrows()}

    models = {}
    for n_bob, g in logme.groupby("n_bob"):
        for m in ("leep", "nce"):
            if g[m].nunique() > 1 and g.best_val_acc.nunique() > 1:
                models[f"{m}, n_bob={n_bob}"] = float(g[[m, "best_val_acc"]].corr("kendall").iloc[0, 1])
    details = {"baseline": "an uninformative score (τ = 0); the secondary 'LogME beats a featureless prior' sets it "
                           "against the other seeds' mean validation curve at the same n_bob",
               "by_score": {name: {"tau": float(g.tau.mean()), "tau_reinit": float(g.tau_reinit.mean()),
                                   "hit": float(g.hit.mean()), "regret": float(g.regret.mean()),
                                   "saturated_cuts": float(g.saturated.mean())} for name, g in main.groupby("score")},
               "featureless_prior": {"tau": float(logme.tau_prior.mean()),
                                     "regret_best_fixed_k": float(logme.regret_fixed_k.mean()),
                                     "regret_always_k1": float(logme.regret_k1.mean())},
               "by_t": summary(main, ["n_bob", "task_corr"]),
               "by_alpha": summary(table, ["task_corr", "feature_corr"]),
               "model_scores_vs_best_accuracy_kendall_tau": models,
               "median_seconds_scoring_all_cuts": float(logme.score_seconds.median()) if len(logme) else None,
               "median_seconds_training_every_depth": float(logme.bob_seconds.median()) if len(logme) else None}
    why = _too_few(first["n"])
    if why:
        details["not_tested_because"] = why
        return _claim("C8_estimators_predict_depth", first["n"], first["effect"], first["ci"], first["p_value"], False,
                      details, verdict="not tested", secondary=sec)
    return _claim("C8_estimators_predict_depth", first["n"], first["effect"], first["ci"], first["p_value"],
                  _holds(first), details, secondary=sec)


ALICE_KEYS = [k for k in WORLD_KEYS if k != "n_bob"]  #: what identifies one Alice in a sweep table


def claim_protocol_health(claim_id: str, bobs: pd.DataFrame, alices: pd.DataFrame | None = None,
                          by: tuple[str, ...] = ("dataset", "arch", "k", "mode", "source"),
                          bound: float = HEALTH_MAX) -> dict:
    """D1–D3 (diagnostic): per cell of ``by``, the fraction of Bob records with ``selection_edge`` and
    the fraction ``stopped_by == "cap"``; and, with ``alices`` (one row per Alice, her
    ``alice_stopped_by``), the fraction of Alices stopped by the cap. Holds when every fraction is ≤ ``bound``."""
    cols = [c for c in by if c in bobs.columns]
    uniq = bobs.drop_duplicates([c for c in bobs.columns if c != "from_cache"])
    cells = uniq.groupby(cols).agg(n=("stopped_by", "size"), edge=("selection_edge", "mean"),
                                   capped=("stopped_by", lambda s: float((s == "cap").mean())))
    worst = float(max(cells.edge.max(), cells.capped.max()))
    alice_cap = None
    if alices is not None and len(alices):
        alice_cap = float((alices.alice_stopped_by == "cap").mean())
        worst = max(worst, alice_cap)
    bad = cells[(cells.edge > bound) | (cells.capped > bound)]
    details = {"cells": {"/".join(map(str, key if isinstance(key, tuple) else (key,))): {
        "n": int(r.n), "edge_fraction": float(r.edge), "capped_fraction": float(r.capped)} for key, r in cells.iterrows()},
        "failing_cells": ["/".join(map(str, key if isinstance(key, tuple) else (key,))) for key in bad.index],
        "alice_capped_fraction": alice_cap, "n_alices": None if alices is None else int(len(alices)),
        "bound": bound}
    return _claim(claim_id, int(len(uniq)), worst, None, None, worst <= bound, details)


def claim_generator(table: pd.DataFrame, tol: float = 0.03, feature_tol: float = 0.05) -> dict:
    """C0 (identity): both dials deliver what they promise, and (0, 0) is independent."""
    err = (table.task_corr - table.task_corr_dial).abs()
    ferr = (table.feature_corr - table.feature_corr_dial).abs()
    zero = table[(table.task_corr_dial == 0) & (table.feature_corr_dial == 0)]
    frac_indep = float((zero.task_corr_p_value >= 0.05).mean()) if len(zero) else float("nan")
    m, lo, hi = mean_ci(err)
    passed = float(err.max()) <= tol and float(ferr.max()) <= feature_tol and (frac_indep >= 0.5 if len(zero) else True)
    return _claim("C0_generator_calibrated", len(table), m, [lo, hi] if hi > lo else None, None, passed,
                  {"max_abs_task_error": float(err.max()), "max_abs_feature_error": float(ferr.max()),
                   "mean_abs_feature_error": float(ferr.mean()), "fraction_chi2_p_ge_0.05_at_zero": frac_indep})
