"""One short script for a CUDA machine: correctness on the GPU, engine vs reference there, and a
timed slice of the ``paper`` preset (with GPU utilisation sampled by nvidia-smi).

    PYTHONPATH=. python benchmarks/gpu_check.py --out results/bench

Needs the decoded dataset caches (``data/cache/*.pt``) when the machine is offline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sweep import bench  # noqa: E402

from reuse_utils.core.device import describe_device, get_device  # noqa: E402
from reuse_utils.experiments.presets import get_preset  # noqa: E402
from reuse_utils.experiments.sweep import run_sweep  # noqa: E402


class GpuSampler(threading.Thread):
    """Samples ``nvidia-smi`` utilisation every 0.5 s until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5).stdout.strip()
                self.samples.append(float(out.splitlines()[0]))
            except Exception:  # noqa: BLE001 - sampling is best effort
                pass
            time.sleep(0.5)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/bench", type=Path)
    ap.add_argument("--paper-seeds", default=1, type=int)
    ap.add_argument("--paper-preset", default="paper", help="preset of the timed slice (paper on a GPU)")
    ap.add_argument("--bench-preset", default="quick")
    args = ap.parse_args()
    dev = get_device("auto")
    report: dict = {"device": describe_device(dev), "torch": torch.__version__}
    print(report, flush=True)
    tmp = Path("/tmp/gpu_check")

    # 1. Correctness: the smoke acceptance grid on this device, and on the CPU for comparison.
    grid = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": [1, 5], "mode": ["reinit"]}
    t0 = time.perf_counter()
    gpu = run_sweep(grid, preset="smoke", cache_dir=tmp / "smoke_gpu", progress=False, device=dev)
    report["smoke_gpu_seconds"] = time.perf_counter() - t0
    cpu = run_sweep(grid, preset="smoke", cache_dir=tmp / "smoke_cpu", progress=False, device="cpu")
    m = gpu.merge(cpu, on=["task_corr", "k", "seed"], suffixes=("_gpu", "_cpu"))
    report["smoke_acc"] = m[["task_corr", "k", "seed", "bob_test_acc_gpu", "bob_test_acc_cpu"]].to_dict("records")
    k1 = gpu[gpu.k == 1].groupby("task_corr").bob_test_acc.mean()
    report["smoke_k1_gain_t1_minus_t0"] = float(k1[1.0] - k1[0.0])
    print(json.dumps(report, indent=1), flush=True)

    # 2. Engine vs plain loop on this device (quick preset, reduced grid).
    report["bench_quick_small"] = bench("small_gpu", {"task_corr": [0.0, 0.4, 1.0], "seed": [0, 1]},
                                        get_preset(args.bench_preset), dev, args.out)
    print(json.dumps(report["bench_quick_small"], indent=1), flush=True)

    # 3. A timed slice of the paper preset (fashion_mnist, full sizes).
    p = get_preset(args.paper_preset)
    sampler = GpuSampler()
    sampler.start()
    t0 = time.perf_counter()
    paper = run_sweep({"task_corr": [0.0, 0.5, 1.0], "seed": list(range(args.paper_seeds))}, preset=p,
                      cache_dir=tmp / "paper", progress=False, device=dev)
    sec = time.perf_counter() - t0
    sampler.stop.set()
    util = sampler.samples
    full_runs = len(p.task_corrs) * len(p.seeds) * (1 + 2 * (int(paper.n_layers.max()) - 1))
    report["paper_slice"] = {"runs": len(paper), "seconds": sec, "alices": paper.attrs["alices_trained"],
                             "mean_gpu_util_pct": sum(util) / len(util) if util else None,
                             "bob_acc_by_t_k1": paper[paper.k == 1].groupby("task_corr").bob_test_acc.mean().to_dict(),
                             "alice_acc": float(paper.alice_test_acc.mean()),
                             "full_default_sweep_runs": full_runs,
                             "extrapolated_full_sweep_minutes": sec / len(paper) * full_runs / 60}
    if dev.type == "cuda":
        report["peak_gpu_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
    print(json.dumps(report["paper_slice"], indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
