"""Alice checkpoints: trained once per configuration, stored as weights plus a JSON summary.

``<cache_dir>/alice/<stable_hash(config)>.pt`` holds the state dict, the model spec, the config,
the training history and ``meta`` (``alice_test_acc``, ``seconds``); the ``.json`` beside it is a
human-readable summary. A checkpoint whose config differs or that cannot be loaded is reported,
deleted and retrained, never used. The last few loaded Alices stay in memory (:class:`LRU`).
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import torch

from reuse_utils.core.device import Accel
from reuse_utils.core.ids import stable_hash
from reuse_utils.core.io import atomic_torch_save, atomic_write_json
from reuse_utils.core.lru import LRU
from reuse_utils.generator import World
from reuse_utils.training import LayeredNet, TrainConfig, build_model, evaluate, train_alice

__all__ = ["AliceStore"]


class AliceStore:
    """Alice checkpoints (state dict + config JSON) under ``<cache_dir>/alice``, with an in-memory LRU."""

    def __init__(self, cache_dir: Path, device: torch.device, progress: bool = False, memory: int = 4,
                 accel: Accel | None = None):
        self.accel = accel
        self.dir = Path(cache_dir) / "alice"
        self.device = device
        self.progress = progress
        self.memory: LRU[tuple[LayeredNet, dict]] = LRU(memory)
        self.trained = 0

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.dir / f"{key}.pt", self.dir / f"{key}.json"

    def load(self, config: dict) -> tuple[LayeredNet, dict] | None:
        key = stable_hash(config)
        hit = self.memory.get(key)
        if hit is not None:
            return hit
        pt, js = self.paths(key)
        if not pt.exists():
            return None
        try:
            blob = torch.load(pt, map_location="cpu", weights_only=True)
            if json.dumps(blob["config"], sort_keys=True) != json.dumps(config, sort_keys=True):
                raise ValueError("configuration differs from the requested one")
            spec = blob["spec"]
            model = build_model(spec["arch"], tuple(spec["input_shape"]), spec["num_classes"], width=spec["width"])
            model.load_state_dict(blob["state_dict"], strict=True)
            model.train_history = list(blob["history"])
            model.frozen_layers = 0
            meta = dict(blob["meta"])
        except Exception as exc:  # noqa: BLE001 - any failure means the entry is unusable
            warnings.warn(f"Corrupt or incompatible Alice checkpoint {pt} ({exc}); retraining.", stacklevel=2)
            pt.unlink(missing_ok=True)
            return None
        model.to(self.device).eval()
        self.memory.put(key, (model, meta))
        return model, meta

    def get(self, config: dict, world: World) -> tuple[LayeredNet, dict]:
        """Alice for ``config`` trained on ``world.alice_train`` (loaded when checkpointed)."""
        hit = self.load(config)
        if hit is not None:
            return hit
        key = stable_hash(config)
        t0 = time.perf_counter()
        model = train_alice(world.alice_train, config["arch"], TrainConfig(**config["train"]), config["seed"],
                            test_pairs=world.test, device=self.device, width=config["width"],
                            progress=self.progress, accel=self.accel)
        meta = {"alice_test_acc": evaluate(model, world.test, "alice"), "seconds": time.perf_counter() - t0}
        self.trained += 1
        pt, js = self.paths(key)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        atomic_torch_save({"config": config, "spec": model.spec(), "state_dict": state,
                           "history": model.train_history, "meta": meta}, pt)
        atomic_write_json(js, {"config": config, "spec": model.spec(), "history": model.train_history, "meta": meta})
        self.memory.put(key, (model, meta))
        return model, meta
