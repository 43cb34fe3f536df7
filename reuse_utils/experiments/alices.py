"""Alice checkpoints: trained once per configuration, stored as weights plus a JSON summary.

``<cache_dir>/alice/<stable_hash(config)>.pt`` holds the state dict with its SHA-256
(:func:`~reuse_utils.core.ids.tensors_digest`), the model spec, the config, the training history and
``meta`` (``alice_test_acc``, ``seconds``, and how her training stopped: ``stopped_by`` —
``"patience"`` or ``"cap"`` —, ``best_epoch``, ``epochs_run``); the ``.json`` beside it is a human-readable summary.
A checkpoint is used only when it loads, its config equals the requested one, its weights match
their checksum, and the loaded network's accuracy on the world's test pairs equals the stored
``alice_test_acc`` (within :data:`ACC_TOLERANCE`, which absorbs device rounding); anything else is
reported, deleted and retrained, never used. The last few Alices stay in memory (:class:`LRU`);
so do the last few checkpoints that :meth:`AliceStore.has` verified, until :meth:`AliceStore.get`
checks their accuracy (so that a checkpoint is read from disk once).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from reuse_utils.core.device import Accel
from reuse_utils.core.ids import stable_hash, tensors_digest
from reuse_utils.core.io import atomic_torch_save, atomic_write_json
from reuse_utils.core.lru import LRU
from reuse_utils.generator import World
from reuse_utils.training import (
    MAX_GROUP,
    LayeredNet,
    TrainConfig,
    TrainRecord,
    build_model,
    evaluate,
    train_alice,
    train_alices,
)

__all__ = ["AliceStore", "ACC_TOLERANCE", "recipe_key"]

ACC_TOLERANCE = 0.005  #: |recomputed − stored| Alice accuracy allowed on load (fraction)


class AliceStore:
    """Alice checkpoints (state dict + config JSON) under ``<cache_dir>/alice``, with an in-memory LRU."""

    def __init__(self, cache_dir: Path, device: torch.device, progress: bool = False, memory: int = 4,
                 accel: Accel | None = None):
        self.accel = accel
        self.dir = Path(cache_dir) / "alice"
        self.device = device
        self.progress = progress
        self.memory: LRU[tuple[LayeredNet, dict]] = LRU(memory)
        self.checked: LRU[tuple[LayeredNet, dict]] = LRU(memory)  # config + checksum verified
        self.trained = 0

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.dir / f"{key}.pt", self.dir / f"{key}.json"

    def _discard(self, pt: Path, why: str) -> None:
        warnings.warn(f"Corrupt or incompatible Alice checkpoint {pt} ({why}); retraining.", stacklevel=3)
        self.checked.pop(pt.stem)
        pt.unlink(missing_ok=True)

    def load(self, config: dict) -> tuple[LayeredNet, dict] | None:
        """The checkpointed Alice of ``config`` (memory first, then disk), or None. A disk entry is
        checked for its config and weight checksum here; :meth:`get` also checks its accuracy."""
        key = stable_hash(config)
        hit = self.memory.get(key)
        if hit is None:
            hit = self.checked.get(key)
        if hit is not None:
            return hit
        pt, _ = self.paths(key)
        if not pt.exists():
            return None
        try:
            blob = torch.load(pt, map_location="cpu", weights_only=True)
            if json.dumps(blob["config"], sort_keys=True) != json.dumps(config, sort_keys=True):
                raise ValueError("configuration differs from the requested one")
            if tensors_digest(blob["state_dict"]) != blob["sha256"]:
                raise ValueError("weights do not match their checksum")
            spec = blob["spec"]
            model = build_model(spec["arch"], tuple(spec["input_shape"]), spec["num_classes"], width=spec["width"])
            model.load_state_dict(blob["state_dict"], strict=True)
            meta = dict(blob["meta"])
            model.record = TrainRecord(history=list(blob["history"]), stopped_by=meta.get("stopped_by", "cap"),
                                       best_epoch=int(meta.get("best_epoch", len(blob["history"]))),
                                       final_test_acc=meta.get("alice_test_acc"))
        except Exception as exc:  # noqa: BLE001 - any failure means the entry is unusable
            self._discard(pt, str(exc))
            return None
        model.place(self.device).eval()
        self.checked.put(key, (model, meta))
        return model, meta

    def get(self, config: dict, world: World, with_alice=None) -> tuple[LayeredNet, dict]:
        """Alice for ``config`` trained on ``world.alice_train`` (loaded when checkpointed and verified).
        A world built without Alice's pairs is enough to load and verify her; ``with_alice()`` then
        returns the same world with her pairs in case she must be (re)trained."""
        key = stable_hash(config)
        in_memory = key in self.memory
        hit = self.load(config)
        if hit is not None and not in_memory:
            model, meta = hit
            acc = evaluate(model, world.test, "alice")
            stored = meta.get("alice_test_acc")
            if not isinstance(stored, (int, float)) or abs(acc - stored) > ACC_TOLERANCE:
                self._discard(self.paths(key)[0], f"its accuracy {acc:.4f} on the test pairs differs from the "
                                                  f"stored {stored!r}")
                hit = None
            else:
                self.memory.put(key, hit)
                self.checked.pop(key)
        if hit is not None:
            return hit
        if world.alice_train is None:
            if with_alice is None:
                raise ValueError("world has no Alice pairs to train her on; pass with_alice")
            world = with_alice()
        t0 = time.perf_counter()
        model = train_alice(world.alice_train, config["arch"], TrainConfig(**config["train"]), config["seed"],
                            test_pairs=world.test, device=self.device, width=config["width"],
                            progress=self.progress, accel=self.accel)
        return model, self.put(config, model, world, time.perf_counter() - t0)

    def has(self, config: dict) -> bool:
        """Whether ``config``'s Alice is in memory or has a checkpoint that :meth:`load` verifies
        (config, weight checksum); a corrupt one is discarded here, so :meth:`train_missing` retrains
        her with her group. The verified Alice is kept for :meth:`get`."""
        return self.load(config) is not None

    def put(self, config: dict, model: LayeredNet, world: World, seconds: float) -> dict:
        """Store a freshly trained Alice of ``config`` (trained on ``world``; ``seconds`` of training)
        and return its ``meta``. Her test accuracy is the one :func:`~reuse_utils.training.train_alice`
        measured on ``world.test`` after her last epoch (``final_test_acc``: the same computation on
        the same weights), else measured here."""
        rec = model.record
        meta = {"alice_test_acc": (float(rec.final_test_acc) if rec.final_test_acc is not None
                                   else evaluate(model, world.test, "alice")),
                "seconds": float(seconds), "stopped_by": rec.stopped_by, "best_epoch": int(rec.best_epoch),
                "epochs_run": len(rec.history)}
        self.trained += 1
        key = stable_hash(config)
        pt, js = self.paths(key)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        atomic_torch_save({"config": config, "spec": model.spec(), "state_dict": state, "sha256": tensors_digest(state),
                           "history": rec.history, "meta": meta}, pt)
        atomic_write_json(js, {"config": config, "spec": model.spec(), "history": rec.history, "meta": meta})
        self.memory.put(key, (model, meta))
        self.checked.pop(key)
        return meta

    def train_many(self, configs: list[dict], worlds: list[World], group: int | None = None) -> None:
        """Train the Alices of ``configs`` (each on its ``worlds[i]``) together, as far as they share
        a :func:`recipe_key` (:func:`reuse_utils.training.train_alices`, ``group`` members at a time;
        None: the device's default), and store each."""
        batches: dict[str, list[int]] = {}
        for i, cfg in enumerate(configs):
            batches.setdefault(recipe_key(cfg), []).append(i)
        for idx in batches.values():
            cfg0 = configs[idx[0]]
            t0 = time.perf_counter()
            models = train_alices([worlds[i].alice_train for i in idx], cfg0["arch"], TrainConfig(**cfg0["train"]),
                                  [configs[i]["seed"] for i in idx], test_pairs=[worlds[i].test for i in idx],
                                  device=self.device, width=cfg0["width"], group=group, progress=self.progress,
                                  accel=self.accel)
            seconds = (time.perf_counter() - t0) / len(idx)
            for i, model in zip(idx, models, strict=True):
                self.put(configs[i], model, worlds[i], seconds)

    def train_missing(self, wanted: list[tuple[dict, Callable[[], World]]], group: int | None = None) -> int:
        """Train, together (:meth:`train_many`), the Alices of ``wanted`` — (config, world builder)
        pairs; the builder returns her world with Alice's pairs — that the cache lacks; returns how
        many. Worlds are built :data:`~reuse_utils.training.MAX_GROUP` at a time, in recipe order, and
        dropped after."""
        todo: dict[str, tuple[dict, Callable[[], World]]] = {}
        for config, build in wanted:
            if not self.has(config):
                todo.setdefault(stable_hash(config), (config, build))
        items = sorted(todo.values(), key=lambda cb: recipe_key(cb[0]))
        for lo in range(0, len(items), MAX_GROUP):
            chunk = items[lo: lo + MAX_GROUP]
            self.train_many([c for c, _ in chunk], [build() for _, build in chunk], group)
        return len(items)


def recipe_key(config: dict) -> str:
    """What Alices that may train together share: everything in her config but the seed and the
    world's dials."""
    return stable_hash({k: v for k, v in config.items() if k not in ("seed", "task_corr", "feature_corr")})
