"""Device selection, seeding and mixed precision.

``get_device("auto")`` picks CUDA, then Apple MPS, then CPU. ``seed_everything`` makes runs
repeatable: with the same seed, CPU results are bit-identical (tested) for the same intra-op thread
and worker settings (:mod:`reuse_utils.core.workers`); across them they agree up to float rounding.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from reuse_utils.core.ids import check_seed
from reuse_utils.core.workers import RNG_LOCK

__all__ = ["get_device", "seed_everything", "autocast", "describe_device", "Accel", "device_share", "SHARE_ENV"]

SHARE_ENV = "REUSE_DEVICE_SHARE"  #: environment variable: this process's share of the device's memory


def device_share() -> float:
    """This process's share of its device's memory, in (0, 1]: ``$REUSE_DEVICE_SHARE`` (set by the
    reproduce runner for kernels that run side by side: 1 / lanes), else 1. Memory budgets (group
    sizes, the activation cache) take at most this share of the device. ``ValueError`` naming the
    variable for a value outside (0, 1]."""
    raw = os.environ.get(SHARE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        share = float(raw)
    except ValueError:
        share = float("nan")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"{SHARE_ENV} must be a fraction in (0, 1]; got {raw!r}")
    return share


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(preference: str | torch.device = "auto") -> torch.device:
    """Return the torch device to compute on (``preference`` is what callers call ``device``).

    ``preference="auto"`` → ``cuda`` if available, else ``mps``, else ``cpu``. Any other string
    (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) forces that device; asking for an unavailable
    accelerator raises ``ValueError`` rather than silently computing elsewhere.
    """
    if isinstance(preference, torch.device):
        preference = str(preference)
    if not isinstance(preference, str) or not preference.strip():
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda[:N]' or 'mps'; got {preference!r}")
    pref = preference.strip().lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(pref)
    except RuntimeError as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda[:N]' or 'mps'; got {preference!r}"
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={preference!r} but CUDA is not available on this machine")
        count = torch.cuda.device_count()
        if dev.index is not None and not 0 <= dev.index < count:
            raise ValueError(f"device={preference!r}: CUDA device index must be in [0, {count - 1}]")
    elif dev.type == "mps" and not _mps_available():
        raise ValueError(f"device={preference!r} but MPS is not available on this machine")
    elif dev.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda[:N]' or 'mps'; got {preference!r}")
    return dev


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device).

    With ``deterministic=True`` deterministic algorithms are requested (``warn_only`` so that an
    op without a deterministic kernel warns instead of failing) and cuDNN autotuning is off. The
    environment variable ``REUSE_CUDA_DETERMINISTIC=0`` lifts that request (cuDNN autotuning on):
    faster stacked convolutions on a GPU, where results are not bit-identical across runs anyway;
    CPU results stay bit-identical either way.
    """
    seed = check_seed(seed)
    with RNG_LOCK:  # not while another thread borrows the global generator (core.workers)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic and os.environ.get("REUSE_CUDA_DETERMINISTIC", "1") != "0":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    elif deterministic:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
        torch.backends.cudnn.benchmark = True


@contextlib.contextmanager
def autocast(device: torch.device | str, enabled: bool = True) -> Iterator[None]:
    """bf16 mixed precision on CUDA; a no-op context on every other device."""
    dev = torch.device(device) if isinstance(device, str) else device
    if enabled and dev.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def describe_device(device: torch.device) -> str:
    """Human-readable name of the device (GPU model where known)."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads)"


@dataclass(frozen=True)
class Accel:
    """Execution switches (the science is unchanged): ``None`` means the device default.

    * ``channels_last`` — NHWC memory format for 4-D activations (default: on for CUDA).
    * ``bf16`` — bfloat16 autocast for forward passes (default: on for CUDA; never on CPU/MPS).
    * ``compile`` — ``torch.compile`` of the trained layers (default: off everywhere: every Bob
      run is a fresh network, so compilation is paid per run and outlasts the run at these sizes;
      turn it on for long single trainings).
    """

    channels_last: bool | None = None
    bf16: bool | None = None
    compile: bool | None = None

    def resolve(self, device: torch.device) -> Accel:
        cuda = device.type == "cuda"
        for name in ("channels_last", "bf16", "compile"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, bool):
                raise ValueError(f"{name} must be True, False or None; got {v!r}")
        return Accel(cuda if self.channels_last is None else self.channels_last,
                     cuda and (True if self.bf16 is None else self.bf16),
                     False if self.compile is None else self.compile)
