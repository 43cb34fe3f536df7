"""Held-out check of the head-only Bob (k = 1): the project's Bob against an independent converged
logistic head (scikit-learn, its own C grid chosen on the same validation split) on the same Alice's
frozen features, on worlds and seeds that are not the presets' (the preset's sizes, quick by default).

    python -m benchmarks head_check      # writes benchmarks/measured/head_check_quick_cpu2.json

The record (:mod:`benchmarks.harness`): ``seconds`` per world (Alice, Bob and the reference head),
``accuracy_agreement`` the worst difference and whether it is within the tolerance, ``results`` the
rows. Acceptance (issue 26): Bob's test accuracy within 0.03 of the reference head, or above it (the
exit status is 1 otherwise).
"""

from __future__ import annotations

import numpy as np

from benchmarks import harness
from reuse_utils.core import derive_seed, get_device
from reuse_utils.experiments import ALICE_OPTIMIZERS, bob_protocol, get_preset
from reuse_utils.generator import make_world
from reuse_utils.training import (
    TrainConfig,
    bob_accuracy,
    frozen_features,
    make_bob,
    split_train_val,
    train_alice,
    train_bob_selected,
)

WORLDS = [(0.0, 0.0, 101), (0.0, 0.0, 102), (0.5, 0.0, 103), (0.5, 0.3, 104)]  #: (t, α, seed): not the presets'
TOLERANCE = 0.03


def reference_head(z_tr, y_tr, z_va, y_va, z_te, y_te) -> tuple[float, float]:
    """scikit-learn's multinomial logistic regression on standardised features, C from a wide grid
    chosen on validation log-loss; (test accuracy, chosen C)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(z_tr)
    a, v, te = sc.transform(z_tr), sc.transform(z_va), sc.transform(z_te)
    best = None
    for c in np.logspace(-4, 4, 17):
        clf = LogisticRegression(C=c, max_iter=5000, tol=1e-6).fit(a, y_tr)
        loss = log_loss(y_va, clf.predict_proba(v), labels=clf.classes_)
        if best is None or loss < best[0]:
            best = (loss, c, clf)
    return float((best[2].predict(te) == y_te).mean()), float(best[1])


def _world(t: float, alpha: float, seed: int, p, dev) -> dict:
    """One world: Alice, the project's head-only Bob and the reference head on her frozen features."""
    w = make_world(p.dataset, t, alpha, seed, n_alice=p.n_alice, n_bob=p.n_bob, n_test=p.n_test)
    cfg = TrainConfig(**ALICE_OPTIMIZERS["adam"], epochs=p.alice_epochs, batch_size=p.batch_size,
                      patience=p.alice_patience)
    alice = train_alice(w.alice_train, "cnn", cfg, seed, device=dev, width=p.cnn_width)
    bob = make_bob(alice, 1, "reinit", w.bob_train.num_classes_bob, derive_seed("bob", seed, 1, "reinit"))
    bob, sel = train_bob_selected(bob, "reinit", w.bob_train, bob_protocol(p), derive_seed("bob-train", seed), dev)
    ours = bob_accuracy(bob, w.test)
    start = alice.n_layers - 1
    tr, va = split_train_val(w.bob_train, p.bob_val_fraction)
    feats = [frozen_features(alice, part.x, start, dev).numpy() for part in (tr, va, w.test)]
    ref, c = reference_head(feats[0], tr.y_bob.numpy(), feats[1], va.y_bob.numpy(), feats[2], w.test.y_bob.numpy())
    return {"task_corr": t, "feature_corr": alpha, "seed": seed, "bob_test_acc": ours, "reference_acc": ref,
            "difference": ours - ref, "bob_l2": sel.l2, "reference_C": c, "stopped_by": sel.stopped_by,
            "selection_edge": sel.selection_edge, "alice_epochs": alice.record.best_epoch}


def main(argv: list[str] | None = None) -> int:
    args = harness.arguments("head_check", __doc__, device="cpu", cache=None).parse_args(argv)
    p = get_preset(args.preset)
    dev = get_device(args.device)
    rows, seconds = [], {}
    for t, alpha, seed in WORLDS:
        took, row = harness.timed(lambda t=t, alpha=alpha, seed=seed: _world(t, alpha, seed, p, dev), device=dev)
        rows.append({**row, "seconds": took.best})
        seconds[f"t={t} alpha={alpha} seed={seed}"] = took.best
        print(rows[-1], flush=True)
    worst = min(r["difference"] for r in rows)
    ok = bool(worst >= -TOLERANCE)
    doc = harness.document(
        "head_check", device=dev,
        parameters={"preset": p.name, "worlds": [{"task_corr": t, "feature_corr": a, "seed": s} for t, a, s in WORLDS],
                    "n_alice": p.n_alice, "n_bob": p.n_bob, "reference": "scikit-learn LogisticRegression, "
                    "standardised features, C from 17 values in [1e-4, 1e4] by validation log-loss"},
        seconds=seconds,
        accuracy_agreement={"worst_difference": worst, "tolerance": TOLERANCE, f"within_{TOLERANCE}_or_above": ok},
        results={"rows": rows})
    path = harness.write(doc, args.out, f"head_check_{p.name}_{harness.device_tag(dev)}")
    print(f"worst difference {worst:+.4f} → {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
