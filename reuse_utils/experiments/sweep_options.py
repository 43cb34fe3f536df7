"""The sweep engine's knobs, in one checked object: how runs are batched, cached and distributed.
None of them changes a result beyond float rounding."""

from __future__ import annotations

from dataclasses import dataclass

from reuse_utils.core.checks import is_integer
from reuse_utils.core.device import Accel

__all__ = ["BACKENDS", "SweepOptions"]

BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class SweepOptions:
    """How :func:`reuse_utils.experiments.run_sweep` trains.

    ``feature_cache``: share frozen-prefix activations (Bob's training and test inputs) across the
    runs that use the same source and depth (:class:`reuse_utils.training.PrefixCache`), within
    ``memory_budget`` bytes (None → 25% of free memory); results are identical either way.
    ``batch_runs``: train the runs that share depth k — their modes and learning rates, across
    ``bob_worlds`` worlds (seeds × correlation levels; None: 64 on CUDA, 32 elsewhere) — in one
    stacked loop (:func:`reuse_utils.training.fit_selected_many`), each world on its own data and
    minibatch order; equal to training them apart up to float rounding. With ``batch_runs`` the
    Alices the pending runs need are trained first, ``alice_group`` at a time stacked
    (:func:`reuse_utils.training.train_alices`; None: the device's default).
    ``accel``: channels_last / bf16 / torch.compile switches (:class:`reuse_utils.core.Accel`;
    None: channels_last and bf16 on CUDA only, compile off).
    ``backend="ray"``: each world (with its Alice) is one Ray task (``gpu_fraction`` of a GPU each
    when CUDA is there) on the running cluster, or a local one started for the call; the tasks write
    the same hash-keyed records to the shared cache folder, and the returned table is read from it.
    """

    feature_cache: bool = True
    memory_budget: int | None = None
    batch_runs: bool = True
    bob_worlds: int | None = None
    alice_group: int | None = None
    accel: Accel | None = None
    backend: str = "local"
    gpu_fraction: float = 0.25

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {list(BACKENDS)}; got {self.backend!r}")
        if self.memory_budget is not None and (not is_integer(self.memory_budget) or self.memory_budget < 0):
            raise ValueError(f"memory_budget must be None (25% of free memory) or an integer ≥ 0 (bytes); "
                             f"got {self.memory_budget!r}")
        if self.alice_group is not None and (not is_integer(self.alice_group) or self.alice_group < 1):
            raise ValueError(f"alice_group must be an integer ≥ 1 or None (the device's default); "
                             f"got {self.alice_group!r}")
        if self.bob_worlds is not None and (not is_integer(self.bob_worlds) or self.bob_worlds < 1):
            raise ValueError(f"bob_worlds must be an integer ≥ 1 or None; got {self.bob_worlds!r}")
        if not isinstance(self.gpu_fraction, (int, float)) or not 0 < self.gpu_fraction <= 1:
            raise ValueError(f"gpu_fraction must be in (0, 1]; got {self.gpu_fraction!r}")
        if self.accel is not None and not isinstance(self.accel, Accel):
            raise ValueError(f"accel must be None or a reuse_utils.core.Accel; got {self.accel!r}")

    def worlds_at_once(self, device_type: str) -> int:
        """How many worlds are held (built, with their sources and frozen features) and trained
        together: ``bob_worlds``, else 64 on CUDA (a batch costs about the same for 10 or 64 worlds: it
        is bound by kernel launches) and 32 elsewhere; 1 without ``batch_runs``."""
        if not self.batch_runs:
            return 1
        if self.bob_worlds is not None:
            return self.bob_worlds
        return 64 if device_type == "cuda" else 32
