"""Exercises of notebook 07 (case study: dog vs cat): Bob's gain over scratch, the depth he chooses on
validation data, and what Alice's training adds beyond her architecture (the random-init control)."""

from __future__ import annotations

import pandas as pd

from reuse_utils.companion.exercises import DIFFERENCE_TOLERANCE, Exercise


def _reinit(df: pd.DataFrame, source: str) -> pd.Series:
    """Bob's mean test accuracy (over seeds) per k, reinit, on ``source``'s network."""
    d = df[(df.source == source) & (df["mode"] == "reinit")]
    return d.groupby("k").bob_test_acc.mean()


def _gain_over_scratch(df: pd.DataFrame) -> float:
    acc = _reinit(df, "alice")
    return float(acc[1] - acc[int(df.n_layers.max())])


def _k_on_validation(df: pd.DataFrame) -> int:
    val = df[df.source == "alice"].groupby(["k", "mode"]).bob_val_acc.mean()
    return int(val.idxmax()[0])  # groupby sorts k ascending: the first maximum has the smallest k


def _alice_minus_control(df: pd.DataFrame) -> float:
    return float(_reinit(df, "alice")[1] - _reinit(df, "random")[1])


EXERCISES = [
    Exercise(
        id="07.1",
        question="Bob's mean gain of k = 1 (reinit, Alice's network) over scratch (k = L), to 3 decimals.",
        hint="Keep the rows of `df` with source 'alice' and mode 'reinit'; average `bob_test_acc` per `k` over "
             "seeds (`groupby('k')`) and subtract the mean at k = L from the mean at k = 1.",
        solution=('alice = df[(df.source == "alice") & (df["mode"] == "reinit")]\n'
                  'acc = alice.groupby("k").bob_test_acc.mean()\n'
                  'answer = round(acc[1] - acc[L], 3)'),
        expected=_gain_over_scratch, tolerance=DIFFERENCE_TOLERANCE, needs=("df",),
        explain="The gain is {expected:+.4f}. Positive: Alice's frozen features beat Bob's own network trained "
                "on his few images; negative: scratch wins. On stand-in data this illustrates the method only."),
    Exercise(
        id="07.2",
        question="The k Bob chooses on Alice's network: the (k, mode) with the highest mean validation accuracy "
                 "(smallest k if several tie).",
        hint="Keep the rows with source 'alice'; group them by `['k', 'mode']`, average `bob_val_acc` (validation, "
             "not `bob_test_acc`) and take `.idxmax()`: a pair (k, mode) whose first element is the answer.",
        solution=('val = df[df.source == "alice"].groupby(["k", "mode"]).bob_val_acc.mean()\n'
                  'answer = int(val.idxmax()[0])'),
        expected=_k_on_validation, kind="exact", needs=("df",),
        explain="Bob retrains k = {expected} layers. The test data played no part in the choice, so his test "
                "accuracy at that k is an honest estimate of what he deploys."),
    Exercise(
        id="07.3",
        question="At k = 1 (reinit), Bob's mean test accuracy on Alice's layers minus on the random-init "
                 "control's, to 3 decimals.",
        hint="Average `bob_test_acc` over seeds at k = 1 with mode 'reinit', once for source 'alice' and once for "
             "source 'random', and subtract the second from the first.",
        solution=('k1 = df[(df.k == 1) & (df["mode"] == "reinit")].groupby("source").bob_test_acc.mean()\n'
                  'answer = round(k1["alice"] - k1["random"], 3)'),
        expected=_alice_minus_control, tolerance=DIFFERENCE_TOLERANCE, needs=("df",),
        explain="The difference is {expected:+.4f}: what Alice's training contributes beyond a network of her "
                "shape with random weights. Near zero, a frozen random network serves Bob as well as hers."),
]
