"""Cached, resumable experiment grids: one row per Bob run.

``run_sweep(grid, preset="quick")`` expands the grid (axes below; an omitted axis takes the
preset's default), trains each distinct Alice once (checkpointed), trains every Bob and stores
each result as its own JSON record keyed by a hash of its full configuration and
:data:`CODE_VERSION`. Re-running a finished sweep trains nothing; a sweep killed midway resumes
and loses no finished run; every write is atomic; a corrupt or incompatible cache entry is
reported (``UserWarning``), recomputed and overwritten — never used.

Axes: ``dataset``, ``arch``, ``alice_optimizer`` (:data:`ALICE_OPTIMIZERS`), ``alice_world``
(``"same"``: Alice trains on pairs with Bob's dials; ``"independent"``: on (0, 0) pairs),
``task_corr``, ``feature_corr`` (combinations with feature_corr > task_corr are skipped),
``k`` (integers, or ``"all"`` for 1..L, ``"L"`` for the full depth), ``mode`` (``reinit`` /
``finetune``; identical for k = 1, computed once), ``source`` (``"alice"`` or ``"random"``:
an untrained network of the same architecture), ``seed``, ``n_alice``, ``n_bob``.

Columns: every axis, plus ``n_layers``, ``bob_test_acc``, ``bob_train_acc``, ``alice_test_acc``
(the source network's accuracy on Alice's test labels), ``chance`` (accuracy of the best constant
prediction on Bob's test labels), ``task_corr_measured`` / ``feature_corr_measured`` (measured on
the test pairs, see :func:`reuse_utils.pairs.measure_correlations`), ``n_test``, ``seconds``
(Bob's training time), ``from_cache``.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import time
import warnings
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import torch

from reuse_utils.batched import can_batch, train_bobs_batched
from reuse_utils.data import available_datasets
from reuse_utils.device import Accel, get_device
from reuse_utils.io import atomic_torch_save, atomic_write_json
from reuse_utils.models import ARCHS, LayeredNet, build_model
from reuse_utils.pairs import measure_correlations
from reuse_utils.prefix_cache import PrefixCache
from reuse_utils.presets import Preset, get_preset
from reuse_utils.transfer import (
    MODES,
    TrainConfig,
    evaluate,
    evaluate_features,
    frozen_features,
    make_bob,
    random_source,
    train_alice,
    train_bob,
)
from reuse_utils.worlds import World, derive_seed, make_world, stable_hash

__all__ = ["run_sweep", "default_grid", "expand_grid", "ALICE_OPTIMIZERS", "AXES", "CODE_VERSION",
           "AliceStore", "alice_config", "bob_config", "bob_train_config", "arch_width"]

CODE_VERSION = "2026.11-1"
AXES = ("dataset", "arch", "alice_optimizer", "alice_world", "task_corr", "feature_corr", "k",
        "mode", "source", "seed", "n_alice", "n_bob")
WORLDS = ("same", "independent")
SOURCES = ("alice", "random")

#: Alice's optimizers. Weight decay strengths are chosen so that, over the number of steps of the
#: presets, decay visibly shrinks weights that receive no consistent gradient (notebook 05 measures it).
ALICE_OPTIMIZERS: dict[str, dict] = {
    "sgd": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0},
    "sgd_wd": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-3},
    "adam": {"optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0},
    "adamw": {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.5},
}

RESULT_KEYS = ("bob_test_acc", "bob_train_acc", "alice_test_acc", "chance", "task_corr_measured",
               "feature_corr_measured", "seconds", "n_layers")


def arch_width(arch: str, preset: Preset) -> int | None:
    return {"cnn": preset.cnn_width, "mlp": preset.mlp_width}.get(arch)


def default_grid(preset: str | Preset = "quick") -> dict[str, list]:
    """The preset's default value of every axis."""
    p = get_preset(preset)
    return {"dataset": [p.dataset], "arch": ["cnn"], "alice_optimizer": ["adam"],
            "alice_world": ["same"], "task_corr": list(p.task_corrs), "feature_corr": [0.0],
            "k": ["all"] if p.ks is None else list(p.ks), "mode": list(p.modes), "source": ["alice"],
            "seed": list(p.seeds), "n_alice": [p.n_alice], "n_bob": [p.n_bob]}


