"""Exercises of notebook 02 (the data generator): the measured Cramér's V at one dial setting, the
feature correlation left after randomising Bob's panel, and the accuracy of a Bob who copies
Alice's class (t + (1 − t)/K; chance at t = 0)."""

from __future__ import annotations

import pandas as pd

from reuse_utils.companion.exercises import Exercise
from reuse_utils.generator import measure_correlations


def _v_at(table: pd.DataFrame) -> float:
    cell = table[(table.task_corr_dial == 0.6) & (table.feature_corr_dial == 0.3)]
    return float(cell.task_corr.mean())


def _feature_after_randomising(r) -> float:
    return float(measure_correlations(r)["feature_corr"])


def _copy_alice(train) -> float:
    return 0.5 + 0.5 / train.num_classes


EXERCISES = [
    Exercise(
        id="02.1",
        question="The measured Cramér's V (mean over seeds) at t = 0.6, α = 0.3, to 3 decimals.",
        hint="Keep the rows of `table` with task_corr_dial == 0.6 and feature_corr_dial == 0.3 (one per seed) and "
             "average their `task_corr` column (the measured value; `task_corr_dial` is the dial).",
        solution=("cell = table[(table.task_corr_dial == 0.6) & (table.feature_corr_dial == 0.3)]\n"
                  "answer = round(cell.task_corr.mean(), 3)"),
        expected=_v_at, tolerance=6e-4, needs=("table",),
        explain="The measured V is {expected:.4f} against the dial's 0.6; the calibration table shows how close "
                "every other cell comes, at every overlay α."),
    Exercise(
        id="02.2",
        question="The feature correlation between the panels of `r` (Bob's panel randomised), to 3 decimals.",
        hint="`ru.measure_correlations(r)` returns a dict of measured values; its 'feature_corr' entry is the "
             "residual correlation of the two panels (printed above the figure, rounded).",
        solution='answer = round(ru.measure_correlations(r)["feature_corr"], 3)',
        expected=_feature_after_randomising, tolerance=6e-4, needs=("r",),
        explain="It is {expected:+.4f}, about zero: Bob's new images are drawn independently of Alice's, so nothing of "
                "her image is left in his panel — while the labels, and their correlation, are unchanged."),
    Exercise(
        id="02.3",
        question="The expected accuracy, at t = 0.5, of a Bob who predicts Alice's class (identity map).",
        hint="A fraction t of the samples is linked (Bob's class is Alice's); the other 1 − t draw Bob's class "
             "uniformly from K = `train.num_classes` classes, so they hit Alice's with probability 1/K.",
        solution="answer = 0.5 + (1 - 0.5) / train.num_classes",
        expected=_copy_alice, tolerance=1e-3, needs=("train",),
        explain="t + (1 − t)/K = {expected:.3f}. At t = 0 it is 1/K, chance; at t = 1 it is 1 — the task dial alone "
                "decides how much Alice's label tells Bob."),
]
