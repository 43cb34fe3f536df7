"""Exercises: the checker's verdicts, the solved version's construction, and every notebook's
learning goals, summary and exercises (whose solutions run in ``test_notebooks``)."""

from pathlib import Path

import nbformat
import pytest

from reuse_utils.companion import exercises as ex
from reuse_utils.companion.exercises import Exercise, ExerciseError

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))

DEMO = Exercise(id="99.1", question="What is 2 + x?", hint="add x", solution="answer = 2 + x",
                expected=lambda x: 2 + x, tolerance=1e-9, needs=("x",), explain="It is {expected}.")


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.setattr(ex, "bank", lambda: {"99.1": DEMO})
    monkeypatch.delenv("REUSE_EXERCISES", raising=False)
    return DEMO


def test_check_says_right_wrong_and_unanswered(demo, capsys):
    assert ex.check("99.1", 5.0, x=3) is True
    assert "correct" in capsys.readouterr().out
    assert ex.check("99.1", 4.0, x=3) is False
    assert "not yet" in capsys.readouterr().out
    assert ex.check("99.1", None, x=3) is False
    assert "not answered" in capsys.readouterr().out
    assert ex.check("99.1", "five", x=3) is False


def test_strict_mode_raises_on_wrong_and_missing(demo, monkeypatch):
    monkeypatch.setenv("REUSE_EXERCISES", "strict")
    assert ex.check("99.1", 5, x=3)
    with pytest.raises(ExerciseError):
        ex.check("99.1", 4, x=3)
    with pytest.raises(ExerciseError):
        ex.check("99.1", None, x=3)


def test_check_names_missing_context_and_unknown_ids(demo):
    with pytest.raises(TypeError, match="needs x"):
        ex.check("99.1", 5)
    with pytest.raises(KeyError, match="no exercise '98.1'"):
        ex.check("98.1", 5, x=3)


def test_kinds_compare_as_documented():
    base = dict(question="q", hint="h", solution="answer = 1", expected=lambda: 1)
    assert Exercise(id="01.1", kind="set", **base).is_right([2, 1], {1, 2})
    assert not Exercise(id="01.1", kind="set", **base).is_right([1], {1, 2})
    assert Exercise(id="01.1", kind="exact", **base).is_right("reinit", "reinit")
    assert not Exercise(id="01.1", kind="number", tolerance=0.01, **base).is_right(0.52, 0.5)
    assert not Exercise(id="01.1", kind="number", **base).is_right(float("nan"), float("nan"))
    with pytest.raises(ValueError, match="id"):
        Exercise(id="1.1", **base)
    with pytest.raises(ValueError, match="kind"):
        Exercise(id="01.1", kind="fuzzy", **base)


def test_solve_notebook_writes_the_solution_over_the_answer_line(demo):
    book = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 3"),
        nbformat.v4.new_code_cell('answer = None  # your answer\nru.exercises.check("99.1", answer, x=x)')])
    assert ex.solve_notebook(book) == 1
    assert book.cells[1].source.splitlines()[0] == "answer = 2 + x"
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('ru.exercises.check("99.1", 5, x=1)')])
    with pytest.raises(ValueError, match="answer = None"):
        ex.solve_notebook(bad)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_teaches(path):
    """Learning goals (with prerequisites and time per preset) near the top; a summary; 2–4 exercises,
    each checked once in its own cell and each defined in the bank."""
    book = nbformat.read(path, as_version=4)
    md = [c.source for c in book.cells if c.cell_type == "markdown"]
    assert any("What you will learn" in m and "Prerequisites" in m and "Time" in m for m in md[:3]), (
        "a learning-goals cell ('What you will learn', 'Prerequisites', 'Time') among the first markdown cells")
    assert any(m.lstrip().startswith("## Summary") for m in md), "a '## Summary' section"
    assert any(m.lstrip().startswith("## Exercises") for m in md), "an '## Exercises' section"
    ids = ex.exercise_ids_in(book)
    bank = [e.id for e in ex.exercises_of(path.name)]
    assert 2 <= len(ids) <= 4, f"{path.name}: {len(ids)} exercises"
    assert ids == bank, f"{path.name} checks {ids}; the bank has {bank}"
    solved = nbformat.read(path, as_version=4)
    assert ex.solve_notebook(solved) == len(ids)


def test_every_exercise_is_well_formed():
    for e in ex.bank().values():
        assert e.question.strip() and e.hint.strip()
        compile(e.solution, e.id, "exec")
