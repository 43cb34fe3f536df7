"""Exercises of notebook 06 (attribution): read the attribution table — Alice's shift with the
overlay, attribution against reliance (C5's ρ), and which layer carries Bob's side."""

from __future__ import annotations

import pandas as pd

from reuse_utils.companion.exercises import DIFFERENCE_TOLERANCE, Exercise


def _alice_shift(table: pd.DataFrame) -> float:
    share = table[table.model == "alice"].groupby("feature_corr").bob_share.mean()
    return float(share.iloc[-1] - share.loc[0.0])


def _rho(table: pd.DataFrame) -> float:
    bobs = table[table.model != "alice"].dropna(subset=["bob_share", "bob_reliance"])
    return float(bobs.bob_share.corr(bobs.bob_reliance, method="spearman"))


def _top_layer(table: pd.DataFrame) -> str:
    alice = table[(table.model == "alice") & (table.feature_corr == table.feature_corr.max())]
    cols = [c for c in table.columns if c.startswith("layer:")]
    return str(alice[cols].mean().idxmax()).removeprefix("layer:")


EXERCISES = [
    Exercise(
        id="06.1",
        question="Alice's mean IG share on Bob's panel at the largest α minus at α = 0, to 3 decimals.",
        hint="Keep the rows of `table` with model 'alice', average `bob_share` per `feature_corr` (over seeds), "
             "and subtract the value at 0 from the value at the largest α.",
        solution=('share = table[table.model == "alice"].groupby("feature_corr").bob_share.mean()\n'
                  'answer = round(share.iloc[-1] - share.loc[0.0], 3)'),
        expected=_alice_shift, tolerance=DIFFERENCE_TOLERANCE, needs=("table",),
        explain="Her share moves by {expected:+.4f}: this is what the manipulation check M1 tests, seed by seed."),
    Exercise(
        id="06.2",
        question="Spearman's ρ between `bob_share` and `bob_reliance` across Bob's models, to 2 decimals.",
        hint="Keep the rows of `table` whose model is not 'alice'; `Series.corr(other, method='spearman')` "
             "ranks both columns and correlates the ranks.",
        solution=('bobs = table[table.model != "alice"]\n'
                  'answer = round(bobs.bob_share.corr(bobs.bob_reliance, method="spearman"), 2)'),
        expected=_rho, tolerance=6e-3, needs=("table",),
        explain="ρ = {expected:+.3f}. A positive ρ alone is not C5: its test asks whether the agreement goes "
                "beyond the trend both quantities share along the overlay dial."),
    Exercise(
        id="06.3",
        question="At the largest α, the layer whose mean Bob-side conductance share is largest for Alice.",
        hint="Keep Alice's rows at `feature_corr == table.feature_corr.max()`, average the `layer:` columns over "
             "seeds, take `.idxmax()` and strip the 'layer:' prefix (`str.removeprefix`).",
        solution=('alice = table[(table.model == "alice") & (table.feature_corr == table.feature_corr.max())]\n'
                  'layers = alice[[c for c in table.columns if c.startswith("layer:")]].mean()\n'
                  'answer = layers.idxmax().removeprefix("layer:")'),
        expected=_top_layer, kind="exact", needs=("table",),
        explain="{expected} carries most of Bob's side in Alice's network when the overlay is strongest."),
]
