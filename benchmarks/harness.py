"""What every benchmark shares: one timer, one JSON schema, one writer, one output folder.

A benchmark measures with :func:`timed` (the best and the median of ``repeats`` calls, the device
synchronised around each), builds its record with :func:`document` and writes it with
:func:`write` into ``--out`` (default :data:`MEASURED`, ``benchmarks/measured/``, a tracked folder).
Every record has the keys of :data:`KEYS` and nothing else::

    {"schema": 1, "benchmark": "sweep", "machine": {"cpu": …, "cores": …, "gpu": … or null, "os": …},
     "torch": "2.14.1", "commit": "…" or null, "parameters": {…}, "repeats": 3,
     "seconds": {label: s, …}, "accuracy_agreement": {…} or null, "results": {…}}

``seconds`` holds the best of ``repeats`` timed calls per label (one call when ``repeats`` is 1;
medians, where there are several calls, go to ``results["median_seconds"]``);
``accuracy_agreement`` says how far the compared sides' accuracies agree (null where nothing is
compared); ``results`` is the benchmark's own detail. :func:`validate` is the schema's one
definition (``tests/test_bench.py`` runs it over every file in ``benchmarks/measured/``).

Caches live in a :func:`cache_dir`: the ``--cache`` folder when one is given, else a temporary
folder removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from reuse_utils.core.io import atomic_write_text

__all__ = ["SCHEMA", "KEYS", "MACHINE_KEYS", "MEASURED", "ROOT", "Timing", "timed", "machine", "device_tag",
           "peak_rss_mb", "peak_gpu_mb", "document", "validate", "SchemaError", "write", "cache_dir",
           "arguments"]

SCHEMA = 1
#: The keys of every record, in the order they are written.
KEYS = ("schema", "benchmark", "machine", "torch", "commit", "parameters", "repeats", "seconds",
        "accuracy_agreement", "results")
#: The keys of ``machine``.
MACHINE_KEYS = ("cpu", "cores", "gpu", "os")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The one folder benchmark records go to (``--out`` defaults to it).
MEASURED = HERE / "measured"


class SchemaError(ValueError):
    """A record that does not follow the schema."""


@dataclass(frozen=True)
class Timing:
    """Seconds of each timed call."""

    times: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _sync(device: torch.device | None) -> None:
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], repeats: int = 1, *, warmup: bool = False,
          device: torch.device | None = None) -> tuple[Timing, Any]:
    """Call ``fn`` ``repeats`` times (after one untimed call when ``warmup``), the device synchronised
    before and after each; the seconds of each call and the last call's result."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1; got {repeats}")
    if warmup:
        fn()
    times, out = [], None
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return Timing(tuple(times)), out


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device | str | None = None) -> dict:
    """``{"cpu", "cores", "gpu", "os"}`` of this machine; ``gpu`` is the GPU's name when ``device``
    is a CUDA device, else None."""
    dev = torch.device(device) if device is not None else None
    gpu = torch.cuda.get_device_name(dev) if dev is not None and dev.type == "cuda" else None
    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "gpu": gpu, "os": platform.platform()}


def device_tag(device: torch.device) -> str:
    """File-name tag of the device: ``cpu<torch threads>`` or the GPU's name (``nvidia-h100-80gb-hbm3``)."""
    device = torch.device(device)
    if device.type == "cuda":
        return re.sub(r"[^a-z0-9]+", "-", torch.cuda.get_device_name(device).lower()).strip("-")
    return f"{device.type}{torch.get_num_threads()}"


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_gpu_mb(device: torch.device) -> float | None:
    """Peak memory allocated on a CUDA ``device`` so far (MiB); None on other devices."""
    device = torch.device(device)
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def _commit() -> str | None:
    from reuse_utils.companion.runner import commit_hash

    c = commit_hash(ROOT)
    return None if c == "unknown" else c


