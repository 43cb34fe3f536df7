"""Cached, resumable experiment grids: one row per Bob run.

``run_sweep(grid, preset="quick")`` expands the grid (axes: :mod:`reuse_utils.experiments.grid`;
an omitted axis takes the preset's default), trains each distinct Alice once (checkpointed), trains
every Bob and stores each result as its own JSON record keyed by a hash of its full configuration
and :data:`~reuse_utils.experiments.grid.CODE_VERSION`. Re-running a finished sweep trains nothing;
a sweep killed midway resumes and loses no finished run; every write is atomic; a corrupt or
incompatible cache entry is reported (``UserWarning``), recomputed and overwritten — never used.

The engine is split by job: the plan (:mod:`.sweep_plan`: expand, look up, group, twins), what
the runs share (:mod:`.sweep_context`), training (:mod:`.sweep_train`: stacked loops, the local
backend), Ray (:mod:`.sweep_ray`); its knobs are one :class:`SweepOptions`.

Columns: every axis, plus ``n_layers``, ``bob_test_acc``, ``bob_test_acc_linked`` /
``bob_test_acc_unlinked`` (on the test samples the task dial linked / did not link; NaN where
empty), ``bob_train_acc`` (on his training part), ``bob_val_acc`` / ``bob_val_loss`` (on his
validation part, at the selected learning rate ``bob_lr`` and epoch ``bob_epoch`` — or, for a
convex head, L2 strength ``bob_l2`` — with ``bob_iters`` epochs or L-BFGS iterations run;
``stopped_by`` and ``selection_edge`` say how training stopped and whether the choice was at an
end of its grid: Bob is trained and selected by :class:`reuse_utils.training.BobProtocol`, never on
test data), ``n_val``, ``n_classes`` (Bob's), ``alice_test_acc`` (the source network's accuracy on
Alice's test labels), ``alice_stopped_by`` / ``alice_epoch`` (how Alice's training stopped, the
epoch she kept), ``chance`` (accuracy of the best constant prediction on Bob's test labels),
``task_corr_measured`` / ``feature_corr_measured`` (measured on the test pairs, see
:func:`reuse_utils.generator.measure_correlations`), ``n_test``, ``seconds`` (Bob's training
time), ``from_cache``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import torch

from reuse_utils.experiments.presets import Preset, get_preset
from reuse_utils.experiments.sweep_options import BACKENDS, SweepOptions
from reuse_utils.experiments.sweep_ray import run_ray
from reuse_utils.experiments.sweep_train import run_local

__all__ = ["BACKENDS", "SweepOptions", "run_sweep"]


def run_sweep(grid: dict | None = None, *, preset: str | Preset = "quick", cache_dir: str | Path = "results/cache",
              device: str | torch.device = "auto", options: SweepOptions | None = None,
              progress: bool = True) -> pd.DataFrame:
    """Run (or load from cache) every Bob run of ``grid`` under ``cache_dir``; see the module
    docstring. ``options``: the engine's knobs (:class:`SweepOptions`; None → its defaults)."""
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise ValueError(f"cache_dir must be a folder path (str or Path); got {cache_dir!r}")
    if options is None:
        options = SweepOptions()
    elif not isinstance(options, SweepOptions):
        raise ValueError(f"options must be a SweepOptions or None; got {options!r}")
    backend = run_ray if options.backend == "ray" else run_local
    return backend(grid, get_preset(preset), Path(cache_dir), device, options, progress)
