"""Frozen-prefix activation cache shared by the runs of a sweep.

Bob's bottom ``L - k`` layers are frozen, so their output on a fixed input set is a constant:
it is computed once per (source network, depth, input set) and reused by every mode, seed and
evaluation that shares it. Entries live in an LRU bounded by a memory budget (default: 25% of
the free memory of the device that holds them); an entry larger than the whole budget is not
cached and the caller streams instead (full forward each step).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable

import torch

from reuse_utils.core.device import device_share
from reuse_utils.core.lru import LRU

__all__ = ["PrefixCache", "free_memory_bytes"]


def free_memory_bytes(device: torch.device) -> int:
    """Memory of ``device`` this process may still take, in bytes. CUDA: the free VRAM, at most its
    :func:`~reuse_utils.core.device.device_share` of the total less what this process already holds
    (reserved by torch's allocator); otherwise the available RAM times that share. With one process
    (share 1) this is the free VRAM or the available RAM."""
    share = device_share()
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        if share < 1.0:
            free = min(free, max(0, int(share * total) - torch.cuda.memory_reserved(device)))
        return int(free)
    try:
        import psutil

        available = psutil.virtual_memory().available
    except ImportError:  # pragma: no cover - psutil ships with jupyter
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return int(share * available)


def _nbytes(t: torch.Tensor) -> int:
    return t.element_size() * t.numel()


class PrefixCache:
    """LRU of activation tensors with a byte budget.

    ``budget_bytes=None`` → 25% of :func:`free_memory_bytes` at construction.
    """

    def __init__(self, device: torch.device, budget_bytes: int | None = None, fraction: float = 0.25):
        if budget_bytes is not None and (not isinstance(budget_bytes, int) or budget_bytes < 0):
            raise ValueError(f"budget_bytes must be a non-negative integer or None; got {budget_bytes!r}")
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
        self.device = device
        self.budget = int(budget_bytes if budget_bytes is not None else fraction * free_memory_bytes(device))
        self.entries: LRU[torch.Tensor] = LRU(self.budget, size=_nbytes)
        self.hits = self.misses = self.streamed = 0

    @property
    def used(self) -> int:
        """Bytes held."""
        return self.entries.used

    def get(self, key: Hashable, compute: Callable[[], torch.Tensor], nbytes_hint: int | None = None) -> torch.Tensor | None:
        """The cached tensor for ``key`` (computed on a miss), or ``None`` when it exceeds the budget."""
        hit = self.entries.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        if nbytes_hint is not None and not self.entries.fits(nbytes_hint):
            self.streamed += 1
            return None
        value = compute()
        if not self.entries.fits(_nbytes(value)):
            self.streamed += 1
            return None
        self.misses += 1
        return self.entries.put(key, value)

    def peek(self, key: Hashable) -> torch.Tensor | None:
        """The cached tensor for ``key`` if held (no computing, no statistics), else ``None``."""
        return self.entries.peek(key)

    def stats(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "streamed": self.streamed,
                "used_mb": self.used / 2**20, "budget_mb": self.budget / 2**20}
