"""Bob's accuracy relative to his references at the same (t, α): training from scratch and the
random-init control.

An overlay makes Bob's own task harder (part of his panel is Alice's image), so raw accuracy
along the feature axis mixes two effects; the gains isolate what reusing Alice's network adds.
"""

from __future__ import annotations

import pandas as pd

from reuse_utils.experiments.grid import WORLD_AXES

__all__ = ["transfer_gains"]

WORLD = list(WORLD_AXES)


def transfer_gains(df: pd.DataFrame) -> pd.DataFrame:
    """One row per Alice-sourced run of ``df`` (a sweep table) that keeps something of Alice, with

    * ``scratch_acc``: Bob's accuracy at k = L, reinit (his whole network trained from scratch) in
      the same world and seed; ``gain_vs_scratch`` = ``bob_test_acc`` − ``scratch_acc``;
    * ``random_acc``: the random-init control at the same k and mode (NaN when the sweep has none);
      ``gain_vs_random`` = ``bob_test_acc`` − ``random_acc``.

    ``ValueError`` when the sweep holds no scratch run to compare with.
    """
    alice = df[df.source == "alice"]
    scratch = alice[(alice.k == alice.n_layers) & (alice["mode"] == "reinit")]
    if scratch.empty:
        raise ValueError("df holds no scratch run (source 'alice', k = L, mode 'reinit'); add k='L' to the sweep")
    scratch = scratch[WORLD + ["bob_test_acc"]].rename(columns={"bob_test_acc": "scratch_acc"})
    random = df[df.source == "random"][WORLD + ["k", "mode", "bob_test_acc"]].rename(
        columns={"bob_test_acc": "random_acc"})
    keep = alice[~((alice.k == alice.n_layers) & (alice["mode"] == "reinit"))]
    out = keep.merge(scratch, on=WORLD, how="inner").merge(random, on=WORLD + ["k", "mode"], how="left")
    out["gain_vs_scratch"] = out.bob_test_acc - out.scratch_acc
    out["gain_vs_random"] = out.bob_test_acc - out.random_acc
    return out.reset_index(drop=True)
