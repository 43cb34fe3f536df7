"""Run every notebook with papermill, then write the reproduction report.

``python -m reuse_utils.companion.runner --notebooks notebooks --results results --preset quick
[--dataset mnist5k] [--device auto]`` executes ``<notebooks>/NN_*.ipynb`` in order, writing
executed copies to ``<results>/notebooks/`` and figures to ``<results>/figures/`` (each notebook
saves its own), then builds ``<results>/report.html`` and prints the claims table. Both folders
are arguments (default: ``notebooks`` and ``results`` in the working directory); nothing is found
through the package's install location. The run's state is kept in ``<results>/run.json``
(:func:`reuse_utils.analysis.ledger.save_run`) and shown in ``claims.json`` and the report; a
failing notebook is named in one line with its cell and error, the others still run, and the exit
code is 1. A notebook whose declared data cannot be had (:mod:`reuse_utils.companion.data`) is
*skipped* with the reason and the run ends ``partial`` with exit code 0; a ``--dataset`` named on the
command line that cannot be had is an error before any kernel starts.
The run's state covers the whole folder: after ``--only`` reruns, notebooks not rerun keep their
state from the folder's previous run of the same preset and dataset, so a set completed piece by
piece says ``complete``. On SIGTERM (e.g. ``timeout``) or Ctrl-C the runner stops the running notebooks, marks
them ``stopped`` and the run ``stopped``, still writes the report of what finished and exits 143
(130 for Ctrl-C). The HTML copy of an executed notebook is best effort: when nbconvert cannot render it
(e.g. its templates are not installed), the notebook still counts as done and one line says why.
``run.json`` also holds each notebook's seconds and its kernel's CPU seconds (user + system; CPU
seconds / seconds = how many cores it kept busy on average). ``--jobs N`` runs up to N notebooks
side by side, each after the notebooks it needs (:mod:`reuse_utils.companion.lanes`), in worker
processes; one lane (the default) runs them in this process in numbered order.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path

from reuse_utils.analysis.ledger import SMOKE_NOTE, reset_claims, save_run
from reuse_utils.analysis.run_manifest import HEARTBEAT_SECONDS, load_run
from reuse_utils.companion.data import CASE_SOURCES, missing_data, notebook_data, role_datasets
from reuse_utils.companion.lanes import (
    Outcome,
    dependency_graph,
    list_notebooks,
    notebook_metadata,
    notebooks_named,
    planned_schedule,
    run_lanes,
)
from reuse_utils.companion.report import write_report
from reuse_utils.core.device import SHARE_ENV, get_device
from reuse_utils.core.io import atomic_write_text
from reuse_utils.core.text import one_line
from reuse_utils.datasets import DatasetError, available_datasets, unavailable_reason
from reuse_utils.experiments import CODE_VERSION
from reuse_utils.experiments.presets import PRESETS
from reuse_utils.generator import is_glm

DEFAULT_TIMEOUT = 3600  #: seconds one notebook cell may run before the runner stops it


def notebook_parameters(preset: str, dataset: str | None, device: str, results: Path) -> dict:
    params = {"preset": preset, "device": device, "results_dir": str(results.resolve()),
              "interactive": False}
    if dataset:
        params["dataset"] = dataset
    return params


def _ipc_kernel_manager():
    """A kernel manager whose kernel talks over local IPC sockets in a folder of its own (a fresh
    temporary folder per kernel, removed at shutdown: kernels side by side never share a socket)
    instead of TCP on localhost: nothing listens on a port, and ipykernel has no reason to warn that
    the kernel "is running over TCP without encryption"."""
    import shutil
    import tempfile

    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._socket_dir = tempfile.mkdtemp(prefix="reuse-kernel-")
            self.transport = "ipc"
            self.ip = os.path.join(self._socket_dir, "ipc")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    return IPCKernelManager


def execute_notebook(path: Path, out_dir: Path, parameters: dict, *, timeout: int | None = None,
                     progress: bool = False, cwd: Path | None = None):
    """Execute one notebook with papermill (kernel ``python3``, over IPC sockets where the platform
    has them), output to ``out_dir``; ``progress`` shows papermill's per-cell bar. The kernel runs in
    ``cwd`` (default: the notebook's folder)."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    extra = {"kernel_manager_class": _ipc_kernel_manager()} if os.name == "posix" else {}
    return pm.execute_notebook(
        str(path), str(out_dir / path.name), parameters=parameters, kernel_name="python3",
        language="python", cwd=str(cwd or path.parent), progress_bar=progress, execution_timeout=timeout, **extra,
    )


def render_html(executed: Path) -> Path:
    """The executed notebook as ``<name>.html`` beside it (nbconvert's HTML exporter, outputs kept)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(executed))
    return atomic_write_text(executed.with_suffix(".html"), body)


def select_notebooks(notebooks: list[Path], only: list[str] | None) -> list[Path]:
    """The notebooks named by ``only`` (each a file stem, a name or its ``NN`` prefix); ``ValueError``
    naming every unknown one."""
    if not only:
        return notebooks
    chosen, unknown = [], []
    for name in only:
        hits = notebooks_named(name, notebooks)
        (chosen.extend if hits else unknown.append)(hits or name)
    if unknown:
        raise ValueError(f"--only: no notebook named {unknown}; choose from {[p.stem for p in notebooks]}")
    return [p for p in notebooks if p in chosen]


def commit_hash(folder: Path) -> str:
    """The git commit of ``folder``'s checkout (with ``+dirty`` when it has changes), or ``unknown``."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def children_cpu_seconds() -> float | None:
    """User + system CPU seconds of this process's finished children (the notebooks' kernels),
    or None where the platform does not say (no :mod:`resource` on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


MAX_REASON = 600  #: characters of an error message kept in a one-line reason


def first_line(message: object) -> str:
    """The first line of an error message (empty when there is none)."""
    text = str(message).strip()
    return text.splitlines()[0] if text else ""


def failure_reason(exc: Exception) -> str:
    """The one-line reason of a failed execution, naming the cell and the error (its whole message,
    at most :data:`MAX_REASON` characters)."""
    cell = getattr(exc, "exec_count", None) or getattr(exc, "cell_index", None)
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    return f"cell {cell if cell is not None else '?'} raised {ename}: {one_line(evalue, MAX_REASON)}"


class Stopped(BaseException):
    """The runner received SIGTERM (e.g. from ``timeout``): stop, record what ran, write the report."""


@contextlib.contextmanager
def stop_on_sigterm():
    """While inside, SIGTERM raises :class:`Stopped` in the main thread (elsewhere: nothing changes);
    the previous handler is restored on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Stopped(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def resolve_jobs(jobs: str | int, n_notebooks: int) -> int:
    """Lanes for a run: ``jobs`` as an integer ≥ 1, or ``auto`` = half the logical cores (at least 2,
    at most 4), never more than there are notebooks; ``ValueError`` naming ``--jobs`` otherwise. Two
    lanes on 2 cores: ``smoke`` 170 → 121 s (kernel start-up overlaps), ``quick`` 693 → 679 s, same
    claims."""
    if str(jobs) == "auto":
        n = min(4, max(2, (os.cpu_count() or 1) // 2))
    else:
        try:
            n = int(jobs)
        except ValueError:
            n = 0
        if n < 1 or str(n) != str(jobs).strip():
            raise ValueError(f"--jobs must be an integer ≥ 1 or 'auto'; got {jobs!r}")
    return max(1, min(n, n_notebooks))


def lane_environment(jobs: int) -> dict[str, str]:
    """Environment for the kernels of ``jobs`` > 1 lanes: each may take 1 / ``jobs`` of the device's
    memory (:func:`~reuse_utils.core.device.device_share`), and OpenMP threads that wait sleep
    (``OMP_WAIT_POLICY=PASSIVE``, unless set already): two kernels spinning at their barriers on the
    same cores ran 3× slower (2 cores, evaluation of a quick cnn: 1.9 s alone, 5.5 s side by side
    spinning, 2.4 s passive); the wait policy changes no number. Empty for one lane."""
    if jobs <= 1:
        return {}
    return {SHARE_ENV: f"{1 / jobs:.6g}", "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}


def previous_seconds(results: Path, preset: str) -> dict[str, float]:
    """Each notebook's seconds in the folder's previous run of ``preset`` (empty when there is none):
    the lanes' guess of what each notebook will take."""
    run = load_run(results) or {}
    seconds = run.get("seconds") if run.get("preset") == preset else None
    if not isinstance(seconds, dict):
        return {}
    return {name: float(sec) for name, sec in seconds.items()
            if isinstance(sec, (int, float)) and not isinstance(sec, bool) and sec >= 0}


def run_one(name: str, *, folder: Path, out_dir: Path, parameters: dict, timeout: int | None,
            progress: bool, skips: dict[str, str] | None = None) -> Outcome:
    """Execute notebook ``folder/name`` and render its HTML copy; never raises for a failing notebook
    (its :class:`~reuse_utils.companion.lanes.Outcome` says ``failed`` and carries the line naming
    the cell and error). A notebook named in ``skips`` (name → reason) is not started (``skipped``);
    one that raises ``DatasetUnavailable`` although its declared data were there has *failed*:
    undeclared data or a loader fault. Runs in the runner or in a lane's worker
    process: the kernel is this process's child, so the CPU-seconds difference around it is the
    kernel's alone."""
    nb = Path(folder) / name
    if skips and name in skips:
        return Outcome(name, "skipped", 0.0, None, (f"[reproduce] SKIPPED {name}: {skips[name]}",), skips[name])
    t, cpu0 = time.time(), children_cpu_seconds()
    lines: list[str] = []
    reason = None
    try:
        execute_notebook(nb, out_dir, parameters, timeout=timeout, progress=progress)
        state = "done"
    except Exception as exc:  # noqa: BLE001 - papermill raises its own and the kernel's errors
        reason = failure_reason(exc)
        state = "failed"  # data it declares were checked before: anything missing now is a fault
        lines.append(f"[reproduce] FAILED {nb.name}: {reason}")
    else:  # the HTML copy is a convenience: a missing nbconvert template must not fail the notebook
        try:
            render_html(out_dir / name)
        except Exception as exc:  # noqa: BLE001 - nbconvert's template lookup raises plain errors
            lines.append(f"[reproduce] {name}: executed; no HTML copy ({type(exc).__name__}: {first_line(exc)})")
    cpu1 = children_cpu_seconds()
    cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None  # the kernel has exited
    return Outcome(name, state, time.time() - t, cpu, tuple(lines), reason)


def data_skips(notebooks: list[Path], preset: str, dataset: str | None) -> dict[str, str]:
    """``{notebook name: reason}`` for the notebooks whose needed data cannot be had
    (:func:`reuse_utils.companion.data.missing_data`); each dataset is looked up once."""
    skips, memo = {}, {}
    for nb in notebooks:
        needed = tuple(notebook_data(nb)[0])
        if needed not in memo:
            memo[needed] = missing_data(needed, preset, dataset)
        if memo[needed] is not None:
            skips[nb.name] = memo[needed]
    return skips


def folder_states(folder: list[Path], ran: dict[str, str], previous: dict | None, preset: str,
                  dataset: str | None) -> dict[str, str]:
    """Every notebook of the folder with its state: this run's where it ran; else the previous run's
    (``done``, ``failed`` or ``skipped``) where that run had the same preset, dataset and code
    version (:func:`same_kind`); else ``not run``."""
    kept = _kept(previous, preset, dataset)
    return {nb.name: ran.get(nb.name, kept.get(nb.name, "not run")) for nb in folder}


def same_kind(previous: dict | None, preset: str, dataset: str | None) -> bool:
    """Whether a previous run manifest is of this run's preset, dataset and code version (its
    notebooks' states and claims then count for this run)."""
    return (previous is not None and previous.get("preset") == preset and previous.get("dataset") == dataset
            and previous.get("code_version") == CODE_VERSION)


def _kept(previous: dict | None, preset: str, dataset: str | None) -> dict[str, str]:
    """The previous run's finished notebook states (done, failed, skipped) when :func:`same_kind`."""
    if not same_kind(previous, preset, dataset):
        return {}
    return {name: state for name, state in (previous.get("notebooks") or {}).items()
            if state in ("done", "failed", "skipped")}


def run_state(states: dict[str, str], stopped: bool, failed: list[str]) -> str:
    """``stopped`` when interrupted; ``failed`` when a notebook of this run (``failed``) failed;
    ``complete`` when every notebook of the folder is done; else ``partial`` (some skipped, not run,
    or failed in an earlier run)."""
    if stopped:
        return "stopped"
    if failed:
        return "failed"
    return "complete" if all(v == "done" for v in states.values()) else "partial"


def build_parser() -> argparse.ArgumentParser:
    """The runner's command line (``python -m reuse_utils.companion.runner --help``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    ap.add_argument("--dataset", default=None, help="base dataset (default: the preset's)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--notebooks", default="notebooks", type=Path, help="folder of NN_*.ipynb notebooks")
    ap.add_argument("--results", default="results", type=Path)
    ap.add_argument("--only", action="append", default=None,
                    help="run only this notebook (stem, file name or NN prefix; repeatable); the other "
                         "notebooks' claims are kept")
    ap.add_argument("--quiet", action="store_true", help="no per-cell progress bar (one line per notebook stays)")
    ap.add_argument("--jobs", default="1",
                    help="notebooks run side by side, each after the ones it needs (an integer ≥ 1, or "
                         "'auto': half the logical cores, at least 2, at most 4; default 1)")
    ap.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                    help=f"seconds one cell may run (default {DEFAULT_TIMEOUT}; 0 = no limit)")
    return ap


def _checked_arguments(ap: argparse.ArgumentParser, args: argparse.Namespace):
    """``(folder, notebooks, jobs, graph)`` from ``args``; an argparse error naming the argument for
    bad input (a missing folder, a negative timeout, an unknown notebook or dataset, no device)."""
    if not args.notebooks.is_dir():
        ap.error(f"--notebooks: {args.notebooks} is not a folder")
    if args.timeout < 0:
        ap.error(f"--timeout must be ≥ 0 seconds; got {args.timeout}")
    try:
        folder = list_notebooks(args.notebooks)
        notebooks = select_notebooks(folder, args.only)
        jobs = resolve_jobs(args.jobs, len(notebooks))
        graph = dependency_graph(notebooks, universe=folder)
    except ValueError as exc:
        ap.error(str(exc))
    try:
        check_results_folder(args.results)
        get_device(args.device)
        if args.dataset is not None:
            check_dataset_name(args.dataset)
            for name in role_datasets("base", args.preset, args.dataset):
                reason = unavailable_reason(name)
                if reason is not None:
                    raise ValueError(f"--dataset {name!r} cannot be had here: {reason}")
    except (ValueError, DatasetError) as exc:
        ap.error(one_line(exc, MAX_REASON))
    return folder, notebooks, jobs, graph


def _record_outcome(run: dict, out, timings: dict, cpu_seconds: dict, failed: list, names: list[str],
                    t0: float) -> None:
    """Enter one finished notebook's outcome ``out`` in the run manifest ``run`` and print its line."""
    run["notebooks"][out.name] = out.state
    run["reasons"].pop(out.name, None)
    if out.reason is not None:
        run["reasons"][out.name] = out.reason
    if out.state == "failed":
        failed.append(out.name)
    for line in out.lines:
        print(line, flush=True)
    if out.state != "skipped":
        timings[out.name] = out.seconds
    run["seconds"] = {name: round(timings[name], 1) for name in sorted(timings)}
    busy = ""
    if out.cpu_seconds is not None:
        cpu_seconds[out.name] = out.cpu_seconds
        run["cpu_seconds"] = {name: round(cpu_seconds[name], 1) for name in sorted(cpu_seconds)}
        busy = f", {out.cpu_seconds / max(out.seconds, 1e-9):.2f} cores busy"
    done = sum(run["notebooks"][name] not in ("pending", "running") for name in names)
    print(f"[reproduce] {out.name} {out.state} in {out.seconds:.0f} s{busy} ({done}/{len(names)}; "
          f"elapsed {time.time() - t0:.0f} s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    folder, notebooks, jobs, graph = _checked_arguments(ap, args)
    results: Path = args.results
    if not notebooks:
        print(f"Nothing to execute: no numbered notebooks in {args.notebooks}.")
        return 0
    expected = previous_seconds(results, args.preset)  # read before this run's manifest replaces it
    previous = load_run(results)
    (results / "report.html").unlink(missing_ok=True)  # never leave an old report looking current
    reset_claims(results, [nb.name for nb in notebooks] if args.only else None)
    try:
        skips = data_skips(notebooks, args.preset, args.dataset)
        claims_of = {nb.name: list(notebook_metadata(nb).get("claims", [])) for nb in folder}
    except ValueError as exc:
        ap.error(str(exc))
    ran = {nb.name: "pending" for nb in notebooks}
    run = {"state": "running", "preset": args.preset, "dataset": args.dataset, "device": args.device,
           "code_version": CODE_VERSION, "commit": commit_hash(args.notebooks),
           "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "finished": None,
           "only": [nb.name for nb in notebooks] if args.only else None,
           "notebooks": folder_states(folder, ran, previous, args.preset, args.dataset),
           "reasons": _previous_reasons(previous, folder, ran, args.preset, args.dataset),
           "claims_of": claims_of, "pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time()}
    lock = threading.Lock()

    def save() -> None:
        with lock:
            run["heartbeat"] = time.time()
            save_run(results, run)

    save()
    beating = threading.Event()
    threading.Thread(target=_heartbeat, args=(results, run, lock, beating), daemon=True).start()
    params = notebook_parameters(args.preset, args.dataset, args.device, results)
    run["jobs"] = jobs
    env = lane_environment(jobs)
    _announce(args.preset, jobs, graph, expected)
    work = functools.partial(run_one, folder=args.notebooks, out_dir=results / "notebooks", parameters=params,
                             timeout=args.timeout or None, progress=not args.quiet and jobs == 1, skips=skips)
    t0 = time.time()
    timings, failed = {}, []
    cpu_seconds: dict[str, float] = {}

    def started(name: str) -> None:
        if name in skips:
            return
        run["notebooks"][name] = "running"
        save()
        print(f"[reproduce] {name} (preset={args.preset}) ...", flush=True)

    stopped = None
    with stop_on_sigterm(), contextlib.closing(run_lanes(graph, work, jobs, expected=expected, env=env,
                                                         on_start=started)) as outcomes:
        try:
            for out in outcomes:
                _record_outcome(run, out, timings, cpu_seconds, failed, [nb.name for nb in notebooks], t0)
                save()
        except (Stopped, KeyboardInterrupt) as exc:
            stopped = exc
        except BrokenExecutor as exc:  # a lane's worker process died (not its kernel: that is a failed notebook)
            lost = [name for name, state in run["notebooks"].items() if state == "running"]
            for name in lost:
                run["notebooks"][name] = "failed"
                run["reasons"][name] = f"the lanes' worker pool broke, a worker process died ({type(exc).__name__})"
                failed.append(name)
                print(f"[reproduce] FAILED {name}: the lanes' worker pool broke, a worker process died ({type(exc).__name__}); the run ends here", flush=True)
    if stopped is not None:
        halted = [name for name, state in run["notebooks"].items() if state == "running"]
        run["notebooks"].update(dict.fromkeys(halted, "stopped"))
        print(f"[reproduce] stopped ({type(stopped).__name__}) after {time.time() - t0:.0f} s; "
              f"{', '.join(halted) or 'no notebook'} stopped, the others' state is kept", flush=True)
    beating.set()
    run.update(state=run_state(run["notebooks"], stopped is not None, failed), finished=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               wall_seconds=time.time() - t0)
    save()
    return _finish(args, run, timings, failed, stopped, t0)


def _announce(preset: str, jobs: int, graph, expected: dict) -> None:
    """The run's opening lines: the smoke note, and with lanes what the previous timings allow."""
    if preset == "smoke":
        print(f"[reproduce] {SMOKE_NOTE}", flush=True)
    if jobs > 1:
        bound = ""
        if expected:  # what the previous run's timings allow at best (lanes share cores and the GPU)
            plan = planned_schedule(graph, jobs, expected)
            bound = f"; at best {max(end for _, end in plan.values()):.0f} s by the previous run's timings"
        print(f"[reproduce] {jobs} lanes: up to {jobs} notebooks at once, each after the ones it needs{bound}",
              flush=True)


def _finish(args: argparse.Namespace, run: dict, timings: dict, failed: list, stopped, t0: float) -> int:
    """Write the report, print the closing lines and return the exit status (130 or 128 + SIGTERM
    when stopped, 1 when a notebook failed, else 0)."""
    path = write_report(args.results, preset=args.preset, dataset=args.dataset, device=args.device,
                        timings=timings, wall_seconds=time.time() - t0)
    print(f"[reproduce] report: {path}")
    if failed:
        print(f"[reproduce] {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    print(f"[reproduce] {final_line(run, time.time() - t0)}", flush=True)
    if stopped is not None:
        return 130 if isinstance(stopped, KeyboardInterrupt) else 128 + signal.SIGTERM
    return 1 if failed else 0


def final_line(run: dict, seconds: float) -> str:
    """What happened, in one line: the run's state after ``seconds``, and which notebooks are not done."""
    done = sum(v == "done" for v in run["notebooks"].values())
    head = f"run {run['state']} after {seconds:.0f} s: {done} of {len(run['notebooks'])} notebooks done"
    rest = partial_summary(run["notebooks"], run.get("reasons") or {})
    return head + (f"; {rest}" if rest else "")


def check_results_folder(results: Path) -> None:
    """``results`` as a folder this process can write (created with ``figures/`` if missing);
    ``ValueError`` naming ``--results`` otherwise."""
    if results.exists() and not results.is_dir():
        raise ValueError(f"--results: {results} is a file, not a folder")
    try:
        (results / "figures").mkdir(parents=True, exist_ok=True)
        probe = results / f".write_probe_{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"--results: cannot write to {results} ({exc.strerror or exc})") from exc


def check_dataset_name(name: str) -> None:
    """``ValueError`` naming ``--dataset`` unless ``name`` is a registered dataset, a dataset family
    (``pets@SIZE``, ``open_images:A,B``), a GLM world or a case-study source (``real``, ``standin``)."""
    if name in available_datasets() or name in CASE_SOURCES or is_glm(name) or ":" in name \
            or name == "pets" or name.startswith("pets@"):
        return
    raise ValueError(f"--dataset must be one of {available_datasets()}, 'pets[@SIZE]', 'open_images:A,B[@SIZE]', "
                     f"'glm[:d=D,noise=S]', 'real' or 'standin'; got {name!r}")


def _heartbeat(results: Path, run: dict, lock: threading.Lock, stop: threading.Event) -> None:
    """Renew ``run["heartbeat"]`` in ``run.json`` every :data:`HEARTBEAT_SECONDS` until ``stop``."""
    while not stop.wait(HEARTBEAT_SECONDS):
        with lock:
            try:
                run["heartbeat"] = time.time()
                save_run(results, copy.deepcopy(run))
            except (RuntimeError, OSError):  # a key added meanwhile, or a full disk: the next beat tries again
                continue


def partial_summary(states: dict[str, str], reasons: dict[str, str]) -> str:
    """The notebooks that are not done, grouped by state and reason, each reason said once."""
    groups: dict[tuple[str, str | None], list[str]] = {}
    for name, state in states.items():
        if state != "done":
            groups.setdefault((state, reasons.get(name)), []).append(name[:2])
    return "; ".join(f"{state}: {', '.join(names)}" + (f" ({reason})" if reason else "")
                     for (state, reason), names in groups.items())


def _previous_reasons(previous: dict | None, folder: list[Path], ran: dict[str, str], preset: str,
                      dataset: str | None) -> dict[str, str]:
    """The previous run's reasons for the notebooks this run does not run and whose state it keeps."""
    kept = _kept(previous, preset, dataset)
    reasons = (previous or {}).get("reasons") or {}
    return {nb.name: str(reasons[nb.name]) for nb in folder
            if nb.name not in ran and nb.name in kept and nb.name in reasons}


if __name__ == "__main__":
    sys.exit(main())
