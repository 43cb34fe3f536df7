"""Exercises of notebook 04 (Bob's transfer by depth): choose k* on validation data, a gain over
scratch, and whether the validation choice pays off on test data (part (i) of C4)."""

from __future__ import annotations

import pandas as pd

from reuse_utils.companion.exercises import DIFFERENCE_TOLERANCE, Exercise


def _alice_reinit(main: pd.DataFrame, where: str) -> pd.DataFrame:
    """Bob on Alice's network, reinit, α = 0, at the lowest (``where="low"``) or highest task correlation."""
    d = main[(main.source == "alice") & (main["mode"] == "reinit") & (main.feature_corr == 0)]
    t = d.task_corr.min() if where == "low" else d.task_corr.max()
    return d[d.task_corr == t]


def _k_star(main: pd.DataFrame) -> int:
    return int(_alice_reinit(main, "low").groupby("k").bob_val_acc.mean().idxmax())


def _gain_over_scratch(main: pd.DataFrame) -> float:
    d = _alice_reinit(main, "high")
    acc = d.groupby("k").bob_test_acc.mean()
    return float(acc[1] - acc[int(d.n_layers.max())])


def _k_star_minus_k1(main: pd.DataFrame) -> float:
    acc = _alice_reinit(main, "low").groupby("k").bob_test_acc.mean()
    return float(acc[_k_star(main)] - acc[1])


EXERCISES = [
    Exercise(
        id="04.1",
        question="At the lowest task correlation, which k would Bob choose (reinit, Alice's network) by mean "
                 "validation accuracy over seeds? (smallest k if several tie)",
        hint="Keep the rows of `main` with source 'alice', mode 'reinit' and task_corr == levels[0]; group them by "
             "`k` and average `bob_val_acc` (validation, not `bob_test_acc`); the k with the largest mean "
             "(`.idxmax()`) is the answer.",
        solution=('low = main[(main.source == "alice") & (main["mode"] == "reinit") & (main.task_corr == levels[0])]\n'
                  'answer = int(low.groupby("k").bob_val_acc.mean().idxmax())'),
        expected=_k_star, kind="exact", needs=("main",),
        explain="Bob retrains k* = {expected} layers. Chosen on validation data, this choice is honest: "
                "the test data stay untouched for judging it (exercise 04.3)."),
    Exercise(
        id="04.2",
        question="At the highest task correlation, Bob's mean gain of k = 1 (reinit, Alice's network) over "
                 "scratch (k = L), to 3 decimals.",
        hint="Take the rows of `main` with source 'alice', mode 'reinit' and task_corr == levels[-1]; average "
             "`bob_test_acc` per `k` over seeds and subtract the mean at k = L from the mean at k = 1.",
        solution=('high = main[(main.source == "alice") & (main["mode"] == "reinit") & (main.task_corr == levels[-1])]\n'
                  'acc = high.groupby("k").bob_test_acc.mean()\n'
                  'answer = round(acc[1] - acc[L], 3)'),
        expected=_gain_over_scratch, tolerance=DIFFERENCE_TOLERANCE, needs=("main",),
        explain="The gain is {expected:+.4f}. Positive: Alice's frozen features beat Bob's own network trained "
                "from nothing on his small training set; negative: scratch wins."),
    Exercise(
        id="04.3",
        question="At the lowest task correlation, Bob's mean test accuracy at his validation-chosen k* minus at "
                 "k = 1 (reinit, Alice's network), to 3 decimals.",
        hint="Find k* as in 04.1 (validation accuracy); then average `bob_test_acc` per `k` over the same rows "
             "and take the mean at k* minus the mean at k = 1 (0 when k* = 1).",
        solution=('low = main[(main.source == "alice") & (main["mode"] == "reinit") & (main.task_corr == levels[0])]\n'
                  'k_star = low.groupby("k").bob_val_acc.mean().idxmax()\n'
                  'test = low.groupby("k").bob_test_acc.mean()\n'
                  'answer = round(test[k_star] - test[1], 3)'),
        expected=_k_star_minus_k1, tolerance=DIFFERENCE_TOLERANCE, needs=("main",),
        explain="The difference is {expected:+.4f}. Part (i) of C4 asks the same per seed, over both modes, "
                "with an exact sign-flip test — a positive mean alone is not yet evidence."),
]
