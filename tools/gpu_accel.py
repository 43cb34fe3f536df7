"""CUDA only: the same small sweep (quick sizes) under each execution switch — plain fp32, the
default (channels-last + bf16), the default with ``torch.compile`` — its seconds and its accuracies
by (t, k). Writes the record (:mod:`benchmarks.harness`) ``<out>/gpu_accel_<preset>_<device tag>.json``
(``--out``, default ``benchmarks/measured``; on a lent GPU ``--out $OUT/measured``).

    python -m tools.gpu_accel [--out DIR] [--cache DIR]
"""

from __future__ import annotations

import json
import sys

from benchmarks import harness
from reuse_utils.core.device import Accel, get_device
from reuse_utils.experiments.sweep import SweepOptions, run_sweep

GRID = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "seed": [0, 1], "k": [1, 3, 5], "mode": ["reinit"]}
VARIANTS = {"plain fp32": Accel(False, False, False), "default (channels_last+bf16)": Accel(),
            "default + compile": Accel(compile=True)}


def main(argv: list[str] | None = None) -> int:
    args = harness.arguments("gpu_accel", __doc__).parse_args(argv)
    dev = get_device(args.device)
    seconds, results = {}, {}
    with harness.cache_dir(args.cache, prefix="gpu_accel_") as cache:
        for i, (name, acc) in enumerate(VARIANTS.items()):
            t, df = harness.timed(lambda i=i, acc=acc: run_sweep(
                GRID, preset=args.preset, cache_dir=cache / f"variant_{i}", progress=False, device=dev,
                options=SweepOptions(accel=acc)), device=dev)
            seconds[name] = t.best
            results[name] = {"alices": df.attrs["alices_trained"],
                             "acc_by_t_k": {f"t={t_},k={k}": round(v, 4) for (t_, k), v in
                                            df.groupby(["task_corr", "k"]).bob_test_acc.mean().items()}}
            print(name, f"{t.best:.1f} s", json.dumps(results[name]), flush=True)
    doc = harness.document("gpu_accel", device=dev, parameters={"preset": args.preset, "grid": GRID},
                           seconds=seconds, results=results)
    harness.write(doc, args.out, f"gpu_accel_{args.preset}_{harness.device_tag(dev)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
