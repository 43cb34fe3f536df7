"""Static checks on the committed notebooks, and their execution with papermill at ``smoke``."""

import json
from pathlib import Path

import nbformat
import pytest

from reuse_utils.claims import CLAIM_IDS
from reuse_utils.runner import NOTEBOOK_DIR, execute_notebook, list_notebooks, notebook_parameters

NOTEBOOKS = list_notebooks()
EXPECTED = ["01_linear_model.ipynb", "02_data_generation.ipynb", "03_alice_pretraining.ipynb",
            "04_bob_transfer_by_depth.ipynb", "05_zero_correlation.ipynb", "06_attribution.ipynb"]


def test_all_notebooks_present_in_order():
    names = [p.name for p in NOTEBOOKS]
    assert names[: len(EXPECTED)] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_structure(path):
    book = nbformat.read(path, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    for name in ("preset", "dataset", "device", "seeds", "interactive", "results_dir"):
        assert f"{name} =" in code[0].source
    assert "interactive = False" in code[0].source
    assert book.metadata["kernelspec"]["name"] == "python3"
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, "commit notebooks without outputs"
        assert len(cell.source.splitlines()) <= 15, f"code cell too long:\n{cell.source}"
    assert any(c.cell_type == "markdown" for c in book.cells)


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    params = notebook_parameters("smoke", None, "cpu", results)
    for nb in NOTEBOOKS:
        execute_notebook(nb, results / "notebooks", params, timeout=900)
    return results


@pytest.mark.notebooks
def test_notebooks_execute_at_smoke(smoke_results):
    executed = sorted(p.name for p in (smoke_results / "notebooks").glob("*.ipynb"))
    assert executed == sorted(p.name for p in NOTEBOOKS)
    claims = json.loads((smoke_results / "claims.json").read_text())
    ids = {c["id"] for c in claims}
    assert set(CLAIM_IDS[:7]) | {"C0_generator_calibrated"} <= ids | {"C7_semantic_transfer"}
    for c in claims:
        assert isinstance(c["passed"], bool) and c["preset"] == "smoke"
    figures = {p.stem for p in (smoke_results / "figures").glob("*.png")}
    for prefix in ("01_", "02_", "03_", "04_", "05_", "06_"):
        assert any(f.startswith(prefix) for f in figures), f"no figure from notebook {prefix}"
    assert all((smoke_results / "figures" / f"{f}.pdf").exists() for f in figures)


@pytest.mark.notebooks
def test_rerun_uses_the_cache(smoke_results):
    """A second execution of notebook 04 trains nothing: every Bob run comes from the cache."""
    out = execute_notebook(NOTEBOOK_DIR / "04_bob_transfer_by_depth.ipynb", smoke_results / "rerun",
                           notebook_parameters("smoke", None, "cpu", smoke_results), timeout=600)
    text = "".join(o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Bob runs (" in text
    line = next(x for x in text.splitlines() if "Bob runs (" in x)
    total, cached = int(line.split()[0]), int(line.split("(")[1].split()[0])
    assert total == cached


def test_report_written_by_runner(tmp_path, monkeypatch):
    from reuse_utils import runner

    monkeypatch.setattr(runner, "list_notebooks", lambda directory=NOTEBOOK_DIR: [])
    assert runner.main(["--preset", "smoke", "--results", str(tmp_path)]) == 0
    assert Path(tmp_path / "figures").is_dir()
