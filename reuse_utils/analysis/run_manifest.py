"""The run manifest ``<results>/run.json`` (written by the reproduce runner through
:func:`reuse_utils.analysis.ledger.save_run`, which also refreshes ``claims.json``) says
which run produced the folder: preset, dataset, device, code version, commit, start and end, each
notebook's state (``done``, ``failed``, ``skipped`` — its data cannot be had —, ``not run``, …) with
the reason of each that is not done, the claims each notebook records (``claims_of``), and the run's
``state`` (``running``, ``complete``, ``partial`` — some notebooks were skipped or not run —,
``failed``, or ``stopped`` — the runner was interrupted, by SIGTERM or Ctrl-C); the runner's
``pid``, ``host`` and ``heartbeat`` (seconds since the epoch, renewed every
:data:`HEARTBEAT_SECONDS`) let :func:`load_run` show a ``running`` run whose runner is gone as
``died``.
"""

from __future__ import annotations

import json
import socket
import time
import warnings
from pathlib import Path

from reuse_utils.core.checks import is_real
from reuse_utils.core.io import pid_alive

__all__ = ["RUN_STATES", "HEARTBEAT_SECONDS", "DEAD_AFTER", "runner_died", "load_run"]

RUN_STATES = ("running", "complete", "partial", "failed", "stopped")  #: what a runner writes; load_run adds "died"
HEARTBEAT_SECONDS = 30  #: how often a running runner renews ``heartbeat``
DEAD_AFTER = 10 * HEARTBEAT_SECONDS  #: a heartbeat older than this (another host's run) means the runner died


def runner_died(run: dict) -> bool:
    """Whether a ``running`` manifest's runner is gone: its heartbeat is older than :data:`DEAD_AFTER`
    seconds (any host), or its pid is not alive on this host and it has missed two heartbeats (a pid
    alone can be reused, or belong to another process namespace of the same host name)."""
    beat = run.get("heartbeat")
    age = time.time() - beat if is_real(beat) else None
    if age is not None and age > DEAD_AFTER:
        return True
    gone = run.get("host") == socket.gethostname() and "pid" in run and not pid_alive(run.get("pid"))
    return gone and (age is None or age > 2 * HEARTBEAT_SECONDS)


def load_run(results_dir: str | Path) -> dict | None:
    """The run manifest of ``results_dir`` (None when no runner wrote one; a warning and None when it
    cannot be read). A ``running`` run whose runner is gone (:func:`runner_died`) comes back as ``died``."""
    path = Path(results_dir) / "run.json"
    if not path.exists():
        return None
    try:
        run = json.loads(path.read_text())
        if not isinstance(run, dict):
            raise ValueError(f"it holds a {type(run).__name__}, not an object")
    except (OSError, ValueError) as exc:
        warnings.warn(f"Cannot read the run manifest {path} ({exc}); the run's state is unknown.", stacklevel=2)
        return None
    if run.get("state") == "running" and runner_died(run):
        run = {**run, "state": "died"}
    return run
