import json

import numpy as np
import pandas as pd
import pytest

from reuse_utils.analysis import evaluators as analysis
from reuse_utils.analysis.ledger import claims_table, load_claims, record_claim, reset_claims
from reuse_utils.companion.report import write_report


def _result(passed=True, effect=0.1, p=0.01):
    return {"statement": "s", "operationalisation": "o", "test": "t", "unit": "seed", "n": 5, "effect": effect,
            "ci": [effect - 0.05, effect + 0.05], "p_value": p, "passed": passed, "details": {"tau": float("nan")}}


def test_record_and_load_claims(tmp_path):
    record_claim(tmp_path, "C6_linear_model_limits", _result(), preset="smoke", dataset="mnist5k", notebook="01.ipynb")
    record_claim(tmp_path, "C1_monotonic_task", _result(False, -0.1, 0.3), preset="smoke", dataset="mnist5k",
                 notebook="04.ipynb")
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert doc["run"] is None  # no runner wrote a manifest here
    claims = doc["claims"]
    assert [c["id"] for c in claims] == ["C1_monotonic_task", "C6_linear_model_limits"]
    assert claims[0]["details"]["tau"] is None  # NaN stored as null, never as invalid JSON
    for key in ("id", "kind", "statement", "operationalisation", "test", "unit", "n", "effect", "ci", "p_value",
                "passed", "preset", "dataset", "notebook"):
        assert key in claims[0]
    assert claims[0]["kind"] == "empirical" and claims[1]["kind"] == "identity"
    table = claims_table(load_claims(tmp_path))
    assert "FAIL" in table and "PASS" in table and table.index("identity") < table.index("empirical")
    with pytest.raises(ValueError, match="lacks the claim field"):
        record_claim(tmp_path, "C2_x", {"passed": True}, preset="smoke", dataset="d", notebook="n")
    reset_claims(tmp_path)
    assert load_claims(tmp_path) == []


def test_report_separates_findings_from_identities(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "04_x.png").write_bytes(b"png")
    record_claim(tmp_path, "C2_zero_corr_above_chance", _result(False), preset="smoke", dataset="mnist5k",
                 notebook="05.ipynb")
    record_claim(tmp_path, "C0_generator_calibrated", _result(), preset="smoke", dataset="mnist5k", notebook="02.ipynb")
    path = write_report(tmp_path, preset="smoke", dataset=None, device="cpu", timings={"05.ipynb": 3.0},
                        wall_seconds=10)
    html = path.read_text()
    assert "C2_zero_corr_above_chance" in html and "05.ipynb" in html
    assert "data:image/png;base64,cG5n" in html  # the figure is embedded: the file stands alone
    assert "src='figures" not in html and "href=" not in html  # no relative link a single-file copy would break
    assert "torch" in html and "preset: <b>smoke</b>" in html and "mnist5k (the preset" in html
    assert "FAILED FINDING" in html and "as operationalised here" in html
    assert html.index("<h3>Findings") < html.index("C2_zero") < html.index("<h3>Identities") < html.index("C0_gen")


def _zero_df(bob_acc, ctrl_acc):
    rows = []
    for seed, (b, c) in enumerate(zip(bob_acc, ctrl_acc, strict=True)):
        base = {"task_corr": 0.0, "feature_corr": 0.0, "arch": "cnn", "k": 1, "mode": "reinit", "seed": seed,
                "chance": 0.1, "n_test": 1000}
        rows.append({**base, "source": "alice", "alice_optimizer": "adam", "bob_test_acc": b})
        rows.append({**base, "source": "random", "alice_optimizer": "adam", "bob_test_acc": c})
    return pd.DataFrame(rows)


def test_claim_zero_corr_pass_and_fail():
    good = analysis.claim_zero_corr(_zero_df([0.2, 0.21, 0.19, 0.22, 0.2], [0.1, 0.11, 0.1, 0.12, 0.1]))
    assert good["passed"] and good["unit"] == "seed" and good["n"] == 5 and good["effect"] > 0
    assert not analysis.claim_zero_corr(_zero_df([0.1, 0.1, 0.09, 0.11, 0.1], [0.1, 0.11, 0.1, 0.1, 0.1]))["passed"]


