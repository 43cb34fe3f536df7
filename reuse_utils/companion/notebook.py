"""Notebook glue: resolve a notebook's parameters once, then get Alices, Bobs and sweeps from the
shared cache (``<results_dir>/cache``), so later notebooks reuse earlier checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from reuse_utils.analysis.attribution import attribution_rows
from reuse_utils.analysis.depth_reveal import break_depth, layer_cka
from reuse_utils.analysis.ledger import SMOKE_NOTE, describe_claim, record_claim
from reuse_utils.companion.plots import save_figure, set_style
from reuse_utils.core.device import describe_device, get_device
from reuse_utils.core.ids import check_seed, derive_seed
from reuse_utils.datasets import CaseData, unavailable_reason
from reuse_utils.experiments import (
    AliceStore,
    Preset,
    alice_config,
    arch_width,
    bob_protocol,
    get_preset,
    run_case_study,
    run_domain_control,
    run_sweep,
)
from reuse_utils.generator import World, make_world
from reuse_utils.training import (
    LayeredNet,
    fit_selected_many,
    make_bob,
    random_source,
    task_on_pairs,
    train_bob_selected,
)

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
        """Record a claim evaluated by :mod:`reuse_utils.analysis.evaluators` and print its verdict
        (:func:`~reuse_utils.analysis.ledger.describe_claim`: sentences, the smoke warning first)."""
        c = record_claim(self.results_dir, claim_id, result, preset=self.preset.name, dataset=dataset or self.dataset,
                         notebook=notebook, data_label=data_label)
        print(describe_claim(c))
        return c

    def save(self, fig, name: str, label: str | None = None):
        """Save a figure as PNG and PDF under ``<results_dir>/figures``."""
        return save_figure(fig, self.results_dir, name, label)

    def grid(self, **axes) -> dict:
        """A sweep grid with this setup's dataset and seeds filled in."""
        return {"dataset": [self.dataset], "seed": list(self.seeds), **axes}

    def sweep(self, **axes):
        """The sweep of :meth:`grid` (``axes`` as in :func:`reuse_utils.experiments.run_sweep`) from
        the shared cache, training what it lacks."""
        return run_sweep(self.grid(**axes), preset=self.preset, cache_dir=self.cache_dir, device=self.device,
                         progress=self.progress)

    def world(self, task_corr: float, feature_corr: float, seed: int, *, n_test: int | None = None,
              with_alice: bool = True) -> World:
        """The world (task_corr, feature_corr, seed) at the preset's sizes (without Alice's training
        pairs unless ``with_alice``)."""
        p = self.preset
        return make_world(self.dataset, task_corr, feature_corr, seed, n_alice=p.n_alice if with_alice else None,
                          n_bob=p.n_bob, n_test=n_test or p.n_test)

    def _store(self) -> AliceStore:
        if self._alices is None:
            self._alices = AliceStore(self.cache_dir, self.device)
        return self._alices

    def _alice_config(self, task_corr: float, feature_corr: float, seed: int, arch: str, optimizer: str) -> dict:
        run = {"dataset": self.dataset, "arch": arch, "alice_optimizer": optimizer, "alice_world": "same",
               "task_corr": float(task_corr), "feature_corr": float(feature_corr), "seed": int(seed),
               "n_alice": self.preset.n_alice}
        return alice_config(run, self.preset)

    def alice(self, task_corr: float = 0.0, feature_corr: float = 0.0, seed: int = 0, *,
              arch: str = "cnn", optimizer: str = "adam") -> tuple[LayeredNet, dict, World]:
        """Alice trained in world (task_corr, feature_corr), from the checkpoint cache when present.
        The returned world holds Bob's training and the test pairs (Alice's own only if she was trained
        here)."""
        config = self._alice_config(task_corr, feature_corr, seed, arch, optimizer)
        world = self.world(task_corr, feature_corr, seed, with_alice=False)
        model, meta = self._store().get(config, world, lambda: self.world(task_corr, feature_corr, seed))
        return model, meta, world

    def alices(self, specs: list[dict], progress: bool = False) -> int:
        """Train, together, the Alices of ``specs`` (dicts of :meth:`alice`'s arguments) that the cache
        lacks (:func:`reuse_utils.training.train_alices`: each equal to her own training); returns how
        many were trained. Fetch each afterwards with :meth:`alice`. ``progress`` shows a tqdm bar over
        the epochs of each group trained."""
        wanted = []
        for spec in specs:
            t, a, seed = spec.get("task_corr", 0.0), spec.get("feature_corr", 0.0), spec.get("seed", 0)
            config = self._alice_config(t, a, seed, spec.get("arch", "cnn"), spec.get("optimizer", "adam"))
            wanted.append((config, lambda t=t, a=a, seed=seed: self.world(t, a, seed)))
        store = self._store()
        before, store.progress = store.progress, progress
        try:
            return store.train_missing(wanted)
        finally:
            store.progress = before

    def bob(self, source: LayeredNet, world: World, k: int, mode: str = "reinit", seed: int = 0) -> LayeredNet:
        """Bob trained on ``world.bob_train`` by the preset's protocol (selected on his validation split)."""
        bob = make_bob(source, k, mode, world.bob_train.num_classes_bob, derive_seed("bob", seed, k, mode))
        bob, _ = train_bob_selected(bob, mode, world.bob_train, bob_protocol(self.preset), derive_seed("bob-train", seed),
                                    self.device)
        return bob

    def attribution_study(self, dials, ks, *, n: int, n_steps: int, n_layer: int,
                          progress: bool | None = None) -> pd.DataFrame:
        """Attribution table over ``dials`` ((task_corr, feature_corr) pairs) × seeds: Alice, and Bob
        (reinit, selected on validation) for each k (see
        :func:`reuse_utils.analysis.attribution.attribution_rows`), with task_corr, feature_corr, seed.
        ``progress`` (default: this setup's) shows a tqdm bar over the worlds (Bob's training and
        the attributions of each)."""
        from tqdm.auto import tqdm

        self.alices([{"task_corr": t, "feature_corr": a, "seed": seed} for t, a in dials for seed in self.seeds])
        rows = []
        todo = [(t, a, seed) for t, a in dials for seed in self.seeds]
        for t, a, seed in tqdm(todo, desc="worlds attributed (Bob trained, IG, conductance)",
                               disable=not (self.progress if progress is None else progress)):
            alice, _, world = self.alice(t, a, seed)
            models = [("alice", 0, alice, "alice")]
            models += [(f"bob k={k}", k, self.bob(alice, world, k, "reinit", seed), "bob") for k in ks]
            for row in attribution_rows(models, world.test, n=n, n_steps=n_steps, n_layer=n_layer, seed=seed):
                rows.append({"task_corr": float(t), "feature_corr": float(a), "seed": seed, **row})
        return pd.DataFrame(rows)

    def cka_study(self, dials, *, n: int, seeds: list[int] | None = None, progress: bool | None = None) -> pd.DataFrame:
        """Where Bob's network departs from Alice's: for each (task_corr, feature_corr) of ``dials`` and
        seed (default: the first ``preset.cka_seeds``), Alice, Bob retrained at every layer from her
        weights (k = L, finetune), Bob from scratch (k = L, reinit) — all these Bobs trained together in
        one stacked loop by the preset's protocol, each as :meth:`bob` would train him — and the
        random-init control (the sweep's untrained network); per layer the linear CKA on ``n`` test
        inputs of Alice vs Bob, Bob vs scratch and Alice vs random init. Rows: task_corr, feature_corr,
        seed, pair, layer, layer_name, cka, ``k_break``
        (:func:`~reuse_utils.analysis.depth_reveal.break_depth` of Alice vs Bob), and how the two Bobs'
        training went: ``capped`` (either stopped by the epoch cap), ``edge`` (either chose a learning
        rate at an end of its grid)."""
        from tqdm.auto import tqdm

        seeds = list(self.seeds[: self.preset.cka_seeds]) if seeds is None else seeds
        todo = [(t, a, seed) for t, a in dials for seed in seeds]
        self.alices([{"task_corr": t, "feature_corr": a, "seed": seed} for t, a, seed in todo])
        built, tasks, modes = [], [], ["finetune", "reinit"]
        for t, a, seed in todo:
            alice, _, world = self.alice(t, a, seed)
            L = alice.n_layers
            bobs = [make_bob(alice, L, m, world.bob_train.num_classes_bob, derive_seed("bob", seed, L, m)) for m in modes]
            task, _ = task_on_pairs(bobs, modes, world.bob_train, world.bob_train.x, bob_protocol(self.preset).val_fraction,
                                    derive_seed("bob-train", seed))
            built.append((t, a, seed, alice, world, bobs))
            tasks.append(task)
        chosen = fit_selected_many(tasks, bob_protocol(self.preset), self.device)
        rows = []
        for (t, a, seed, alice, world, (bob, scratch)), sels in zip(tqdm(built, desc="CKA per layer", disable=not (
                self.progress if progress is None else progress)), chosen, strict=True):
            health = {"capped": any(x.stopped_by == "cap" for x in sels), "edge": any(x.selection_edge for x in sels)}
            rand = random_source(alice.arch, world.test.input_shape, world.test.num_classes_alice,
                                 derive_seed("random-source", seed), width=arch_width(alice.arch, self.preset))
            pairs = {"Alice vs Bob (finetune)": (alice, bob), "Bob (finetune) vs scratch": (bob, scratch),
                     "Alice vs random init": (alice, rand.place(self.device))}
            values = {name: layer_cka(m1, m2, world.test.x[:n], self.device) for name, (m1, m2) in pairs.items()}
            k_break = break_depth(values["Alice vs Bob (finetune)"])
            rows += [{"task_corr": float(t), "feature_corr": float(a), "seed": seed, "pair": name, "layer": i,
                      "layer_name": alice.layer_names[i - 1], "cka": v, "k_break": k_break, **health}
                     for name, vals in values.items() for i, v in enumerate(vals, start=1)]
        return pd.DataFrame(rows)

    def domain_control(self, k: int) -> pd.DataFrame | None:
        """:func:`reuse_utils.experiments.run_domain_control` with this setup's dataset, the preset's
        ``other_domain``, seeds, cache and device; None, saying why, when ``other_domain`` cannot be had."""
        reason = unavailable_reason(self.preset.other_domain)
        if reason is not None:
            print(f"Domain control skipped: {self.preset.other_domain!r} is unavailable — {reason}")
            return None
        return run_domain_control(self.dataset, self.preset.other_domain, k=k, preset=self.preset, seeds=self.seeds,
                                  cache_dir=self.cache_dir, device=self.device)

    def case_study(self, data: CaseData, **kwargs) -> pd.DataFrame:
        """:func:`reuse_utils.experiments.run_case_study` with this setup's preset, its first
        ``case_n_seeds`` seeds (the task is the unit there), cache and device."""
        return run_case_study(data, preset=self.preset, seeds=self.seeds[: self.preset.case_n_seeds], cache_dir=self.cache_dir,
                              device=self.device, **kwargs)


def setup(preset: str = "quick", dataset: str | None = None, device: str = "auto",
          seeds: list[int] | None = None, results_dir: str | Path = "../results",
          progress: bool = True, verbose: bool = True) -> Setup:
    """Resolve a notebook's ``parameters`` cell (None → the preset's default)."""
    p = get_preset(preset)
    if seeds is not None and (isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__")):
        raise ValueError(f"seeds must be None or a list of integers in [0, 2**32 - 1]; got {seeds!r}")
    seeds = [check_seed(x, "seeds") for x in seeds] if seeds is not None else list(p.seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed (or be None: the preset's)")
    s = Setup(p, dataset or p.dataset, seeds,
              get_device(device), Path(results_dir), progress)
    (s.results_dir / "figures").mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    set_style()
    if verbose:
        print(f"preset={p.name} dataset={s.dataset} seeds={s.seeds} device={describe_device(s.device)} "
              f"results={s.results_dir}")
        if p.name == "smoke":
            print(f"[{SMOKE_NOTE}]")
    return s
