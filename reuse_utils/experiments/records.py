"""One store for finished runs: a JSON record per run, keyed by the hash of its full configuration.

A record is ``{"version", "config", "result", "sha256", ...extra}`` at
``<folder>/<stable_hash(config)>.json``, written atomically; ``sha256`` is the hash of the canonical
JSON of its version, config and result (a hand edit or a flipped byte breaks it). Reading returns
the result only when the file parses, its version and config equal the requested ones, the checksum
matches and ``validate(result)`` holds; anything else is *corrupt*: reported by the caller,
recomputed and overwritten — never used. Sweeps and case studies both keep their runs here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reuse_utils.core.ids import stable_hash
from reuse_utils.core.io import atomic_write_json

__all__ = ["RecordStore", "Lookup"]


@dataclass(frozen=True)
class Lookup:
    """What the store holds for one config: its ``key``, the cached ``result`` (None when missing or
    unusable) and whether a file was there but unusable (``corrupt``)."""

    key: str
    result: dict | None
    corrupt: bool


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _checksum(rec: dict) -> str:
    return stable_hash({k: rec.get(k) for k in ("version", "config", "result")})


class RecordStore:
    """Records of one kind under ``folder``, all stamped with ``version``."""

    def __init__(self, folder: str | Path, version: str, validate: Callable[[dict], bool]):
        self.folder = Path(folder)
        self.version = version
        self.validate = validate

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def lookup(self, config: dict) -> Lookup:
        key = stable_hash(config)
        path = self.path(key)
        if not path.exists():
            return Lookup(key, None, False)
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            return Lookup(key, None, True)
        ok = (isinstance(rec, dict) and rec.get("version") == self.version
              and _canonical(rec.get("config")) == _canonical(config)
              and isinstance(rec.get("result"), dict) and rec.get("sha256") == _checksum(rec)
              and self.validate(rec["result"]))
        return Lookup(key, rec["result"] if ok else None, not ok)

    def write(self, config: dict, result: dict, **extra) -> str:
        """Store ``result`` for ``config`` (atomically); returns its key."""
        key = stable_hash(config)
        rec = {"version": self.version, "config": config, "result": result}
        atomic_write_json(self.path(key), {**extra, **rec, "sha256": _checksum(rec)})
        return key
