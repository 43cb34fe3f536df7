"""The claims spec and its evaluators: the paper's words, primaries that can pass and fail, exact
p-values that never degenerate, selections on validation only (a test-data leak fails here)."""

import numpy as np
import pandas as pd
import pytest

from reuse_utils.analysis import evaluators as ev
from reuse_utils.analysis.claims_spec import SPEC, SPEC_VERSION, spec_hash
from reuse_utils.analysis.ledger import claims_view, record_claim

T_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _kstar(t: float) -> int:
    return 3 if t < 0.3 else 2 if t < 0.7 else 1


def _depth(seeds=5, leak=False, rise=0.3, noise=0.004, seed=0):
    """Runs at k = 1..3 (L = 3), both modes, two n_bob: accuracy peaks at k*(t) (3 → 1 as t rises) on
    validation; with ``leak`` the test accuracies peak at k = 3 at every t (a test-chosen k* never moves)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(seeds):
        for mode in ("reinit", "finetune"):
            for nb in (250, 1000):
                for t in T_LEVELS:
                    for k in (1, 2, 3):
                        base = 0.5 + rise * t
                        val = base - 0.05 * abs(k - _kstar(t)) + rng.normal(0, noise)
                        kt = 3 if leak else _kstar(t)
                        test = base - 0.05 * abs(k - kt) + rng.normal(0, noise)
                        rows.append({"dataset": "d", "arch": "cnn", "alice_optimizer": "adam", "alice_world": "same",
                                     "task_corr": t, "feature_corr": 0.0, "seed": s, "n_alice": 100, "n_bob": nb,
                                     "k": k, "n_layers": 3, "mode": mode, "source": "alice", "bob_val_acc": val,
                                     "bob_test_acc": test, "bob_test_acc_unlinked": test - 0.1 * t,
                                     "alice_test_acc": 0.9, "n_classes": 10, "chance": 0.1})
    return pd.DataFrame(rows)


def test_every_claim_is_the_spec_in_the_papers_words():
    depth = _depth()
    results = {"C1_monotonic_task": ev.claim_monotonic_task(depth),
               "C4_optimal_depth_tracks_correlation": ev.claim_optimal_depth(depth),
               "C6_linear_model_limits": ev.claim_linear_limits(0.5)}
    for cid, res in results.items():
        spec = SPEC[cid]
        assert res["statement"] == spec.paper_words and res["test"] == spec.primary.method
        assert res["operationalisation"] == spec.primary.statistic and res["effect_unit"] == spec.primary.effect_unit
        assert res["spec_version"] == SPEC_VERSION and res["spec_hash"] == spec_hash()
        assert [s["name"] for s in res["secondary"]] == [t.name for t in spec.secondaries]
    assert set(SPEC) >= {"C1_monotonic_task", "C1b_monotonic_feature", "C2_zero_corr_above_chance",
                         "C3_luck_from_architecture_optimizer", "C4_optimal_depth_tracks_correlation",
                         "C5_attribution_matches_reliance", "C7_semantic_transfer"}


def test_c1_raw_accuracy_trend_is_exact_and_can_fail():
    res = ev.claim_monotonic_task(_depth())
    assert res["verdict"] == "pass" and res["effect"] == pytest.approx(1.0)
    assert res["p_value"] == pytest.approx((1 / 120) ** 5) and res["p_value"] > 0  # five seeds at τ = +1: not 0
    lo, hi = res["ci"]
    assert lo < hi == 1.0  # an interval, not [1, 1]
    flat = ev.claim_monotonic_task(_depth(rise=0.0, noise=0.02))
    assert flat["verdict"] == "fail" and not flat["passed"]


def test_k_star_is_chosen_on_validation_a_test_chosen_k_star_fails():
    """Validation says k* falls from 3 to 1; the test accuracies always peak at k = 3. The claim must
    follow validation; choosing on test accuracy (the leak) would find k* flat and fail."""
    res = ev.claim_optimal_depth(_depth(leak=True))
    assert res["passed"], res["details"]
    assert res["n"] == 5 and res["unit"] == "seed"  # modes and n_bob share a seed's Alice: averaged, not units
    assert res["details"]["mean_k_star_by_t"]["reinit, t=0.0"] == 3.0
    assert res["details"]["mean_k_star_by_t"]["finetune, t=1.0"] == 1.0
    chosen = ev.chosen_config(_depth(leak=True))
    assert set(chosen[chosen.task_corr == 0.0].k) == {3}  # C1's deployed configuration: validation's too


def test_the_leak_fixture_would_catch_a_test_chosen_selection(monkeypatch):
    """Negative control of the test above: with the selection column switched to test accuracy the
    same fixture gives the opposite verdict, so a leak cannot pass unnoticed."""
    monkeypatch.setattr(ev, "SELECT_ON", "bob_test_acc")
    assert not ev.claim_optimal_depth(_depth(leak=True))["passed"]


def test_c4_fails_when_k_star_does_not_move():
    df = _depth()
    df["bob_val_acc"] = 0.6 - 0.05 * (df.k - 1) + np.random.default_rng(3).normal(0, 0.002, len(df))  # k* = 1 always
    assert not ev.claim_optimal_depth(df)["passed"]


def _zero(bob, ctrl, arch="cnn", optimizer="adam"):
    rows = []
    for seed, (b, c) in enumerate(zip(bob, ctrl, strict=True)):
        base = {"task_corr": 0.0, "feature_corr": 0.0, "arch": arch, "k": 1, "mode": "reinit", "seed": seed,
                "chance": 0.1}
        rows.append({**base, "source": "alice", "alice_optimizer": optimizer, "bob_test_acc": b})
        rows.append({**base, "source": "random", "alice_optimizer": optimizer, "bob_test_acc": c})
    return pd.DataFrame(rows)


def test_c2_above_chance_exact_sign_flip():
    good = ev.claim_zero_corr(_zero([0.2, 0.21, 0.19, 0.22, 0.2], [0.25, 0.11, 0.1, 0.12, 0.1]))
    assert good["passed"] and good["p_value"] == pytest.approx(1 / 32) and good["n"] == 5
    assert good["secondary"][0]["name"] == "above the random-init control"
    assert not ev.claim_zero_corr(_zero([0.1, 0.12, 0.09, 0.11, 0.1], [0.1] * 5))["passed"]


def test_c3_is_directional():
    parts = []
    for arch, lift in (("cnn", 0.3), ("mlp", 0.1)):
        for opt, wd_drop in (("sgd", 0.0), ("sgd_wd1e-4", 0.02), ("sgd_wd1e-3", 0.04), ("adam", 0.0), ("adamw", 0.01)):
            accs = [0.1 + lift - wd_drop + 0.001 * s for s in range(5)]
            parts.append(_zero(accs, [0.1 + lift] * 5, arch, opt))
    df = pd.concat(parts, ignore_index=True)
    res = ev.claim_luck(df, n_perm=200)
    assert res["passed"] and res["effect"] == pytest.approx(0.2, abs=0.02)
    flipped = df.assign(arch=df.arch.map({"cnn": "mlp", "mlp": "cnn"}))  # mlp better: the stated direction fails
    assert not ev.claim_luck(flipped, n_perm=200)["passed"]


def _gains(scratch=0.7, corr_related=0.6):
    rows = []
    for task, rel, gain in [("a", 2, 0.10), ("b", 2, 0.08), ("c", 1, 0.04), ("d", 1, 0.03), ("e", 0, -0.01),
                            ("f", 0, 0.0)]:
        for seed in range(3):
            rows.append({"task": task, "relatedness": rel, "gain": gain + 0.001 * seed, "scratch_acc": scratch,
                         "error_reduction": gain / (1 - scratch), "measured_corr": corr_related * rel / 2,
                         "best_k": 1, "best_mode": "reinit", "seed": seed})
    return pd.DataFrame(rows)


def test_c7_pass_fail_and_not_tested():
    assert ev.claim_semantic(_gains())["verdict"] == "pass"
    ceiling = ev.claim_semantic(_gains(scratch=0.97))
    assert ceiling["verdict"] == "not tested" and not ceiling["passed"]
    assert "no headroom" in ceiling["details"]["not_tested_because"]
    mislabelled = ev.claim_semantic(_gains(corr_related=-0.4))
    assert mislabelled["verdict"] == "not tested" and "measured task correlation" in mislabelled["details"]["not_tested_because"]
    flat = _gains().assign(gain=0.0)
    assert ev.claim_semantic(flat)["verdict"] == "fail"
    four = _gains()[_gains().task.isin(["a", "b", "c", "e"])]  # the real data's four tasks: p ≥ 1/12 at best
    few = ev.claim_semantic(four[four.seed < 2])
    assert few["verdict"] == "not tested" and "too few units" in few["details"]["not_tested_because"]
    standin = ev.claim_semantic(_gains(), stand_in=True)  # would pass on real data
    assert standin["verdict"] == "not tested" and not standin["passed"]
    assert standin["details"]["not_tested_because"].startswith("stand-in data")
    real_sec, standin_sec = ev.claim_semantic(_gains())["secondary"], standin["secondary"]
    assert [s["verdict"] for s in real_sec] == ["holds"]  # the same numbers pass on real data...
    assert [s["verdict"] for s in standin_sec] == ["not tested"]  # ...and are not asked on stand-in data
    assert standin_sec[0]["p_value"] == real_sec[0]["p_value"] and not standin_sec[0]["passed"]
    assert standin_sec[0]["not_tested_because"].startswith("stand-in data")
    assert ceiling["secondary"][0]["verdict"] == "not tested"
    assert few["secondary"][0].get("not_tested_because") is None  # too few units: the secondary's own test decides


def test_protocol_health_fails_beyond_ten_percent():
    rows = [{"k": k, "mode": "reinit", "source": "alice", "stopped_by": "patience", "selection_edge": False,
             "seed": i} for k in (1, 2) for i in range(10)]
    df = pd.DataFrame(rows)
    assert ev.claim_protocol_health("D1_protocol_health_depth", df)["passed"]
    one = df.copy()
    one.loc[0, "stopped_by"] = "cap"  # 1 of 10 in the cell: at the bound, still healthy
    assert ev.claim_protocol_health("D1_protocol_health_depth", one)["passed"]
    two = one.copy()
    two.loc[1, "selection_edge"] = True  # 2 of 10 bad in one cell... but in different columns: 10% each
    assert ev.claim_protocol_health("D1_protocol_health_depth", two)["passed"]
    two.loc[2, "stopped_by"] = "cap"
    res = ev.claim_protocol_health("D1_protocol_health_depth", two)
    assert not res["passed"] and res["details"]["failing_cells"] == ["1/reinit/alice"]
    alices = pd.DataFrame({"alice_stopped_by": ["cap", "patience", "patience"]})
    assert not ev.claim_protocol_health("D1_protocol_health_depth", df, alices)["passed"]


def test_records_name_the_spec_and_stale_claims_are_set_apart(tmp_path):
    res = ev.claim_monotonic_task(_depth())
    rec = record_claim(tmp_path, "C1_monotonic_task", res, preset="quick", dataset="d", notebook="04.ipynb")
    assert rec["spec_version"] == SPEC_VERSION and rec["verdict"] == "pass" and rec["kind"] == "empirical"
    view = claims_view(tmp_path)
    assert view["spec"] == {"version": SPEC_VERSION, "hash": spec_hash()} and len(view["claims"]) == 1
    record_claim(tmp_path, "C4_optimal_depth_tracks_correlation", {**ev.claim_optimal_depth(_depth()),
                                                                   "spec_hash": "another"},
                 preset="quick", dataset="d", notebook="04.ipynb")
    view = claims_view(tmp_path)
    assert [c["id"] for c in view["stale"]] == ["C4_optimal_depth_tracks_correlation"]
    with pytest.raises(ValueError, match="never gives 0"):
        record_claim(tmp_path, "C1_monotonic_task", {**res, "p_value": 0.0}, preset="quick", dataset="d",
                     notebook="04.ipynb")
    with pytest.raises(ValueError, match="verdict"):
        record_claim(tmp_path, "C1_monotonic_task", {**res, "verdict": "not tested"}, preset="quick", dataset="d",
                     notebook="04.ipynb")


def test_a_secondary_that_cannot_reach_holm_is_not_tested_not_failed():
    """Four exact sign flips over five seeds: even at p = 1/32 each, Holm's first step needs 4/32 < 0.05 —
    none can pass, so none "does not hold". One finer test among them: the rest become reachable in turn."""
    flip = {"effect": 0.1, "ci": [0.0, 0.2], "p_value": 1 / 32, "n": 5, "direction_ok": True, "p_min": 1 / 32}
    fine = {"effect": 0.1, "ci": [0.0, 0.2], "p_value": 0.001, "n": 5, "direction_ok": True, "p_min": 0.001}
    assert ev.holm_reachable([1 / 32] * 4, 0, 0.05) is False
    assert ev.holm_reachable([0.001, 0.001, 0.001, 1 / 32], 3, 0.05) is True  # last step multiplies by 1
    assert ev.holm_reachable([0.001, 0.001, 1 / 32, 1 / 32], 3, 0.05) is False  # 2 × 1/32 at the step before
    sec = ev.secondary_results("C8_estimators_predict_depth", [flip, flip, flip, flip])
    assert {s["verdict"] for s in sec} == {"not tested"} and not any(s["passed"] for s in sec)
    sec = ev.secondary_results("C8_estimators_predict_depth", [fine, fine, fine, flip])
    assert [s["verdict"] for s in sec] == ["holds"] * 4  # Holm: 0.004, 0.003, 0.002, then 1/32
    worse = {**flip, "p_value": 0.2}
    sec = ev.secondary_results("C8_estimators_predict_depth", [fine, fine, fine, worse])
    assert sec[-1]["verdict"] == "does not hold"
