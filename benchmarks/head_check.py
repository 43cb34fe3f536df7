"""Held-out check of the head-only Bob (k = 1): the project's Bob against an independent converged
logistic head (scikit-learn, its own C grid chosen on the same validation split) on the same Alice's
frozen features, on worlds and seeds that are not the presets' (quick sizes).

    python benchmarks/head_check.py            # writes benchmarks/measured/head_check_quick_cpu2.json

Acceptance (issue 26): Bob's test accuracy within 0.03 of the reference head, or above it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reuse_utils.core import derive_seed, get_device  # noqa: E402
from reuse_utils.experiments import ALICE_OPTIMIZERS, bob_protocol, get_preset  # noqa: E402
from reuse_utils.generator import make_world  # noqa: E402
from reuse_utils.training import (  # noqa: E402
    TrainConfig,
    bob_accuracy,
    frozen_features,
    make_bob,
    split_train_val,
    train_alice,
    train_bob_selected,
)

WORLDS = [(0.0, 0.0, 101), (0.0, 0.0, 102), (0.5, 0.0, 103), (0.5, 0.3, 104)]  #: (t, α, seed): not the presets'


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


def main() -> int:
    p = get_preset("quick")
    dev = get_device("cpu")
    rows = []
    for t, alpha, seed in WORLDS:
        t0 = time.perf_counter()
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
        rows.append({"task_corr": t, "feature_corr": alpha, "seed": seed, "bob_test_acc": ours, "reference_acc": ref,
                     "difference": ours - ref, "bob_l2": sel.l2, "reference_C": c, "stopped_by": sel.stopped_by,
                     "selection_edge": sel.selection_edge, "alice_epochs": alice.best_epoch,
                     "seconds": time.perf_counter() - t0})
        print(rows[-1], flush=True)
    worst = min(r["difference"] for r in rows)
    out = {"what": __doc__.splitlines()[0], "preset": "quick sizes", "rows": rows, "worst_difference": worst,
           "within_0.03_or_above": bool(worst >= -0.03), "torch": torch.__version__,
           "device": "cpu (2 logical cores)"}
    path = Path(__file__).resolve().parent / "measured" / "head_check_quick_cpu2.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"worst difference {worst:+.4f} → {path}")
    return 0 if out["within_0.03_or_above"] else 1


if __name__ == "__main__":
    sys.exit(main())
