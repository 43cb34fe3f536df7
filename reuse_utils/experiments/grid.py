"""The sweep's grid: its axes, their validation and expansion, and the configurations that identify
each Alice and each Bob run in the cache.

Axes: ``dataset``, ``arch``, ``alice_optimizer`` (:data:`ALICE_OPTIMIZERS`), ``alice_world``
(``"same"``: Alice trains on pairs with Bob's dials; ``"independent"``: on (0, 0) pairs),
``task_corr`` (t), ``feature_corr`` (α, the overlay dial: |α| ≤ 0.7 on images; in a GLM world
``"glm[:d=D,noise=S]"`` any |α| < 1, and (t, α) pairs it cannot reach are skipped),
``k`` (integers ≥ 1, or ``"all"`` for 1..L, ``"L"`` for the full depth), ``mode`` (``reinit`` /
``finetune``; identical for k = 1, computed once), ``source`` (``"alice"`` or ``"random"``:
an untrained network of the same architecture), ``seed``, ``n_alice``, ``n_bob``.

Dial values (``task_corr``, ``feature_corr``) are put in canonical form
(:func:`~reuse_utils.core.ids.canonical_dial`: 12 decimal places, −0.0 as 0.0) before anything is
hashed or seeded, so values naming the same setting share worlds, Alices and cache records.
"""

from __future__ import annotations

import itertools
import numbers

from reuse_utils.core.checks import is_real
from reuse_utils.core.ids import canonical_dial, check_seed
from reuse_utils.datasets import available_datasets
from reuse_utils.experiments.presets import Preset, get_preset
from reuse_utils.generator import ALPHA_MAX, glm_theta, input_shape, is_glm
from reuse_utils.training import ARCHS, MODES, BobProtocol, TrainConfig, build_model

__all__ = ["CODE_VERSION", "ALICE_VERSION", "AXES", "DATA_AXES", "WORLD_AXES", "WORLDS", "SOURCES", "SCRATCH_SOURCE", "ALICE_OPTIMIZERS",
           "arch_width", "default_grid", "expand_grid", "alice_config", "bob_config", "bob_protocol", "data_key",
           "group_key", "run_order", "world_key"]

CODE_VERSION = "2026.12-7"  #: in every Bob record's key: bumped when a Bob's result would change (CHANGELOG.md)
ALICE_VERSION = "2026.12-6"  #: the version in every Alice's config: bumped only when Alice's training changes
AXES = ("dataset", "arch", "alice_optimizer", "alice_world", "task_corr", "feature_corr", "k",
        "mode", "source", "seed", "n_alice", "n_bob")
#: The axes that fix the pairs Bob sees (his training and test data): one *data world*.
DATA_AXES = ("dataset", "task_corr", "feature_corr", "seed", "n_bob")
#: The axes that fix a data world and the Alice trained for it: one *world* of the sweep, the unit
#: a distributed backend sends out and the key every analysis joins Bob's references on.
WORLD_AXES = DATA_AXES + ("arch", "alice_optimizer", "alice_world", "n_alice")
WORLDS = ("same", "independent")
MAX_PAIRS = 10_000_000  #: largest n_alice / n_bob a grid may ask for
SOURCES = ("alice", "random")
#: The recorded source of a Bob that keeps nothing of his source (:func:`keeps_nothing`): one record
#: serves Alice and the random control.
SCRATCH_SOURCE = "scratch"

#: Alice's optimizers. Weight decay is an axis of its own: plain SGD with momentum at three decay
#: strengths (0, 1e-4, 1e-3 — the usual range, not one strength picked to show an effect), Adam
#: without decay, and AdamW at PyTorch's default decoupled decay (1e-2).
ALICE_OPTIMIZERS: dict[str, dict] = {
    "sgd": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0},
    "sgd_wd1e-4": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4},
    "sgd_wd1e-3": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3},
    "adam": {"optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0},
    "adamw": {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 1e-2},
}

