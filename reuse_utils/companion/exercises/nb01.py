"""Exercises of notebook 01 (the linear model): Alice's optimal weight on Bob's feature from the
closed form, Bob's refit accuracy as the mirror of the unchanged one, and the deep Bob against the
linear model's refit closed form in the GLM world."""

from __future__ import annotations

import pandas as pd

from reuse_utils.analysis import linear
from reuse_utils.companion.exercises import DIFFERENCE_TOLERANCE, Exercise


def _weight_on_bob(NOISE: float) -> float:  # noqa: N803 - the notebook's name
    return float(linear.alice_optimal_weights(0.9, 1, "pairwise", NOISE)[1])


def _refit_at_most_negative(bob: pd.DataFrame, alpha_grid, NOISE: float) -> float:  # noqa: N803
    return linear.closed_form_bob_accuracy(float(min(alpha_grid)), 4, "pairwise", NOISE, "refit")


def _deep_over_refit(deep: pd.DataFrame, P, NOISE: float) -> float:  # noqa: N803
    head = deep[deep.k == 1]
    top = head[head.feature_corr == head.feature_corr.max()]
    closed = linear.closed_form_bob_accuracy(float(top.feature_corr.iloc[0]), P.glm_dim, "pairwise", NOISE, "refit")
    return float(top.bob_test_acc.mean() - closed)


EXERCISES = [
    Exercise(
        id="01.1",
        question="At α = 0.9 and σ = NOISE (k = 1), the weight of Alice's unit-norm w* on Bob's feature x_B.",
        hint="Build w = [1 + σ² − α², α σ²] with σ = NOISE and α = 0.9, divide it by its length "
             "(`np.linalg.norm(w)`) and take the second entry.",
        solution=("w = np.array([1 + NOISE**2 - 0.9**2, 0.9 * NOISE**2])\n"
                  "answer = w[1] / np.linalg.norm(w)"),
        expected=_weight_on_bob, tolerance=5e-3, needs=("NOISE",),
        explain="Alice puts {expected:.3f} of her unit-norm weight on Bob's feature: nothing at α = 0, more as "
                "|α| grows — and only because her observations are noisy (set σ = 0 and it is 0)."),
    Exercise(
        id="01.2",
        question="Pairwise scenario, k = 4, at the most negative α of the sweep: Bob's closed-form accuracy with "
                 "the last layer refit.",
        hint="Read the unchanged closed form at α = `alpha_grid.min()` from `bob` (scenario 'pairwise', mode "
             "'unchanged', column `closed_form`). Unchanged is ½ + arcsin(ρ)/π, refit ½ + |arcsin ρ|/π: with "
             "ρ < 0 the refit accuracy is one minus the unchanged one.",
        solution=('low = bob[(bob.scenario == "pairwise") & (bob["mode"] == "unchanged") & (bob.alpha == alpha_grid.min())]\n'
                  "answer = 1 - low.closed_form.iloc[0]"),
        expected=_refit_at_most_negative, tolerance=1e-3, needs=("bob", "alpha_grid", "NOISE"),
        explain="Refitting the last layer gives Bob {expected:.3f}: the sign flip turns a below-chance model into "
                "its mirror image above chance."),
    Exercise(
        id="01.3",
        question="GLM world, largest α of the deep runs: the deep Bob's mean test accuracy (k = 1) minus the "
                 "linear model's refit closed form, to 3 decimals.",
        hint="Keep the rows of `deep` with k == 1 and feature_corr == its maximum; average `bob_test_acc` over "
             "seeds and subtract `ru.linear.closed_form_bob_accuracy(α, P.glm_dim, 'pairwise', NOISE, 'refit')` at that α.",
        solution=("top = deep[(deep.k == 1) & (deep.feature_corr == deep.feature_corr.max())]\n"
                  'closed = ru.linear.closed_form_bob_accuracy(top.feature_corr.iloc[0], P.glm_dim, "pairwise", NOISE, "refit")\n'
                  "answer = round(top.bob_test_acc.mean() - closed, 3)"),
        expected=_deep_over_refit, tolerance=DIFFERENCE_TOLERANCE, needs=("deep", "P", "NOISE"),
        explain="The deep Bob is {expected:+.4f} away from the one-dimensional refit: positive means his head, "
                "reading Alice's whole hidden layer, gets more out of her network than her single score would give."),
]
