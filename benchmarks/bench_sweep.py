"""Sweep benchmark: the engine (``run_sweep``) against the plain PyTorch loop, same grid, one process.

Alice's networks are trained once beforehand and shared by both (identical checkpoints), so the
timings compare Bob's runs — where the two differ. Writes ``results/bench/sweep_<grid>.json`` with
``reference_seconds``, ``engine_seconds``, ``speedup``, ``runs``, ``runs_per_minute_*``,
``max_abs_acc_diff``, ``seed_std``, ``peak_rss_mb``, ``device`` and prints a table.

    python benchmarks/bench_sweep.py                 # quick default grid + n_bob ×4 + grid scaling
    python benchmarks/bench_sweep.py --grids small   # a fast subset only
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_loop import reference_accuracy, reference_train_bob_selected  # noqa: E402

from reuse_utils.core import derive_seed, describe_device, get_device  # noqa: E402
from reuse_utils.experiments import (  # noqa: E402
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
from reuse_utils.training import make_bob, random_source  # noqa: E402

GRIDS = {
    "quick": lambda p: {},  # the preset's default sweep
    "small": lambda p: {"task_corr": [0.0, 1.0], "seed": [0]},
    "large": lambda p: {"mode": ["reinit", "finetune"], "source": ["alice", "random"]},
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference_sweep(grid: dict, preset, cache: Path, device: torch.device) -> pd.DataFrame:
    runs, _ = expand_grid(grid, preset)
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


def bench(name: str, grid: dict, preset, device: torch.device, out: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench_{name}_"))
    try:
        run_sweep({**grid, "k": [1]}, preset=preset, cache_dir=work / "warm", progress=False, device=device)
        t0 = time.perf_counter()
        ref = reference_sweep(grid, preset, work / "warm", device)
        ref_s = time.perf_counter() - t0
        shutil.copytree(work / "warm" / "alice", work / "engine" / "alice")
        t0 = time.perf_counter()
        eng = run_sweep(grid, preset=preset, cache_dir=work / "engine", progress=False, device=device)
        eng_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    key = ["task_corr", "feature_corr", "k", "mode", "source", "seed", "arch", "alice_optimizer"]
    m = eng.merge(ref, on=key, suffixes=("", "_ref"))
    seed_std = float(eng.groupby([c for c in key if c != "seed"]).bob_test_acc.std().mean())
    result = {"grid": name, "preset": preset.name, "runs": len(eng), "n_bob": preset.n_bob,
              "reference_seconds": ref_s, "engine_seconds": eng_s, "speedup": ref_s / eng_s,
              "runs_per_minute_reference": 60 * len(ref) / ref_s, "runs_per_minute_engine": 60 * len(eng) / eng_s,
              "max_abs_acc_diff": float((m.bob_test_acc - m.bob_test_acc_ref).abs().max()),
              "mean_abs_acc_diff": float((m.bob_test_acc - m.bob_test_acc_ref).abs().mean()),
              "seed_std": seed_std, "peak_rss_mb": peak_rss_mb(), "device": describe_device(device),
              "engine_prefix_cache": eng.attrs.get("prefix_cache"),
              "engine_seconds_by_k": eng.groupby("k").seconds.sum().round(2).to_dict(),
              "reference_seconds_by_k": ref.groupby("k").seconds.sum().round(2).to_dict()}
    if device.type == "cuda":
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    out.mkdir(parents=True, exist_ok=True)
    (out / f"sweep_{name}.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--grids", default="quick,small_nbob4", help="comma list of: quick, small, small_nbob4, large")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="results/bench", type=Path)
    args = ap.parse_args(argv)
    device = get_device(args.device)
    preset = get_preset(args.preset)
    results = []
    for name in args.grids.split(","):
        p = preset
        base = name
        if name.endswith("_nbob4"):
            base, p = name[: -len("_nbob4")], preset.with_(n_bob=4 * preset.n_bob)
        if base not in GRIDS:
            raise SystemExit(f"--grids entries must be among {sorted(GRIDS)} (optionally with _nbob4); got {name!r}")
        print(f"[bench] {name} on {describe_device(device)} ...", flush=True)
        results.append(bench(name, GRIDS[base](p), p, device, args.out))
    table = pd.DataFrame(results)[["grid", "runs", "n_bob", "reference_seconds", "engine_seconds", "speedup",
                                   "runs_per_minute_engine", "max_abs_acc_diff", "seed_std", "peak_rss_mb"]]
    print(table.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
