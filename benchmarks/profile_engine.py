"""Where the engine's time goes: ``torch.profiler`` over one stacked Alice epoch and one stacked Bob
batch per depth (quick preset sizes, 8 worlds), on the chosen device. Writes the record
(:mod:`benchmarks.harness`) ``<out>/profile_<preset>_<device tag>.json``: ``seconds`` each phase's
wall seconds (under the profiler), ``results`` its top operators by self time.

    python -m benchmarks profile --device cpu
"""

from __future__ import annotations

import copy

import torch
from torch.profiler import ProfilerActivity, profile

import reuse_utils as ru
from benchmarks import harness
from reuse_utils.experiments import ALICE_OPTIMIZERS, arch_width, bob_protocol, get_preset
from reuse_utils.training import (
    TrainConfig,
    fit_selected_many,
    frozen_features,
    make_bob,
    random_source,
    task_on_pairs,
    train_alices,
)


def phase(name: str, fn, device: torch.device, top: int = 8) -> dict:
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        t, _ = harness.timed(fn, device=device)
    wall = t.best
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    ops = sorted(prof.key_averages(), key=lambda e: getattr(e, key), reverse=True)[:top]
    total = sum(getattr(e, key) for e in prof.key_averages()) or 1.0
    rows = [{"op": e.key, "self_ms": getattr(e, key) / 1e3, "share": getattr(e, key) / total, "calls": e.count}
            for e in ops]
    print(f"[profile] {name}: {wall:.2f} s; top: " + ", ".join(f"{r['op']} {100 * r['share']:.0f}%" for r in rows[:4]),
          flush=True)
    return {"phase": name, "wall_seconds": wall, "top_ops": rows}


def main(argv: list[str] | None = None) -> int:
    ap = harness.arguments("profile", __doc__, cache=None)
    ap.add_argument("--worlds", type=int, default=8, help="worlds stacked (default 8)")
    args = ap.parse_args(argv)
    dev = ru.get_device(args.device)
    p = get_preset(args.preset)
    ru.seed_everything(0)  # the one-time import cost of deterministic mode, outside the phases
    worlds = [ru.make_world(p.dataset, p.task_corrs[i % len(p.task_corrs)], 0.0, i, n_alice=p.n_alice, n_bob=p.n_bob,
                            n_test=p.n_test) for i in range(args.worlds)]
    one = TrainConfig(**ALICE_OPTIMIZERS["adam"], epochs=1, batch_size=p.batch_size)
    phases: list[dict] = []
    for arch in ("mlp", "cnn"):
        phases.append(phase(f"{arch} Alices, one epoch, {args.worlds} stacked", lambda arch=arch: train_alices(
            [w.alice_train for w in worlds], arch, one, list(range(args.worlds)), device=dev,
            width=arch_width(arch, p), group=args.worlds), dev))
    protocol = bob_protocol(p)
    for k in (1, 3):
        tasks = []
        for i, w in enumerate(worlds):
            src = random_source("cnn", w.test.input_shape, 10, i, width=p.cnn_width).to(dev)
            start = src.n_layers - k
            x = frozen_features(src, w.bob_train.x, start, dev) if start else w.bob_train.x
            modes = ["reinit"] if k == 1 else ["reinit", "finetune"]
            tasks.append(task_on_pairs([make_bob(src, k, m, 10, i) for m in modes], modes, w.bob_train, x,
                                       protocol.val_fraction, i)[0])
        phases.append(phase(f"cnn Bobs k={k}, {args.worlds} worlds stacked", lambda tasks=tasks: fit_selected_many(
            copy.deepcopy(tasks), protocol, dev), dev))
        phases.append(phase(f"cnn Bobs k={k}, one world at a time", lambda tasks=tasks: [
            fit_selected_many([copy.deepcopy(t)], protocol, dev) for t in tasks], dev))
    doc = harness.document(
        "profile", device=dev, parameters={"preset": p.name, "worlds": args.worlds, "n_alice": p.n_alice,
                                           "n_bob": p.n_bob},
        seconds={ph["phase"]: ph["wall_seconds"] for ph in phases},
        results={"top_ops": {ph["phase"]: ph["top_ops"] for ph in phases}})
    harness.write(doc, args.out, f"profile_{p.name}_{harness.device_tag(dev)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
