"""Sweep benchmark: the engine against the plain PyTorch loop, same grid, one process.

Two rows per preset. **Bob runs** (``sweep_<grid>``): Alice's networks are trained once beforehand
and shared by both (identical checkpoints), so the timings compare Bob's runs — the engine's
``run_sweep`` (worlds and modes stacked per depth, frozen-prefix cache) against
:func:`reference_loop.reference_train_bob_selected` (a ``DataLoader``, one run at a time).
**Alices** (``alices``): the preset's Alices of the grid's worlds, :func:`reuse_utils.training.train_alices`
(stacked where the device gains from it) against :func:`reference_loop.reference_train_alice`.

Each row is written to ``benchmarks/measured/<row>_<preset>_<device tag>.json`` (a tracked folder)
with ``device``, ``torch``, ``runs``, ``reference_seconds``, ``engine_seconds``, ``speedup``,
``max_abs_acc_diff`` / ``mean_abs_acc_diff`` (engine vs reference, same seeds), ``seed_std`` (of
the engine's accuracy over seeds, mean over cells: the noise the differences are compared to),
``peak_rss_mb``, ``commit`` (the checkout's, ``+dirty`` with changes) and, on CUDA, ``peak_gpu_mb``.

    python benchmarks/bench_sweep.py                       # quick grid + Alices
    python benchmarks/bench_sweep.py --grids small,alices  # a fast subset
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_loop import (  # noqa: E402
    reference_accuracy,
    reference_train_alice,
    reference_train_bob_selected,
)

from reuse_utils.companion.runner import commit_hash  # noqa: E402
from reuse_utils.core import derive_seed, describe_device, get_device  # noqa: E402
from reuse_utils.experiments import (  # noqa: E402
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
from reuse_utils.generator import make_world  # noqa: E402
from reuse_utils.training import TrainConfig, evaluate, make_bob, random_source, train_alices  # noqa: E402

GRIDS = {
    "quick": lambda p: {},  # the preset's default sweep
    "small": lambda p: {"task_corr": [0.0, 1.0], "seed": [0]},
    "large": lambda p: {"mode": ["reinit", "finetune"], "source": ["alice", "random"]},
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def device_tag(device: torch.device) -> str:
    """File-name tag of the device: ``cpu<cores>`` or the GPU's name (e.g. ``nvidia-h100-80gb-hbm3``)."""
    if device.type == "cuda":
        return re.sub(r"[^a-z0-9]+", "-", torch.cuda.get_device_name(device).lower()).strip("-")
    return f"{device.type}{torch.get_num_threads()}"


def _common(device: torch.device) -> dict:
    out = {"device": describe_device(device), "torch": torch.__version__, "peak_rss_mb": peak_rss_mb(),
           "commit": commit_hash(Path(__file__).resolve().parent)}
    if device.type == "cuda":
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def _write(result: dict, out: Path, device: torch.device) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{result['grid']}_{result['preset']}_{device_tag(device)}.json").write_text(json.dumps(result, indent=2))