def arch_width(arch: str, preset: Preset) -> int | None:
    """The preset's width for ``arch`` (None: the architecture's own default)."""
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
        if name == "dataset" and (not isinstance(v, str) or (v not in available_datasets() and ":" not in v
                                                             and not is_glm(v))):
            bad(f"one of {available_datasets()}, a case-study name or 'glm[:d=D,noise=S]'", v)
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
        elif name == "task_corr" and (not isinstance(v, numbers.Real) or isinstance(v, bool)
                                      or not -1.0 <= float(v) <= 1.0):
            bad("numbers in [-1, 1]", v)
        elif name == "feature_corr" and (not isinstance(v, numbers.Real) or isinstance(v, bool)
                                         or not -1.0 < float(v) < 1.0):
            bad(f"numbers in [-{ALPHA_MAX}, {ALPHA_MAX}] (images) or (-1, 1) (GLM worlds)", v)
        elif name == "k" and not (v in ("all", "L") or (isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1)):
            bad("integers ≥ 1, 'all' (1..L) or 'L'", v)
        elif name == "seed":
            check_seed(v, "grid axis 'seed' values")
        elif name in ("n_alice", "n_bob") and not (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                                   and 1 <= v <= MAX_PAIRS):
            bad(f"integers in [1, {MAX_PAIRS:,}]", v)


def _n_layers(arch: str, dataset: str, preset: Preset) -> int:
    if is_glm(dataset) and arch != "mlp":
        raise ValueError(f"grid axis 'arch': a GLM world ({dataset!r}) has flat features and needs 'mlp'; got {arch!r}")
    return build_model(arch, input_shape(dataset), 2, width=arch_width(arch, preset)).n_layers


def _reachable(run: dict) -> bool:
    """Whether the run's (task_corr, feature_corr) can be generated; ``ValueError`` for an image
    dataset's α beyond :data:`ALPHA_MAX` (never silently skipped)."""
    t, alpha = run["task_corr"], run["feature_corr"]
    if not is_glm(run["dataset"]):
        if abs(alpha) > ALPHA_MAX:
            raise ValueError(f"grid axis 'feature_corr': {alpha} is outside [-{ALPHA_MAX}, {ALPHA_MAX}] for the "
                             f"image dataset {run['dataset']!r}")
        return True
    try:
        glm_theta(t, alpha)
    except ValueError:
        return False
    return True


def expand_grid(grid: dict | None, preset: str | Preset = "quick") -> tuple[list[dict], int]:
    """Validated run configurations and the number of (task_corr, feature_corr) combinations skipped
    because a GLM world cannot reach them (|sin(π t / 2)| > |α|). ``ValueError`` when every run is
    skipped."""
    p = get_preset(preset)
    if grid is not None and not isinstance(grid, dict):
        raise ValueError(f"grid must be a dict of axis → values (or None for the preset's default grid); "
                         f"got {grid!r}")
    grid = dict(grid or {})
    unknown = sorted(set(grid) - set(AXES))
    if unknown:
        raise ValueError(f"unknown grid axis {unknown}; allowed axes: {list(AXES)}")
    full = default_grid(p)
    for name, value in grid.items():
        full[name] = _as_list(name, value)
    for name in ("task_corr", "feature_corr"):  # canonical before validation, hashing and seeding
        full[name] = [canonical_dial(v) if is_real(v, finite=False) else v for v in full[name]]
    for name in AXES:
        _check_values(name, full[name])
    runs, seen, skipped_dials = [], set(), set()
    depth_cache: dict[tuple, int] = {}
    for combo in itertools.product(*(full[a] for a in AXES)):
        run = dict(zip(AXES, combo, strict=True))
        if not _reachable(run):
            skipped_dials.add((run["task_corr"], run["feature_corr"]))
            continue
        dk = (run["arch"], run["dataset"])
        if dk not in depth_cache:
            depth_cache[dk] = _n_layers(run["arch"], run["dataset"], p)
        L = depth_cache[dk]
        ks = range(1, L + 1) if run["k"] == "all" else [L] if run["k"] == "L" else [run["k"]]
        for k in ks:
            if k > L:
                raise ValueError(f"grid axis 'k': {k} exceeds the {L} layers of {run['arch']!r}; allowed [1, {L}]")
            r = {**run, "k": int(k), "n_layers": L}
            sig = tuple(r[a] for a in AXES)
            if sig not in seen:
                seen.add(sig)
                runs.append(r)
    if not runs:
        raise ValueError(f"the grid has no run left: every (task_corr, feature_corr) pair {sorted(skipped_dials)} "
                         f"is unreachable in its GLM world (|sin(π·t/2)| must be ≤ |α|)")
    return runs, len(skipped_dials)


