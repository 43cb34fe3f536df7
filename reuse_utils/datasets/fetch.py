"""Whether a dataset can be had here, and getting it onto this machine (``make data``).

:func:`unavailable_reason` answers in one line why a dataset cannot be loaded (None when it can).
:func:`obtain` makes a dataset loadable: it is used as it is when on disk (the search roots or a
system copy); else, for Fashion-MNIST, Debian's ``dataset-fashion-mnist`` package is installed where
that can be done (root, ``apt-get`` on the PATH, Debian's ``/usr/share/datasets`` among the
:func:`~reuse_utils.datasets.base.system_roots`); else torchvision downloads it where downloads are
allowed; else it says, in one line, what to do. ``$REUSE_OFFLINE=1`` forbids both the package and
the download.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from reuse_utils.core.text import one_line
from reuse_utils.datasets.base import (
    DEFAULT_SYSTEM_ROOTS,
    DatasetError,
    DatasetUnavailable,
    download_allowed,
    system_roots,
)
from reuse_utils.datasets.registry import load_dataset

__all__ = ["Obtained", "unavailable_reason", "obtain", "apt_install", "apt_possible", "DEBIAN_PACKAGES", "DOWNLOAD_SIZES"]

#: Debian packages that install a dataset under ``/usr/share/datasets`` (name → (package, download MB)).
DEBIAN_PACKAGES: dict[str, tuple[str, int]] = {"fashion_mnist": ("dataset-fashion-mnist", 31)}
#: Download size of torchvision's copy, MB (the four gzipped IDX files, or the tarball).
DOWNLOAD_SIZES: dict[str, int] = {"fashion_mnist": 30, "mnist": 11, "cifar10": 163}


@dataclass(frozen=True)
class Obtained:
    """What :func:`obtain` did for ``name``: ``how`` — ``"present"``, ``"debian"``, ``"download"`` or
    ``"unavailable"`` — and one line to print."""

    name: str
    how: str
    line: str

    @property
    def ok(self) -> bool:
        return self.how != "unavailable"


def unavailable_reason(name: str, *, download: bool | None = None) -> str | None:
    """None when both splits of dataset ``name`` load (from disk, a system copy or, where ``download``
    allows — default: unless ``$REUSE_OFFLINE`` —, a download); else the ``DatasetUnavailable``
    error, as one line. Files that are there but cannot be decoded raise ``DatasetCorrupt``: that is
    a fault to repair, not data that is missing."""
    try:
        for split in ("train", "test"):
            load_dataset(name, split, download=download)
    except DatasetUnavailable as exc:
        return f"{type(exc).__name__}: {one_line(exc)}"
    return None


def apt_possible() -> str | None:
    """None when a Debian package can be installed here and lands where the loaders look; else why not."""
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "installing a Debian package needs root"
    if DEFAULT_SYSTEM_ROOTS[0] not in system_roots():
        return f"system copies are hidden ($REUSE_SYSTEM_DATA={os.environ.get('REUSE_SYSTEM_DATA', '')!r})"
    return None


APT_OPTIONS = ("-o", "Acquire::http::Timeout=30", "-o", "Acquire::Retries=1", "-o", "DPkg::Lock::Timeout=60")
APT_SECONDS = 300  #: the longest one apt-get command may take


def apt_install(package: str) -> str | None:
    """``apt-get install -y package`` (after ``apt-get update`` when the first try fails), with short
    network and lock time-outs and no input; None on success, else why not, as one line."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    last = ""
    for verb in (["install", "-y", "-q", package], ["update", "-q"], ["install", "-y", "-q", package]):
        cmd = ["apt-get", *APT_OPTIONS, *verb]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=APT_SECONDS,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(['apt-get', *verb])}` took over {APT_SECONDS} s"
        except OSError as exc:
            return f"apt-get could not run ({exc})"
        if done.returncode == 0 and verb[0] == "install":
            return None
        last = " ".join((done.stderr or done.stdout).strip().splitlines()[-2:])
    return last or "apt-get failed"


def obtain(name: str, *, allow_fetch: bool | None = None) -> Obtained:
    """Make dataset ``name`` loadable here (see the module docstring). ``allow_fetch`` (default:
    unless ``$REUSE_OFFLINE``) permits the Debian package and the download. Never raises for a
    dataset that cannot be had: the :class:`Obtained` says why and what to do."""
    fetch = download_allowed(allow_fetch)
    try:
        present = unavailable_reason(name, download=False) is None
    except DatasetError as exc:  # files there that cannot be decoded: say so, fetch nothing over them
        return Obtained(name, "unavailable", f"{name}: UNAVAILABLE ({type(exc).__name__}: {one_line(exc)})")
    if present:
        return Obtained(name, "present", f"{name}: on disk ({load_dataset(name, 'test', download=False).source})")
    tried = []
    if name in DEBIAN_PACKAGES:
        package, mb = DEBIAN_PACKAGES[name]
        why_not = "downloads disabled ($REUSE_OFFLINE=1)" if not fetch else apt_possible()
        if why_not is None:
            print(f"[data] {name}: installing Debian's {package} (~{mb} MB) with apt-get ...", flush=True)
            failed = apt_install(package)
            if failed is None and unavailable_reason(name, download=False) is None:
                return Obtained(name, "debian", f"{name}: installed Debian's {package} into /usr/share/datasets")
            why_not = f"apt-get failed: {failed}" if failed else "installed, but the files do not load"
        tried.append(f"Debian package {package}: {why_not}")
    if fetch and name in DOWNLOAD_SIZES:
        print(f"[data] {name}: downloading with torchvision (~{DOWNLOAD_SIZES[name]} MB) ...", flush=True)
        reason = unavailable_reason(name, download=True)
        if reason is None:
            return Obtained(name, "download", f"{name}: downloaded ({load_dataset(name, 'test').source})")
        tried.append(f"download: {reason}")
    elif not fetch:
        tried.append("download: disabled ($REUSE_OFFLINE=1)")
    hint = {"fashion_mnist": "as root `apt-get install dataset-fashion-mnist`, or copy the four IDX files "
                             "into $REUSE_DATA/FashionMNIST/raw/ (default data/)"}.get(
        name, f"put it where load_dataset looks (docs/datasets.md); {unavailable_reason(name, download=False)}")
    return Obtained(name, "unavailable", f"{name}: UNAVAILABLE ({'; '.join(tried) or 'nothing to try'}). "
                                         f"To get it: {hint}. Notebooks that need it are skipped.")
