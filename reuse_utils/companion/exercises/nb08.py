"""Exercises of notebook 08 (case study: tasks of decreasing relatedness): the measured task correlation
of one task, its rank agreement with Bob's error reduction over tasks, and the headroom C7 needs."""

from __future__ import annotations

import pandas as pd
from scipy.stats import kendalltau

from reuse_utils.companion.exercises import Exercise


def _measured_unrelated(gains: pd.DataFrame) -> float:
    return float(gains[gains.task == "unrelated"].measured_corr.mean())


def _tau_gain_vs_measured(gains: pd.DataFrame) -> float:
    per_task = gains.groupby("task")[["error_reduction", "measured_corr"]].mean()
    return float(kendalltau(per_task.error_reduction, per_task.measured_corr).statistic)  # τ_b


def _tasks_at_ceiling(gains: pd.DataFrame) -> int:
    return int((gains.groupby("task").scratch_acc.mean() > 0.85).sum())


EXERCISES = [
    Exercise(
        id="08.1",
        question="The measured task correlation (Cramér's V, mean over seeds) of Bob's task 'unrelated', to 3 "
                 "decimals.",
        hint="Keep the rows of `gains` whose `task` is 'unrelated' and average `measured_corr` (one value per seed).",
        solution='answer = round(gains[gains.task == "unrelated"].measured_corr.mean(), 3)',
        expected=_measured_unrelated, tolerance=6e-4, needs=("gains",),
        explain="Cramér's V is {expected:.4f} (0: Alice's predictions say nothing about Bob's labels; 1: they "
                "determine them). The name 'unrelated' is ours; the measurement is the data's."),
    Exercise(
        id="08.2",
        question="Kendall's τ_b over tasks between the mean relative error reduction and the mean measured task "
                 "correlation (each averaged over seeds per task), to 3 decimals.",
        hint="Group `gains` by `task` and average `error_reduction` and `measured_corr`; then "
             "`.corr('kendall')` of those two columns (pandas computes τ_b) gives the answer off the diagonal.",
        solution=('per_task = gains.groupby("task")[["error_reduction", "measured_corr"]].mean()\n'
                  'answer = round(per_task.corr("kendall").iloc[0, 1], 3)'),
        expected=_tau_gain_vs_measured, tolerance=6e-4, needs=("gains",),
        explain="τ_b = {expected:+.4f}. A positive τ_b would mean the tasks Alice's predictions track best are those "
                "where reuse cuts Bob's error most. With a handful of tasks even a large τ may be far from "
                "significant."),
    Exercise(
        id="08.3",
        question="The number of tasks on which scratch's mean test accuracy (over seeds) exceeds 0.85.",
        hint="Group `gains` by `task`, average `scratch_acc`, and count the tasks above 0.85 "
             "(`(... > 0.85).sum()`).",
        solution='answer = int((gains.groupby("task").scratch_acc.mean() > 0.85).sum())',
        expected=_tasks_at_ceiling, kind="exact", needs=("gains",),
        explain="{expected} task(s) above 0.85. Where scratch already gets nearly everything right no reuse can "
                "show a large gain: C7 is not tested while any task is above this ceiling."),
]
