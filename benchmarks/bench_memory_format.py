"""Memory format and member grouping of convolutional networks on one device, at a preset's sizes:
the measurements behind :func:`reuse_utils.training.models.fast_memory_format` and
:func:`reuse_utils.training.selection.members_stack`.

Rows (seconds, best of ``--repeat``; the same seeds and data in every variant):

* ``alice_epoch``: one Alice epoch (``n_alice`` pairs, Adam, the preset's batch) in PyTorch's default
  layout (NCHW) and channels-last (NHWC), and per Alice with two channels-last Alices side by side
  (:func:`reuse_utils.core.workers.map_workers`: one intra-op thread each);
* ``inference``: a forward pass over ``n_test`` inputs, both layouts;
* ``bob_k<k>``: the Bobs of one world at depth k (2 modes × the preset's learning rates, the
  preset's epochs, no early stop) stacked with ``vmap`` (grouped convolutions, NCHW — the engine's
  CUDA path and its CPU path before), one at a time (NCHW, channels-last; ``REUSE_CPU_WORKERS=1``)
  and side by side in threads, channels-last (the CPU path now).

Writes ``benchmarks/measured/memory_format_<preset>_<device tag>.json``::

    python benchmarks/bench_memory_format.py --device cpu
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
from pathlib import Path

import torch
from bench_sweep import device_tag  # noqa: E402  (benchmarks/ is the script's folder)
from torch import nn

import reuse_utils as ru
import reuse_utils.training.selection as sel
from reuse_utils.core.workers import map_workers
from reuse_utils.experiments import get_preset

HERE = Path(__file__).resolve().parent


def _best(fn, repeat: int) -> float:
    fn()  # warm-up (oneDNN primitive caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _layout(model: nn.Module, fmt: torch.memory_format) -> nn.Module:
    return copy.deepcopy(model).to(memory_format=fmt)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "measured")
    args = ap.parse_args()
    dev = ru.get_device(args.device)
    p = get_preset(args.preset)
    ru.seed_everything(0)
    gen = torch.Generator().manual_seed(0)
    shape = ru.generator.input_shape(p.dataset)
    x = torch.rand(p.n_alice, *shape, generator=gen).to(dev)
    y = torch.randint(0, 10, (p.n_alice,), generator=gen).to(dev)
    alice = ru.build_model("cnn", shape, 10, width=p.cnn_width, seed=0).to(dev)
    layouts = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    rep: dict = {"device": ru.core.describe_device(dev), "torch": torch.__version__, "machine": platform.machine(),
                 "threads": torch.get_num_threads(), "preset": p.name, "arch": "cnn", "width": p.cnn_width,
                 "input_shape": list(shape), "repeat": args.repeat, "rows": {}}

    def epoch(model):
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        for i in range(0, len(y), p.batch_size):
            loss = nn.functional.cross_entropy(model(x[i: i + p.batch_size]), y[i: i + p.batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()

    def infer(model):
        with torch.no_grad():
            for i in range(0, p.n_test, 1024):
                model(x[i: min(i + 1024, p.n_test)])

    def alone(fn):  # one job at a time with all intra-op threads (REUSE_CPU_WORKERS=1)
        before = os.environ.get("REUSE_CPU_WORKERS")
        os.environ["REUSE_CPU_WORKERS"] = "1"
        try:
            return fn()
        finally:
            if before is None:
                os.environ.pop("REUSE_CPU_WORKERS")
            else:
                os.environ["REUSE_CPU_WORKERS"] = before

    for name, fn in (("alice_epoch", epoch), ("inference", infer)):
        rep["rows"][name] = {lay: _best(lambda fmt=fmt, fn=fn: fn(_layout(alice, fmt)), args.repeat) for lay, fmt in layouts.items()}
    pair = [_layout(alice, torch.channels_last) for _ in range(2)]
    rep["rows"]["alice_epoch"]["channels_last_two_side_by_side_per_alice"] = _best(
        lambda: map_workers(epoch, pair, dev), args.repeat) / 2
    n_val = round(p.n_bob * p.bob_val_fraction)
    proto = ru.BobProtocol(lrs=tuple(p.bob_lrs), max_epochs=p.bob_epochs, head_epochs=p.bob_head_epochs,
                           patience=p.bob_epochs, batch_size=p.batch_size)
    acc = ru.core.Accel().resolve(dev)
    for k in range(3, alice.n_layers + 1):
        start = alice.n_layers - k
        feats = ru.training.frozen_features(alice, x[: p.n_bob], start, dev).contiguous() if start else x[: p.n_bob]
        data = (feats[: p.n_bob - n_val], y[: p.n_bob - n_val], feats[p.n_bob - n_val:], y[p.n_bob - n_val: p.n_bob])
        row = {}
        for lay, fmt in layouts.items():
            bobs = [ru.make_bob(_layout(alice, fmt), k, mode, 10, 0) for mode in ("reinit", "finetune")]
            members = [(i, lr) for i in range(2) for lr in proto.lrs]
            tops = [nn.Sequential(*bobs[i].layers[start:]) for i, _ in members]
            factors = [sel._lr_factors(bobs[i], tops[j], ("reinit", "finetune")[i], 0.1) for j, (i, _) in enumerate(members)]
            lrs = [lr for _, lr in members]

            def loop(tops=tops, factors=factors, lrs=lrs, data=data, k=k):
                return sel._fit_apart([copy.deepcopy(t) for t in tops], lrs, factors, [0] * len(tops), [data], proto,
                                      proto.epochs_for(k), [0], dev, acc)

            row[f"one_at_a_time_{lay}"] = _best(lambda loop=loop: alone(loop), args.repeat)
            if lay == "nchw":
                row["stacked_vmap_nchw"] = _best(lambda tops=tops, factors=factors, lrs=lrs, data=data, k=k: sel._fit_stacked(
                    [copy.deepcopy(t) for t in tops], lrs, factors, [0] * len(tops), [data], proto, proto.epochs_for(k),
                    [0], dev, acc), args.repeat)
            else:
                row["side_by_side_channels_last"] = _best(loop, args.repeat)
        row["members"] = len(tops)
        rep["rows"][f"bob_k{k}"] = row
        print(f"[memory-format] k={k}: {json.dumps(row)}", flush=True)
    rows = rep["rows"]
    a = rows["alice_epoch"]
    rep["speedup"] = {"alice_epoch_channels_last": a["nchw"] / a["channels_last"],
                      "alice_epoch_channels_last_side_by_side": a["nchw"] / a["channels_last_two_side_by_side_per_alice"],
                      "inference_channels_last": rows["inference"]["nchw"] / rows["inference"]["channels_last"],
                      **{f"{name}_side_by_side_vs_stacked_vmap": r["stacked_vmap_nchw"] / r["side_by_side_channels_last"]
                         for name, r in rows.items() if name.startswith("bob_k")}}
    tag = device_tag(dev)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"memory_format_{p.name}_{tag}.json"
    out.write_text(json.dumps(rep, indent=2) + "\n")
    print(json.dumps(rep["speedup"], indent=2))
    print(f"[memory-format] wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