def _as_list(name: str, value) -> list:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"grid axis {name!r} must be a non-empty list")
        return list(value)
    return [value]


def _check_values(name: str, values: list) -> None:
    def bad(allowed: str, v):
        raise ValueError(f"grid axis {name!r}: values must be {allowed}; got {v!r}")

    for v in values:
        if name == "dataset" and (not isinstance(v, str) or (v not in available_datasets() and ":" not in v)):
            bad(f"one of {available_datasets()}", v)
        elif name == "arch" and v not in ARCHS:
            bad(f"one of {list(ARCHS)}", v)
        elif name == "alice_optimizer" and v not in ALICE_OPTIMIZERS:
            bad(f"one of {list(ALICE_OPTIMIZERS)}", v)
        elif name == "alice_world" and v not in WORLDS:
            bad(f"one of {list(WORLDS)}", v)
        elif name == "mode" and v not in MODES:
            bad(f"one of {list(MODES)}", v)
        elif name == "source" and v not in SOURCES:
            bad(f"one of {list(SOURCES)}", v)
        elif name in ("task_corr", "feature_corr"):
            lo = -1.0 if name == "task_corr" else 0.0
            if not isinstance(v, numbers.Real) or isinstance(v, bool) or not lo <= float(v) <= 1.0:
                bad(f"numbers in [{lo}, 1]", v)
        elif name == "k" and not (v in ("all", "L") or (isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0)):
            bad("integers ≥ 0, 'all' (1..L) or 'L'", v)
        elif name in ("seed",) and not (isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v < 2**31):
            bad("integers in [0, 2**31)", v)
        elif name in ("n_alice", "n_bob") and not (isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1):
            bad("integers ≥ 1", v)


def _n_layers(arch: str, dataset: str, preset: Preset) -> int:
    from reuse_utils.worlds import base_data

    c, h, w = base_data(dataset, "train").image_shape
    return build_model(arch, (c, h, 2 * w), 2, width=arch_width(arch, preset)).n_layers


def expand_grid(grid: dict | None, preset: str | Preset = "quick") -> tuple[list[dict], int]:
    """Validated run configurations and the number of (task_corr, feature_corr) combinations skipped
    because feature_corr > task_corr."""
    p = get_preset(preset)
    grid = dict(grid or {})
    unknown = sorted(set(grid) - set(AXES))
    if unknown:
        raise ValueError(f"unknown grid axis {unknown}; allowed axes: {list(AXES)}")
    full = default_grid(p)
    for name, value in grid.items():
        full[name] = _as_list(name, value)
    for name in AXES:
        _check_values(name, full[name])
    runs, seen, skipped_dials = [], set(), set()
    depth_cache: dict[tuple, int] = {}
    for combo in itertools.product(*(full[a] for a in AXES)):
        run = dict(zip(AXES, combo, strict=True))
        run["task_corr"], run["feature_corr"] = float(run["task_corr"]), float(run["feature_corr"])
        if run["feature_corr"] > max(run["task_corr"], 0.0):
            skipped_dials.add((run["task_corr"], run["feature_corr"]))
            continue
        dk = (run["arch"], run["dataset"])
        if dk not in depth_cache:
            depth_cache[dk] = _n_layers(run["arch"], run["dataset"], p)
        L = depth_cache[dk]
        ks = range(1, L + 1) if run["k"] == "all" else [L] if run["k"] == "L" else [run["k"]]
        for k in ks:
            if k > L:
                raise ValueError(f"grid axis 'k': {k} exceeds the {L} layers of {run['arch']!r}; allowed [0, {L}]")
            r = {**run, "k": int(k), "n_layers": L}
            sig = tuple(r[a] for a in AXES)
            if sig not in seen:
                seen.add(sig)
                runs.append(r)
    return runs, len(skipped_dials)


# ----------------------------------------------------------------------------- configs


