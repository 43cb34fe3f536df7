"""Sweep benchmark: the engine against the plain PyTorch loop, same grid, one process.

Two kinds of row. **Bob runs** (benchmark ``sweep``, one record per grid): Alice's networks are
trained once beforehand and shared by both (identical checkpoints), so the timings compare Bob's
runs — the engine's ``run_sweep`` (worlds and modes stacked per depth, frozen-prefix cache) against
:func:`benchmarks.reference_loop.reference_train_bob_selected` (a ``DataLoader``, one run at a
time). **Alices** (benchmark ``alices``): the preset's Alices of the grid's worlds,
:func:`reuse_utils.training.train_alices` (stacked where the device gains from it) against
:func:`benchmarks.reference_loop.reference_train_alice`.

Each row is a record of the harness's schema (:mod:`benchmarks.harness`) in
``<out>/sweep_<grid>_<preset>_<device tag>.json`` or ``<out>/alices_<preset>_<device tag>.json``:
``seconds`` ``reference`` / ``engine`` (and ``reference_measured``, the plain loop's own seconds
before scaling), ``accuracy_agreement`` ``max_abs_acc_diff`` / ``mean_abs_acc_diff`` (engine vs
reference, same seeds) and ``seed_std`` (of the engine's accuracy over seeds, mean over cells: the
noise the differences are compared to), ``results`` the speedup, runs per minute, seconds by depth,
``peak_rss_mb`` and, on CUDA, ``peak_gpu_mb``.

    python -m benchmarks sweep                             # quick grid + Alices
    python -m benchmarks sweep --grids small,alices        # a fast subset
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import torch

from benchmarks import harness
from benchmarks.reference_loop import (
    reference_accuracy,
    reference_train_alice,
    reference_train_bob_selected,
)
from reuse_utils.core import derive_seed, describe_device, get_device
from reuse_utils.experiments import (
    ALICE_OPTIMIZERS,
    AliceStore,
    alice_config,
    arch_width,
    bob_config,
    bob_protocol,
    expand_grid,
    get_preset,
    run_sweep,
)
from reuse_utils.generator import make_world
from reuse_utils.training import TrainConfig, evaluate, make_bob, random_source, train_alices

GRIDS = {
    "quick": lambda p: {},  # the preset's default sweep
    "small": lambda p: {"task_corr": [0.0, 1.0], "seed": [0]},
    "large": lambda p: {"mode": ["reinit", "finetune"], "source": ["alice", "random"]},
}


def _memory(device: torch.device) -> dict:
    out = {"peak_rss_mb": harness.peak_rss_mb()}
    if device.type == "cuda":
        out["peak_gpu_mb"] = harness.peak_gpu_mb(device)
    return out


def bench_alices(preset, device: torch.device, out: Path, n_worlds: int | None = None) -> dict:
    """The preset's Alices (cnn, Adam) of its task levels × seeds: stacked engine vs plain loop."""
    dials = [(t, s) for t in preset.task_corrs for s in preset.seeds][:n_worlds]
    worlds = [make_world(preset.dataset, t, 0.0, s, n_alice=preset.n_alice, n_bob=2, n_test=preset.n_test)
              for t, s in dials]
    cfg = TrainConfig(**ALICE_OPTIMIZERS["adam"], epochs=preset.alice_epochs, batch_size=preset.batch_size,
                      patience=preset.alice_patience)
    width = arch_width("cnn", preset)
    ref_t, ref = harness.timed(lambda: [
        evaluate(reference_train_alice(w.alice_train.x, w.alice_train.y_alice, "cnn", cfg, s, device, width),
                 w.test, "alice") for w, (_, s) in zip(worlds, dials, strict=True)], device=device)

    def engine():
        models = train_alices([w.alice_train for w in worlds], "cnn", cfg, [s for _, s in dials],
                              device=device, width=width)
        return [evaluate(m, w.test, "alice") for m, w in zip(models, worlds, strict=True)]

    eng_t, eng = harness.timed(engine, device=device)
    df = pd.DataFrame({"task_corr": [t for t, _ in dials], "eng": eng, "ref": ref})
    d = (df.eng - df.ref).abs()
    doc = harness.document(
        "alices", device=device,
        parameters={"preset": preset.name, "arch": "cnn", "optimizer": "adam", "runs": len(dials),
                    "n_alice": preset.n_alice, "epochs": preset.alice_epochs, "patience": preset.alice_patience},
        seconds={"reference": ref_t.best, "engine": eng_t.best},
        accuracy_agreement={"runs_compared": len(df), "max_abs_acc_diff": float(d.max()),
                            "mean_abs_acc_diff": float(d.mean()),
                            "seed_std": float(df.groupby("task_corr").eng.std().mean())},
        results={"speedup": ref_t.best / eng_t.best, **_memory(device)})
    harness.write(doc, out, f"alices_{preset.name}_{harness.device_tag(device)}")
    return doc


