"""CUDA check of the validation-selected Bob engine: a small sweep on the GPU and on the CPU of the
same machine (accuracies must agree within bf16/ordering noise), and the time of one quick-preset world."""
import json
import os
import time
from pathlib import Path

import torch

import reuse_utils as ru
from reuse_utils.experiments.presets import get_preset

out = Path(os.environ.get("OUT", "/tmp/out"))
dev = ru.get_device("auto")
rep = {"device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", "torch": torch.__version__}
p = get_preset("smoke").with_(seeds=(0, 1))
grid = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": [1, 2, 5], "mode": ["reinit", "finetune"],
        "source": ["alice", "random"]}
t = time.time()
gpu = ru.run_sweep(grid, preset=p, cache_dir="/tmp/c_gpu", progress=False, device=dev)
rep["gpu_s"] = time.time() - t
t = time.time()
cpu = ru.run_sweep(grid, preset=p, cache_dir="/tmp/c_cpu", progress=False, device="cpu")
rep["cpu_s"] = time.time() - t
key = ["task_corr", "k", "mode", "source", "seed"]
m = gpu.merge(cpu, on=key, suffixes=("_gpu", "_cpu"))
d = (m.bob_test_acc_gpu - m.bob_test_acc_cpu).abs()
rep.update(runs=len(m), max_abs_acc_diff=float(d.max()), mean_abs_acc_diff=float(d.mean()),
           seed_std=float(cpu.groupby([c for c in key if c != "seed"]).bob_test_acc.std().mean()),
           lr_agree=float((m.bob_lr_gpu == m.bob_lr_cpu).mean()),
           k1_acc_by_t_gpu=gpu[(gpu.k == 1) & (gpu.source == "alice")].groupby("task_corr").bob_test_acc.mean().to_dict())
q = get_preset("quick").with_(seeds=(0,))
t = time.time()
w = ru.run_sweep({"dataset": ["mnist5k"], "task_corr": [0.5], "k": ["all"], "mode": ["reinit", "finetune"]}, preset=q,
                 cache_dir="/tmp/c_q", progress=False, device=dev)
rep["quick_world_all_k_s"] = time.time() - t
rep["quick_world_runs"] = len(w)
if dev.type == "cuda":
    rep["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
print(json.dumps(rep, indent=1, default=str))
out.mkdir(parents=True, exist_ok=True)
(out / "gpu_selection_check.json").write_text(json.dumps(rep, indent=2, default=str))