def bench_alices(preset, device: torch.device, out: Path, n_worlds: int | None = None) -> dict:
    """The preset's Alices (cnn, Adam) of its task levels × seeds: stacked engine vs plain loop."""
    dials = [(t, s) for t in preset.task_corrs for s in preset.seeds][:n_worlds]
    worlds = [make_world(preset.dataset, t, 0.0, s, n_alice=preset.n_alice, n_bob=2, n_test=preset.n_test)
              for t, s in dials]
    cfg = TrainConfig(**ALICE_OPTIMIZERS["adam"], epochs=preset.alice_epochs, batch_size=preset.batch_size,
                      patience=preset.alice_patience)
    width = arch_width("cnn", preset)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    ref = [evaluate(reference_train_alice(w.alice_train.x, w.alice_train.y_alice, "cnn", cfg, s, device, width),
                    w.test, "alice") for w, (_, s) in zip(worlds, dials, strict=True)]
    ref_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    models = train_alices([w.alice_train for w in worlds], "cnn", cfg, [s for _, s in dials],
                          device=device, width=width)
    eng = [evaluate(m, w.test, "alice") for m, w in zip(models, worlds, strict=True)]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    eng_s = time.perf_counter() - t0
    df = pd.DataFrame({"task_corr": [t for t, _ in dials], "eng": eng, "ref": ref})
    d = (df.eng - df.ref).abs()
    result = {"grid": "alices", "preset": preset.name, "runs": len(dials), "n_alice": preset.n_alice,
              "epochs": preset.alice_epochs, "reference_seconds": ref_s, "engine_seconds": eng_s,
              "speedup": ref_s / eng_s, "max_abs_acc_diff": float(d.max()), "mean_abs_acc_diff": float(d.mean()),
              "seed_std": float(df.groupby("task_corr").eng.std().mean()), **_common(device)}
    _write(result, out, device)
    return result


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
        t0 = time.perf_counter()
        bob = make_bob(source, run["k"], mode, world.bob_train.num_classes_bob, derive_seed("bob", run["seed"], run["k"], mode))
        bob = reference_train_bob_selected(bob, mode, world.bob_train.x, world.bob_train.y_bob, bob_protocol(preset),
                                           derive_seed("bob-train", run["seed"]), device)
        acc = reference_accuracy(bob, world.test.x, world.test.y_bob, device)
        rows.append({**run, "bob_test_acc": acc, "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows)


def bench(name: str, grid: dict, preset, device: torch.device, out: Path, reference_seeds: int | None = None,
          alice_cache: Path | None = None) -> dict:
    """Engine vs plain loop on one grid. With ``reference_seeds`` = m the plain loop runs only the
    grid's runs of its first m seeds and its seconds are scaled by (engine runs / reference runs):
    every seed holds the same cells (same k, mode, n_bob and shapes), so a seed's runs cost about the same
    in the one-at-a-time loop up to early stopping's spread (at smoke each seed, scaled, came within 6%
    of the full loop). The accuracy differences are taken on the runs both made.

    ``alice_cache``: a cache folder (``<results>/cache``) whose ``alice/`` checkpoints seed the
    benchmark's own (copied, so the folder is not touched), e.g. those of a ``paper`` run that just
    trained the same Alices; entries are verified on load as always and any Alice missing there is
    trained before the clocks start. Neither timed pass trains an Alice either way."""
    grid_seeds = sorted({r["seed"] for r in expand_grid(grid, preset)[0]})
    if reference_seeds is not None and not 1 <= reference_seeds <= len(grid_seeds):
        raise ValueError(f"reference_seeds must be between 1 and the grid's {len(grid_seeds)} seeds; got {reference_seeds}")
    ref_seeds = tuple(grid_seeds[:reference_seeds]) if reference_seeds is not None else None
    if alice_cache is not None and not (Path(alice_cache) / "alice").is_dir():
        raise ValueError(f"alice_cache must be a cache folder holding alice/ checkpoints; got {alice_cache}")
    work = Path(tempfile.mkdtemp(prefix=f"bench_{name}_"))
    try:
        if alice_cache is not None:
            shutil.copytree(Path(alice_cache) / "alice", work / "warm" / "alice")
        run_sweep({**grid, "k": [1]}, preset=preset, cache_dir=work / "warm", progress=False, device=device)
        t0 = time.perf_counter()
        ref = reference_sweep(grid, preset, work / "warm", device, ref_seeds)
        ref_measured_s = time.perf_counter() - t0
        shutil.copytree(work / "warm" / "alice", work / "engine" / "alice")
        t0 = time.perf_counter()
        eng = run_sweep(grid, preset=preset, cache_dir=work / "engine", progress=False, device=device)
        eng_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scale = len(eng) / len(ref)
    ref_s = ref_measured_s * scale
    key = ["task_corr", "feature_corr", "k", "mode", "source", "seed", "arch", "alice_optimizer"]
    m = eng.merge(ref, on=key, suffixes=("", "_ref"))
    seed_std = float(eng.groupby([c for c in key if c != "seed"]).bob_test_acc.std().mean())
    result = {"grid": f"sweep_{name}", "preset": preset.name, "runs": len(eng), "n_bob": preset.n_bob,
              "reference_runs": len(ref), "reference_seconds_measured": ref_measured_s,
              "reference_seconds_extrapolated": scale != 1,
              "reference_seconds": ref_s, "engine_seconds": eng_s, "speedup": ref_s / eng_s,
              "runs_per_minute_reference": 60 * len(ref) / ref_measured_s, "runs_per_minute_engine": 60 * len(eng) / eng_s,
              "max_abs_acc_diff": float((m.bob_test_acc - m.bob_test_acc_ref).abs().max()),
              "mean_abs_acc_diff": float((m.bob_test_acc - m.bob_test_acc_ref).abs().mean()),
              "seed_std": seed_std, **_common(device), "alice_cache": str(alice_cache) if alice_cache else None,
              "engine_prefix_cache": eng.attrs.get("prefix_cache"),
              "engine_seconds_by_k": eng.groupby("k").seconds.sum().round(2).to_dict(),
              "reference_seconds_by_k": (ref.groupby("k").seconds.sum() * scale).round(2).to_dict()}
    _write(result, out, device)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--grids", default="quick,alices",
                    help="comma list of: quick, small, large (optionally with _nbob4), alices")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--alice-worlds", type=int, default=None, help="at most this many Alices in the alices row")
    ap.add_argument("--reference-seeds", type=int, default=None,
                    help="time the plain loop on the runs of this many seeds only and scale its seconds to the grid "
                         "(every seed holds the same cells); default: all runs")
    ap.add_argument("--alice-cache", type=Path, default=None,
                    help="a cache folder (<results>/cache) whose alice/ checkpoints seed the Bob rows' Alices "
                         "(copied; verified on load), e.g. results_paper/cache after a paper run")
    ap.add_argument("--out", default=Path(__file__).resolve().parent / "measured", type=Path)
    args = ap.parse_args(argv)
    device = get_device(args.device)
    preset = get_preset(args.preset)
    results = []
    for name in args.grids.split(","):
        p = preset
        base = name
        if name == "alices":
            print(f"[bench] alices on {describe_device(device)} ...", flush=True)
            results.append(bench_alices(preset, device, args.out, args.alice_worlds))
            continue
        if name.endswith("_nbob4"):
            base, p = name[: -len("_nbob4")], preset.with_(n_bob=4 * preset.n_bob)
        if base not in GRIDS:
            raise SystemExit(f"--grids entries must be among {sorted(GRIDS)} (optionally with _nbob4); got {name!r}")
        print(f"[bench] {name} on {describe_device(device)} ...", flush=True)
        results.append(bench(name, GRIDS[base](p), p, device, args.out, args.reference_seeds, args.alice_cache))
    table = pd.DataFrame(results).reindex(columns=["grid", "runs", "reference_seconds", "engine_seconds", "speedup",
                                                   "max_abs_acc_diff", "mean_abs_acc_diff", "seed_std", "peak_rss_mb"])
    print(table.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
