"""Seconds to score every cut of one world at ``quick`` (Alice's frozen features at k = 1..L on Bob's
1,000 training pairs: LogME, H-score, regularised H-score, LEEP, NCE), against training Bob at every
depth and mode (the sweep records' ``seconds``).

    python benchmarks/bench_cut_scores.py [--cache results/cache] [--worlds 10]

Uses the quick sweep's cached Alices and Bob records (run notebook 04 at quick first: ``make
reproduce``); writes ``benchmarks/measured/cut_scores_quick_cpu2.json``. Target (issue 28): ≤ 1 s per world
on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

import reuse_utils as ru
from reuse_utils.experiments.grid import bob_config
from reuse_utils.experiments.sweep import SweepContext


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default="results/cache")
    ap.add_argument("--worlds", type=int, default=10)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "measured" / "cut_scores_quick_cpu2.json"))
    a = ap.parse_args(argv)
    p = ru.get_preset("quick")
    dev = torch.device("cpu")
    grid = {"dataset": [p.dataset], "seed": list(p.seeds), "task_corr": list(p.task_corrs), "k": ["all"],
            "mode": list(p.modes)}
    frame = ru.run_sweep(grid, preset=p, cache_dir=a.cache, progress=False, device=dev)
    if not frame.from_cache.all():
        print("note: some Bob runs were not cached and were trained now")
    worlds = frame[frame.source == "alice"].drop_duplicates(ru.evaluators.WORLD_KEYS).head(a.worlds)
    ctx = SweepContext(p, dev, Path(a.cache), feature_cache=False, memory_budget=None, accel=None)
    secs, bob = [], []
    for _, row in worlds.iterrows():
        run = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        world = ctx.world(run)
        source, _, _, _ = ctx.source(run, bob_config(run, p), world)
        t0 = time.perf_counter()
        ru.depth_reveal.score_cuts(source, world.bob_train.x, world.bob_train.y_bob, dev)
        secs.append(time.perf_counter() - t0)
        same = (frame[ru.evaluators.WORLD_KEYS] == row[ru.evaluators.WORLD_KEYS]).all(axis=1)
        bob.append(float(frame[same].drop_duplicates(["k", "mode"]).seconds.sum()))
    out = {"what": "score every cut of one quick world (n_bob 1000, cnn, L = 5) vs training Bob at every depth and mode",
           "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "platform": platform.platform()},
           "torch": torch.__version__, "worlds": len(secs), "seconds_per_world": secs,
           "median_seconds_per_world": float(np.median(secs)), "median_bob_seconds_every_depth": float(np.median(bob)),
           "target_seconds": 1.0, "met": bool(np.median(secs) <= 1.0)}
    Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "seconds_per_world"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
