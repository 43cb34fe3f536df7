"""Unit costs of the engine on one accelerator, at the ``paper`` preset's sizes, to size that preset
for a time budget before running it: seconds per Alice-epoch (stacked and one at a time), per Bob
sweep depth over the task levels × 2 seeds, and per case-study Alice / Bob. Writes the record
(:mod:`benchmarks.harness`) ``<out>/unit_costs_<preset>_<device tag>.json`` (``--out``, default
``benchmarks/measured``; on a lent GPU ``--out $OUT/measured``, then copy it here).

    python -m tools.gpu_unit_costs --device cuda
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import reuse_utils as ru
from benchmarks import harness
from reuse_utils.experiments import ALICE_OPTIMIZERS, get_preset
from reuse_utils.training import TrainConfig, train_alice, train_alices


def main(argv: list[str] | None = None) -> int:
    ap = harness.arguments("unit_costs", __doc__, preset="paper")
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of n_alice / n_bob / n_test (CPU dry runs)")
    args = ap.parse_args(argv)
    dev = ru.get_device(args.device)
    p = get_preset(args.preset)
    sc = lambda n: max(64, int(n * args.scale))  # noqa: E731
    p = p.with_(n_alice=sc(p.n_alice), n_bob=sc(p.n_bob), n_test=sc(p.n_test))
    rep: dict = {}

    def timed(fn, label: str):
        t, out = harness.timed(fn, device=dev)
        print(f"[unit-costs] {label}: {t.best:.2f} s", flush=True)
        return t.best, out

    one = TrainConfig(**ALICE_OPTIMIZERS["adam"], epochs=1, batch_size=p.batch_size)
    t, worlds = timed(lambda: [ru.make_world(p.dataset, 0.25 * (i % 5), 0.0, i, n_alice=p.n_alice, n_bob=p.n_bob,
                                             n_test=p.n_test) for i in range(16)], "16 worlds")
    rep["make_world_s"] = t / 16
    tr, te = [w.alice_train for w in worlds], [w.test for w in worlds]
    rep["alice_cnn_epoch_one_at_a_time_s"], _ = timed(lambda: train_alice(
        tr[0], "cnn", one, 0, test_pairs=te[0], device=dev, width=p.cnn_width), "cnn Alice epoch, one at a time")
    for g in (16,):
        for det in ("1", "0"):  # deterministic cuDNN algorithms, then autotuned ones
            os.environ["REUSE_CUDA_DETERMINISTIC"] = det
            t, _ = timed(lambda g=g: train_alices(tr[:g], "cnn", one, list(range(g)), test_pairs=te[:g],
                                                  device=dev, width=p.cnn_width, group=g),
                         f"cnn Alice epoch, {g} stacked, deterministic {det}")
            rep[f"alice_cnn_epoch_stacked{g}_det{det}_s_per_alice"] = t / g
    os.environ["REUSE_CUDA_DETERMINISTIC"] = "1"
    t, _ = timed(lambda: train_alices(tr, "mlp", one, list(range(16)), test_pairs=te, device=dev,
                                      width=p.mlp_width, group=16), "mlp Alice epoch, 16 stacked")
    rep["alice_mlp_epoch_stacked16_s_per_alice"] = t / 16
    worlds = tr = te = None  # free the host memory before the sweep
    with harness.cache_dir(args.cache, prefix="unit_costs_") as tmp:
        grid = {"dataset": [p.dataset], "task_corr": list(p.task_corrs), "seed": list(p.seeds[:2]), "k": ["all"],
                "mode": ["reinit", "finetune"], "source": ["random"]}
        t, df = timed(lambda: ru.run_sweep(grid, preset=p, cache_dir=tmp, progress=False, device=dev),
                      "Bob sweep, random source")
        rep["bob_sweep_random_source_s"] = t
        rep["bob_sweep_runs"] = len(df)
        rep["bob_sweep_s_by_k"] = (df.groupby("k").seconds.sum()).round(3).to_dict()
        for arch in ("cnn", "resnet18"):
            q = p.with_(case_arch=arch, case_size=32, case_alice_epochs=1, case_bob_epochs=2, case_alice_per_class=500,
                        case_bob_per_class=200)
            data = ru.resolve_case_data(32, prefer="standin")
            t, case = timed(lambda q=q, data=data, arch=arch: ru.run_case_study(
                data, preset=q, seeds=[0], cache_dir=Path(tmp) / arch, device=dev, tasks=["unrelated"]),
                f"case study {arch}, one task")
            rep[f"case_{arch}_one_task_s"] = t
            rep[f"case_{arch}_runs"] = len(case)
    print(json.dumps(rep, indent=1))
    counts = {k: rep.pop(k) for k in [k for k in rep if k.endswith("_runs")]}
    by_k = rep.pop("bob_sweep_s_by_k")
    doc = harness.document(
        "unit_costs", device=dev,
        parameters={"preset": p.name, "scale": args.scale, "n_alice": p.n_alice, "n_bob": p.n_bob, "n_test": p.n_test},
        seconds=rep, results={**counts, "bob_sweep_s_by_k": by_k, "peak_gpu_mb": harness.peak_gpu_mb(dev)})
    harness.write(doc, args.out, f"unit_costs_{p.name}_{harness.device_tag(dev)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
