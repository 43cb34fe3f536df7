"""Seconds to score every cut of one world (Alice's frozen features at k = 1..L on Bob's training
pairs: LogME, H-score, regularised H-score, LEEP, NCE), against training Bob at every depth and mode
(the sweep records' ``seconds``).

    python -m benchmarks cut_scores [--cache results/cache] [--worlds 10] [--preset quick]

Reads the preset's sweep (Alices and Bob records) from ``--cache``, by default ``results/cache``,
the cache ``make reproduce`` fills (run notebook 04 at the preset first); what is missing there is
trained now, into that folder. Writes the record (:mod:`benchmarks.harness`)
``<out>/cut_scores_<preset>_<device tag>.json``: ``seconds`` the medians per world of both,
``results`` each world's seconds and whether the target is met. Target (issue 28): ≤ 1 s per
world at ``quick`` on 2 CPU cores.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import reuse_utils as ru
from benchmarks import harness
from reuse_utils.experiments.grid import bob_config
from reuse_utils.experiments.sweep_context import SweepContext

TARGET_SECONDS = 1.0


def main(argv: list[str] | None = None) -> int:
    ap = harness.arguments("cut_scores", __doc__, device="cpu", cache="results/cache")
    ap.add_argument("--worlds", type=int, default=10, help="worlds scored (default 10)")
    a = ap.parse_args(argv)
    p = ru.get_preset(a.preset)
    dev = ru.get_device(a.device)
    grid = {"dataset": [p.dataset], "seed": list(p.seeds), "task_corr": list(p.task_corrs), "k": ["all"],
            "mode": list(p.modes)}
    with harness.cache_dir(a.cache) as cache:
        frame = ru.run_sweep(grid, preset=p, cache_dir=cache, progress=False, device=dev)
        if not frame.from_cache.all():
            print("note: some Bob runs were not cached and were trained now")
        worlds = frame[frame.source == "alice"].drop_duplicates(ru.evaluators.WORLD_KEYS).head(a.worlds)
        ctx = SweepContext(p, dev, Path(cache), feature_cache=False, memory_budget=None, accel=None)
        secs, bob = [], []
        for _, row in worlds.iterrows():
            run = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            world = ctx.world(run)
            source, _, _, _ = ctx.source(run, bob_config(run, p), world)
            t, _ = harness.timed(lambda source=source, world=world: ru.depth_reveal.score_cuts(
                source, world.bob_train.x, world.bob_train.y_bob, dev), device=dev)
            secs.append(t.best)
            same = (frame[ru.evaluators.WORLD_KEYS] == row[ru.evaluators.WORLD_KEYS]).all(axis=1)
            bob.append(float(frame[same].drop_duplicates(["k", "mode"]).seconds.sum()))
    median = float(np.median(secs))
    doc = harness.document(
        "cut_scores", device=dev,
        parameters={"preset": p.name, "worlds": len(secs), "n_bob": p.n_bob, "arch": "cnn",
                    "scores": ["LogME", "H-score", "regularised H-score", "LEEP", "NCE"],
                    "cache": str(a.cache)},
        seconds={"score_every_cut_median_per_world": median,
                 "bob_every_depth_and_mode_median_per_world": float(np.median(bob))},
        results={"seconds_per_world": secs, "bob_seconds_per_world": bob, "target_seconds": TARGET_SECONDS,
                 "met": bool(median <= TARGET_SECONDS)})
    harness.write(doc, a.out, f"cut_scores_{p.name}_{harness.device_tag(dev)}")
    print(f"median {median:.3f} s per world (target {TARGET_SECONDS} s); Bob at every depth and mode "
          f"{np.median(bob):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
