"""What the runs of one sweep share while they train: device, worlds, source networks, measured
correlations and frozen-prefix activations, each built once within bounded memory."""

from __future__ import annotations

from pathlib import Path

import torch

from reuse_utils.core.device import Accel
from reuse_utils.core.ids import derive_seed, stable_hash
from reuse_utils.core.lru import LRU
from reuse_utils.experiments.alices import AliceStore
from reuse_utils.experiments.grid import alice_config, arch_width, data_key
from reuse_utils.experiments.presets import Preset
from reuse_utils.experiments.records import RecordStore
from reuse_utils.experiments.sweep_plan import PlannedRun
from reuse_utils.generator import World, make_world, measure_correlations
from reuse_utils.training import LayeredNet, PrefixCache, evaluate, frozen_features, random_source

__all__ = ["SweepContext"]


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
        key = (*data_key({**run, "task_corr": t, "feature_corr": f}), n_alice)
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
                    "alice_epoch": int(meta.get("best_epoch", len(model.record.history)))}
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
        key = (run["dataset"], run["task_corr"], run["feature_corr"], run["seed"], self.preset.n_test)  # the test pairs
        if key not in self.measured:
            self.measured[key] = measure_correlations(world.test)
        return self.measured[key]

    def features(self, source: LayeredNet, source_key: str, start: int, run: dict,
                 world: World, roles: tuple[str, ...] = ("train", "test")) -> dict[str, torch.Tensor]:
        """Frozen-prefix activations of Bob's training and/or test inputs (shared across runs)."""
        feats: dict[str, torch.Tensor] = {}
        if self.prefixes is None or start == 0:
            return feats
        wkey = (*data_key(run), self.preset.n_test)
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
