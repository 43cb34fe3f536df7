"""Where the project lives: the folder data and results default to.

The *project folder* is the nearest ancestor of the current working directory (itself included)
that holds a ``pyproject.toml`` or a ``.git``; with none, the working directory itself. It is found
from where the user works, never from where the package is installed.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "default_data_dir"]

MARKERS = ("pyproject.toml", ".git")


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The project folder of ``start`` (default: the working directory); see the module docstring."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / m).exists() for m in MARKERS):
            return folder
    return here


def default_data_dir() -> Path:
    """``$REUSE_DATA`` if set, else ``<project folder>/data``."""
    env = os.environ.get("REUSE_DATA")
    if env:
        return Path(env).expanduser()
    return project_root() / "data"
