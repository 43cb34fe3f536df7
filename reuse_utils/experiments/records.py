"""One store for finished runs: a JSON record per run, keyed by the hash of its full configuration.

A record is ``{"version", "config", "result", "sha256", ...extra}`` at
``<folder>/<stable_hash(config)>.json``, written atomically; ``sha256`` is the hash of the canonical
JSON of its version, config and result (a hand edit or a flipped byte breaks it). Reading returns
the result only when the file parses, its version and config equal the requested ones, the checksum
matches, every field of the result passes :func:`field_problem` (ranges) and ``validate(result)``
holds; anything else is *corrupt*: reported by the caller, recomputed and overwritten — never used.
Sweeps and case studies both keep their runs here.

Ranges (:func:`field_problem`): a field whose name contains ``acc``, ``chance``, ``fraction`` or
``share`` is a number in [0, 1]; one whose name contains ``corr`` (a measured correlation) a number
in [-1, 1]; NaN is refused except in the fields a store names ``may_be_nan``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from reuse_utils.core.ids import stable_hash
from reuse_utils.core.io import atomic_write_json

__all__ = ["RecordStore", "Lookup", "field_problem", "record_checksum", "UNIT_MARKS", "CORRELATION_MARK"]

UNIT_MARKS = ("acc", "chance", "fraction", "share")  #: a field named with one of these lies in [0, 1]
CORRELATION_MARK = "corr"  #: a field named with this (and no unit mark) lies in [-1, 1]


@dataclass(frozen=True)
class Lookup:
    """What the store holds for one config: its ``key``, the cached ``result`` (None when missing or
    unusable), whether a file was there but unusable (``corrupt``) and why (``why``; "" otherwise)."""

    key: str
    result: dict | None
    corrupt: bool
    why: str = ""


def field_problem(result: dict, may_be_nan: Iterable[str] = ()) -> str | None:
    """The first field of ``result`` outside its range (module docstring), as a sentence; None when
    every field is in range. Fields named with neither mark are not checked here."""
    nan_ok = set(may_be_nan)
    for key, v in result.items():
        name = str(key).lower()
        if any(mark in name for mark in UNIT_MARKS):
            lo, hi = 0.0, 1.0
        elif CORRELATION_MARK in name:
            lo, hi = -1.0, 1.0
        else:
            continue
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return f"{key} = {v!r} is not a number"
        if math.isnan(v):
            if key in nan_ok:
                continue
            return f"{key} is NaN"
        if not lo <= v <= hi:
            return f"{key} = {v!r} is outside [{lo:g}, {hi:g}]"
    return None


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def record_checksum(rec: dict) -> str:
    return stable_hash({k: rec.get(k) for k in ("version", "config", "result")})


class RecordStore:
    """Records of one kind under ``folder``, all stamped with ``version``; ``validate(result)`` is the
    kind's own check (beyond :func:`field_problem`), ``may_be_nan`` the fields that may be NaN."""

    def __init__(self, folder: str | Path, version: str, validate: Callable[[dict], bool],
                 may_be_nan: Iterable[str] = ()):
        self.folder = Path(folder)
        self.version = version
        self.validate = validate
        self.may_be_nan = tuple(may_be_nan)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def warn_corrupt(self, lookups, what: str, stacklevel: int = 3) -> None:
        """One warning per corrupt record among ``lookups`` (:class:`Lookup`): ``what`` names the kind
        (e.g. "sweep", "case-study"); such a record is recomputed and overwritten."""
        for key, why in {f.key: f.why for f in lookups if f.corrupt}.items():
            warnings.warn(f"Corrupt or incompatible {what} record {self.path(key)} ({why}); recomputing.",
                          stacklevel=stacklevel)

    def lookup(self, config: dict) -> Lookup:
        key = stable_hash(config)
        path = self.path(key)
        if not path.exists():
            return Lookup(key, None, False)
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            return Lookup(key, None, True, "unreadable or not JSON")
        why = self._problem(rec, config)
        return Lookup(key, None, True, why) if why else Lookup(key, rec["result"], False)

    def _problem(self, rec, config: dict) -> str | None:
        """Why the parsed record ``rec`` is unusable for ``config``; None when it is usable."""
        if not isinstance(rec, dict) or not isinstance(rec.get("result"), dict):
            return "not a record"
        if rec.get("version") != self.version:
            return f"version {rec.get('version')!r}, expected {self.version!r}"
        if _canonical(rec.get("config")) != _canonical(config):
            return "its configuration differs from the requested one"
        if rec.get("sha256") != record_checksum(rec):
            return "checksum mismatch"
        problem = field_problem(rec["result"], self.may_be_nan)
        if problem:
            return problem
        if not self.validate(rec["result"]):
            return "its result lacks a field or holds an invalid value"
        return None

    def write(self, config: dict, result: dict, **extra) -> str:
        """Store ``result`` for ``config`` (atomically); returns its key."""
        key = stable_hash(config)
        rec = {"version": self.version, "config": config, "result": result}
        atomic_write_json(self.path(key), {**extra, **rec, "sha256": record_checksum(rec)})
        return key
