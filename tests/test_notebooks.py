"""The notebooks: paired text sources in sync, their structure, and their execution at ``smoke``."""

import json
from pathlib import Path

import jupytext
import nbformat
import pytest

from reuse_utils.analysis.ledger import CLAIM_IDS
from reuse_utils.companion import runner
from reuse_utils.companion.runner import execute_notebook, list_notebooks, notebook_parameters

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = list_notebooks(NOTEBOOK_DIR)
SOURCES = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def _cells(book) -> list[tuple[str, str, tuple]]:
    """What pairing must keep equal: each cell's type, source and tags."""
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", []))) for c in book.cells]


def test_every_notebook_has_a_paired_text_source():
    assert len(NOTEBOOKS) >= 8
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS]
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_pair_in_sync(path):
    source = path.with_suffix(".py")
    assert _cells(jupytext.read(source)) == _cells(jupytext.read(path)), (
        f"{path.name} and {source.name} differ: run `jupytext --sync {source}` (or save in JupyterLab)")


@pytest.mark.parametrize("side", ["py", "ipynb"])
def test_sync_check_catches_a_one_character_edit(tmp_path, side):
    src = NOTEBOOKS[0]
    py, nb = tmp_path / "x.py", tmp_path / "x.ipynb"
    py.write_text(src.with_suffix(".py").read_text())
    nb.write_text(src.read_text())
    assert _cells(jupytext.read(py)) == _cells(jupytext.read(nb))
    target = py if side == "py" else nb
    text = target.read_text()
    i = text.index("Alice")
    target.write_text(text[:i] + "a" + text[i + 1:])
    assert _cells(jupytext.read(py)) != _cells(jupytext.read(nb))


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
    """Every notebook at ``smoke`` through the runner, two lanes (each notebook after the ones it
    needs, so this also checks that the declared needs are enough)."""
    results = tmp_path_factory.mktemp("results")
    code = runner.main(["--preset", "smoke", "--notebooks", str(NOTEBOOK_DIR), "--results", str(results),
                        "--device", "cpu", "--jobs", "2", "--quiet", "--timeout", "900"])
    assert code == 0, json.loads((results / "run.json").read_text())["notebooks"]
    return results


@pytest.mark.notebooks
def test_notebooks_execute_at_smoke(smoke_results):
    executed = sorted(p.name for p in (smoke_results / "notebooks").glob("*.ipynb"))
    assert executed == sorted(p.name for p in NOTEBOOKS)
    claims = json.loads((smoke_results / "claims.json").read_text())["claims"]
    ids = {c["id"] for c in claims}
    assert set(CLAIM_IDS) <= ids
    for c in claims:
        assert isinstance(c["passed"], bool) and c["preset"] == "smoke"
    figures = {p.stem for p in (smoke_results / "figures").glob("*.png")}
    for nb in NOTEBOOKS:
        assert any(f.startswith(nb.name[:3]) for f in figures), f"no figure from notebook {nb.name}"
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


def test_runner_takes_its_folders_as_arguments(tmp_path):
    empty = tmp_path / "nbs"
    empty.mkdir()
    assert runner.main(["--preset", "smoke", "--notebooks", str(empty), "--results", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "figures").is_dir()
    with pytest.raises(SystemExit):
        runner.main(["--notebooks", str(tmp_path / "missing"), "--results", str(tmp_path / "r")])
