"""Notebooks side by side: which notebook waits for which, and in what order they start.

A notebook says what it reuses in its metadata, ``{"reuse_utils": {"needs": [...]}}`` (in the paired
``.py`` source: the ``reuse_utils:`` key of the jupytext header), each entry an earlier notebook's
stem or ``NN`` prefix: 04 reuses the Alices that 03 trains, so 04 *needs* 03 and starts only after
03 has finished (done or failed — a failed 03 leaves 04 to train what it lacks itself, as a
one-at-a-time run does). A notebook without the key needs every earlier notebook (the safe
default: one at a time in numbered order). Needs on notebooks outside the run (``--only``) are met.

With ``jobs`` lanes the runner keeps up to ``jobs`` kernels busy. When a lane frees, it starts the
ready notebook with the **longest remaining path** — its own expected seconds plus the longest chain
of notebooks that wait on it — so the chain that decides the wall time starts first (critical-path
list scheduling); ties go in numbered order. Expected seconds come from the folder's previous run of
the same preset; a notebook it did not run counts as the median of those it did (1 each without
one). Every kernel keeps its default torch thread count, so each notebook's numbers equal its
one-at-a-time run's (the CPU's float results depend on the thread count); lanes only overlap them.
Lanes pay where one kernel leaves cores or the accelerator idle; on 2 CPU cores a `quick` kernel
already keeps most of them busy (``benchmarks/measured/reproduce_quick_lanes_cpu2.json``).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

__all__ = ["list_notebooks", "notebooks_named", "notebook_metadata", "notebook_needs", "dependency_graph", "remaining_path", "start_order", "planned_schedule",
           "run_lanes", "Outcome", "METADATA_KEY"]

METADATA_KEY = "reuse_utils"  #: notebook metadata key holding ``{"needs": [...]}``


@dataclass(frozen=True)
class Outcome:
    """What became of one notebook: ``state`` (``done``, ``failed`` or ``skipped``), wall ``seconds``,
    its kernel's CPU seconds (None where the platform does not say), the lines to print about it and,
    unless done, the one-line ``reason``."""

    name: str
    state: str
    seconds: float
    cpu_seconds: float | None
    lines: tuple[str, ...] = ()
    reason: str | None = None


def list_notebooks(directory: Path) -> list[Path]:
    """Numbered notebooks (``NN_name.ipynb``) of ``directory`` in execution order."""
    return sorted(p for p in Path(directory).glob("[0-9][0-9]_*.ipynb"))


def notebooks_named(name: str, notebooks: list[Path]) -> list[Path]:
    """The notebooks ``name`` names: a file stem (``03_alice_pretraining``), a file name or an ``NN``
    prefix — how ``--only`` and ``needs`` name notebooks."""
    return [p for p in notebooks if name in (p.stem, p.name, p.name[:2])]


def notebook_metadata(path: Path) -> dict:
    """The ``reuse_utils`` entry of ``path``'s notebook metadata (empty when there is none);
    ``ValueError`` naming the notebook when it cannot be read."""
    try:
        book = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{Path(path).name}: cannot read the notebook's metadata ({exc})") from exc
    meta = (book.get("metadata", {}) if isinstance(book, dict) else {}).get(METADATA_KEY, {})
    return meta if isinstance(meta, dict) else {}


def notebook_needs(path: Path) -> list[str] | None:
    """The ``needs`` list in ``path``'s metadata (None when the notebook does not say)."""
    needs = notebook_metadata(path).get("needs")
    if needs is None:
        return None
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise ValueError(f"{Path(path).name}: metadata {METADATA_KEY}.needs must be a list of notebook names; "
                         f"got {needs!r}")
    return needs


def dependency_graph(notebooks: list[Path], declared: Mapping[str, list[str] | None] | None = None,
                     universe: list[Path] | None = None) -> dict[str, set[str]]:
    """``{notebook name: names it waits for}`` among ``notebooks`` (in numbered order).

    ``declared`` maps a name to its needs (default: read with :func:`notebook_needs`); ``universe``
    is every notebook of the folder (default: ``notebooks``), against which needs are checked: a need
    must name an *earlier* notebook of it (``ValueError`` otherwise, naming both). Needs outside
    ``notebooks`` are dropped (a partial run); undeclared needs are every earlier notebook of the run."""
    universe = universe or notebooks
    position = {p.name: i for i, p in enumerate(universe)}
    in_run = {p.name for p in notebooks}
    graph: dict[str, set[str]] = {}
    for nb in notebooks:
        needs = declared[nb.name] if declared is not None else notebook_needs(nb)
        if needs is None:
            graph[nb.name] = {p.name for p in notebooks if position[p.name] < position[nb.name]}
            continue
        wanted = set()
        for need in needs:
            hits = [p.name for p in notebooks_named(need, universe)]
            if not hits or position[hits[0]] >= position[nb.name]:
                raise ValueError(f"{nb.name}: needs {need!r}, which is not an earlier notebook of "
                                 f"{[p.stem for p in universe if position[p.name] < position[nb.name]]}")
            wanted.add(hits[0])
        graph[nb.name] = wanted & in_run
    return graph


