"""Real case studies: Alice learns dog-vs-cat (Oxford-IIIT Pet); Bob reuses her network for binary
Open Images tasks that range from the same task in a new domain to unrelated ones.

Data come from :mod:`reuse_utils.datasets.casedata` (real photos, or the labelled stand-in).
Measured task correlation of a Bob task: bias-corrected Cramér's V (|phi| for two binary tasks;
label order is arbitrary) between Alice's predicted label and Bob's true label on Bob's test
images — the real-data counterpart of the generator's dial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from reuse_utils.core.device import get_device
from reuse_utils.core.ids import check_seed, derive_seed, stable_hash
from reuse_utils.core.workers import map_workers
from reuse_utils.datasets import CaseData, ImageDataset, load_dataset, per_class
from reuse_utils.experiments.alices import AliceStore
from reuse_utils.experiments.grid import (
    ALICE_VERSION,
    CODE_VERSION,
    SCRATCH_SOURCE,
    arch_width,
    bob_protocol,
    keeps_nothing,
)
from reuse_utils.experiments.presets import Preset, get_preset
from reuse_utils.experiments.records import RecordStore, field_problem
from reuse_utils.generator import (
    Pairs,
    World,
    chance_accuracy,
    measured_task_correlation,
    task_pairs,
)
from reuse_utils.training import (
    BobProtocol,
    PrefixCache,
    TrainConfig,
    bob_accuracy,
    build_model,
    fit_selected_many,
    frozen_features,
    make_bob,
    predict,
    random_source,
    task_on_pairs,
)
from reuse_utils.training.selection import STOPS

__all__ = ["run_case_study", "case_gains", "case_preset_config", "RELATEDNESS"]


def case_preset_config(preset: Preset) -> tuple[str, int | None, int]:
    """(architecture, width, image size in px) of the case studies at ``preset``."""
    return preset.case_arch, arch_width(preset.case_arch, preset), preset.case_size


def case_protocol(preset: Preset) -> BobProtocol:
    """Bob's protocol in the case studies: the synthetic study's (:func:`bob_protocol`: convex head,
    widening grids, early stopping) with ``case_bob_epochs`` as the epoch cap."""
    return replace(bob_protocol(preset), max_epochs=preset.case_bob_epochs)


def valid_case_result(res: dict) -> bool:
    """A case-study result is usable when it holds ``bob_test_acc``, ``bob_val_acc`` and how Bob was
    trained (``stopped_by``, ``selection_edge``, ``bob_lr`` and ``bob_l2``: one of them NaN), and
    every accuracy, chance and measured correlation in it is a number in its range
    (:func:`~reuse_utils.experiments.records.field_problem`: [0, 1], [-1, 1]; NaN refused)."""
    return ("bob_test_acc" in res and "bob_val_acc" in res and res.get("stopped_by") in STOPS
            and isinstance(res.get("selection_edge"), bool) and "bob_lr" in res and "bob_l2" in res
            and field_problem(res) is None)


def run_case_study(data: CaseData, *, preset: str | Preset, seeds: Sequence[int], cache_dir: str | Path,
                   device: str | torch.device = "auto", tasks: Sequence[str] | None = None,
                   ks: Sequence[int] | None = None, modes: Sequence[str] = ("reinit", "finetune"),
                   controls: bool = True, progress: bool = False) -> pd.DataFrame:
    """Alice learns dog-vs-cat; Bob reuses her network for each task: one row per Bob run.

    Per seed: Alice (checkpointed in ``<cache_dir>/alice``), then for each Bob task and k (all depths
    by default) and mode, Bob's accuracy (a record in ``<cache_dir>/case``, the same
    :class:`RecordStore` as the sweeps); with ``controls`` also the random-init control (reinit).
    At ``k = L`` with ``reinit`` nothing of the source is kept (:func:`keeps_nothing`), so Alice's run
    and the control's are one record. The pending Bobs of a seed train per depth, all tasks and
    sources together. Sizes come from ``preset`` (``case_*``). Columns: task, group, seed, k, n_layers,
    mode, source, bob_test_acc, chance, measured_corr (Cramér's V of Alice's predictions vs Bob's
    labels on Bob's test images), alice_test_acc, n_bob_train, data_label, from_cache. ``progress``
    shows a tqdm bar over the seeds (the Alices train together first, with their own epoch bar).
    """
    p = get_preset(preset)
    dev = get_device(device)
    seeds = [check_seed(s, "seeds") for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    arch, width, size = case_preset_config(p)
    names = list(tasks) if tasks is not None else list(data.tasks)
    unknown = [t for t in names if t not in data.tasks]
    if unknown:
        raise ValueError(f"tasks must be among {list(data.tasks)}; got {unknown}")
    sets = _CaseSets.load(data, names, p, size)
    alices = AliceStore(Path(cache_dir), dev, progress=progress)
    store = RecordStore(Path(cache_dir) / "case", CODE_VERSION, valid_case_result)
    protocol, prefixes = case_protocol(p), PrefixCache(dev)
    L = build_model(arch, sets.alice_train.input_shape, 2, width=width).n_layers
    depths = list(ks) if ks is not None else list(range(1, L + 1))
    combos = [("alice", k, m) for k in depths for m in (modes if k > 1 else modes[:1])]
    combos += [("random", k, "reinit") for k in depths] if controls else []
    alices.train_missing([(sets.alice_config(data, p, arch, width, seed), lambda seed=seed: sets.alice_world(seed))
                          for seed in seeds])  # together
    rows = []
    for seed in tqdm(seeds, desc="case study: Bobs per seed", disable=not progress):
        acfg = sets.alice_config(data, p, arch, width, seed)
        alice, meta = alices.get(acfg, sets.alice_world(seed))
        rand = random_source(arch, sets.alice_train.input_shape, 2, derive_seed("case-random", seed),
                             width=width).place(dev)
        sources = {"alice": alice, "random": rand, SCRATCH_SOURCE: alice}  # every layer re-initialised
        plan = [(t, source_name, *_case_config(data, t, acfg, source_name, k, mode, L, sets, protocol, store))
                for t in names for source_name, k, mode in combos]
        store.warn_corrupt([item[-1] for item in plan], "case-study")
        pending = {f.key: (t, kept, k, mode, cfg) for t, _, kept, k, mode, cfg, f in plan if f.result is None}
        trained = _train_case_bobs(list(pending.values()), sources, sets.bob, L, protocol, seed, stable_hash(acfg),
                                   prefixes, store, dev)
        corr = {t: measured_task_correlation(predict(alice, test.x), test.y_bob) for t, (_, test) in sets.bob.items()}
        rows += _case_rows(plan, trained, data, seed, L, meta, sets, corr)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _CaseSets:
    """The case study's pairs: Alice's (``alice_train``, ``alice_test``: pets) and, per Bob task,
    (train, test) pairs of its two Open Images classes."""

    alice_train: Pairs
    alice_test: Pairs
    bob: dict[str, tuple[Pairs, Pairs]]

    @classmethod
    def load(cls, data: CaseData, names: list[str], p: Preset, size: int) -> _CaseSets:
        def load(name: str, split: str) -> ImageDataset:
            return load_dataset(name, split, root=data.root)

        bob = {}
        for t in names:
            a, b, _ = data.tasks[t]
            bob[t] = (task_pairs(per_class(load(f"open_images:{a},{b}@{size}", "train"), p.case_bob_per_class)),
                      task_pairs(load(f"open_images:{a},{b}@{size}", "test")))
        return cls(task_pairs(per_class(load(f"pets@{size}", "train"), p.case_alice_per_class)),
                   task_pairs(load(f"pets@{size}", "test")), bob)

    def alice_config(self, data: CaseData, p: Preset, arch: str, width: int | None, seed: int) -> dict:
        return {"version": ALICE_VERSION, "case": "pets", "dataset": f"pets@{p.case_size}", "root": str(data.root),
                "label": data.label, "arch": arch, "width": width, "seed": int(seed),
                "n_per_class": p.case_alice_per_class, "n_test": len(self.alice_test),
                "train": TrainConfig("adam", p.alice_lr, epochs=p.case_alice_epochs, batch_size=p.batch_size,
                                     patience=p.alice_patience).to_dict()}

    def alice_world(self, seed: int) -> World:
        return World("pets", float("nan"), 0.0, seed, self.alice_train, self.alice_train, self.alice_test)


def _case_config(data: CaseData, t: str, acfg: dict, source_name: str, k: int, mode: str, L: int, sets: _CaseSets,
                 protocol: BobProtocol, store: RecordStore) -> tuple:
    """(kept source, k, mode, record config, lookup) of one case-study Bob; the kept source is
    :data:`SCRATCH_SOURCE` where Bob keeps nothing of it (:func:`keeps_nothing`): Alice's and the control's
    one record."""
    kept = SCRATCH_SOURCE if keeps_nothing(k, mode, L) else source_name
    cfg = {"version": CODE_VERSION, "alice": acfg, "source": kept, "task": t, "classes": data.tasks[t][:2], "k": k,
           "mode": mode, "n_bob": len(sets.bob[t][0]), "train": protocol.to_dict()}
    return kept, k, mode, cfg, store.lookup(cfg)


def _case_rows(plan: list[tuple], trained: dict, data: CaseData, seed: int, L: int, meta: dict, sets: _CaseSets,
               corr: dict) -> list[dict]:
    """One row per planned Bob of a seed (from its stored or freshly trained record)."""
    rows, emitted = [], set()
    for t, source_name, _, k, mode, _, found in plan:
        rec = found.result if found.result is not None else trained[found.key]
        rows.append({"task": t, "group": data.tasks[t][2], "seed": seed, "k": k, "n_layers": L, "mode": mode,
                     "source": source_name, "bob_test_acc": rec["bob_test_acc"],
                     "bob_val_acc": rec["bob_val_acc"], "bob_lr": rec["bob_lr"], "bob_l2": rec["bob_l2"],
                     "stopped_by": rec["stopped_by"], "selection_edge": rec["selection_edge"],
                     "alice_stopped_by": meta.get("stopped_by", "cap"), "chance": chance_accuracy(sets.bob[t][1].y_bob),
                     "measured_corr": corr[t], "alice_test_acc": meta["alice_test_acc"],
                     "n_bob_train": len(sets.bob[t][0]), "data_label": data.label or "real",
                     "from_cache": found.result is not None or found.key in emitted})
        emitted.add(found.key)
    return rows


def _train_case_bobs(items: list[tuple], sources: dict, bob_sets: dict, L: int, protocol: BobProtocol, seed: int,
                     alice_key: str, prefixes: PrefixCache, store: RecordStore, device: torch.device) -> dict[str, dict]:
    """Train the pending case-study Bobs ``items`` — (task, source, k, mode, record config) — of one
    seed: per depth k and training-set size, every task and source at once
    (:func:`reuse_utils.training.fit_selected_many`: each task on its own data, the learning-rate grid
    and both modes as members; equal to training them one by one up to float rounding), then each
    Bob's test accuracy; stores and returns the records by key."""
    out: dict[str, dict] = {}
    by_depth: dict[tuple, dict[tuple, list]] = {}
    for t, kept, k, mode, cfg in items:
        by_depth.setdefault((k, len(bob_sets[t][0])), {}).setdefault((t, kept), []).append((mode, cfg))
    for (k, _), groups in sorted(by_depth.items(), key=lambda kv: -kv[0][0]):
        start = L - k
        tasks, held = [], []
        for (t, kept), entries in groups.items():
            train, test = bob_sets[t]
            source = sources[kept]
            fkey = (alice_key, kept, t, start)
            x, fte = train.x, None
            if start:
                x = prefixes.get(fkey + ("train",), lambda s=source, x=train.x, d=start: frozen_features(s, x, d))
                fte = prefixes.get(fkey + ("test",), lambda s=source, x=test.x, d=start: frozen_features(s, x, d))
            bobs = [make_bob(source, k, mode, 2, derive_seed("case-bob", seed, k, mode)) for mode, _ in entries]
            tasks.append(task_on_pairs(bobs, [mode for mode, _ in entries], train, x, protocol.val_fraction,
                                       derive_seed("case-bob-train", seed))[0])
            held += [(bob, test, fte, cfg) for bob, (_, cfg) in zip(bobs, entries, strict=True)]
        selections = [sel for task_sels in fit_selected_many(tasks, protocol, device) for sel in task_sels]
        accs = map_workers(lambda h, d=start: bob_accuracy(h[0], h[1], h[2], d), held, device)
        for (_, _, _, cfg), sel, acc in zip(held, selections, accs, strict=True):
            rec = {"bob_test_acc": acc, **sel.fields()}
            out[store.write(cfg, rec)] = rec
    return out


RELATEDNESS = {"related": 2, "other": 1, "unrelated": 0}


def case_gains(df: pd.DataFrame) -> pd.DataFrame:
    """Per task and seed: scratch accuracy (k = L, reinit), the accuracy of the best run that reuses
    Alice (every k and mode except k = L reinit) — **chosen on validation accuracy** (mean over
    seeds), never on test — its gain over scratch, the relative error reduction
    ``(err_scratch − err_best) / err_scratch`` (no ceiling: a task already solved from scratch
    can still show it), the chosen k and mode, and the measured task correlation."""
    rows = []
    alice = df[df.source == "alice"]
    for task, grp in alice.groupby("task"):
        L = int(grp.n_layers.iloc[0])
        reuse = grp[~((grp.k == L) & (grp["mode"] == "reinit"))]  # every run that keeps something of Alice
        best_k, best_mode = reuse.groupby(["k", "mode"]).bob_val_acc.mean().idxmax()
        for seed, g in grp.groupby("seed"):
            scratch = float(g[(g.k == L) & (g["mode"] == "reinit")].bob_test_acc.iloc[0])
            best = float(g[(g.k == best_k) & (g["mode"] == best_mode)].bob_test_acc.iloc[0])
            err = 1.0 - scratch
            rows.append({"task": task, "group": g.group.iloc[0], "seed": seed, "scratch_acc": scratch,
                         "best_acc": best, "gain": best - scratch,
                         "error_reduction": (err - (1.0 - best)) / err if err > 0 else 0.0,
                         "best_k": int(best_k), "best_mode": best_mode,
                         "measured_corr": float(g.measured_corr.iloc[0]),
                         "relatedness": RELATEDNESS.get(g.group.iloc[0], 1)})
    return pd.DataFrame(rows)
