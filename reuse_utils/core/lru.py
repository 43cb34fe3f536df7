"""A least-recently-used map: at most ``capacity`` entries — or, with a ``size`` function, at most
``capacity`` in total size (bytes, say) — building missing ones on demand."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LRU"]

V = TypeVar("V")


class LRU(Generic[V]):
    """``get_or_build(key, build)`` returns the cached value or ``build()``'s; :meth:`put` evicts the
    least recently used entries while the total exceeds ``capacity``. Without ``size`` every entry
    counts 1 and ``capacity`` ≥ 1; with ``size(value)`` (≥ 0) entries count their size and
    ``capacity`` ≥ 0 (:meth:`fits` tells whether a value could be held at all)."""

    def __init__(self, capacity: int, size: Callable[[V], int] | None = None):
        least = 0 if size is not None else 1
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < least:
            raise ValueError(f"capacity must be an integer ≥ {least}; got {capacity!r}")
        self.capacity = capacity
        self._size = size or (lambda _value: 1)
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.used = 0  #: total size of the entries held

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        """The value for ``key`` (now the most recently used), or ``None``."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key][0]

    def peek(self, key: Hashable) -> V | None:
        """The value for ``key`` without touching its recency, or ``None``."""
        hit = self._items.get(key)
        return None if hit is None else hit[0]

    def fits(self, size: int) -> bool:
        return size <= self.capacity

    def put(self, key: Hashable, value: V) -> V:
        self.pop(key)
        n = int(self._size(value))
        self._items[key] = (value, n)
        self.used += n
        while self.used > self.capacity and self._items:
            _, (_, old) = self._items.popitem(last=False)
            self.used -= old
        return value

    def pop(self, key: Hashable) -> V | None:
        """Remove ``key``'s entry; its value, or ``None``."""
        hit = self._items.pop(key, None)
        if hit is None:
            return None
        self.used -= hit[1]
        return hit[0]

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        hit = self.get(key)
        return hit if hit is not None or key in self._items else self.put(key, build())