def _depth_df(delta_slope, seeds=5):
    """k = 1 and k = 2 accuracies whose difference falls (slope < 0) or not with t, plus noise."""
    rng = np.random.default_rng(0)
    rows = []
    for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        for seed in range(seeds):
            a1 = 0.5 + 0.4 * t
            for k, acc in ((1, a1), (2, a1 + 0.1 + delta_slope * t + rng.normal(0, 0.005))):
                rows.append({"task_corr": t, "k": k, "seed": seed, "mode": "reinit", "source": "alice",
                             "feature_corr": 0.0, "n_bob": 1000, "bob_test_acc": acc, "bob_val_acc": acc,
                             "alice_test_acc": 0.95, "n_classes": 10, "bob_test_acc_unlinked": 0.1})
    return pd.DataFrame(rows)


def test_claim_optimal_depth_uses_seed_level_trend():
    assert analysis.claim_optimal_depth(_depth_df(-0.2))["passed"]
    res = analysis.claim_optimal_depth(_depth_df(0.0))
    assert not res["passed"] and res["unit"] == "seed" and res["n"] == 5
    assert set(res["details"]["k_star_on_validation"]) == {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}


def test_claim_monotonic_task_subtracts_the_label_copy_floor():
    df = _depth_df(0.0)
    noise = np.random.default_rng(1).normal(0, 0.01, len(df))
    df["bob_test_acc"] = analysis.label_copy_floor(df.alice_test_acc, df.task_corr, df.n_classes) + 0.05 + noise
    assert not analysis.claim_monotonic_task(df)["passed"]  # the free copy plus noise: no rise above the floor
    df["bob_test_acc"] += 0.1 * df.task_corr
    assert analysis.claim_monotonic_task(df)["passed"]
    assert analysis.label_copy_floor(0.9, 1.0, 10) == pytest.approx(0.9)
    assert analysis.label_copy_floor(0.9, 0.0, 10) == pytest.approx(0.1)


def test_claim_generator_detects_miscalibration():
    good = pd.DataFrame({"task_corr": [0.01, 0.5], "task_corr_dial": [0.0, 0.5], "feature_corr_dial": [0.0, 0.4],
                         "feature_corr": [0.003, 0.42], "task_corr_p_value": [0.5, 0.0]})
    assert analysis.claim_generator(good)["passed"]
    assert not analysis.claim_generator(good.assign(task_corr=[0.01, 0.6]))["passed"]
    assert not analysis.claim_generator(good.assign(feature_corr=[0.003, 0.3]))["passed"]


def test_claim_linear_limits():
    r = analysis.claim_linear_limits(0.5, {"0.0": 0.999})
    assert r["passed"] and r["details"]["cos_alpha0"] == pytest.approx(1.0)
    assert not analysis.claim_linear_limits(0.5, {"0.0": 0.5})["passed"]


def test_claim_semantic_uses_tasks_as_units():
    rows = []
    for task, rel, rer in [("a", 2, 0.6), ("b", 2, 0.5), ("c", 1, 0.3), ("d", 1, 0.2), ("e", 0, 0.0), ("f", 0, -0.1)]:
        for seed in range(3):
            rows.append({"task": task, "relatedness": rel, "error_reduction": rer, "measured_corr": rel / 2,
                         "best_k": 1, "best_mode": "reinit", "seed": seed})
    res = analysis.claim_semantic(pd.DataFrame(rows))
    assert res["passed"] and res["unit"] == "task" and res["n"] == 6


def test_claim_printout_is_sentences_and_warns_at_smoke():
    from reuse_utils.analysis.ledger import SMOKE_NOTE, describe_claim

    c = {"id": "C2_x", "kind": "empirical", "statement": "Bob beats chance", "operationalisation": "t-test",
         "effect": 0.21, "ci": [None, None], "p_value": None, "n": 3, "unit": "seed", "passed": True,
         "preset": "smoke"}
    text = describe_claim(c)
    assert text.startswith(f"[{SMOKE_NOTE}]") and "None" not in text
    assert "Bob beats chance — supported; effect +0.21, n = 3 seeds." in text and "95% CI" not in text and "p =" not in text
    full = describe_claim({**c, "ci": [0.1, 0.3], "p_value": 0.004, "preset": "quick", "passed": False})
    assert "not supported; effect +0.21 (95% CI +0.1 to +0.3), p = 0.004, n = 3 seeds." in full
    assert SMOKE_NOTE not in full
