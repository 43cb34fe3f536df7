"""Independent small trainings side by side on the CPU's cores, and the lock that keeps seeded
weight draws apart.

The networks of this study are small: on the CPU one of them keeps only part of torch's intra-op
threads busy. :func:`map_workers` runs independent jobs (Alices trained one at a time, Bob members
trained one at a time) in as many Python threads as torch has intra-op threads, each job with one
intra-op thread (torch releases the GIL inside its kernels); what it gains is measured in
``benchmarks/measured/memory_format_quick_cpu2.json`` (conv Bobs side by side against stacked, Alice
epochs two at a time against one at a time). Two jobs with all intra-op threads each would
oversubscribe the cores.

Each job must own everything it mutates (its network, optimizer and ``torch.Generator``) and draw
nothing from the global RNG; seeded weight initialisation goes through :func:`seeded_rng`, which
holds :data:`RNG_LOCK` while it borrows the global generator. A job's numbers then equal its run
alone with one intra-op thread, bit for bit (tested); they may differ in float rounding from a run
with more intra-op threads. ``REUSE_CPU_WORKERS=1`` turns the threads off (one job at a time with
all intra-op threads); other devices always run one job at a time.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

__all__ = ["RNG_LOCK", "seeded_rng", "cpu_workers", "map_workers"]

T = TypeVar("T")
R = TypeVar("R")

RNG_LOCK = threading.RLock()  #: held while the global torch generator is borrowed for a seeded draw
_inside = threading.local()


@contextlib.contextmanager
def seeded_rng(seed: int) -> Iterator[None]:
    """The global CPU generator seeded with ``seed`` for the block, restored after; one thread at a
    time (:data:`RNG_LOCK`)."""
    with RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


def cpu_workers(device: torch.device | str) -> int:
    """How many jobs :func:`map_workers` runs at once on ``device``: on the CPU torch's intra-op
    thread count (or ``REUSE_CPU_WORKERS``, an integer ≥ 1), else 1. Inside a worker: 1."""
    if torch.device(device).type != "cpu" or getattr(_inside, "active", False):
        return 1
    env = os.environ.get("REUSE_CPU_WORKERS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"REUSE_CPU_WORKERS must be an integer ≥ 1; got {env!r}")
        return int(env)
    return max(1, torch.get_num_threads())


def map_workers(fn: Callable[[T], R], items: Iterable[T], device: torch.device | str) -> list[R]:
    """``[fn(item) for item in items]``, in order; on the CPU up to :func:`cpu_workers` items at a
    time in threads with one intra-op thread each (the setting is restored afterwards)."""
    items = list(items)
    n = min(cpu_workers(device), len(items))
    if n <= 1:
        return [fn(item) for item in items]

    def run(item: T) -> R:
        _inside.active = True
        try:
            return fn(item)
        finally:
            _inside.active = False

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(n, thread_name_prefix="reuse-worker") as pool:
            return list(pool.map(run, items))
    finally:
        torch.set_num_threads(threads)
