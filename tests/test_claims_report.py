import json

import pandas as pd
import pytest

from reuse_utils.analysis import evaluators as analysis
from reuse_utils.analysis.claims_spec import SPEC_VERSION, spec_hash
from reuse_utils.analysis.ledger import claims_table, load_claims, record_claim, reset_claims
from reuse_utils.companion.report import write_report


def _result(passed=True, effect=0.1, p=0.01):
    return {"statement": "s", "operationalisation": "o", "test": "t", "unit": "seed", "n": 5, "effect": effect,
            "ci": [effect - 0.05, effect + 0.05], "p_value": p, "passed": passed, "details": {"tau": float("nan")},
            "spec_version": SPEC_VERSION, "spec_hash": spec_hash()}


def test_record_and_load_claims(tmp_path):
    record_claim(tmp_path, "C6_linear_model_limits", _result(), preset="smoke", dataset="mnist5k", notebook="01.ipynb")
    record_claim(tmp_path, "C1_monotonic_task", _result(False, -0.1, 0.3), preset="smoke", dataset="mnist5k",
                 notebook="04.ipynb")
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert doc["run"] is None  # no runner wrote a manifest here
    claims = doc["claims"]
    assert [c["id"] for c in claims] == ["C6_linear_model_limits", "C1_monotonic_task"]  # the spec's order
    assert claims[1]["details"]["tau"] is None  # NaN stored as null, never as invalid JSON
    for key in ("id", "kind", "statement", "operationalisation", "test", "unit", "n", "effect", "ci", "p_value",
                "passed", "preset", "dataset", "notebook"):
        assert key in claims[1]
    assert claims[1]["kind"] == "empirical" and claims[0]["kind"] == "identity"
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
    assert "FAILED FINDING" in html and "as operationalised here" in html and "Claims spec" in html
    assert (html.index("<h3>Protocol health") < html.index("<h3>Findings") < html.index("C2_zero")
            < html.index("<h3>Identities") < html.index("C0_gen"))


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
