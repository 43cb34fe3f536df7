"""Identities: the one seed validator, the canonical dial value, stable config hashes and derived seeds.

A *seed* is an integer in [0, 2**32 − 1] (what NumPy, Python and torch all accept). A config's
*identity* is the SHA-256 of its canonical JSON (keys sorted), so equal configurations hash equal
in every process and on every machine. A *dial value* (task correlation t, feature correlation α)
enters every hash and seed in its canonical form (:func:`canonical_dial`), so values that are the
same setting (−0.0 and 0.0; 0.1 + 0.2 and 0.3) name the same world and the same cache entry.
"""

from __future__ import annotations

import hashlib
import json
import numbers

import torch

__all__ = ["SEED_MAX", "DIAL_DECIMALS", "check_seed", "canonical_dial", "stable_hash", "derive_seed", "tensors_digest"]

SEED_MAX = 2**32 - 1
DIAL_DECIMALS = 12  #: decimal places a dial value is rounded to (:func:`canonical_dial`)


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` as an ``int``; a ``ValueError`` naming ``name`` unless it is an integer in [0, 2**32 − 1]
    (``bool`` is refused, NumPy integers are accepted)."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= int(seed) <= SEED_MAX:
        raise ValueError(f"{name} must be an integer in [0, 2**32 - 1]; got {seed!r}")
    return int(seed)


def canonical_dial(x) -> float:
    """The canonical form of a dial value: ``float(x)`` rounded to :data:`DIAL_DECIMALS` (12) decimal
    places, with −0.0 written as 0.0. Values closer than 5·10⁻¹³ are one setting; NaN stays NaN.
    Callers validate the value first (a number, not a bool)."""
    return round(float(x), DIAL_DECIMALS) + 0.0  # + 0.0 turns −0.0 into 0.0


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