def reference_sweep(grid: dict, preset, cache: Path, device: torch.device,
                    seeds: tuple[int, ...] | None = None) -> pd.DataFrame:
    """The grid's runs one at a time through the plain loop; only those of ``seeds`` when given."""
    runs, _ = expand_grid(grid, preset)
    if seeds is not None:
        runs = [r for r in runs if r["seed"] in seeds]
    store = AliceStore(cache, device)
    rows, worlds = [], {}
    for run in runs:
        wkey = (run["dataset"], run["task_corr"], run["feature_corr"], run["seed"], run["n_alice"], run["n_bob"])
        if wkey not in worlds:
            worlds.clear()
            worlds[wkey] = make_world(*wkey[:4], n_alice=run["n_alice"], n_bob=run["n_bob"], n_test=preset.n_test)
        world = worlds[wkey]
        if run["source"] == "alice":
            source, _ = store.get(alice_config(run, preset), world)
        else:
            source = random_source(run["arch"], world.test.input_shape, world.test.num_classes_alice,
                                   derive_seed("random-source", run["seed"]), width=arch_width(run["arch"], preset))
        mode = bob_config(run, preset)["mode"]

        def one(run=run, world=world, source=source, mode=mode):
            bob = make_bob(source, run["k"], mode, world.bob_train.num_classes_bob,
                           derive_seed("bob", run["seed"], run["k"], mode))
            bob = reference_train_bob_selected(bob, mode, world.bob_train.x, world.bob_train.y_bob,
                                               bob_protocol(preset), derive_seed("bob-train", run["seed"]), device)
            return reference_accuracy(bob, world.test.x, world.test.y_bob, device)

        t, acc = harness.timed(one, device=device)
        rows.append({**run, "bob_test_acc": acc, "seconds": t.best})
    return pd.DataFrame(rows)


