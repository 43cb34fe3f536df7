import json

import pandas as pd
import pytest

from reuse_utils.analysis import evaluators as analysis
from reuse_utils.analysis.ledger import claims_table, load_claims, record_claim, reset_claims
from reuse_utils.companion.report import write_report


def test_record_and_load_claims(tmp_path):
    record_claim(tmp_path, "C6_linear_model_limits", "s6", True, {"x": 1.0}, "n/a", preset="smoke",
                 dataset="mnist5k", notebook="01.ipynb")
    record_claim(tmp_path, "C1_monotonic_task", "s1", False, {"tau": float("nan")}, {"p_value": 0.3},
                 preset="smoke", dataset="mnist5k", notebook="04.ipynb")
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert doc["run"] is None  # no runner wrote a manifest here
    claims = doc["claims"]
    assert [c["id"] for c in claims] == ["C1_monotonic_task", "C6_linear_model_limits"]
    assert claims[0]["statistic"]["tau"] is None  # NaN stored as null, never as invalid JSON
    for key in ("id", "statement", "passed", "statistic", "p_value_or_ci", "preset", "dataset", "notebook"):
        assert key in claims[0]
    table = claims_table(load_claims(tmp_path))
    assert "FAIL" in table and "PASS" in table
    reset_claims(tmp_path)
    assert load_claims(tmp_path) == []


def test_report_lists_claims_figures_and_notebooks(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "04_x.png").write_bytes(b"png")
    record_claim(tmp_path, "C2_zero_corr_above_chance", "stmt", True, 0.5, 0.01, preset="smoke",
                 dataset="mnist5k", notebook="05.ipynb")
    path = write_report(tmp_path, preset="smoke", dataset=None, device="cpu", timings={"05.ipynb": 3.0},
                        wall_seconds=10)
    html = path.read_text()
    assert "C2_zero_corr_above_chance" in html and "figures/04_x.png" in html and "notebooks/05.ipynb" in html
    assert "torch" in html and "preset: <b>smoke</b>" in html


def _zero_df(bob_acc, ctrl_acc):
    rows = []
    for seed, (b, c) in enumerate(zip(bob_acc, ctrl_acc, strict=True)):
        base = {"task_corr": 0.0, "feature_corr": 0.0, "arch": "cnn", "k": 1, "mode": "reinit", "seed": seed,
                "chance": 0.1, "n_test": 1000}
        rows.append({**base, "source": "alice", "alice_optimizer": "adam", "bob_test_acc": b})
        rows.append({**base, "source": "random", "alice_optimizer": "adam", "bob_test_acc": c})
    return pd.DataFrame(rows)


def test_claim_zero_corr_pass_and_fail():
    assert analysis.claim_zero_corr(_zero_df([0.2, 0.21, 0.19], [0.1, 0.11, 0.1]))["passed"]
    assert not analysis.claim_zero_corr(_zero_df([0.1, 0.1, 0.09], [0.1, 0.11, 0.1]))["passed"]


def _depth_df(best_by_t):
    rows = []
    for t, kb in best_by_t.items():
        for k in range(1, 6):
            for seed in range(3):
                rows.append({"task_corr": t, "k": k, "seed": seed, "mode": "reinit", "source": "alice",
                             "feature_corr": 0.0, "bob_test_acc": 0.9 - 0.05 * abs(k - kb) + 0.001 * seed})
    return pd.DataFrame(rows)


def test_claim_monotonic_and_optimal_depth():
    df = _depth_df({0.0: 4, 0.2: 4, 0.4: 3, 0.6: 2, 0.8: 1, 1.0: 1})
    df["bob_test_acc"] += df.task_corr * 0.05 * (df.k == 1)
    assert analysis.claim_monotonic(df, "task_corr", k=1, label="t")["passed"]
    assert analysis.claim_optimal_depth(df)["passed"]
    flat = _depth_df({t: 3 for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)})
    res = analysis.claim_optimal_depth(flat)
    assert not res["passed"]
    assert not analysis.claim_monotonic(flat, "task_corr", k=1, label="t")["passed"]


def test_claim_generator_detects_miscalibration():
    good = pd.DataFrame({"task_corr": [0.01, 0.5], "task_corr_dial": [0.0, 0.5], "feature_corr_dial": [0.0, 0.4],
                         "feature_corr": [0.003, 0.42], "task_corr_p_value": [0.5, 0.0]})
    assert analysis.claim_generator(good)["passed"]
    assert not analysis.claim_generator(good.assign(task_corr=[0.01, 0.6]))["passed"]
    assert not analysis.claim_generator(good.assign(feature_corr=[0.003, 0.3]))["passed"]


def test_claim_linear_limits():
    r = analysis.claim_linear_limits(0.5, {"0.0": 0.999})
    assert r["passed"] and r["statistic"]["cos_alpha0"] == pytest.approx(1.0)
    assert not analysis.claim_linear_limits(0.5, {"0.0": 0.5})["passed"]