def document(benchmark: str, *, parameters: dict, seconds: dict, results: dict, repeats: int = 1,
             accuracy_agreement: dict | None = None, device: torch.device | str | None = None) -> dict:
    """One record of the schema, of this machine, torch and checkout. ``parameters`` gains
    ``device`` and ``torch_threads`` where it does not name them."""
    from reuse_utils.core import describe_device

    dev = torch.device(device) if device is not None else torch.device("cpu")
    params = {"device": describe_device(dev), "torch_threads": torch.get_num_threads(), **parameters}
    doc = {"schema": SCHEMA, "benchmark": benchmark, "machine": machine(dev), "torch": torch.__version__,
           "commit": _commit(), "parameters": params, "repeats": repeats,
           "seconds": {str(k): float(v) for k, v in seconds.items()},
           "accuracy_agreement": accuracy_agreement, "results": results}
    problems = validate(doc)
    if problems:
        raise SchemaError("; ".join(problems))
    return doc


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate(doc) -> list[str]:
    """What is wrong with ``doc`` as a record of the schema (empty when nothing is)."""
    if not isinstance(doc, dict):
        return [f"a record is a JSON object, not {type(doc).__name__}"]
    bad = []
    if tuple(doc) != KEYS:
        missing, extra = [k for k in KEYS if k not in doc], [k for k in doc if k not in KEYS]
        bad.append(f"keys must be {list(KEYS)} in that order" + (f"; missing {missing}" if missing else "")
                   + (f"; not in the schema {extra}" if extra else ""))
    if doc.get("schema") != SCHEMA:
        bad.append(f"schema must be {SCHEMA}; got {doc.get('schema')!r}")
    if not isinstance(doc.get("benchmark"), str) or not doc.get("benchmark"):
        bad.append("benchmark must be a non-empty string")
    m = doc.get("machine")
    if not isinstance(m, dict) or tuple(m) != MACHINE_KEYS:
        bad.append(f"machine must have the keys {list(MACHINE_KEYS)}; got {m!r}")
    else:
        for k in ("cpu", "gpu", "os"):
            if m[k] is not None and not isinstance(m[k], str):
                bad.append(f"machine.{k} must be a string or null; got {m[k]!r}")
        if m["cores"] is not None and not (isinstance(m["cores"], int) and not isinstance(m["cores"], bool)
                                           and m["cores"] >= 1):
            bad.append(f"machine.cores must be a positive integer or null; got {m['cores']!r}")
    if not isinstance(doc.get("torch"), str):
        bad.append("torch must be the version string")
    if doc.get("commit") is not None and not isinstance(doc.get("commit"), str):
        bad.append("commit must be a string or null")
    for k in ("parameters", "results"):
        if not isinstance(doc.get(k), dict):
            bad.append(f"{k} must be an object")
    r = doc.get("repeats")
    if not (isinstance(r, int) and not isinstance(r, bool) and r >= 1):
        bad.append(f"repeats must be a positive integer; got {r!r}")
    s = doc.get("seconds")
    if not isinstance(s, dict) or not s:
        bad.append("seconds must be a non-empty object of label: seconds")
    else:
        wrong = {k: v for k, v in s.items() if not (_number(v) and math.isfinite(v) and v >= 0)}
        if wrong:
            bad.append(f"seconds must be finite non-negative numbers; got {wrong}")
    a = doc.get("accuracy_agreement")
    if a is not None and not isinstance(a, dict):
        bad.append("accuracy_agreement must be an object or null")
    return bad


def _plain(v):
    """What ``json`` cannot write by itself: numpy (and torch) scalars and arrays, paths."""
    if hasattr(v, "item") and callable(v.item) and getattr(v, "ndim", 0) == 0:
        return v.item()
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def write(doc: dict, out: str | Path, stem: str) -> Path:
    """Validate ``doc`` and write it to ``out/<stem>.json`` atomically (the folder made if missing)."""
    problems = validate(doc)
    if problems:
        raise SchemaError(f"{stem}: " + "; ".join(problems))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = atomic_write_text(out / f"{stem}.json", json.dumps(doc, indent=2, default=_plain) + "\n")
    print(f"[bench] wrote {path}", flush=True)
    return path


@contextlib.contextmanager
def cache_dir(path: str | Path | None = None, prefix: str = "bench_") -> Iterator[Path]:
    """The folder caches go to: ``path`` (made if missing, kept) or a temporary folder, removed on exit."""
    if path is not None:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def arguments(name: str, doc: str | None, *, preset: str = "quick", device: str = "auto", repeats: int | None = None,
              cache: str | None = "temporary") -> argparse.ArgumentParser:
    """A parser for benchmark ``name`` with the options every benchmark takes: ``--preset``,
    ``--device``, ``--out`` (default ``benchmarks/measured``); ``--repeats`` where ``repeats`` is
    given; ``--cache`` unless ``cache`` is None (its default: ``cache``, where "temporary" means a
    temporary folder)."""
    ap = argparse.ArgumentParser(prog=f"python -m benchmarks {name}",
                                 description=doc.strip().splitlines()[0] if doc else None)
    ap.add_argument("--preset", default=preset, help=f"preset of the sizes (default {preset})")
    ap.add_argument("--device", default=device, help=f"auto, cpu, cuda[:N] or mps (default {device})")
    ap.add_argument("--out", type=Path, default=MEASURED, help="folder of the JSON record (default benchmarks/measured)")
    if repeats is not None:
        ap.add_argument("--repeats", type=int, default=repeats, help=f"timed calls per row, best kept (default {repeats})")
    if cache is not None:
        ap.add_argument("--cache", type=Path, default=None if cache == "temporary" else Path(cache),
                        help="cache folder (default: " + ("a temporary folder" if cache == "temporary" else cache) + ")")
    return ap
