"""How much of the zero-correlation transfer is same-domain feature reuse?

At t = α = 0 Bob reuses Alice's network (her panel and his from ``dataset``), keeping her bottom
layers and retraining the top k. The same Bob is then given a panel from **another dataset**
(``other``: Alice's pairs unchanged, Bob's panel from ``other``'s images and labels, still at
t = α = 0), and both are compared with the random-init control of the same architecture. If
Alice's features help Bob only on his own domain, the advantage over the control shrinks when
his panel comes from elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from reuse_utils.core.device import get_device
from reuse_utils.core.ids import check_seed, derive_seed
from reuse_utils.datasets import load_dataset
from reuse_utils.experiments.alices import AliceStore
from reuse_utils.experiments.grid import alice_config, arch_width, bob_protocol
from reuse_utils.experiments.presets import Preset, get_preset
from reuse_utils.generator import chance_accuracy, make_pairs, make_world
from reuse_utils.training import (
    bob_accuracy,
    make_bob,
    random_source,
    train_bob_selected,
)

__all__ = ["run_domain_control"]


def run_domain_control(dataset: str, other: str, *, k: int, preset: str | Preset, seeds: Sequence[int],
                       cache_dir: str | Path, device: str | torch.device = "auto", arch: str = "cnn",
                       optimizer: str = "adam") -> pd.DataFrame:
    """One row per seed × Bob's panel domain (``"same domain"``, ``"other domain: <other>"``) ×
    source (``alice``, ``random``): Bob's test accuracy at depth ``k`` (selected on validation by the
    preset's protocol), chance, and the domain. Alice is the ordinary (0, 0) Alice of ``dataset``
    (from the checkpoint cache)."""
    p = get_preset(preset)
    dev = get_device(device)
    seeds = [check_seed(s, "seeds") for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    base = {s: load_dataset(other, s) for s in ("train", "test")}
    alices = AliceStore(Path(cache_dir), dev)
    rows = []
    for seed in seeds:
        run = {"dataset": dataset, "arch": arch, "alice_optimizer": optimizer, "alice_world": "same",
               "task_corr": 0.0, "feature_corr": 0.0, "seed": seed, "n_alice": p.n_alice}
        world = make_world(dataset, 0.0, 0.0, seed, n_alice=p.n_alice, n_bob=p.n_bob, n_test=p.n_test)
        alice, _ = alices.get(alice_config(run, p), world)
        alice_data, alice_test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
        cross = {"train": make_pairs(alice_data, p.n_bob, 0.0, 0.0, bob_data=base["train"],
                                     seed=derive_seed("domain-train", dataset, other, seed)),
                 "test": make_pairs(alice_test, p.n_test, 0.0, 0.0, bob_data=base["test"],
                                    seed=derive_seed("domain-test", dataset, other, seed))}
        rand = random_source(arch, world.test.input_shape, world.test.num_classes_alice,
                             derive_seed("random-source", seed), width=arch_width(arch, p)).place(dev)
        for domain, train, test in (("same domain", world.bob_train, world.test),
                                    (f"other domain: {other}", cross["train"], cross["test"])):
            for source_name, source in (("alice", alice), ("random", rand)):
                bob = make_bob(source, k, "reinit", train.num_classes_bob, derive_seed("bob", seed, k, "reinit"))
                bob, sel = train_bob_selected(bob, "reinit", train, bob_protocol(p), derive_seed("bob-train", seed), dev)
                acc = bob_accuracy(bob, test)
                rows.append({"seed": seed, "domain": domain, "source": source_name, "k": k, "bob_test_acc": acc,
                             "bob_val_acc": sel.val_acc, "chance": chance_accuracy(test.y_bob)})
    return pd.DataFrame(rows)
