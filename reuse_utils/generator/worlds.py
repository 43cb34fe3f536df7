"""A *world*: the train/test pairs for one setting of the dials, built reproducibly.

Seeds are derived from the run seed and the role of the pairs (Alice's training pairs, Bob's
training pairs, test pairs), so the three sets are independent draws: Alice's and Bob's training
pairs are different samples of the same generator, built from the same base *training* images
(an image may appear in both, as a different composite), and test pairs come from the base test
split only. The same (dataset, dials, seed) always gives the same tensors; the dials are taken in
canonical form (:func:`~reuse_utils.core.ids.canonical_dial`), so −0.0 and 0.0 are one world.

``dataset`` is a base image dataset (:func:`reuse_utils.datasets.load_dataset`) or a GLM world
``"glm[:d=D,noise=S]"`` (:mod:`reuse_utils.generator.glm`; the dials then map to (α, θ) with
:func:`~reuse_utils.generator.glm.glm_theta`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import lru_cache

from reuse_utils.core.ids import canonical_dial, derive_seed
from reuse_utils.datasets import ImageDataset, load_dataset
from reuse_utils.generator.glm import glm_theta, make_glm_pairs, parse_glm_name
from reuse_utils.generator.pairs import Pairs, make_pairs

__all__ = ["World", "make_world", "base_data", "input_shape", "is_glm"]


def is_glm(dataset: str) -> bool:
    """Whether ``dataset`` names a GLM world rather than an image dataset."""
    return parse_glm_name(dataset) is not None


@lru_cache(maxsize=8)
def base_data(dataset: str, split: str) -> ImageDataset:
    """Cached :func:`reuse_utils.datasets.load_dataset` (one decode per process)."""
    return load_dataset(dataset, split)


def input_shape(dataset: str) -> tuple[int, ...]:
    """Shape of one input of ``dataset``'s pairs: C×H×2W for images (horizontal layout), (2d,) for GLM."""
    glm = parse_glm_name(dataset)
    if glm is not None:
        return (2 * glm[0],)
    c, h, w = base_data(dataset, "train").image_shape
    return (c, h, 2 * w)


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
    for name, value in (("task_corr", task_corr), ("feature_corr", feature_corr)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(float(value)):
            raise ValueError(f"{name} must be a number; got {value!r}")
    task_corr, feature_corr = canonical_dial(task_corr), canonical_dial(feature_corr)
    key = (dataset, task_corr, feature_corr, int(seed), layout)
    glm = parse_glm_name(dataset)
    if glm is not None:
        dim, noise = glm
        theta = glm_theta(task_corr, feature_corr)

        def build(role: str, split: str, n: int) -> Pairs:
            return make_glm_pairs(n, feature_corr, theta, dim=dim, noise=noise, seed=derive_seed(role, *key, n))
    else:
        def build(role: str, split: str, n: int) -> Pairs:
            return make_pairs(base_data(dataset, split), n, task_corr, feature_corr, layout=layout,
                              seed=derive_seed(role, *key, n))
    alice = build("alice-train", "train", n_alice) if n_alice else None
    bob = build("bob-train", "train", n_bob)
    test = build("test", "test", n_test)
    return World(dataset, task_corr, feature_corr, int(seed), alice, bob, test)
