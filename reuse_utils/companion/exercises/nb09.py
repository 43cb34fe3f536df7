"""Exercises of notebook 09 (what the depth reveals): the task correlation recovered from one held-out
seed's validation curve, how much the map beats a constant guess (C4b's effect, for one n_bob), and
which transferability estimator ranks Bob's depths best (C8)."""

from __future__ import annotations

import pandas as pd

from reuse_utils.analysis.stats import loso_monotone_map
from reuse_utils.companion.exercises import DIFFERENCE_TOLERANCE, Exercise


def _loso(sig: pd.DataFrame, P) -> pd.DataFrame:
    """The leave-one-seed-out map Δ_val → t at the preset's n_bob."""
    return loso_monotone_map(sig[sig.n_bob == P.n_bob], "delta_val", "task_corr")


def _recovered_t(sig: pd.DataFrame, P) -> float:
    rows = _loso(sig, P)
    row = rows[(rows.seed == sig.seed.min()) & (rows.task_corr == sig.task_corr.max())]
    return float(row.pred.iloc[0])


def _map_beats_constant(sig: pd.DataFrame, P) -> float:
    rows = _loso(sig, P)
    return float((rows.const - rows.task_corr).abs().mean() - (rows.pred - rows.task_corr).abs().mean())


def _best_estimator(table: pd.DataFrame) -> str:
    return str(table[table.feature_corr == 0].groupby("score").tau.mean().idxmax())


EXERCISES = [
    Exercise(
        id="09.1",
        question="The t recovered from Δ_val for the held-out seed sig.seed.min() at the highest task correlation, "
                 "with P.n_bob training pairs (map fitted on the other seeds), to 3 decimals.",
        hint="`loso` holds one row per held-out seed's world with the map's prediction in `pred`: keep the row with "
             "`seed == sig.seed.min()`, `task_corr == sig.task_corr.max()` and `n_bob == P.n_bob`, and read `pred`.",
        solution=('row = loso[(loso.seed == sig.seed.min()) & (loso.task_corr == sig.task_corr.max())\n'
                  '           & (loso.n_bob == P.n_bob)]\n'
                  'answer = round(float(row.pred.iloc[0]), 3)'),
        expected=_recovered_t, tolerance=6e-4, needs=("sig", "P"),
        explain="The map recovers t̂ = {expected:.4f}. It never saw this seed: the isotonic map was fitted on the "
                "other seeds' (Δ_val, t) pairs, so the gap to the true t is an honest prediction error."),
    Exercise(
        id="09.2",
        question="With P.n_bob training pairs: the constant guess's mean |t̂ − t| minus the map's, over the held-out "
                 "seeds' worlds, to 3 decimals.",
        hint="Keep the rows of `loso` with `n_bob == P.n_bob`; average `(const - task_corr).abs()` and "
             "`(pred - task_corr).abs()` over them and subtract the second from the first.",
        solution=('rows = loso[loso.n_bob == P.n_bob]\n'
                  'const_err = (rows.const - rows.task_corr).abs().mean()\n'
                  'map_err = (rows.pred - rows.task_corr).abs().mean()\n'
                  'answer = round(const_err - map_err, 3)'),
        expected=_map_beats_constant, tolerance=DIFFERENCE_TOLERANCE, needs=("sig", "P"),
        explain="The difference is {expected:+.4f} in t (positive: the map's t̂ lands closer to the truth than the "
                "constant guess). C4b's primary effect is this difference per held-out "
                "seed, averaged over conditions, with a permutation test of whether it beats chance."),
    Exercise(
        id="09.3",
        question="The estimator ('logme', 'hscore' or 'hscore_lw') with the highest mean Kendall τ_b over the worlds "
                 "of the main sweep (α = 0).",
        hint="Keep the rows of `table` with `feature_corr == 0`; group them by `score`, average `tau`, and take "
             "the name with the largest mean (`.idxmax()`).",
        solution='answer = table[table.feature_corr == 0].groupby("score").tau.mean().idxmax()',
        expected=_best_estimator, kind="exact", needs=("table",),
        explain="{expected} orders Alice's cuts most like Bob's trained accuracy does. Whether that is worth "
                "computing depends on the featureless prior: a rule of thumb from other runs that uses no features."),
]