def alice_config(run: dict, preset: Preset) -> dict:
    """Everything that determines Alice's trained weights."""
    world_t, world_f = ((run["task_corr"], run["feature_corr"]) if run["alice_world"] == "same" else (0.0, 0.0))
    cfg = TrainConfig(**ALICE_OPTIMIZERS[run["alice_optimizer"]], epochs=preset.alice_epochs,
                      batch_size=preset.batch_size)
    return {"version": CODE_VERSION, "dataset": run["dataset"], "arch": run["arch"],
            "width": arch_width(run["arch"], preset), "alice_optimizer": run["alice_optimizer"],
            "train": cfg.to_dict(), "task_corr": world_t, "feature_corr": world_f,
            "seed": run["seed"], "n_alice": run["n_alice"], "n_test": preset.n_test}


def bob_config(run: dict, preset: Preset) -> dict:
    """Everything that determines one Bob result (canonical: k = 1 ignores the mode)."""
    cfg = bob_train_config(preset)
    mode = "reinit" if run["k"] <= 1 else run["mode"]
    src = alice_config(run, preset) if run["source"] == "alice" else {
        "random": True, "arch": run["arch"], "width": arch_width(run["arch"], preset),
        "dataset": run["dataset"], "seed": run["seed"]}
    return {"version": CODE_VERSION, "source": src, "k": run["k"], "mode": mode,
            "task_corr": run["task_corr"], "feature_corr": run["feature_corr"], "seed": run["seed"],
            "n_bob": run["n_bob"], "n_test": preset.n_test, "train": cfg.to_dict()}


def bob_train_config(preset: Preset) -> TrainConfig:
    """How every Bob of the synthetic study is trained (Adam, the preset's lr, epochs, batch)."""
    return TrainConfig("adam", preset.bob_lr, epochs=preset.bob_epochs, batch_size=preset.batch_size)


# ----------------------------------------------------------------------------- stores


def _valid_record(rec, config: dict) -> bool:
    if not isinstance(rec, dict) or rec.get("version") != CODE_VERSION:
        return False
    if json.dumps(rec.get("config"), sort_keys=True) != json.dumps(config, sort_keys=True):
        return False
    res = rec.get("result")
    if not isinstance(res, dict):
        return False
    for key in RESULT_KEYS:
        v = res.get(key)
        if not isinstance(v, (int, float)) or (isinstance(v, float) and math.isnan(v) and key != "alice_test_acc"):
            return False
    return all(0.0 <= res[k] <= 1.0 for k in ("bob_test_acc", "bob_train_acc", "chance"))


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class AliceStore:
    """Alice checkpoints (state dict + config JSON) under ``<cache_dir>/alice``, with an in-memory LRU."""

    def __init__(self, cache_dir: Path, device: torch.device, progress: bool = False, memory: int = 4,
                 accel: Accel | None = None):
        self.accel = accel
        self.dir = Path(cache_dir) / "alice"
        self.device = device
        self.progress = progress
        self.memory: OrderedDict[str, tuple[LayeredNet, dict]] = OrderedDict()
        self.max_memory = memory
        self.trained = 0

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.dir / f"{key}.pt", self.dir / f"{key}.json"

    def _remember(self, key: str, value: tuple[LayeredNet, dict]) -> None:
        self.memory[key] = value
        self.memory.move_to_end(key)
        while len(self.memory) > self.max_memory:
            self.memory.popitem(last=False)

    def load(self, config: dict) -> tuple[LayeredNet, dict] | None:
        key = stable_hash(config)
        if key in self.memory:
            self.memory.move_to_end(key)
            return self.memory[key]
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
        self._remember(key, (model, meta))
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
        self._remember(key, (model, meta))
        return model, meta


# ----------------------------------------------------------------------------- sweep


def _prefix_features(prefixes: PrefixCache | None, source: LayeredNet, source_key: str, start: int,
                     world: World, wkey: tuple, dev: torch.device, bf16: bool = True) -> dict[str, torch.Tensor]:
    """Frozen-prefix activations of Bob's training and test inputs (shared across runs)."""
    feats: dict[str, torch.Tensor] = {}
    if prefixes is None or start == 0:
        return feats
    for role, pairs in (("train", world.bob_train), ("test", world.test)):
        value = prefixes.get((source_key, start, role, wkey),
                             lambda pairs=pairs: frozen_features(source, pairs.x, start, dev, bf16=bf16))
        if value is not None:
            feats[role] = value
    return feats