# ----------------------------------------------------------------------------- configs


def alice_config(run: dict, preset: Preset) -> dict:
    """Everything that determines Alice's trained weights."""
    world_t, world_f = ((canonical_dial(run["task_corr"]), canonical_dial(run["feature_corr"]))
                        if run["alice_world"] == "same" else (0.0, 0.0))
    cfg = TrainConfig(**ALICE_OPTIMIZERS[run["alice_optimizer"]], epochs=preset.alice_epochs,
                      batch_size=preset.batch_size, patience=preset.alice_patience)
    return {"version": ALICE_VERSION, "dataset": run["dataset"], "arch": run["arch"],
            "width": arch_width(run["arch"], preset), "alice_optimizer": run["alice_optimizer"],
            "train": cfg.to_dict(), "task_corr": world_t, "feature_corr": world_f,
            "seed": run["seed"], "n_alice": run["n_alice"], "n_test": preset.n_test}


def bob_config(run: dict, preset: Preset) -> dict:
    """Everything that determines one Bob result (canonical: k = 1 ignores the mode)."""
    protocol = bob_protocol(preset)
    mode = "reinit" if run["k"] <= 1 else run["mode"]
    src = alice_config(run, preset) if run["source"] == "alice" else {
        "random": True, "arch": run["arch"], "width": arch_width(run["arch"], preset),
        "dataset": run["dataset"], "seed": run["seed"]}
    return {"version": CODE_VERSION, "source": src, "k": run["k"], "mode": mode,
            "task_corr": canonical_dial(run["task_corr"]), "feature_corr": canonical_dial(run["feature_corr"]),
            "seed": run["seed"],
            "n_bob": run["n_bob"], "n_test": preset.n_test, "train": protocol.to_dict()}


def bob_protocol(preset: Preset) -> BobProtocol:
    """How every Bob of the synthetic study is trained and selected on validation (the preset's
    learning-rate grid, epochs, patience, batch size and validation fraction)."""
    return BobProtocol(lrs=tuple(preset.bob_lrs), max_epochs=preset.bob_epochs, head_epochs=preset.bob_head_epochs,
                       patience=preset.bob_patience, batch_size=preset.batch_size,
                       val_fraction=preset.bob_val_fraction, l2s=tuple(preset.bob_l2s))


def keeps_nothing(k: int, mode: str, n_layers: int) -> bool:
    """Whether Bob at depth ``k`` in ``mode`` keeps nothing of his source: every layer re-initialised
    (``k = L``, ``reinit``), so runs that differ only in the source are one Bob, bit for bit."""
    return k == n_layers and mode == "reinit"


def data_key(run: dict) -> tuple:
    """A run's data world: the values of :data:`DATA_AXES`."""
    return tuple(run[a] for a in DATA_AXES)


def world_key(run: dict) -> tuple:
    """A run's world with its Alice: the values of :data:`WORLD_AXES`."""
    return tuple(run[a] for a in WORLD_AXES)


def group_key(run: dict) -> tuple:
    """Runs that share everything but the mode (same world, source and k) train together."""
    return tuple(run[a] for a in AXES if a != "mode")


def run_order(run: dict) -> tuple:
    """Sort key grouping runs by world, then Alice, so each is built once and memory stays bounded."""
    return (run["dataset"], run["task_corr"], run["feature_corr"], run["seed"], run["n_alice"], run["n_bob"],
            run["arch"], run["alice_optimizer"], run["alice_world"], run["source"], run["k"], run["mode"])
