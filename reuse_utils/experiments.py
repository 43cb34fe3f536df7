"""Notebook glue: resolve a notebook's parameters once, then get Alices, Bobs and sweeps from the
shared cache (``<results_dir>/cache``), so later notebooks reuse earlier checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from reuse_utils.device import describe_device, get_device
from reuse_utils.models import LayeredNet
from reuse_utils.presets import Preset, get_preset
from reuse_utils.sweep import AliceStore, alice_config, bob_train_config, run_sweep
from reuse_utils.transfer import make_bob, train_bob
from reuse_utils.worlds import World, derive_seed, make_world

__all__ = ["Setup", "setup"]


@dataclass
class Setup:
    """Resolved notebook parameters: preset object, dataset, seeds, device and folders."""

    preset: Preset
    dataset: str
    seeds: list[int]
    device: torch.device
    results_dir: Path
    progress: bool = False
    _alices: AliceStore | None = field(default=None, repr=False)

    @property
    def cache_dir(self) -> Path:
        return self.results_dir / "cache"

    def record(self, claim_id: str, result: dict, notebook: str, data_label: str | None = None,
               dataset: str | None = None) -> dict:
        """Record a claim evaluated by :mod:`reuse_utils.analysis` and print its verdict."""
        from reuse_utils.claims import record_claim

        c = record_claim(self.results_dir, claim_id, result["statement"], result["passed"], result["statistic"],
                         result["p_value_or_ci"], preset=self.preset.name, dataset=dataset or self.dataset,
                         notebook=notebook, details=result.get("details"), data_label=data_label)
        print(f"{claim_id}: {'PASS' if c['passed'] else 'FAIL'} — {c['statistic']} {c['p_value_or_ci']}")
        return c

    def save(self, fig, name: str, label: str | None = None):
        """Save a figure as PNG and PDF under ``<results_dir>/figures``."""
        from reuse_utils.plots import save_figure

        return save_figure(fig, self.results_dir, name, label)

    def grid(self, **axes) -> dict:
        """A sweep grid with this setup's dataset and seeds filled in."""
        return {"dataset": [self.dataset], "seed": list(self.seeds), **axes}

    def sweep(self, **axes):
        return run_sweep(self.grid(**axes), preset=self.preset, cache_dir=self.cache_dir,
                         progress=self.progress, device=self.device)

    def world(self, task_corr: float, feature_corr: float, seed: int, *, n_test: int | None = None) -> World:
        p = self.preset
        return make_world(self.dataset, task_corr, feature_corr, seed, n_alice=p.n_alice, n_bob=p.n_bob,
                          n_test=n_test or p.n_test)

    def alice(self, task_corr: float = 0.0, feature_corr: float = 0.0, seed: int = 0, *,
              arch: str = "cnn", optimizer: str = "adam") -> tuple[LayeredNet, dict, World]:
        """Alice trained in world (task_corr, feature_corr), from the checkpoint cache when present."""
        if self._alices is None:
            self._alices = AliceStore(self.cache_dir, self.device)
        run = {"dataset": self.dataset, "arch": arch, "alice_optimizer": optimizer, "alice_world": "same",
               "task_corr": float(task_corr), "feature_corr": float(feature_corr), "seed": int(seed),
               "n_alice": self.preset.n_alice}
        world = self.world(task_corr, feature_corr, seed)
        model, meta = self._alices.get(alice_config(run, self.preset), world)
        return model, meta, world

    def bob(self, source: LayeredNet, world: World, k: int, mode: str = "reinit", seed: int = 0) -> LayeredNet:
        """Bob trained on ``world.bob_train`` with the preset's Bob training settings."""
        bob = make_bob(source, k, mode, world.bob_train.num_classes_bob, derive_seed("bob", seed, k, mode))
        return train_bob(bob, world.bob_train, bob_train_config(self.preset), derive_seed("bob-train", seed),
                         device=self.device)


def setup(preset: str = "quick", dataset: str | None = None, device: str = "auto",
          seeds: list[int] | None = None, results_dir: str | Path = "../results",
          progress: bool = False, verbose: bool = True) -> Setup:
    """Resolve a notebook's ``parameters`` cell (None → the preset's default)."""
    from reuse_utils.plots import set_style

    p = get_preset(preset)
    s = Setup(p, dataset or p.dataset, list(seeds) if seeds is not None else list(p.seeds),
              get_device(device), Path(results_dir), progress)
    (s.results_dir / "figures").mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    set_style()
    if verbose:
        print(f"preset={p.name} dataset={s.dataset} seeds={s.seeds} device={describe_device(s.device)} "
              f"results={s.results_dir}")
    return s