def _bob_accuracy(bob: LayeredNet, pairs, features: torch.Tensor | None, start: int) -> float:
    if features is None:
        return evaluate(bob, pairs, "bob")
    return evaluate_features(bob, features, pairs.y_bob, start)


def run_sweep(grid: dict | None = None, *, preset: str | Preset = "quick",
              cache_dir: str | Path = "results/cache", progress: bool = True,
              device: str | torch.device = "auto", feature_cache: bool = True,
              memory_budget: int | None = None, batch_runs: bool = True,
              accel: Accel | None = None) -> pd.DataFrame:
    """Run (or load from cache) every Bob run of ``grid``; see the module docstring.

    ``feature_cache``: share frozen-prefix activations (Bob's training and test inputs) across the
    runs that use the same source and depth (:class:`reuse_utils.prefix_cache.PrefixCache`), within
    ``memory_budget`` bytes (None → 25% of free memory); results are identical either way.
    ``batch_runs``: train the runs that share world, source and k (the modes) together with
    ``vmap`` (:mod:`reuse_utils.batched`); equal to sequential training up to float rounding.
    ``accel``: channels_last / bf16 / torch.compile switches (:class:`reuse_utils.device.Accel`;
    default: channels_last and bf16 on CUDA only, compile off).
    """
    p = get_preset(preset)
    dev = get_device(device)
    prefixes = PrefixCache(dev, memory_budget) if feature_cache else None
    bf16 = (accel or Accel()).resolve(dev).bf16
    randoms: OrderedDict[tuple, LayeredNet] = OrderedDict()
    runs, skipped = expand_grid(grid, p)
    cache = Path(cache_dir)
    bob_dir = cache / "bob"
    alices = AliceStore(cache, dev, progress=False, accel=accel)
    worlds: OrderedDict[tuple, World] = OrderedDict()
    measured: dict[tuple, dict] = {}
    rows = []
    trained_bobs = 0

    # Group runs by world and Alice so each is built once and memory stays bounded.
    runs.sort(key=lambda r: (r["dataset"], r["task_corr"], r["feature_corr"], r["seed"], r["n_alice"],
                             r["n_bob"], r["arch"], r["alice_optimizer"], r["alice_world"], r["source"],
                             r["k"], r["mode"]))
    from tqdm.auto import tqdm

    def gkey(r: dict) -> tuple:
        return tuple(r[a] for a in AXES if a not in ("mode",))

    # One pass over the records: what is cached, what is corrupt, and which pending runs share a group.
    plan = []
    groups: dict[tuple, dict[str, tuple[dict, dict]]] = {}
    for r in runs:
        c = bob_config(r, p)
        kk = stable_hash(c)
        path = bob_dir / f"{kk}.json"
        rec = _read_json(path) if path.exists() else None
        cached = rec["result"] if rec is not None and _valid_record(rec, c) else None
        plan.append((r, c, kk, cached, path.exists() and cached is None))
        if batch_runs and cached is None:
            groups.setdefault(gkey(r), {})[kk] = (r, c)
    done: dict[str, dict] = {}  # results trained in this call, by record key
    emitted: set[str] = set()  # keys already reported as trained (a repeat, e.g. k = 1 finetune, reads it back)

    def world_for(dataset, t, f, seed, n_alice, n_bob) -> World:
        key = (dataset, t, f, seed, n_alice, n_bob)
        if key not in worlds:
            worlds[key] = make_world(dataset, t, f, seed, n_alice=n_alice, n_bob=n_bob, n_test=p.n_test)
            while len(worlds) > 3:
                worlds.popitem(last=False)
        worlds.move_to_end(key)
        return worlds[key]

    for run, config, key, cached, corrupt in tqdm(plan, desc="Bob runs", disable=not progress):
        if cached is not None:
            rows.append({**run, **cached, "from_cache": True})
            continue
        if key in done:  # trained earlier in this call, with its group or as a repeated configuration
            repeat = key in emitted
            trained_bobs += 0 if repeat else 1
            emitted.add(key)
            rows.append({**run, **done[key], "from_cache": repeat})
            continue
        if corrupt:
            warnings.warn(f"Corrupt or incompatible sweep record {bob_dir / f'{key}.json'}; recomputing.",
                          stacklevel=2)
        world = world_for(run["dataset"], run["task_corr"], run["feature_corr"], run["seed"],
                          run["n_alice"], run["n_bob"])
        if run["source"] == "alice":
            acfg = alice_config(run, p)
            if run["alice_world"] == "same":
                alice_world = world
            else:
                alice_world = world_for(run["dataset"], 0.0, 0.0, run["seed"], run["n_alice"], run["n_bob"])
            source, meta = alices.get(acfg, alice_world)
            source_key = stable_hash(acfg)
            alice_acc = meta["alice_test_acc"] if run["alice_world"] == "same" else evaluate(source, world.test, "alice")
        else:
            rkey = (run["arch"], run["seed"], world.test.input_shape)
            if rkey not in randoms:
                randoms[rkey] = random_source(run["arch"], world.test.input_shape, world.test.num_classes_alice,
                                              derive_seed("random-source", run["seed"]),
                                              width=arch_width(run["arch"], p)).to(dev)
                while len(randoms) > 4:
                    randoms.popitem(last=False)
            source = randoms[rkey]
            source_key = stable_hash(config["source"])
            alice_acc = evaluate(source, world.test, "alice")
        mkey = (run["dataset"], run["task_corr"], run["feature_corr"], run["seed"], p.n_test)
        if mkey not in measured:
            measured[mkey] = measure_correlations(world.test)
        m = measured[mkey]
        start = run["n_layers"] - run["k"]
        wkey = (run["dataset"], run["task_corr"], run["feature_corr"], run["seed"], run["n_bob"], p.n_test)
        feats = _prefix_features(prefixes, source, source_key, start, world, wkey, dev, bf16)
        y = world.test.y_bob
        common = {"n_layers": run["n_layers"], "alice_test_acc": float(alice_acc),
                  "chance": float(torch.bincount(y).max()) / len(y), "task_corr_measured": m["task_corr"],
                  "feature_corr_measured": m["feature_corr"], "n_test": p.n_test}
        members = [(r2, c2, k2) for k2, (r2, c2) in groups.get(gkey(run), {}).items() if k2 not in done]
        members.sort(key=lambda item: item[2] != key)  # this run first
        bobs = [make_bob(source, r2["k"], c2["mode"], world.bob_train.num_classes_bob,
                         derive_seed("bob", r2["seed"], r2["k"], c2["mode"])) for r2, c2, _ in members]
        t0 = time.perf_counter()
        if len(bobs) >= 2 and can_batch(bobs):
            inputs = feats.get("train")
            if inputs is None:
                inputs = frozen_features(source, world.bob_train.x, start, dev, bf16=bf16) if start else world.bob_train.x
            train_bobs_batched(bobs, inputs, world.bob_train.y_bob, bob_train_config(p),
                               derive_seed("bob-train", run["seed"]), dev, accel)
        else:
            members = [(run, config, key)]
            bobs = [train_bob(make_bob(source, run["k"], config["mode"], world.bob_train.num_classes_bob,
                                       derive_seed("bob", run["seed"], run["k"], config["mode"])),
                              world.bob_train, bob_train_config(p), derive_seed("bob-train", run["seed"]),
                              device=dev, features=feats.get("train"), accel=accel)]
        seconds = (time.perf_counter() - t0) / len(bobs)
        for (r2, c2, k2), bob in zip(members, bobs, strict=True):
            result = {**common, "seconds": seconds,
                      "bob_test_acc": _bob_accuracy(bob, world.test, feats.get("test"), start),
                      "bob_train_acc": _bob_accuracy(bob, world.bob_train, feats.get("train"), start)}
            atomic_write_json(bob_dir / f"{k2}.json", {"version": CODE_VERSION, "config": c2, "result": result, "run": r2})
            done[k2] = result
        trained_bobs += 1
        emitted.add(key)
        rows.append({**run, **done[key], "from_cache": False})
    df = pd.DataFrame(rows)
    df.attrs.update({"skipped": skipped, "alices_trained": alices.trained, "bobs_trained": trained_bobs,
                     "preset": p.name, "device": str(dev),
                     "prefix_cache": prefixes.stats() if prefixes is not None else None})
    return df
