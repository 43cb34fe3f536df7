"""Training the pending runs of a sweep: groups of Bobs built on shared frozen features, trained in
stacked loops world batch by world batch, each record stored as it is finished; and the local
backend that plans, trains and returns the table."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from reuse_utils.core.device import get_device
from reuse_utils.core.ids import derive_seed
from reuse_utils.core.workers import map_workers
from reuse_utils.experiments.grid import CODE_VERSION, bob_protocol, run_order, world_key
from reuse_utils.experiments.presets import Preset
from reuse_utils.experiments.records import RecordStore
from reuse_utils.experiments.sweep_context import SweepContext
from reuse_utils.experiments.sweep_options import SweepOptions
from reuse_utils.experiments.sweep_plan import (
    MAY_BE_NAN,
    PlannedRun,
    pending_groups,
    plan_runs,
    source_free_twins,
    valid_result,
)
from reuse_utils.generator import World, chance_accuracy
from reuse_utils.training import (
    BobTask,
    LayeredNet,
    bob_accuracy,
    bob_predictions,
    fit_selected_many,
    frozen_features,
    make_bob,
    split_accuracy,
    task_on_pairs,
)

__all__ = ["PreparedGroup", "prepare_group", "train_batch", "train_group", "train_batches", "open_store",
           "run_local"]


@dataclass
class PreparedGroup:
    """One (world, source, k) group ready to train: its Bobs, their data and the shared result fields."""

    members: list[PlannedRun]
    task: BobTask
    world: World
    source: LayeredNet
    source_key: str
    start: int
    train_part: object
    common: dict


def prepare_group(ctx: SweepContext, lead: PlannedRun, members: list[PlannedRun]) -> PreparedGroup:
    """The Bobs of ``lead``'s group (``members``: its modes) built on their source's frozen features,
    with the fields their records share."""
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
              "chance": chance_accuracy(y), "task_corr_measured": m["task_corr"],
              "feature_corr_measured": m["feature_corr"], "n_test": p.n_test, "n_val": len(task.val_y),
              "n_classes": world.test.num_classes_bob}
    return PreparedGroup(members, task, world, source, source_key, start, train_part, common)


def train_batch(ctx: SweepContext, groups: list[tuple[PlannedRun, list[PlannedRun]]],
                store: RecordStore) -> dict[str, dict]:
    """Train the pending runs of ``groups`` — each a lead and the other members of its (world, source,
    k) group (its modes), all at one depth — in one stacked loop over the learning-rate grid
    (:func:`reuse_utils.training.fit_selected_many`), each world on its own data and minibatch order
    and each Bob selected on his own validation split; store each record and return the results by
    record key."""
    preps = [prepare_group(ctx, lead, members) for lead, members in groups]
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


def train_batches(ctx: SweepContext, groups: dict[tuple, list[PlannedRun]], store: RecordStore, worlds: int,
                  progress: bool = False) -> dict[str, dict]:
    """Every pending group, ``worlds`` worlds at a time: within such a chunk (its worlds, Alices and
    frozen features built once) the groups that share dataset, architecture, n_bob and k train
    together (:func:`train_batch`): stacked where :func:`reuse_utils.training.selection.members_stack`
    (dense layers; convolutions on CUDA), else member by member, side by side on the CPU's cores."""
    from tqdm.auto import tqdm

    by_world: dict[tuple, list[tuple[PlannedRun, list[PlannedRun]]]] = {}
    for members in sorted(groups.values(), key=lambda ms: run_order(ms[0].run)):
        by_world.setdefault(world_key(members[0].run), []).append((members[0], members))
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


def open_store(cache_dir: Path) -> RecordStore:
    """The Bob record store under ``cache_dir`` (created; ``ValueError`` naming ``cache_dir`` when
    it is a file or cannot be made)."""
    if cache_dir.exists() and not cache_dir.is_dir():
        raise ValueError(f"cache_dir must be a folder; {str(cache_dir)!r} is a file")
    try:
        (cache_dir / "bob").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cache_dir {str(cache_dir)!r} is not a usable folder: {exc}") from exc
    return RecordStore(cache_dir / "bob", CODE_VERSION, valid_result, MAY_BE_NAN)


def _train_pending(ctx: SweepContext, plan: list[PlannedRun], store: RecordStore, options: SweepOptions,
                   worlds: int, progress: bool) -> tuple[dict[str, dict], dict[str, PlannedRun]]:
    """With ``batch_runs``: the Alices first, then every pending group world batch by world batch,
    then the :func:`source_free_twins` from their representatives. Results by record key, and the twins."""
    if not options.batch_runs:
        return {}, {}
    ctx.pretrain_alices(plan, options.alice_group)
    twins = source_free_twins(plan)
    done = train_batches(ctx, pending_groups([item for item in plan if item.key not in twins]), store, worlds,
                         progress)
    for item in plan:
        rep = twins.get(item.key)
        if rep is not None and item.key not in done:
            done[item.key] = ctx.twin_result(item, done[rep.key], store)
    return done, twins


def run_local(grid: dict | None, preset: Preset, cache_dir: Path, device: torch.device | str,
              options: SweepOptions, progress: bool) -> pd.DataFrame:
    """The local backend of :func:`reuse_utils.experiments.run_sweep`: plan, train what the cache
    lacks, and return one row per run (cached rows marked ``from_cache``)."""
    from tqdm.auto import tqdm

    dev = get_device(device)
    store = open_store(cache_dir)
    plan, skipped = plan_runs(grid, preset, store)
    worlds = options.worlds_at_once(dev.type)
    ctx = SweepContext(preset, dev, cache_dir, feature_cache=options.feature_cache,
                       memory_budget=options.memory_budget, accel=options.accel, worlds=worlds)
    store.warn_corrupt([item.lookup for item in plan], "sweep", stacklevel=4)
    done, twins = _train_pending(ctx, plan, store, options, worlds, progress)
    rows, emitted, trained = [], set(), 0
    for item in tqdm(plan, desc="Bob runs", disable=not progress or options.batch_runs):
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
                     "preset": preset.name, "device": str(dev),
                     "prefix_cache": ctx.prefixes.stats() if ctx.prefixes is not None else None})
    return df
