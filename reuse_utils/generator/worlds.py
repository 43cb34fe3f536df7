"""A *world*: the train/test pairs for one setting of the dials, built reproducibly.

Seeds are derived from the run seed and the role of the pairs (Alice's training pairs, Bob's
training pairs, test pairs), so Alice and Bob never share training samples, test pairs come from
the base test split only, and the same (dataset, dials, seed) always gives the same tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from reuse_utils.core.ids import derive_seed
from reuse_utils.datasets import ImageDataset, load_dataset
from reuse_utils.generator.pairs import Pairs, make_pairs

__all__ = ["World", "make_world", "base_data"]


@lru_cache(maxsize=8)
def base_data(dataset: str, split: str) -> ImageDataset:
    """Cached :func:`reuse_utils.data.load_dataset` (one decode per process)."""
    return load_dataset(dataset, split)


@dataclass
class World:
    """Pairs of one world: ``alice_train`` (Alice's training pairs), ``bob_train``, ``test``."""

    dataset: str
    task_corr: float
    feature_corr: float
    seed: int
    alice_train: Pairs | None
    bob_train: Pairs
    test: Pairs


def make_world(dataset: str, task_corr: float, feature_corr: float, seed: int, *, n_alice: int | None,
               n_bob: int, n_test: int, layout: str = "horizontal") -> World:
    """Build the three pair sets of one world (``n_alice=None`` skips Alice's pairs)."""
    tr, te = base_data(dataset, "train"), base_data(dataset, "test")
    key = (dataset, float(task_corr), float(feature_corr), int(seed), layout)
    alice = (make_pairs(tr, n_alice, task_corr, feature_corr, layout=layout,
                        seed=derive_seed("alice-train", *key, n_alice))
             if n_alice else None)
    bob = make_pairs(tr, n_bob, task_corr, feature_corr, layout=layout,
                     seed=derive_seed("bob-train", *key, n_bob))
    test = make_pairs(te, n_test, task_corr, feature_corr, layout=layout,
                      seed=derive_seed("test", *key, n_test))
    return World(dataset, float(task_corr), float(feature_corr), int(seed), alice, bob, test)