def bench(name: str, grid: dict, preset, device: torch.device, out: Path, reference_seeds: int | None = None,
          alice_cache: Path | None = None) -> dict:
    """Engine vs plain loop on one grid; the record written (``sweep_<name>_<preset>_<device tag>``).
    With ``reference_seeds`` = m the plain loop runs only the grid's runs of its first m seeds and its
    seconds are scaled by (engine runs / reference runs): every seed holds the same cells (same k,
    mode, n_bob and shapes), so a seed's runs cost about the same in the one-at-a-time loop up to
    early stopping's spread (at smoke each seed, scaled, came within 6% of the full loop). The
    accuracy differences are taken on the runs both made.

    ``alice_cache``: a cache folder (``<results>/cache``) whose ``alice/`` checkpoints seed the
    benchmark's own (copied, so the folder is not touched), e.g. those of a ``paper`` run that just
    trained the same Alices; entries are verified on load as always and any Alice missing there is
    trained before the clocks start. Neither timed pass trains an Alice either way. The benchmark's
    own caches live in a temporary folder (the engine's must start empty to be timed)."""
    grid_seeds = sorted({r["seed"] for r in expand_grid(grid, preset)[0]})
    if reference_seeds is not None and not 1 <= reference_seeds <= len(grid_seeds):
        raise ValueError(f"reference_seeds must be between 1 and the grid's {len(grid_seeds)} seeds; got {reference_seeds}")
    ref_seeds = tuple(grid_seeds[:reference_seeds]) if reference_seeds is not None else None
    if alice_cache is not None and not (Path(alice_cache) / "alice").is_dir():
        raise ValueError(f"alice_cache must be a cache folder holding alice/ checkpoints; got {alice_cache}")
    with harness.cache_dir(None, prefix=f"bench_{name}_") as work:
        if alice_cache is not None:
            shutil.copytree(Path(alice_cache) / "alice", work / "warm" / "alice")
        run_sweep({**grid, "k": [1]}, preset=preset, cache_dir=work / "warm", progress=False, device=device)
        ref_t, ref = harness.timed(lambda: reference_sweep(grid, preset, work / "warm", device, ref_seeds), device=device)
        shutil.copytree(work / "warm" / "alice", work / "engine" / "alice")
        eng_t, eng = harness.timed(lambda: run_sweep(grid, preset=preset, cache_dir=work / "engine", progress=False,
                                                     device=device), device=device)
    scale = len(eng) / len(ref)
    ref_measured_s, eng_s = ref_t.best, eng_t.best
    ref_s = ref_measured_s * scale
    key = ["task_corr", "feature_corr", "k", "mode", "source", "seed", "arch", "alice_optimizer"]
    m = eng.merge(ref, on=key, suffixes=("", "_ref"))
    diff = (m.bob_test_acc - m.bob_test_acc_ref).abs()
    doc = harness.document(
        "sweep", device=device,
        parameters={"grid": name, "grid_values": grid, "preset": preset.name, "runs": len(eng), "n_bob": preset.n_bob,
                    "reference_runs": len(ref), "reference_seeds": reference_seeds,
                    "alice_cache": str(alice_cache) if alice_cache else None},
        seconds={"reference": ref_s, "engine": eng_s, "reference_measured": ref_measured_s},
        accuracy_agreement={"runs_compared": len(m), "max_abs_acc_diff": float(diff.max()),
                            "mean_abs_acc_diff": float(diff.mean()),
                            "seed_std": float(eng.groupby([c for c in key if c != "seed"]).bob_test_acc.std().mean())},
        results={"speedup": ref_s / eng_s, "reference_seconds_extrapolated": scale != 1,
                 "runs_per_minute_reference": 60 * len(ref) / ref_measured_s,
                 "runs_per_minute_engine": 60 * len(eng) / eng_s,
                 "engine_seconds_by_k": eng.groupby("k").seconds.sum().round(2).to_dict(),
                 "reference_seconds_by_k": (ref.groupby("k").seconds.sum() * scale).round(2).to_dict(),
                 "engine_prefix_cache": eng.attrs.get("prefix_cache"), **_memory(device)})
    harness.write(doc, out, f"sweep_{name}_{preset.name}_{harness.device_tag(device)}")
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = harness.arguments("sweep", __doc__, cache=None)
    ap.add_argument("--grids", default="quick,alices",
                    help="comma list of: quick, small, large (optionally with _nbob4), alices")
    ap.add_argument("--alice-worlds", type=int, default=None, help="at most this many Alices in the alices row")
    ap.add_argument("--reference-seeds", type=int, default=None,
                    help="time the plain loop on the runs of this many seeds only and scale its seconds to the grid "
                         "(every seed holds the same cells); default: all runs")
    ap.add_argument("--alice-cache", type=Path, default=None,
                    help="a cache folder (<results>/cache) whose alice/ checkpoints seed the Bob rows' Alices "
                         "(copied; verified on load), e.g. results_paper/cache after a paper run")
    args = ap.parse_args(argv)
    device = get_device(args.device)
    preset = get_preset(args.preset)
    rows = []
    for name in args.grids.split(","):
        p = preset
        base = name
        if name == "alices":
            print(f"[bench] alices on {describe_device(device)} ...", flush=True)
            doc = bench_alices(preset, device, args.out, args.alice_worlds)
            rows.append({"row": "alices", **doc["seconds"], **doc["accuracy_agreement"], **doc["results"]})
            continue
        if name.endswith("_nbob4"):
            base, p = name[: -len("_nbob4")], preset.with_(n_bob=4 * preset.n_bob)
        if base not in GRIDS:
            raise SystemExit(f"--grids entries must be among {sorted(GRIDS)} (optionally with _nbob4); got {name!r}")
        print(f"[bench] {name} on {describe_device(device)} ...", flush=True)
        doc = bench(name, GRIDS[base](p), p, device, args.out, args.reference_seeds, args.alice_cache)
        rows.append({"row": f"sweep_{name}", **doc["seconds"], **doc["accuracy_agreement"], **doc["results"]})
    table = pd.DataFrame(rows).reindex(columns=["row", "reference", "engine", "speedup", "max_abs_acc_diff",
                                                "mean_abs_acc_diff", "seed_std", "peak_rss_mb"])
    print(table.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
