"""Memory format and member grouping of convolutional networks on one device, at a preset's sizes:
the measurements behind :func:`reuse_utils.training.models.fast_memory_format` and
:func:`reuse_utils.training.selection.members_stack`.

Rows (seconds, best of ``--repeats`` after one warm-up call, medians in ``results``; the same
seeds and data in every variant):

* ``alice_epoch``: one Alice epoch (``n_alice`` pairs, Adam, the preset's batch) in PyTorch's default
  layout (NCHW) and channels-last (NHWC), and per Alice with two channels-last Alices side by side
  (:func:`reuse_utils.core.workers.map_workers`: one intra-op thread each);
* ``inference``: a forward pass over ``n_test`` inputs, both layouts;
* ``bob_k<k>``: the Bobs of one world at depth k (2 modes × the preset's learning rates, the
  preset's epochs, no early stop) stacked with ``vmap`` (grouped convolutions, NCHW — the engine's
  CUDA path and its CPU path before), one at a time (NCHW, channels-last; ``REUSE_CPU_WORKERS=1``)
  and side by side in threads, channels-last (the CPU path now).

Writes the record (:mod:`benchmarks.harness`) ``<out>/memory_format_<preset>_<device tag>.json``;
its ``seconds`` are labelled ``<row>.<variant>``::

    python -m benchmarks memory_format --device cpu
"""

from __future__ import annotations

import copy
import json
import os

import torch
from torch import nn

import reuse_utils as ru
from benchmarks import harness
from reuse_utils.core.workers import map_workers
from reuse_utils.experiments import get_preset


def _layout(model: nn.Module, fmt: torch.memory_format) -> nn.Module:
    return copy.deepcopy(model).to(memory_format=fmt)


def main(argv: list[str] | None = None) -> int:
    args = harness.arguments("memory_format", __doc__, device="cpu", repeats=3, cache=None).parse_args(argv)
    dev = ru.get_device(args.device)
    timings: dict[str, harness.Timing] = {}

    def best(label: str, fn) -> float:  # warm-up first (oneDNN primitive caches)
        timings[label] = harness.timed(fn, args.repeats, warmup=True, device=dev)[0]
        return timings[label].best

    p = get_preset(args.preset)
    ru.seed_everything(0)
    gen = torch.Generator().manual_seed(0)
    shape = ru.generator.input_shape(p.dataset)
    x = torch.rand(p.n_alice, *shape, generator=gen).to(dev)
    y = torch.randint(0, 10, (p.n_alice,), generator=gen).to(dev)
    alice = ru.build_model("cnn", shape, 10, width=p.cnn_width, seed=0).to(dev)
    layouts = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    params = {"preset": p.name, "arch": "cnn", "width": p.cnn_width, "input_shape": list(shape),
              "n_alice": p.n_alice, "n_test": p.n_test, "n_bob": p.n_bob, "batch_size": p.batch_size}
    rows: dict[str, dict] = {}

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
        rows[name] = {lay: best(f"{name}.{lay}", lambda fmt=fmt, fn=fn: fn(_layout(alice, fmt)))
                      for lay, fmt in layouts.items()}
    pair = [_layout(alice, torch.channels_last) for _ in range(2)]
    rows["alice_epoch"]["channels_last_two_side_by_side_per_alice"] = best(
        "alice_epoch.channels_last_two_side_by_side", lambda: map_workers(epoch, pair, dev)) / 2
    n_val = round(p.n_bob * p.bob_val_fraction)
    proto = ru.BobProtocol(lrs=tuple(p.bob_lrs), max_epochs=p.bob_epochs, head_epochs=p.bob_head_epochs,
                           patience=p.bob_epochs, batch_size=p.batch_size)
    acc = ru.core.Accel().resolve(dev)
    for k in range(3, alice.n_layers + 1):
        start = alice.n_layers - k
        feats = ru.training.frozen_features(alice, x[: p.n_bob], start, dev).contiguous() if start else x[: p.n_bob]
        data = (feats[: p.n_bob - n_val], y[: p.n_bob - n_val], feats[p.n_bob - n_val:], y[p.n_bob - n_val: p.n_bob])
        row, members_at = {}, {}
        for lay, fmt in layouts.items():
            bobs = [ru.make_bob(_layout(alice, fmt), k, mode, 10, 0) for mode in ("reinit", "finetune")]
            members = [(i, lr) for i in range(2) for lr in proto.lrs]
            tops = [nn.Sequential(*bobs[i].layers[start:]) for i, _ in members]
            factors = [ru.training.lr_factors(tops[j], ("reinit", "finetune")[i], 0.1) for j, (i, _) in enumerate(members)]
            lrs = [lr for _, lr in members]

            def fit(stacked, tops=tops, factors=factors, lrs=lrs, data=data, k=k):
                m = ru.training.Members([copy.deepcopy(t) for t in tops], lrs, factors, [0] * len(tops), [data], [0])
                return ru.training.fit_members(m, proto, proto.epochs_for(k), dev, acc, stacked=stacked)

            def loop(fit=fit):
                return fit(False)

            row[f"one_at_a_time_{lay}"] = best(f"bob_k{k}.one_at_a_time_{lay}", lambda loop=loop: alone(loop))
            if lay == "nchw":
                row["stacked_vmap_nchw"] = best(f"bob_k{k}.stacked_vmap_nchw", lambda fit=fit: fit(True))
            else:
                row["side_by_side_channels_last"] = best(f"bob_k{k}.side_by_side_channels_last", loop)
        members_at[f"bob_k{k}"] = len(tops)
        rows[f"bob_k{k}"] = row
        print(f"[memory-format] k={k}: {json.dumps(row)}", flush=True)
    a = rows["alice_epoch"]
    speedup = {"alice_epoch_channels_last": a["nchw"] / a["channels_last"],
               "alice_epoch_channels_last_side_by_side": a["nchw"] / a["channels_last_two_side_by_side_per_alice"],
               "inference_channels_last": rows["inference"]["nchw"] / rows["inference"]["channels_last"],
               **{f"{name}_side_by_side_vs_stacked_vmap": r["stacked_vmap_nchw"] / r["side_by_side_channels_last"]
                  for name, r in rows.items() if name.startswith("bob_k")}}
    seconds = {label: t.best for label, t in timings.items()}
    seconds["alice_epoch.channels_last_two_side_by_side_per_alice"] = a["channels_last_two_side_by_side_per_alice"]
    doc = harness.document(
        "memory_format", device=dev, parameters=params, repeats=args.repeats, seconds=seconds,
        results={"speedup": speedup, "bob_members": members_at,
                 "median_seconds": {label: t.median for label, t in timings.items()}})
    print(json.dumps(speedup, indent=2))
    harness.write(doc, args.out, f"memory_format_{p.name}_{harness.device_tag(dev)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
