"""The README's results table is what the committed runs' claims.json files give, never typed by hand."""

import json
from pathlib import Path

import pytest

from reuse_utils.analysis import evaluators as ev
from reuse_utils.analysis.ledger import record_claim
from reuse_utils.companion import results_table as rt

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_generated_from_the_claims_files():
    assert rt.update_readme(ROOT / "README.md", ROOT / "results_quick", ROOT / "results_paper", check=True), (
        "README's results table differs from results_quick/ and results_paper/ claims.json: run "
        "python -m reuse_utils.companion.results_table")


def test_table_rows_follow_the_claims(tmp_path):
    from test_claims_spec import _depth  # pytest puts tests/ on the path

    q = tmp_path / "q"
    record_claim(q, "C1_monotonic_task", ev.claim_monotonic_task(_depth()), preset="quick", dataset="d",
                 notebook="04.ipynb")
    old = tmp_path / "p"
    (old / "claims").mkdir(parents=True)
    (old / "claims.json").write_text(json.dumps({"run": None, "claims": [], "stale": [
        {"id": "C1_monotonic_task", "passed": False, "code_version": "2026.11-3"}]}))
    table = rt.results_table(q, old)
    row = next(line for line in table.splitlines() if "**C1**" in line)
    assert "PASS: +1 Kendall τ_a" in row and "p 4e-11" in row and "superseded (code 2026.11-3" in row
    assert "gain over scratch" in row and "not run" in next(line for line in table.splitlines() if "**C2**" in line)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{rt.BEGIN}\nold\n{rt.END}\nrest\n")
    assert not rt.update_readme(readme, q, old, check=True)
    rt.update_readme(readme, q, old)
    assert rt.update_readme(readme, q, old, check=True) and readme.read_text().endswith("rest\n")
    with pytest.raises(ValueError, match="no generated results block"):
        (tmp_path / "bare.md").write_text("nothing")
        rt.update_readme(tmp_path / "bare.md", q, old)
