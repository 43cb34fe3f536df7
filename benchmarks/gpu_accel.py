"""CUDA only: the same small sweep under each execution switch (correctness and time)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from reuse_utils.core.device import Accel, get_device
from reuse_utils.experiments.sweep import run_sweep


def main() -> int:
    dev = get_device("auto")
    grid = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "seed": [0, 1], "k": [1, 3, 5], "mode": ["reinit"]}
    out = {}
    variants = {"plain fp32": Accel(False, False, False), "default (channels_last+bf16)": Accel(),
                "default + compile": Accel(compile=True)}
    for name, acc in variants.items():
        t0 = time.perf_counter()
        df = run_sweep(grid, preset="quick", cache_dir=f"/tmp/accel_{len(out)}", progress=False, device=dev, accel=acc)
        out[name] = {"seconds": time.perf_counter() - t0, "alices": df.attrs["alices_trained"],
                     "acc_by_t_k": {f"t={t},k={k}": round(v, 4) for (t, k), v in
                                    df.groupby(["task_corr", "k"]).bob_test_acc.mean().items()}}
        print(name, json.dumps(out[name]), flush=True)
    Path(sys.argv[1] if len(sys.argv) > 1 else "results/bench").mkdir(parents=True, exist_ok=True)
    (Path(sys.argv[1] if len(sys.argv) > 1 else "results/bench") / "gpu_accel.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
