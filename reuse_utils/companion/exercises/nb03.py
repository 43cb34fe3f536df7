"""Exercises of notebook 03 (Alice's pre-training): her mean test accuracy for one recipe, how many
Alices stopped early, and what randomising her own panel costs her."""

from __future__ import annotations

import pandas as pd

from reuse_utils.companion.exercises import DIFFERENCE_TOLERANCE, Exercise


def _cnn_adam(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df.arch == "cnn") & (df.optimizer == "adam")]


def _mean_acc(runs: pd.DataFrame) -> float:
    return float(_cnn_adam(runs).alice_test_acc.mean())


def _stopped_early(runs: pd.DataFrame) -> int:
    return int((runs.stopped_by == "patience").sum())


def _own_panel_drop(panels: pd.DataFrame) -> float:
    d = _cnn_adam(panels)
    return float((d.acc - d.acc_alice_randomised).mean())


EXERCISES = [
    Exercise(
        id="03.1",
        question="Alice's mean test accuracy over seeds, cnn trained with Adam, to 3 decimals.",
        hint="Keep the rows of `runs` with arch 'cnn' and optimizer 'adam' (one per seed) and average their "
             "`alice_test_acc` column.",
        solution=('cnn_adam = runs[(runs.arch == "cnn") & (runs.optimizer == "adam")]\n'
                  "answer = round(cnn_adam.alice_test_acc.mean(), 3)"),
        expected=_mean_acc, tolerance=6e-4, needs=("runs",),
        explain="Alice reaches {expected:.4f} on her test pairs: this is the network Bob starts from in notebooks "
                "04–06 (at t = α = 0)."),
    Exercise(
        id="03.2",
        question="How many Alices in `runs` stopped by early stopping (stopped_by == 'patience')?",
        hint="The column `stopped_by` says how each run ended: 'patience' (validation loss no longer improving) or "
             "'cap' (the epoch limit). Count the 'patience' rows, e.g. `(runs.stopped_by == 'patience').sum()`.",
        solution='answer = int((runs.stopped_by == "patience").sum())',
        expected=_stopped_early, kind="exact", needs=("runs",),
        explain="{expected} Alices stopped early; the others ran to the epoch cap — they may not have converged, "
                "which the protocol-health checks (D1, D2) count."),
    Exercise(
        id="03.3",
        question="The cnn Alice trained with Adam: mean accuracy intact minus with her own panel randomised, to "
                 "3 decimals.",
        hint="Keep the rows of `panels` with arch 'cnn' and optimizer 'adam'; average `acc - acc_alice_randomised` "
             "over them (the seeds).",
        solution=('cnn_adam = panels[(panels.arch == "cnn") & (panels.optimizer == "adam")]\n'
                  "answer = round((cnn_adam.acc - cnn_adam.acc_alice_randomised).mean(), 3)"),
        expected=_own_panel_drop, tolerance=DIFFERENCE_TOLERANCE, needs=("panels",),
        explain="She loses {expected:+.4f}. Compare it with her intact accuracy: a drop that takes her to chance "
                "means everything she knows about her label comes from her own panel."),
]
