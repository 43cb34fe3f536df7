"""A small least-recently-used map: keeps at most ``capacity`` entries, building missing ones on demand."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LRU"]

V = TypeVar("V")


class LRU(Generic[V]):
    """``get_or_build(key, build)`` returns the cached value or ``build()``'s, evicting the least
    recently used entry beyond ``capacity`` (≥ 1)."""

    def __init__(self, capacity: int):
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError(f"capacity must be an integer ≥ 1; got {capacity!r}")
        self.capacity = capacity
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: Hashable, value: V) -> V:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return value

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        hit = self.get(key)
        return hit if hit is not None or key in self._items else self.put(key, build())
