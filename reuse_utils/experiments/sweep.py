"""Cached, resumable experiment grids: one row per Bob run.

``run_sweep(grid, preset="quick")`` expands the grid (axes below; an omitted axis takes the
preset's default), trains each distinct Alice once (checkpointed), trains every Bob and stores
each result as its own JSON record keyed by a hash of its full configuration and
:data:`CODE_VERSION`. Re-running a finished sweep trains nothing; a sweep killed midway resumes
and loses no finished run; every write is atomic; a corrupt or incompatible cache entry is
reported (``UserWarning``), recomputed and overwritten — never used.

Axes: see :mod:`reuse_utils.experiments.grid`. The orchestration is four named steps:
:func:`plan_runs` (expand the grid, look every run up in the :class:`RecordStore`),
:func:`pending_groups` (which pending runs train together), :func:`train_group` (one group of
Bobs on one world and source, via :class:`SweepContext`), and the rows. Runs that would train the
same Bob — every layer re-initialised (``k = L``, ``reinit``) for several sources of one world —
train once (:func:`source_free_twins`).

Columns: every axis, plus ``n_layers``, ``bob_test_acc``, ``bob_test_acc_linked`` /
``bob_test_acc_unlinked`` (on the test samples the task dial linked / did not link; NaN where
empty), ``bob_train_acc`` (on his training part), ``bob_val_acc`` / ``bob_val_loss`` (on his
validation part, at the selected learning rate ``bob_lr`` and epoch ``bob_epoch`` — or, for a
convex head, L2 strength ``bob_l2`` — with ``bob_iters`` epochs or L-BFGS iterations run;
``stopped_by`` and ``selection_edge`` say how training stopped and whether the choice was at an
end of its grid: Bob is trained and selected by :class:`reuse_utils.training.BobProtocol`, never on
test data), ``n_val``,
``n_classes`` (Bob's), ``alice_test_acc`` (the source network's accuracy on Alice's test labels),
``alice_stopped_by`` / ``alice_epoch`` (how Alice's training stopped, the epoch she kept), ``chance`` (accuracy of the best constant prediction on Bob's test labels),
``task_corr_measured`` / ``feature_corr_measured`` (measured on the test pairs, see
:func:`reuse_utils.generator.measure_correlations`), ``n_test``, ``seconds`` (Bob's training
time), ``from_cache``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from reuse_utils.core.checks import is_integer
from reuse_utils.core.device import Accel, get_device
from reuse_utils.core.ids import derive_seed, stable_hash
from reuse_utils.core.lru import LRU
from reuse_utils.core.workers import map_workers
from reuse_utils.experiments.alices import AliceStore
from reuse_utils.experiments.grid import (
    CODE_VERSION,
    alice_config,
    arch_width,
    bob_config,
    bob_protocol,
    expand_grid,
    group_key,
    run_order,
)
from reuse_utils.experiments.presets import Preset, get_preset
from reuse_utils.experiments.records import Lookup, RecordStore, field_problem
from reuse_utils.generator import World, make_world, measure_correlations
from reuse_utils.training import (
    BobTask,
    LayeredNet,
    PrefixCache,
    bob_accuracy,
    bob_predictions,
    evaluate,
    fit_selected_many,
    frozen_features,
    make_bob,
    random_source,
    split_accuracy,
    task_on_pairs,
)
from reuse_utils.training.selection import STOPS

__all__ = ["run_sweep", "plan_runs", "pending_groups", "train_group", "SweepContext", "PlannedRun",
           "RESULT_KEYS", "PROTOCOL_KEYS", "valid_result"]

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
        if item.lookup.result is not None or item.config["mode"] != "reinit" or run["k"] != run["n_layers"]:
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


class SweepContext:
    """What the runs of one sweep share: device, worlds, sources (Alices, random nets), measured
    correlations and the frozen-prefix cache — each built once and kept within bounded memory. A
    prefix is computed from the deepest shallower one the cache holds (depths train deepest k first),
    so each frozen layer runs once per world and source."""

    def __init__(self, preset: Preset, device: torch.device, cache_dir: Path, *, feature_cache: bool,
                 memory_budget: int | None, accel: Accel | None, worlds: int = 1):
        self.preset, self.device, self.accel = preset, device, accel
        self.bf16 = (accel or Accel()).resolve(device).bf16
        self.prefixes = PrefixCache(device, memory_budget) if feature_cache else None
        self.alices = AliceStore(cache_dir, device, progress=False, memory=worlds + 3, accel=accel)
        self.worlds: LRU[World] = LRU(worlds + 2)
        self.randoms: LRU[LayeredNet] = LRU(worlds + 3)
        self.measured: dict[tuple, dict] = {}

    def world(self, run: dict, task_corr: float | None = None, feature_corr: float | None = None, *,
              with_alice: bool = False) -> World:
        """The run's world (Bob's training and the test pairs; Alice's pairs too when ``with_alice``:
        only needed to train her, and the largest part at full-dataset scale)."""
        t = run["task_corr"] if task_corr is None else task_corr
        f = run["feature_corr"] if feature_corr is None else feature_corr
        n_alice = run["n_alice"] if with_alice else None
        key = (run["dataset"], t, f, run["seed"], n_alice, run["n_bob"])
        return self.worlds.get_or_build(key, lambda: make_world(
            run["dataset"], t, f, run["seed"], n_alice=n_alice, n_bob=run["n_bob"], n_test=self.preset.n_test))

    def source(self, run: dict, config: dict, world: World) -> tuple[LayeredNet, str, float, dict]:
        """The network Bob reuses, its cache identity, its accuracy on Alice's test labels and how her
        training stopped (``alice_stopped_by``: ``"patience"``/``"cap"``, ``"none"`` for a random
        network; ``alice_epoch``: the epoch whose weights she kept, 0 for a random network)."""
        if run["source"] == "alice":
            acfg = alice_config(run, self.preset)
            same = run["alice_world"] == "same"
            alice_world = world if same else self.world(run, 0.0, 0.0)
            model, meta = self.alices.get(acfg, alice_world, lambda: self.world(
                run, None if same else 0.0, None if same else 0.0, with_alice=True))
            acc = meta["alice_test_acc"] if same else evaluate(model, world.test, "alice")
            stop = {"alice_stopped_by": meta.get("stopped_by", "cap"),
                    "alice_epoch": int(meta.get("best_epoch", len(model.train_history)))}
            return model, stable_hash(acfg), float(acc), stop
        shape = world.test.input_shape
        model = self.randoms.get_or_build((run["arch"], run["seed"], shape), lambda: random_source(
            run["arch"], shape, world.test.num_classes_alice, derive_seed("random-source", run["seed"]),
            width=arch_width(run["arch"], self.preset)).place(self.device))
        return (model, stable_hash(config["source"]), float(evaluate(model, world.test, "alice")),
                {"alice_stopped_by": "none", "alice_epoch": 0})

    def pretrain_alices(self, plan: list[PlannedRun], group: int | None = None) -> int:
        """Train, together (:meth:`AliceStore.train_missing`), every Alice that a pending run of ``plan``
        needs and the cache lacks; returns how many."""
        wanted = []
        for item in plan:
            run = item.run
            if item.lookup.result is None and run["source"] == "alice":
                acfg = alice_config(run, self.preset)
                wanted.append((acfg, lambda acfg=acfg, run=run: make_world(
                    run["dataset"], acfg["task_corr"], acfg["feature_corr"], run["seed"], n_alice=run["n_alice"],
                    n_bob=run["n_bob"], n_test=self.preset.n_test)))
        return self.alices.train_missing(wanted, group)

    def twin_result(self, item: PlannedRun, result: dict, store: RecordStore) -> dict:
        """Store and return ``result`` (a :func:`source_free_twins` representative's) for ``item``, with
        ``item``'s own source's ``alice_test_acc`` and ``seconds`` 0 (it trained nothing)."""
        world = self.world(item.run)
        _, _, acc, stop = self.source(item.run, item.config, world)
        mine = {**result, "alice_test_acc": acc, **stop, "seconds": 0.0}
        store.write(item.config, mine, run=item.run)
        return mine

    def measures(self, run: dict, world: World) -> dict:
        key = (run["dataset"], run["task_corr"], run["feature_corr"], run["seed"], self.preset.n_test)
        if key not in self.measured:
            self.measured[key] = measure_correlations(world.test)
        return self.measured[key]

    def features(self, source: LayeredNet, source_key: str, start: int, run: dict,
                 world: World, roles: tuple[str, ...] = ("train", "test")) -> dict[str, torch.Tensor]:
        """Frozen-prefix activations of Bob's training and/or test inputs (shared across runs)."""
        feats: dict[str, torch.Tensor] = {}
        if self.prefixes is None or start == 0:
            return feats
        wkey = (run["dataset"], run["task_corr"], run["feature_corr"], run["seed"], run["n_bob"], self.preset.n_test)
        for role, pairs in (("train", world.bob_train), ("test", world.test)):
            if role not in roles:
                continue

            def compute(pairs=pairs, role=role):  # from the deepest shallower prefix held, else the inputs
                for begin in range(start - 1, 0, -1):
                    held = self.prefixes.peek((source_key, begin, role, wkey))
                    if held is not None:
                        return frozen_features(source, held, start, self.device, bf16=self.bf16, begin=begin)
                return frozen_features(source, pairs.x, start, self.device, bf16=self.bf16)

            value = self.prefixes.get((source_key, start, role, wkey), compute)
            if value is not None:
                feats[role] = value
        return feats


@dataclass
class _Prepared:
    """One (world, source, k) group ready to train: its Bobs, their data and the shared result fields."""

    members: list[PlannedRun]
    task: BobTask
    world: World
    source: LayeredNet
    source_key: str
    start: int
    train_part: object
    common: dict


def _prepare(ctx: SweepContext, lead: PlannedRun, members: list[PlannedRun]) -> _Prepared:
    run, p, dev = lead.run, ctx.preset, ctx.device
    world = ctx.world(run)
    source, source_key, alice_acc, alice_stop = ctx.source(run, lead.config, world)
    m = ctx.measures(run, world)
    start = run["n_layers"] - run["k"]
    feats = ctx.features(source, source_key, start, run, world, roles=("train",))
    full = feats.get("train")
    if full is None:
        full = frozen_features(source, world.bob_train.x, start, dev, bf16=ctx.bf16) if start else world.bob_train.x
    members = sorted(members, key=lambda item: item.key != lead.key)  # the lead first
    bobs = [make_bob(source, item.run["k"], item.config["mode"], world.bob_train.num_classes_bob,
                     derive_seed("bob", item.run["seed"], item.run["k"], item.config["mode"])) for item in members]
    task, train_part = task_on_pairs(bobs, [item.config["mode"] for item in members], world.bob_train, full,
                                     bob_protocol(p).val_fraction, derive_seed("bob-train", run["seed"]))
    y = world.test.y_bob
    common = {"n_layers": run["n_layers"], "alice_test_acc": alice_acc, **alice_stop,
              "chance": float(torch.bincount(y).max()) / len(y), "task_corr_measured": m["task_corr"],
              "feature_corr_measured": m["feature_corr"], "n_test": p.n_test, "n_val": len(task.val_y),
              "n_classes": world.test.num_classes_bob}
    return _Prepared(members, task, world, source, source_key, start, train_part, common)


def train_batch(ctx: SweepContext, groups: list[tuple[PlannedRun, list[PlannedRun]]],
                store: RecordStore) -> dict[str, dict]:
    """Train the pending runs of ``groups`` — each a lead and the other members of its (world, source,
    k) group (its modes), all at one depth — in one stacked loop over the learning-rate grid
    (:func:`reuse_utils.training.fit_selected_many`), each world on its own data and minibatch order
    and each Bob selected on his own validation split; store each record and return the results by
    record key."""
    preps = [_prepare(ctx, lead, members) for lead, members in groups]
    t0 = time.perf_counter()
    chosen = fit_selected_many([prep.task for prep in preps], bob_protocol(ctx.preset), ctx.device, ctx.accel)
    seconds = (time.perf_counter() - t0) / sum(len(prep.task.bobs) for prep in preps)
    results = {}
    for prep, sels in zip(preps, chosen, strict=True):
        world, start = prep.world, prep.start
        # test activations one world at a time (held for every world of a batch they outgrow the GPU)
        test_x = ctx.features(prep.source, prep.source_key, start, prep.members[0].run, world, roles=("test",)).get("test")
        scores = map_workers(lambda bob, prep=prep, test_x=test_x: (
            split_accuracy(bob_predictions(bob, prep.world.test, test_x, prep.start), prep.world.test),
            bob_accuracy(bob, prep.train_part, prep.task.train_x if prep.start else None, prep.start)),
            prep.task.bobs, ctx.device)
        for item, sel, (test, train_acc) in zip(prep.members, sels, scores, strict=True):
            result = {**prep.common, "seconds": seconds, "bob_test_acc": test["all"],
                      "bob_test_acc_linked": test["linked"], "bob_test_acc_unlinked": test["unlinked"],
                      "bob_train_acc": train_acc,
                      **sel.fields()}
            store.write(item.config, result, run=item.run)
            results[item.key] = result
    return results


def train_group(ctx: SweepContext, lead: PlannedRun, members: list[PlannedRun],
                store: RecordStore) -> dict[str, dict]:
    """Train ``lead`` and the other pending ``members`` of its group (its modes): :func:`train_batch`
    of one group."""
    return train_batch(ctx, [(lead, members)], store)


def batch_worlds(device: torch.device, requested: int | None = None) -> int:
    """How many worlds are held (built, with their sources and frozen features) and trained together
    at once: ``requested`` (≥ 1), else 64 on CUDA (a batch costs about the same for 10 or 64 worlds:
    it is bound by kernel launches) and 32 elsewhere."""
    if requested is not None:
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
            raise ValueError(f"bob_worlds must be an integer ≥ 1 or None; got {requested!r}")
        return requested
    return 64 if device.type == "cuda" else 32


def train_batches(ctx: SweepContext, groups: dict[tuple, list[PlannedRun]], store: RecordStore, worlds: int,
                  progress: bool = False) -> dict[str, dict]:
    """Every pending group, ``worlds`` worlds at a time: within such a chunk (its worlds, Alices and
    frozen features built once) the groups that share dataset, architecture, n_bob and k train
    together (:func:`train_batch`): stacked where :func:`reuse_utils.training.selection.members_stack`
    (dense layers; convolutions on CUDA), else member by member, side by side on the CPU's cores."""
    from tqdm.auto import tqdm

    by_world: dict[tuple, list[tuple[PlannedRun, list[PlannedRun]]]] = {}
    for members in sorted(groups.values(), key=lambda ms: run_order(ms[0].run)):
        by_world.setdefault(tuple(members[0].run[a] for a in WORLD_AXES), []).append((members[0], members))
    keys = list(by_world)
    done: dict[str, dict] = {}
    with tqdm(total=sum(len(ms) for ms in groups.values()), desc="Bob runs", disable=not progress) as bar:
        for lo in range(0, len(keys), worlds):
            buckets: dict[tuple, list] = {}
            for wk in keys[lo: lo + worlds]:
                for lead, members in by_world[wk]:
                    r = lead.run
                    buckets.setdefault((r["dataset"], r["arch"], r["n_bob"], r["k"]), []).append((lead, members))
            for bucket in sorted(buckets, key=lambda b: -b[3]):  # deepest k first: shallow prefixes feed deeper ones
                batch = buckets[bucket]
                done.update(train_batch(ctx, batch, store))
                bar.update(sum(len(ms) for _, ms in batch))
    return done


BACKENDS = ("local", "ray")
WORLD_AXES = ("dataset", "arch", "alice_optimizer", "alice_world", "task_corr", "feature_corr", "seed", "n_alice",
              "n_bob")


def world_grids(plan: list[PlannedRun]) -> list[dict]:
    """The pending runs of ``plan`` as one grid per world and Alice (every run that shares one
    world, one Alice and one random source): the unit of work a distributed backend sends out."""
    groups: dict[tuple, dict[str, set]] = {}
    for item in plan:
        if item.lookup.result is not None:
            continue
        key = tuple(item.run[a] for a in WORLD_AXES)
        g = groups.setdefault(key, {"k": set(), "mode": set(), "source": set()})
        g["k"].add(item.run["k"])
        g["mode"].add(item.run["mode"])
        g["source"].add(item.run["source"])
    return [{**{a: [v] for a, v in zip(WORLD_AXES, key, strict=True)},
             **{name: sorted(vals) for name, vals in g.items()}} for key, g in groups.items()]


def _ray_sweep(grids: list[dict], preset: Preset, cache_dir: Path, device: str, gpu_fraction: float) -> None:
    """Run every world grid as one Ray task that writes its records to the shared ``cache_dir``."""
    try:
        import ray
    except ImportError as exc:
        raise ValueError("backend='ray' needs Ray: pip install -e '.[ray]'") from exc
    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)

    @ray.remote(num_gpus=gpu_fraction)
    def one(grid: dict) -> int:
        return len(run_sweep(grid, preset=preset, cache_dir=cache_dir, progress=False, device=device))

    ray.get([one.remote(g) for g in grids])


