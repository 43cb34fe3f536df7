"""What the depth reveals: the converse (C4b), the estimators' depth ranking (C8), the harness that
scores every cut, and the layer-wise CKA — each on fixtures whose answer is known, each able to fail."""

import numpy as np
import pandas as pd
import pytest
import torch

from reuse_utils.analysis import depth_reveal as dr
from reuse_utils.analysis import evaluators as ev
from reuse_utils.analysis.claims_spec import SPEC
from reuse_utils.analysis.ledger import describe_claim, record_claim
from reuse_utils.analysis.stats import loso_map_test, loso_monotone_map, within_block_rank_test
from reuse_utils.training import build_model

T_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
W = {"dataset": "d", "arch": "cnn", "alice_optimizer": "adam", "alice_world": "same", "n_alice": 100}


def _depth(seeds=5, signal=True, on_test_only=False, noise=0.01, seed=0, n_bobs=(250, 1000), alphas=(0.0,),
           ts=T_LEVELS):
    """Bob's runs at k = 1..3 (L = 3), both modes: retraining two layers pays by 0.2·(1 − t) − 0.1 on
    validation (``signal``), so Δ_val falls with t; with ``on_test_only`` the signal is in the test
    accuracies alone and validation is noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(seeds):
        for nb in n_bobs:
            for a in alphas:
                for t in ts:
                    gain = 0.2 * (1 - t) - 0.1 - 0.1 * a
                    for mode in ("reinit", "finetune"):
                        for k in (1, 2, 3):
                            shape = {1: 0.0, 2: gain, 3: gain - 0.05}[k]
                            val = 0.6 + (shape if signal and not on_test_only else 0) + rng.normal(0, noise)
                            test = 0.6 + (shape if signal else 0) + rng.normal(0, noise)
                            rows.append({**W, "task_corr": t, "feature_corr": a, "seed": s, "n_bob": nb, "k": k,
                                         "n_layers": 3, "mode": mode, "source": "alice", "bob_val_acc": val,
                                         "bob_val_loss": 1 - val, "bob_test_acc": test, "seconds": 1.0})
    return pd.DataFrame(rows)


# ---- C4b ---------------------------------------------------------------------------------------

def test_c4b_recovers_t_when_the_curve_carries_it():
    res = ev.claim_depth_reveals(_depth(), _depth(n_bobs=(1000,), alphas=(0.0, 0.3, 0.6), ts=(0.0, 0.6)))
    assert res["verdict"] == "pass" and res["effect"] > 0.15 and res["p_value"] == pytest.approx(1 / 500)  # no permuted copy does as well
    assert res["statement"] == SPEC["C4b_depth_reveals_correlation"].paper_words
    maps = res["details"]["map_by_condition"]
    assert set(maps) == {"cnn/250", "cnn/1000"} and all(m["mae_map"] < m["mae_constant"] for m in maps.values())
    names = [s["name"] for s in res["secondary"]]
    assert names == [t.name for t in SPEC["C4b_depth_reveals_correlation"].secondaries]
    sec = {s["name"]: s for s in res["secondary"]}
    assert sec["across n_bob"]["verdict"] == "holds" and sec["across α"]["verdict"] == "holds"
    assert sec["α recoverable"]["verdict"] == "holds"  # the fixture's Δ_val falls with α too
    assert sec["k* alone"]["effect"] > 0


def test_c4b_fails_on_a_flat_curve_and_refuses_test_data():
    flat = ev.claim_depth_reveals(_depth(signal=False), n_mc=99)
    assert flat["verdict"] == "fail" and not flat["passed"]
    leak = ev.claim_depth_reveals(_depth(on_test_only=True), n_mc=99)  # the signal only in test accuracy: unused
    assert leak["verdict"] == "fail"
    assert ev.claim_depth_reveals(_depth(seeds=2), n_mc=9)["verdict"] == "not tested"


def test_depth_signals_use_validation_and_reinit():
    d = _depth(seeds=1, n_bobs=(1000,), noise=0.0)
    sig = ev.depth_signals(d)
    row = sig[sig.task_corr == 0.0].iloc[0]
    assert row.delta_val == pytest.approx(0.1) and row.k_star == 2
    assert row.head_val == pytest.approx(0.6) and row.scratch_val == pytest.approx(0.65)
    assert sig[sig.task_corr == 1.0].iloc[0].k_star == 1


def test_loso_map_by_hand():
    fit = pd.DataFrame({"seed": [0, 0, 1, 1, 2, 2], "x": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0], "t": [1.0, 0.0] * 3})
    out = loso_monotone_map(fit, "x", "t")
    assert out.pred.tolist() == pytest.approx([1.0, 0.0] * 3)  # a decreasing map, found from the other seeds
    assert out.const.tolist() == pytest.approx([0.5] * 6)
    lone = loso_monotone_map(fit[fit.seed == 0], "x", "t")
    assert lone.pred.isna().all()  # no other seed to fit on


# ---- C8 and the harness --------------------------------------------------------------------------

def _scores(curves, kind):
    rng = np.random.default_rng(4)  # one fixed draw of an unrelated score (a random one passes 5% of the time)
    s = curves[ev.WORLD_KEYS + ["k"]].copy()
    base = curves.val_acc.to_numpy()
    noise = rng.normal(size=len(s))
    for name in ("logme", "hscore", "hscore_lw"):
        s[name] = base if kind == "right" else (-base if kind == "wrong" else noise)
    s["leep"], s["nce"], s["seconds"] = -1.0, -1.0, 0.5
    return s


def _c8(kind, frame=None):
    frame = _depth(noise=0.001) if frame is None else frame
    curves = dr.depth_curves(frame)
    cuts = dr.cut_table(_scores(curves, kind), curves, dr.depth_curves(frame, modes=("reinit",)))
    table = dr.estimator_table(cuts)
    return ev.claim_estimators_predict_depth(table, cuts, n_mc=999), table


@pytest.mark.parametrize("kind,verdict", [("right", "pass"), ("wrong", "fail"), ("noise", "fail")])
def test_c8_passes_only_when_the_score_ranks_depths(kind, verdict):
    res, table = _c8(kind)
    assert res["verdict"] == verdict
    if kind == "right":
        assert res["effect"] == pytest.approx(1.0) and table.hit.all() and (table.regret == 0).all()
        assert res["p_value"] == pytest.approx(1 / 1000)
    if kind == "wrong":
        assert res["effect"] == pytest.approx(-1.0)


def test_c8_featureless_prior_is_the_bar():
    """The fixture's depth curve has one shape per t, so the other seeds' mean curve ranks depths well
    without any feature; an unrelated score does not beat it."""
    res, _ = _c8("noise")
    prior = res["details"]["featureless_prior"]
    assert prior["tau"] > 0.4 > res["effect"]
    beat = next(x for x in res["secondary"] if x["name"] == "LogME beats a featureless prior")
    assert beat["effect"] < 0 and not beat["passed"]


def test_rounding_ties_saturated_scores():
    """The published H-score equals C − 1 up to rounding at wide cuts: those cuts tie (the smaller k wins),
    they are not ordered by float noise."""
    curves = pd.DataFrame({**{k: [v] * 3 for k, v in W.items()}, "task_corr": [0.0] * 3, "feature_corr": [0.0] * 3,
                           "seed": [0] * 3, "n_bob": [10] * 3, "k": [1, 2, 3], "n_layers": [3] * 3,
                           "mode": ["reinit"] * 3, "val_acc": [0.5, 0.7, 0.6], "val_loss": [0.5, 0.3, 0.4],
                           "test_acc": [0.4, 0.8, 0.7], "bob_seconds": [1.0, 2.0, 3.0]})
    scores = curves[ev.WORLD_KEYS + ["k"]].assign(logme=[1.0, 2.0, 3.0], hscore=[4.0, 9.0 - 4e-15, 9.0 + 4e-15],
                                                  hscore_lw=[0.0, 2.0, 1.0], leep=-1.0, nce=-2.0, seconds=0.25)
    t = dr.estimator_table(dr.cut_table(scores, curves)).set_index("score")
    assert t.loc["hscore", "k_score"] == 2 and t.loc["hscore", "saturated"] == 2
    assert t.loc["hscore", "tau"] == pytest.approx(0.8164965809)  # τ_b with the tie at k = 2, 3


def test_estimator_table_by_hand():
    curves = pd.DataFrame({**{k: [v] * 3 for k, v in W.items()}, "task_corr": [0.0] * 3, "feature_corr": [0.0] * 3,
                           "seed": [0] * 3, "n_bob": [10] * 3, "k": [1, 2, 3], "n_layers": [3] * 3,
                           "mode": ["reinit"] * 3, "val_acc": [0.5, 0.7, 0.7], "val_loss": [0.5, 0.4, 0.3],
                           "test_acc": [0.4, 0.8, 0.7], "bob_seconds": [1.0, 2.0, 3.0]})
    scores = curves[ev.WORLD_KEYS + ["k"]].assign(logme=[3.0, 1.0, 2.0], hscore=[1.0, 1.0, 1.0],
                                                  hscore_lw=[0.0, 2.0, 1.0], leep=-1.0, nce=-2.0, seconds=0.25)
    t = dr.estimator_table(dr.cut_table(scores, curves)).set_index("score")
    assert t.loc["logme", "k_score"] == 1 and t.loc["logme", "k_star"] == 3  # tie on accuracy: the lower loss
    assert t.loc["logme", "regret"] == pytest.approx(0.3) and t.loc["logme", "regret_k1"] == pytest.approx(0.3)
    assert t.loc["hscore", "tau"] == 0.0 and t.loc["hscore", "k_score"] == 1  # a constant score ranks nothing
    assert t.loc["hscore_lw", "hit"] and t.loc["hscore_lw", "k_score"] == 2  # k = 2 is tied with k* = 3
    assert t.loc["hscore_lw", "regret"] == pytest.approx(-0.1)
    assert t.loc["logme", "bob_seconds"] == 6.0 and t.loc["logme", "score_seconds"] == 0.25


def test_depth_curves_take_the_better_mode_on_validation():
    d = _depth(seeds=1, n_bobs=(1000,), ts=(0.0,), noise=0.0)
    d.loc[(d["mode"] == "finetune") & (d.k == 3), ["bob_val_acc", "bob_test_acc"]] = [0.99, 0.1]
    c = dr.depth_curves(d).set_index("k")
    assert c.loc[3, "mode"] == "finetune" and c.loc[3, "test_acc"] == pytest.approx(0.1)
    assert c.loc[2, "mode"] == "reinit"


def test_score_cuts_scores_every_cut_of_a_network():
    torch.manual_seed(0)
    net = build_model("mlp", (1, 8, 8), 4, width=16)
    x = torch.randn(60, 1, 8, 8)
    y = torch.randint(0, 3, (60,))
    table = dr.score_cuts(net, x, y, torch.device("cpu"))
    assert table.k.tolist() == [1, 2, 3, 4] and table.dim.tolist() == [16, 16, 16, 64]
    assert table[["logme", "hscore", "hscore_lw", "leep", "nce"]].notna().all().all()
    assert (table.leep <= 0).all() and table.leep.nunique() == 1


def test_layer_cka_and_break_depth():
    torch.manual_seed(0)
    a = build_model("mlp", (1, 8, 8), 4, width=16)
    b = build_model("mlp", (1, 8, 8), 4, width=16)
    x = torch.randn(80, 1, 8, 8)
    same = dr.layer_cka(a, a, x, torch.device("cpu"))
    assert same == pytest.approx([1.0] * 4)
    other = dr.layer_cka(a, b, x, torch.device("cpu"))
    assert all(-0.1 <= v <= 1 for v in other) and min(other) < 0.99  # unbiased: may dip below 0
    assert dr.break_depth([1.0, 0.95, 0.5, 0.2]) == 2
    assert dr.break_depth([1.0, 0.95, 0.93, 0.92]) == 1
    assert dr.break_depth([0.5, 0.4, 0.3, 0.2]) == 4


# ---- records ------------------------------------------------------------------------------------

def test_companion_findings_are_labelled_in_the_record(tmp_path):
    res = ev.claim_depth_reveals(_depth(), n_mc=9)
    rec = record_claim(tmp_path, "C4b_depth_reveals_correlation", res, preset="quick", dataset="d", notebook="09.ipynb")
    assert rec["origin"] == "companion" and rec["kind"] == "empirical"
    assert "companion finding" in describe_claim(rec)
    assert SPEC["C1_monotonic_task"].origin == "paper"


def test_the_leak_fixture_would_catch_a_test_chosen_signal(monkeypatch):
    """The mutant: Bob's curve read from test accuracy. Then the test-only signal passes — so the
    validation-only evaluator's failure on it above is what keeps test data out."""
    monkeypatch.setattr(ev, "SELECT_ON", "bob_test_acc")
    assert ev.claim_depth_reveals(_depth(on_test_only=True), n_mc=99)["verdict"] == "pass"


