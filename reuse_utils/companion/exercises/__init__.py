"""Exercises with automatic checks: ``ru.exercises.check("04.2", answer, **context)``.

Each notebook ends with 2–4 exercises. An exercise cell starts with the line ``answer = None`` (the
student replaces ``None``) and ends with a call to :func:`check`, which compares the answer with the
value computed from the notebook's own data (``context``: the names the exercise needs) and prints
"correct", "not yet" with a hint, or "not answered yet". The exercises of notebook ``NN`` live in
:mod:`.nbNN` (a list ``EXERCISES``); each carries its reference solution as Python source, which
:func:`solve_notebook` writes over the ``answer = None`` line to make the solved version.

A wrong or missing answer never raises in a student's notebook (a check called without the names it
needs does: ``TypeError``). With the environment variable ``REUSE_EXERCISES=strict`` (the solved run
in ``make test``) a wrong or missing answer raises :class:`ExerciseError`.
"""

from __future__ import annotations

import importlib
import math
import os
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Exercise", "ExerciseError", "bank", "check", "exercise", "exercises_of", "solve_notebook", "exercise_ids_in",
           "ANSWER_LINE", "DIFFERENCE_TOLERANCE"]

#: The line an exercise cell starts with; the solved version replaces it with the solution.
ANSWER_LINE = "answer = None"
#: The tolerance of a difference asked "to 3 decimals": the difference of two values each rounded to
#: 3 decimals (as the notebook shows them) is within 1e-3 of the exact one.
DIFFERENCE_TOLERANCE = 1.1e-3
_CHECK_CALL = re.compile(r"""(?:ru\.)?exercises\.check\(\s*["'](\d\d\.\d+)["']""")


class ExerciseError(AssertionError):
    """A wrong or missing answer in strict mode (``REUSE_EXERCISES=strict``)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise. ``expected(**context)`` is the right answer from the notebook's data; an answer
    is right when it equals it (``kind="exact"``: ``==``; ``"number"``: within ``tolerance``, absolute;
    ``"set"``: the same elements). ``solution`` is Python source that assigns ``answer`` from the
    notebook's names; ``hint`` is shown when the answer is missing or wrong; ``explain`` after a
    right one (``str.format``-ed with ``expected=``)."""

    id: str
    question: str
    hint: str
    solution: str
    expected: Callable[..., Any]
    kind: str = "number"
    tolerance: float = 1e-3
    explain: str = ""
    needs: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not re.fullmatch(r"\d\d\.\d+", self.id):
            raise ValueError(f"Exercise id must look like '04.2'; got {self.id!r}")
        if self.kind not in ("number", "exact", "set"):
            raise ValueError(f"Exercise {self.id}: kind must be 'number', 'exact' or 'set'; got {self.kind!r}")
        if "answer" not in self.solution:
            raise ValueError(f"Exercise {self.id}: the solution must assign `answer`")

    def is_right(self, answer: Any, expected: Any) -> bool:
        if self.kind == "number":
            try:
                a, e = float(answer), float(expected)
            except (TypeError, ValueError):
                return False
            return math.isfinite(a) and abs(a - e) <= self.tolerance
        if self.kind == "set":
            try:
                return set(answer) == set(expected)
            except TypeError:
                return False
        return answer == expected


def bank() -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    for info in pkgutil.iter_modules(__path__):
        if not re.fullmatch(r"nb\d\d", info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for ex in module.EXERCISES:
            if not ex.id.startswith(info.name[2:] + "."):
                raise ValueError(f"{info.name}: exercise {ex.id} belongs to notebook {ex.id[:2]}")
            if ex.id in found:
                raise ValueError(f"exercise {ex.id} defined twice")
            found[ex.id] = ex
    return found


def exercise(exercise_id: str) -> Exercise:
    """The exercise ``exercise_id`` ("NN.i")."""
    known = bank()
    if exercise_id not in known:
        raise KeyError(f"no exercise {exercise_id!r}; known: {', '.join(sorted(known)) or 'none'}")
    return known[exercise_id]


def exercises_of(notebook: str) -> list[Exercise]:
    """The exercises of notebook ``notebook`` ("04" or "04_bob_transfer_by_depth"), in order."""
    prefix = notebook[:2] + "."
    return sorted((e for e in bank().values() if e.id.startswith(prefix)),
                  key=lambda e: int(e.id.split(".")[1]))


def _strict() -> bool:
    return os.environ.get("REUSE_EXERCISES", "") == "strict"


def check(exercise_id: str, answer: Any, **context: Any) -> bool:
    """Check ``answer`` to exercise ``exercise_id`` against the value from ``context`` (the
    notebook's data); prints the verdict with a hint, returns whether it is right."""
    from reuse_utils.companion.teaching import say

    ex = exercise(exercise_id)
    missing = [name for name in ex.needs if name not in context]
    if missing:
        raise TypeError(f"check({exercise_id!r}, ...) needs {', '.join(missing)} as keyword arguments")
    expected = ex.expected(**context)
    if answer is None:
        say(f"**Exercise {ex.id}: not answered yet.** Replace `None` in `answer = None`. *Hint:* {ex.hint}")
        if _strict():
            raise ExerciseError(f"exercise {ex.id} unanswered")
        return False
    if ex.is_right(answer, expected):
        tail = (" " + ex.explain.format(expected=expected)) if ex.explain else ""
        say(f"**Exercise {ex.id}: correct.**{tail}")
        return True
    say(f"**Exercise {ex.id}: not yet** (your answer: `{answer!r}`). *Hint:* {ex.hint}")
    if _strict():
        raise ExerciseError(f"exercise {ex.id}: {answer!r} is not {expected!r}")
    return False


def solve_notebook(book) -> int:
    """Write each exercise's solution over the ``answer = None`` line of its cell in ``book`` (an
    nbformat notebook, changed in place); returns how many cells were solved. Raises if a cell that
    calls :func:`check` lacks the answer line."""
    solved = 0
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        ids = _CHECK_CALL.findall(cell.source)
        if not ids:
            continue
        if len(ids) != 1:
            raise ValueError(f"one exercise per cell; found {ids}")
        lines = cell.source.splitlines()
        at = [i for i, line in enumerate(lines) if line.split("#")[0].strip() == ANSWER_LINE]
        if len(at) != 1:
            raise ValueError(f"exercise {ids[0]}: its cell must have exactly one line `{ANSWER_LINE}`")
        lines[at[0]: at[0] + 1] = exercise(ids[0]).solution.strip().splitlines()
        cell.source = "\n".join(lines)
        solved += 1
    return solved


def exercise_ids_in(book) -> list[str]:
    """The exercise ids a notebook's cells check, in order."""
    return [i for c in book.cells if c.cell_type == "code" for i in _CHECK_CALL.findall(c.source)]


def main(argv: list[str] | None = None) -> int:
    """``python -m reuse_utils.companion.exercises IN.ipynb OUT.ipynb``: the solved version."""
    import argparse

    import nbformat

    parser = argparse.ArgumentParser(description="Write a notebook's solved version (the exercises answered).")
    parser.add_argument("notebook")
    parser.add_argument("output")
    args = parser.parse_args(argv)
    book = nbformat.read(args.notebook, as_version=4)
    n = solve_notebook(book)
    nbformat.write(book, args.output)
    print(f"{args.output}: {n} exercises solved")
    return 0