def remaining_path(graph: Mapping[str, set[str]], expected: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each notebook's longest remaining path in expected seconds: its own plus the longest over the
    notebooks that wait on it (``expected`` seconds per name; a name it lacks counts as the median of
    those it has, or 1 when it has none)."""
    seconds = _estimates(graph, expected)
    waiters = {name: [m for m, needs in graph.items() if name in needs] for name in graph}
    memo: dict[str, float] = {}

    def path(name: str) -> float:
        if name not in memo:
            memo[name] = seconds[name] + max((path(m) for m in waiters[name]), default=0.0)
        return memo[name]

    return {name: path(name) for name in graph}


def _estimates(graph: Mapping[str, set[str]], expected: Mapping[str, float] | None) -> dict[str, float]:
    """Expected seconds of every notebook of ``graph``: ``expected``'s, else the median of those it
    has, else 1."""
    known = dict(expected or {})
    unknown = statistics.median(known.values()) if known else 1.0
    return {name: float(known.get(name, unknown)) for name in graph}


def _priority(graph: Mapping[str, set[str]], jobs: int, expected: Mapping[str, float] | None) -> dict[str, float]:
    """The start priority of :func:`run_lanes` and :func:`planned_schedule`: one lane, numbered order
    (the order cannot change its wall time); more, the longest remaining path first. ``ValueError``
    for ``jobs`` < 1."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer ≥ 1; got {jobs!r}")
    return remaining_path(graph, expected) if jobs > 1 else dict.fromkeys(graph, 0.0)


def start_order(graph: Mapping[str, set[str]], finished: set[str], started: set[str],
                priority: Mapping[str, float]) -> list[str]:
    """The notebooks ready to start (every need finished, not yet started), highest priority first,
    ties in numbered order."""
    ready = [n for n in graph if n not in started and graph[n] <= finished]
    return sorted(ready, key=lambda n: (-priority[n], n))


def planned_schedule(graph: Mapping[str, set[str]], jobs: int,
                     expected: Mapping[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """``{name: (start, end)}`` in expected seconds when ``jobs`` lanes follow :func:`run_lanes`'s rule
    and every notebook takes its ``expected`` seconds (unknown: the median, as in
    :func:`remaining_path`). A lower bound on the wall time of the real run: notebooks side by side
    share cores and the accelerator, which this plan does not model."""
    priority = _priority(graph, jobs, expected)
    seconds = _estimates(graph, expected)
    plan: dict[str, tuple[float, float]] = {}
    finished: set[str] = set()
    running: dict[str, float] = {}  # name -> end
    now = 0.0
    while len(finished) < len(graph):
        for name in start_order(graph, finished, set(plan), priority)[: jobs - len(running)]:
            end = now + seconds[name]
            plan[name], running[name] = (now, end), end
        now = min(running.values())
        for name in sorted(n for n, end in running.items() if end == now):
            finished.add(name)
            del running[name]
    return plan


class _InProcess(Executor):
    """An executor that runs each job at once in this process (one lane: no pool, no pickling)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def run_lanes(graph: Mapping[str, set[str]], work: Callable[[str], Outcome], jobs: int, *,
              expected: Mapping[str, float] | None = None, env: Mapping[str, str] | None = None,
              on_start: Callable[[str], None] | None = None) -> Iterator[Outcome]:
    """Run ``work(name)`` for every notebook of ``graph``, at most ``jobs`` at once, each after its
    needs; yields each :class:`Outcome` as it finishes. ``jobs = 1`` runs in this process in numbered
    order. More run in spawned worker processes (``work`` must be picklable), the longest remaining
    path first (:func:`start_order`); the workers' environment is this one's plus ``env`` (this
    process's own is left as it is; the kernels they start inherit it). ``ValueError`` for ``jobs`` < 1."""
    priority = _priority(graph, jobs, expected)
    finished: set[str] = set()
    started: set[str] = set()
    pool: Executor = _InProcess() if jobs == 1 else _spawn_pool(min(jobs, max(1, len(graph))), dict(env or {}))
    running: dict[Future, str] = {}
    completed = False
    try:
        while len(finished) < len(graph):
            for name in start_order(graph, finished, started, priority)[: jobs - len(running)]:
                started.add(name)
                if on_start is not None:
                    on_start(name)
                running[pool.submit(work, name)] = name
            if not running:  # cannot happen for a graph whose needs point to earlier notebooks
                raise RuntimeError(f"no notebook can start; waiting: {sorted(set(graph) - started)}")
            done: set[Future] = set()
            while not done:  # short waits: a signal handler that raises gets its turn in between
                done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f]):
                finished.add(running.pop(future))
                yield future.result()
        completed = True
    finally:
        if not completed:  # stopped (an exception, or the caller closed us): do not wait for the lanes
            _terminate_workers(pool)
        pool.shutdown(wait=completed, cancel_futures=True)


def _terminate_workers(pool: Executor) -> None:
    """End a process pool's workers now (their kernels follow: ipykernel exits when its parent
    process is gone). ``ProcessPoolExecutor.terminate_workers`` exists from Python 3.14; before,
    the pool's process table."""
    if hasattr(pool, "terminate_workers"):
        pool.terminate_workers()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _set_environment(env: dict[str, str]) -> None:
    os.environ.update(env)


def _spawn_pool(workers: int, env: dict[str, str]) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_set_environment, initargs=(env,))