def test_worlds_of_one_alice_share_the_permutation():
    """Two n_bob copies of each world (one Alice): a null that permuted them apart would be too narrow.
    Duplicating a condition leaves the LOSO permutation p unchanged; the rank test's null shared per
    Alice is as wide as for one copy."""
    sig = ev.depth_signals(_depth(noise=0.05, n_bobs=(1000,), seed=3))
    one = loso_map_test([(sig, None)], "delta_val", "task_corr", n_mc=199)
    two = loso_map_test([(sig, None), (sig.assign(n_bob=250), None)], "delta_val", "task_corr", n_mc=199)
    assert two["p_value"] == one["p_value"] and two["mean"] == pytest.approx(one["mean"])
    rng = np.random.default_rng(0)
    rows = [{"seed": s, "t": t, "n_bob": nb, "k": k, "x": float(v), "y": float(w)}
            for s in range(4) for t in range(3) for k, v, w in zip(range(1, 5), rng.normal(size=4), rng.normal(size=4), strict=True)
            for nb in (1, 2)]
    df = pd.DataFrame(rows)
    alone = within_block_rank_test(df[df.n_bob == 1], "x", "y", ["seed", "t", "n_bob"], n_mc=4999)
    shared = within_block_rank_test(df, "x", "y", ["seed", "t", "n_bob"], shared=["seed", "t"], n_mc=4999)
    apart = within_block_rank_test(df, "x", "y", ["seed", "t", "n_bob"], n_mc=4999)
    assert shared["mean"] == pytest.approx(alone["mean"])
    assert abs(shared["p_value"] - alone["p_value"]) < 0.03 and apart["p_value"] != pytest.approx(shared["p_value"])
