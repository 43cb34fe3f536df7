"""The dataset registry: names → loaders, and :func:`load_dataset`, the one way in.

A *loader* is ``load(split, roots, download) -> ImageDataset``; it may carry a
``fingerprint(split, roots) -> str | None`` attribute describing its source files, so that a
decoded-tensor cache is rebuilt when they change. Fixed names are registered with
:func:`register_loader` (the built-ins); families of names such as ``pets@64`` or
``open_images:Dog,Cat@64`` with :func:`register_loader_resolver`. Modules register themselves when
:mod:`reuse_utils.datasets` is imported; nothing here imports them back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from reuse_utils.datasets.base import (
    SPLITS,
    ImageDataset,
    cache_path,
    download_allowed,
    read_cache,
    search_roots,
    writable_dir,
    write_cache,
)

__all__ = ["Loader", "register_loader", "register_loader_resolver", "available_datasets", "load_dataset"]

Loader = Callable[[str, list[Path], bool], ImageDataset]
LOADERS: dict[str, Loader] = {}  #: registered dataset loaders by name (:func:`register`)
_UNCACHED: set[str] = set()
_RESOLVERS: list[Callable[[str], Loader | None]] = []
_FAMILIES: list[str] = []


def register_loader(name: str, loader: Loader, *, cache: bool = True) -> None:
    """Register ``loader`` under ``name`` (``cache=False``: too small to be worth a tensor cache)."""
    LOADERS[name] = loader
    if not cache:
        _UNCACHED.add(name)


def register_loader_resolver(resolver: Callable[[str], Loader | None], pattern: str) -> None:
    """Register a resolver for a family of names (``pattern`` documents it in error messages); it
    returns a loader for a name of its family and None for any other."""
    _RESOLVERS.append(resolver)
    _FAMILIES.append(pattern)


def available_datasets() -> list[str]:
    """The fixed names; families (``pets[@SIZE]``, ``open_images:A,B[@SIZE]``) are listed in errors."""
    return sorted(LOADERS)


def load_dataset(name: str, split: str = "train", root: str | os.PathLike | None = None, *,
                 download: bool | None = None, cache: bool = True) -> ImageDataset:
    """Load base dataset ``name`` for ``split`` ∈ {"train", "test"}.

    Looks in ``root``, then ``$REUSE_DATA`` if set, else ``<project folder>/data`` (then each loader's own places).
    Raises ``ValueError`` for an unknown name or split, :class:`DatasetUnavailable` when the data
    cannot be found or fetched, :class:`DatasetCorrupt` when present files cannot be decoded.
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, one of {available_datasets()}; got {name!r}")
    key = name.strip().lower().replace("-", "_")
    loader = LOADERS.get(key)
    if loader is None:
        for resolver in _RESOLVERS:
            loader = resolver(name)
            if loader is not None:
                key = name
                break
    if loader is None:
        allowed = ", ".join([*map(repr, available_datasets()), *_FAMILIES])
        raise ValueError(f"name must be one of {allowed}; got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}; got {split!r}")
    roots = search_roots(root)
    cache_root = writable_dir(roots) if cache else None
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in key)
    path = cache_path(cache_root, safe, split) if cache_root is not None else None
    fingerprint_of = getattr(loader, "fingerprint", None)
    fingerprint = fingerprint_of(split, roots) if fingerprint_of is not None and path is not None else None
    if path is not None:
        cached = read_cache(path, key, split, fingerprint)
        if cached is not None:
            return cached
    ds = loader(split, roots, download_allowed(download))
    if path is not None and key not in _UNCACHED:
        write_cache(path, ds, fingerprint)
    return ds
