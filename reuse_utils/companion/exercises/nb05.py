"""Exercises of notebook 05 (lucky at zero correlation): Bob against chance and against the
random-init control at t = α = 0, and which Alice erases the weights her task never needed."""

from __future__ import annotations

import pandas as pd

from reuse_utils.companion.exercises import DIFFERENCE_TOLERANCE, Exercise


def _head(zero: pd.DataFrame) -> pd.DataFrame:
    """k = 1 at t = α = 0 on the cnn."""
    return zero[(zero.k == 1) & (zero.arch == "cnn") & (zero.task_corr == 0) & (zero.feature_corr == 0)]


def _above_chance(zero: pd.DataFrame) -> float:
    d = _head(zero)
    bob = d[(d.source == "alice") & (d.alice_optimizer == "adam")]
    return float((bob.bob_test_acc - bob.chance).mean())


def _over_control(zero: pd.DataFrame) -> float:
    d = _head(zero)
    bob = d[(d.source == "alice") & (d.alice_optimizer == "adam")].set_index("seed").bob_test_acc
    ctrl = d[d.source == "random"].drop_duplicates("seed").set_index("seed").bob_test_acc
    return float((bob - ctrl.reindex(bob.index)).mean())


def _most_erased(norms: pd.DataFrame) -> str:
    return "/".join(norms.groupby(["arch", "alice_optimizer"]).bob_vs_init.mean().idxmin())


EXERCISES = [
    Exercise(
        id="05.1",
        question="Head-only Bob (k = 1) on Alice's cnn trained with Adam at t = α = 0: mean test accuracy minus "
                 "chance, to 3 decimals.",
        hint="Keep the rows of `zero` with k == 1, arch 'cnn', source 'alice' and alice_optimizer 'adam' (one per "
             "seed); average `bob_test_acc - chance` over them.",
        solution=('bob = zero[(zero.k == 1) & (zero.arch == "cnn") & (zero.source == "alice") & (zero.alice_optimizer == "adam")]\n'
                  'answer = round((bob.bob_test_acc - bob.chance).mean(), 3)'),
        expected=_above_chance, tolerance=6e-4, needs=("zero",),
        explain="Bob's accuracy minus chance is {expected:+.4f}. Exercise 05.2 asks how much of that any untrained "
                "network of the same shape would give him too."),
    Exercise(
        id="05.2",
        question="The same Bob minus the random-init control (k = 1, untrained cnn), mean over seeds of the "
                 "paired differences, to 3 decimals.",
        hint="Average `bob_test_acc` per seed for the Alice rows of 05.1 and for the rows with source 'random' "
             "(k == 1, arch 'cnn'; `groupby('seed').mean()` collapses the control's copies), subtract the two "
             "Series (they align on the seed) and take the mean.",
        solution=('k1 = zero[(zero.k == 1) & (zero.arch == "cnn")]\n'
                  'bob = k1[(k1.source == "alice") & (k1.alice_optimizer == "adam")].groupby("seed").bob_test_acc.mean()\n'
                  'ctrl = k1[k1.source == "random"].groupby("seed").bob_test_acc.mean()\n'
                  'answer = round((bob - ctrl).mean(), 3)'),
        expected=_over_control, tolerance=DIFFERENCE_TOLERANCE, needs=("zero",),
        explain="The gain over the random-init control is {expected:+.4f}: this — not the distance to chance — "
                "is what Alice's training adds (C2's secondary)."),
    Exercise(
        id="05.3",
        question="Which Alice (\"arch/optimizer\") has the lowest mean `bob_vs_init` over seeds?",
        hint="Group `norms` by ['arch', 'alice_optimizer'], average `bob_vs_init`, take `.idxmin()` (a tuple) and "
             "join it with '/'.",
        solution=('ratio = norms.groupby(["arch", "alice_optimizer"]).bob_vs_init.mean()\n'
                  'answer = "/".join(ratio.idxmin())'),
        expected=_most_erased, kind="exact", needs=("norms",),
        explain="{expected} shrinks the Bob-panel weights the most. Is it one with weight decay, as the "
                "mechanism predicts?"),
]
