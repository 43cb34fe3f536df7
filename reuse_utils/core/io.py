"""Atomic file writes (write to a temporary file in the same folder, then ``os.replace``).

An interrupted write never leaves a half-written file under the final name. Temporary files are
named ``.<name>.<pid>.<random>.tmp``; one left behind by a killed process (its pid no longer alive)
is removed at the next write of the same file. Written files get the permissions of a plain
``open()`` (0666 minus the umask), not ``mkstemp``'s 0600. A full disk (ENOSPC, EDQUOT, or torch's
writer failing with under 1 MiB free) is an ``OSError`` (errno ENOSPC) saying "no space left on
<folder>"; the temporary file is removed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["FILE_MODE", "atomic_write", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save", "clean_stale_temps"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_current_umask()


def pid_alive(pid) -> bool:
    """Whether a process ``pid`` (an integer > 0) runs on this machine (another user's counts)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove temporary files of ``path`` left by writers that are no longer running; returns them."""
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2:].split(".")
        if parts and parts[0].isdigit() and int(parts[0]) != os.getpid() and not pid_alive(int(parts[0])):
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed


def atomic_write(path: str | os.PathLike, write) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        if _disk_full(exc, path.parent):
            raise _no_space(path) from exc
        raise
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if _disk_full(exc, path.parent):
            raise _no_space(path) from exc
        raise
    return path


def _no_space(path: Path) -> OSError:
    return OSError(errno.ENOSPC, f"no space left on {path.parent} (writing {path.name})")


def _disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc`` is a full disk: ENOSPC (or EDQUOT), or torch's writer failing on a folder with
    less than 1 MiB free."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    if isinstance(exc, RuntimeError) and "writ" in str(exc).lower():
        try:
            return shutil.disk_usage(folder).free < 2**20
        except OSError:
            return False
    return False


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str))


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    return atomic_write(path, lambda fh: torch.save(obj, fh))
