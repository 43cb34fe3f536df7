"""The sweep's plan: every run of a grid with its record lookup, which pending runs train together,
which need no training of their own, and what a finished run's record must hold.

Result fields: see :mod:`reuse_utils.experiments.sweep`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reuse_utils.core.checks import is_integer
from reuse_utils.core.ids import stable_hash
from reuse_utils.experiments.grid import (
    WORLD_AXES,
    bob_config,
    expand_grid,
    group_key,
    keeps_nothing,
    run_order,
    world_key,
)
from reuse_utils.experiments.presets import Preset
from reuse_utils.experiments.records import Lookup, RecordStore, field_problem
from reuse_utils.training.selection import STOPS

__all__ = ["RESULT_KEYS", "MAY_BE_NAN", "PROTOCOL_KEYS", "PlannedRun", "valid_result", "plan_runs",
           "source_free_twins", "pending_groups", "world_grids"]

RESULT_KEYS = ("bob_test_acc", "bob_test_acc_linked", "bob_test_acc_unlinked", "bob_train_acc", "bob_val_acc",
               "bob_val_loss", "bob_lr", "bob_l2", "bob_epoch", "bob_iters", "alice_test_acc", "chance",
               "task_corr_measured", "feature_corr_measured", "seconds", "n_layers", "n_classes")
#: NaN allowed: an empty linked or unlinked part of the test pairs; a source network not scored on Alice's labels;
#: the learning rate of a convex head and the L2 strength of an SGD-trained Bob
MAY_BE_NAN = ("alice_test_acc", "bob_test_acc_linked", "bob_test_acc_unlinked", "bob_lr", "bob_l2")
#: How a record says its Bob was trained (besides the numbers): ``stopped_by`` and ``selection_edge``
PROTOCOL_KEYS = ("stopped_by", "selection_edge", "alice_stopped_by", "alice_epoch")


def valid_result(res: dict) -> bool:
    """A sweep result is usable when every result key is a number, NaN only in :data:`MAY_BE_NAN`;
    every accuracy, chance and measured correlation is in its range
    (:func:`~reuse_utils.experiments.records.field_problem`: [0, 1], [-1, 1]); the loss and seconds
    are not negative; counts are positive (≥ 2 classes); ``stopped_by`` is one of
    :data:`~reuse_utils.training.selection.STOPS` and ``selection_edge`` a bool; a convex head
    (``stopped_by`` ``"solver"`` or an L2 strength) has λ > 0 and epoch 0, an SGD-trained Bob a
    learning rate > 0 and epoch ≥ 1."""
    for key in RESULT_KEYS:
        v = res.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
        if math.isnan(v):
            if key not in MAY_BE_NAN:
                return False
        elif math.isinf(v):
            return False
    if res.get("stopped_by") not in STOPS or not isinstance(res.get("selection_edge"), bool):
        return False
    if res.get("alice_stopped_by") not in ("patience", "cap", "none") or not is_integer(res.get("alice_epoch")):
        return False
    convex = not math.isnan(res["bob_l2"])
    if convex != math.isnan(res["bob_lr"]):
        return False
    tuned_ok = (res["bob_l2"] > 0 and res["bob_epoch"] == 0) if convex else (res["bob_lr"] > 0 and res["bob_epoch"] >= 1)
    return (field_problem(res, MAY_BE_NAN) is None and tuned_ok and res["bob_iters"] >= 0
            and res["bob_val_loss"] >= 0 and res["seconds"] >= 0
            and res["n_layers"] >= 1 and res["n_classes"] >= 2)


@dataclass(frozen=True)
class PlannedRun:
    """One Bob run of the grid with its config and what the record store holds for it."""

    run: dict
    config: dict
    lookup: Lookup

    @property
    def key(self) -> str:
        return self.lookup.key


def plan_runs(grid: dict | None, preset: Preset, store: RecordStore) -> tuple[list[PlannedRun], int]:
    """Every run of ``grid`` in :func:`run_order`, each looked up once; and the number of dial
    combinations skipped."""
    runs, skipped = expand_grid(grid, preset)
    runs.sort(key=run_order)
    plan = []
    for run in runs:
        config = bob_config(run, preset)
        plan.append(PlannedRun(run, config, store.lookup(config)))
    return plan, skipped


def source_free_twins(plan: list[PlannedRun]) -> dict[str, PlannedRun]:
    """Pending runs that need no training of their own: a Bob with every layer re-initialised
    (``k = L``, ``reinit``) keeps nothing of his source — his weights are drawn from his own seed and
    he trains on his own world's data — so runs that differ only in the source (Alice's optimizer,
    her world, a random network) give the same Bob, bit for bit (tested). Returns each such run's
    record key → the first pending run it equals (trained as usual); the twin then takes that
    result with its own source's ``alice_test_acc`` and ``seconds`` 0."""
    first: dict[str, PlannedRun] = {}
    twins: dict[str, PlannedRun] = {}
    for item in plan:
        run = item.run
        if item.lookup.result is not None or not keeps_nothing(run["k"], item.config["mode"], run["n_layers"]):
            continue
        key = stable_hash({**item.config, "source": {"reinitialised": True, "dataset": run["dataset"],
                                                     "arch": run["arch"], "width": item.config["source"]["width"]}})
        rep = first.setdefault(key, item)
        if rep.key != item.key:
            twins[item.key] = rep
    return twins


def pending_groups(plan: list[PlannedRun]) -> dict[tuple, list[PlannedRun]]:
    """Runs still to train, grouped by :func:`group_key` (one entry per distinct record key)."""
    groups: dict[tuple, dict[str, PlannedRun]] = {}
    for item in plan:
        if item.lookup.result is None:
            groups.setdefault(group_key(item.run), {}).setdefault(item.key, item)
    return {g: list(members.values()) for g, members in groups.items()}


def world_grids(plan: list[PlannedRun]) -> list[dict]:
    """The pending runs of ``plan`` as one grid per world and Alice (every run that shares one
    world, one Alice and one random source): the unit of work a distributed backend sends out."""
    groups: dict[tuple, dict[str, set]] = {}
    for item in plan:
        if item.lookup.result is not None:
            continue
        key = world_key(item.run)
        g = groups.setdefault(key, {"k": set(), "mode": set(), "source": set()})
        g["k"].add(item.run["k"])
        g["mode"].add(item.run["mode"])
        g["source"].add(item.run["source"])
    return [{**{a: [v] for a, v in zip(WORLD_AXES, key, strict=True)},
             **{name: sorted(vals) for name, vals in g.items()}} for key, g in groups.items()]
