"""Identities: the one seed validator, stable config hashes and derived seeds.

A *seed* is an integer in [0, 2**32 − 1] (what NumPy, Python and torch all accept). A config's
*identity* is the SHA-256 of its canonical JSON (keys sorted), so equal configurations hash equal
in every process and on every machine.
"""

from __future__ import annotations

import hashlib
import json
import numbers

import torch

__all__ = ["SEED_MAX", "check_seed", "stable_hash", "derive_seed", "tensors_digest"]

SEED_MAX = 2**32 - 1


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` as an ``int``; a ``ValueError`` naming ``name`` unless it is an integer in [0, 2**32 − 1]
    (``bool`` is refused, NumPy integers are accepted)."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= int(seed) <= SEED_MAX:
        raise ValueError(f"{name} must be an integer in [0, 2**32 - 1]; got {seed!r}")
    return int(seed)


def stable_hash(obj) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj`` (dict keys sorted): a config's identity."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def derive_seed(*parts) -> int:
    """A 31-bit seed derived deterministically from ``parts`` (any JSON-able values)."""
    return int(stable_hash(list(parts))[:8], 16) & 0x7FFFFFFF


def tensors_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 (hex) of a name → tensor mapping: names, dtypes, shapes and bytes, in sorted name order
    (a content checksum of a state dict)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")  # 0-dim too
    return h.hexdigest()
