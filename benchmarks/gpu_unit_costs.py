"""Unit costs of the engine on one accelerator, at the ``paper`` preset's sizes, to size that preset
for a time budget before running it: seconds per Alice-epoch (stacked and one at a time), per Bob
sweep depth over the task levels × 2 seeds, and per case-study Alice / Bob. Prints JSON and writes
``$OUT/gpu_unit_costs.json`` (or ``--out``).

    python benchmarks/gpu_unit_costs.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

import reuse_utils as ru
from reuse_utils.experiments import ALICE_OPTIMIZERS, get_preset
from reuse_utils.training import TrainConfig, train_alice, train_alices


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(dev: torch.device, fn, label: str = ""):
    _sync(dev)
    t0 = time.perf_counter()
    out = fn()
    _sync(dev)
    seconds = time.perf_counter() - t0
    print(f"[unit-costs] {label or getattr(fn, '__name__', 'step')}: {seconds:.2f} s", flush=True)
    return seconds, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of n_alice / n_bob / n_test (CPU dry runs)")
    ap.add_argument("--out", default=os.environ.get("OUT", "results/bench"), type=Path)
    args = ap.parse_args()
    dev = ru.get_device(args.device)
    p = get_preset(args.preset)
    sc = lambda n: max(64, int(n * args.scale))  # noqa: E731
    p = p.with_(n_alice=sc(p.n_alice), n_bob=sc(p.n_bob), n_test=sc(p.n_test))
    rep: dict = {"device": ru.core.describe_device(dev), "torch": torch.__version__, "preset": p.name,
                 "n_alice": p.n_alice, "n_bob": p.n_bob}
    one = TrainConfig(**ALICE_OPTIMIZERS["adam"], epochs=1, batch_size=p.batch_size)
    t, worlds = timed(dev, lambda: [ru.make_world(p.dataset, 0.25 * (i % 5), 0.0, i, n_alice=p.n_alice, n_bob=p.n_bob,
                                                  n_test=p.n_test) for i in range(16)])
    rep["make_world_s"] = t / 16
    tr, te = [w.alice_train for w in worlds], [w.test for w in worlds]
    rep["alice_cnn_epoch_one_at_a_time_s"], _ = timed(dev, lambda: train_alice(
        tr[0], "cnn", one, 0, test_pairs=te[0], device=dev, width=p.cnn_width))
    for g in (16,):
        for det in ("1", "0"):  # deterministic cuDNN algorithms, then autotuned ones
            os.environ["REUSE_CUDA_DETERMINISTIC"] = det
            t, _ = timed(dev, lambda g=g: train_alices(tr[:g], "cnn", one, list(range(g)), test_pairs=te[:g],
                                                       device=dev, width=p.cnn_width, group=g))
            rep[f"alice_cnn_epoch_stacked{g}_det{det}_s_per_alice"] = t / g
    os.environ["REUSE_CUDA_DETERMINISTIC"] = "1"
    t, _ = timed(dev, lambda: train_alices(tr, "mlp", one, list(range(16)), test_pairs=te, device=dev,
                                           width=p.mlp_width, group=16))
    rep["alice_mlp_epoch_stacked16_s_per_alice"] = t / 16
    worlds = tr = te = None  # free the host memory before the sweep
    with tempfile.TemporaryDirectory() as tmp:
        grid = {"dataset": [p.dataset], "task_corr": list(p.task_corrs), "seed": list(p.seeds[:2]), "k": ["all"],
                "mode": ["reinit", "finetune"], "source": ["random"]}
        t, df = timed(dev, lambda: ru.run_sweep(grid, preset=p, cache_dir=tmp, progress=False, device=dev))
        rep["bob_sweep_random_source_s"] = t
        rep["bob_sweep_runs"] = len(df)
        rep["bob_sweep_s_by_k"] = (df.groupby("k").seconds.sum()).round(3).to_dict()
        for arch in ("cnn", "resnet18"):
            q = p.with_(case_arch=arch, case_size=32, case_alice_epochs=1, case_bob_epochs=2, case_alice_per_class=500,
                        case_bob_per_class=200)
            data = ru.resolve_case_data(32, prefer="standin")
            t, case = timed(dev, lambda q=q, data=data, arch=arch: ru.run_case_study(
                data, preset=q, seeds=[0], cache_dir=Path(tmp) / arch, device=dev, tasks=["unrelated"]))
            rep[f"case_{arch}_one_task_s"] = t
            rep[f"case_{arch}_runs"] = len(case)
    if dev.type == "cuda":
        rep["peak_gpu_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
    print(json.dumps(rep, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_unit_costs.json").write_text(json.dumps(rep, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
