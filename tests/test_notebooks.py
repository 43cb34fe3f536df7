"""The notebooks: paired text sources in sync, their structure, and their execution at ``smoke``."""

import json
import re
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
    assert 'interactive = "auto"' in code[0].source, "sliders by default in a front end, never under papermill"
    assert "google.colab" in code[1].source, "the second code cell installs the companion on Colab"
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
    run = json.loads((results / "run.json").read_text())
    assert code == 0 and run["state"] == "complete", (run["notebooks"], run.get("reasons"))
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


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_declared_claims_are_the_ones_recorded(path):
    """The runner lists a claim as not run from the notebook's metadata; it must name what the
    notebook records (``s.record("<id>", ...)``), and its data roles must be known ones."""
    import re

    from reuse_utils.companion.data import notebook_data
    from reuse_utils.companion.lanes import notebook_metadata

    recorded = re.findall(r"s\.record\(\s*\"([A-Za-z0-9_.-]+)\"", path.read_text())
    assert notebook_metadata(path.with_suffix(".ipynb")).get("claims", []) == recorded
    notebook_data(path.with_suffix(".ipynb"))  # raises for an unknown role


@pytest.mark.notebooks
def test_without_fashion_mnist_the_case_studies_are_skipped_and_nothing_fails(smoke_results, tmp_path, monkeypatch):
    """A fresh machine with no system copy, offline and an empty data folder (`REUSE_SYSTEM_DATA=`,
    `REUSE_OFFLINE=1`): the notebooks that use Fashion-MNIST at smoke (05's domain control, the case
    studies 07-08) either complete or are skipped with the reason; none fails. The Alices and Bobs
    come from the full smoke run's cache, so only what differs is recomputed."""
    import shutil

    monkeypatch.setenv("REUSE_SYSTEM_DATA", "")
    monkeypatch.setenv("REUSE_OFFLINE", "1")
    monkeypatch.setenv("REUSE_DATA", str(tmp_path / "empty_data"))
    results = tmp_path / "results"
    shutil.copytree(smoke_results / "cache", results / "cache")
    code = runner.main(["--preset", "smoke", "--notebooks", str(NOTEBOOK_DIR), "--results", str(results),
                        "--device", "cpu", "--quiet", "--only", "05", "--only", "07", "--only", "08"])
    run = json.loads((results / "run.json").read_text())
    assert code == 0
    ran = {k[:2]: v for k, v in run["notebooks"].items() if k[:2] in ("05", "07", "08")}
    assert ran == {"05": "done", "07": "skipped", "08": "skipped"}, run["reasons"]
    assert all("fashion_mnist" in run["reasons"][f"{n}.ipynb"] for n in ("07_case_study_dog_vs_cat",
                                                                         "08_case_study_open_images"))
    executed = nbformat.read(results / "notebooks" / "05_zero_correlation.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Domain control skipped: 'fashion_mnist' is unavailable" in text


def _outputs_text(book) -> str:
    parts = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


@pytest.mark.notebooks
def test_student_versions_run_with_the_exercises_unanswered(smoke_results):
    """The notebooks as committed (the student version) execute to the end; every exercise says it is
    not answered yet."""
    from reuse_utils.companion.exercises import exercise_ids_in

    for path in NOTEBOOKS:
        executed = nbformat.read(smoke_results / "notebooks" / path.name, as_version=4)
        text = _outputs_text(executed)
        for exercise_id in exercise_ids_in(executed):
            assert f"Exercise {exercise_id}: not answered yet" in text, (path.name, exercise_id)


@pytest.mark.notebooks
def test_solved_versions_pass_every_check(smoke_results, tmp_path, monkeypatch):
    """The solved version of every notebook (each solution written over its ``answer = None`` line)
    executes at smoke with ``REUSE_EXERCISES=strict``: a wrong or missing answer raises. Alices and
    Bobs come from the smoke run's cache."""
    from concurrent.futures import ThreadPoolExecutor

    from reuse_utils.companion.exercises import solve_notebook

    monkeypatch.setenv("REUSE_EXERCISES", "strict")
    solved_dir = tmp_path / "solved"
    solved_dir.mkdir()
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert solve_notebook(book) >= 2
        nbformat.write(book, solved_dir / path.name)
    params = notebook_parameters("smoke", None, "cpu", smoke_results)

    def run(path: Path):
        out = execute_notebook(solved_dir / path.name, tmp_path / "out", params, timeout=900, cwd=NOTEBOOK_DIR)
        return path.name, _outputs_text(out)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, text in pool.map(run, NOTEBOOKS):
            unsolved = re.findall(r"Exercise [\w.]+: not (?:yet|answered)", text)
            assert not unsolved, (name, unsolved)
            assert text.count(": correct.") >= 2, name