def run_sweep(grid: dict | None = None, *, preset: str | Preset = "quick",
              cache_dir: str | Path = "results/cache", progress: bool = True,
              device: str | torch.device = "auto", feature_cache: bool = True,
              memory_budget: int | None = None, batch_runs: bool = True,
              accel: Accel | None = None, backend: str = "local", gpu_fraction: float = 0.25,
              alice_group: int | None = None, bob_worlds: int | None = None) -> pd.DataFrame:
    """Run (or load from cache) every Bob run of ``grid``; see the module docstring.

    ``feature_cache``: share frozen-prefix activations (Bob's training and test inputs) across the
    runs that use the same source and depth (:class:`reuse_utils.training.PrefixCache`), within
    ``memory_budget`` bytes (None → 25% of free memory); results are identical either way.
    ``batch_runs``: train the runs that share depth k — their modes and learning rates, across
    ``bob_worlds`` worlds (seeds × correlation levels; None: :func:`batch_worlds`) — in one stacked
    loop with ``vmap`` (:func:`reuse_utils.training.fit_selected_many`), each world on its own data
    and minibatch order; equal to training them apart up to float rounding.
    With ``batch_runs`` the Alices the pending runs need are trained first, ``alice_group`` at a time
    stacked (:func:`reuse_utils.training.train_alices`; None: the device's default), each equal to
    its one-at-a-time training up to float rounding.
    ``accel``: channels_last / bf16 / torch.compile switches (:class:`reuse_utils.core.Accel`;
    default: channels_last and bf16 on CUDA only, compile off).
    ``backend="ray"``: each world (with its Alice) is one Ray task (``gpu_fraction`` of a GPU each when
    CUDA is there) on the running cluster, or a local one started for the call; the tasks write the
    same hash-keyed records to the shared ``cache_dir``, and the returned DataFrame is read from it —
    equal to the local backend's (``from_cache`` aside). Install with ``pip install -e '.[ray]'``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}; got {backend!r}")
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise ValueError(f"cache_dir must be a folder path (str or Path); got {cache_dir!r}")
    if memory_budget is not None and (not is_integer(memory_budget) or memory_budget < 0):
        raise ValueError(f"memory_budget must be None (25% of free memory) or an integer ≥ 0 (bytes); "
                         f"got {memory_budget!r}")
    if alice_group is not None and (not is_integer(alice_group) or alice_group < 1):
        raise ValueError(f"alice_group must be an integer ≥ 1 or None (the device's default); got {alice_group!r}")
    if backend == "ray":
        p = get_preset(preset)
        cache = Path(cache_dir)
        plan, _ = plan_runs(grid, p, RecordStore(cache / "bob", CODE_VERSION, valid_result, MAY_BE_NAN))
        dev = get_device(device)
        _ray_sweep(world_grids(plan), p, cache, str(dev), gpu_fraction if dev.type == "cuda" else 0.0)
        df = run_sweep(grid, preset=p, cache_dir=cache, progress=progress, device=dev, feature_cache=feature_cache,
                       memory_budget=memory_budget, batch_runs=batch_runs, accel=accel)
        df.attrs["backend"] = "ray"
        return df
    from tqdm.auto import tqdm

    p = get_preset(preset)
    dev = get_device(device)
    cache = Path(cache_dir)
    if cache.exists() and not cache.is_dir():
        raise ValueError(f"cache_dir must be a folder; {str(cache)!r} is a file")
    try:
        (cache / "bob").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cache_dir {str(cache)!r} is not a usable folder: {exc}") from exc
    store = RecordStore(cache / "bob", CODE_VERSION, valid_result, MAY_BE_NAN)
    plan, skipped = plan_runs(grid, p, store)
    worlds = batch_worlds(dev, bob_worlds) if batch_runs else 1
    ctx = SweepContext(p, dev, cache, feature_cache=feature_cache, memory_budget=memory_budget, accel=accel,
                       worlds=worlds)
    for key, why in {item.key: item.lookup.why for item in plan if item.lookup.corrupt}.items():
        warnings.warn(f"Corrupt or incompatible sweep record {store.path(key)} ({why}); recomputing.", stacklevel=2)
    done: dict[str, dict] = {}
    twins: dict[str, PlannedRun] = {}
    if batch_runs:
        ctx.pretrain_alices(plan, alice_group)
        twins = source_free_twins(plan)
        done = train_batches(ctx, pending_groups([item for item in plan if item.key not in twins]), store, worlds,
                             progress)
        for item in plan:
            rep = twins.get(item.key)
            if rep is not None and item.key not in done:
                done[item.key] = ctx.twin_result(item, done[rep.key], store)
    rows, emitted, trained = [], set(), 0
    for item in tqdm(plan, desc="Bob runs", disable=not progress or batch_runs):
        if item.lookup.result is not None:
            rows.append({**item.run, **item.lookup.result, "from_cache": True})
            continue
        if item.key not in done:
            done.update(train_group(ctx, item, [item], store))
        repeat = item.key in emitted  # a repeated configuration (k = 1 finetune) reads the first back
        trained += not repeat and item.key not in twins
        emitted.add(item.key)
        rows.append({**item.run, **done[item.key], "from_cache": repeat})
    df = pd.DataFrame(rows)
    df.attrs.update({"skipped": skipped, "alices_trained": ctx.alices.trained, "bobs_trained": trained,
                     "preset": p.name, "device": str(dev),
                     "prefix_cache": ctx.prefixes.stats() if ctx.prefixes is not None else None})
    return df
