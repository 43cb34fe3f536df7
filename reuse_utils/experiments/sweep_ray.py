"""The Ray backend of the sweep: one task per world (with its Alice), each writing its records to
the shared cache folder; the table is then read back by the local backend."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from reuse_utils.core.device import get_device
from reuse_utils.experiments.presets import Preset
from reuse_utils.experiments.sweep_options import SweepOptions
from reuse_utils.experiments.sweep_plan import plan_runs, world_grids
from reuse_utils.experiments.sweep_train import open_store, run_local

__all__ = ["run_ray"]


def _ray_tasks(grids: list[dict], preset: Preset, cache_dir: Path, device: str, options: SweepOptions,
               gpu_fraction: float) -> None:
    """Run every world grid as one Ray task that writes its records to the shared ``cache_dir``."""
    try:
        import ray
    except ImportError as exc:
        raise ValueError("backend='ray' needs Ray: pip install -e '.[ray]'") from exc
    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    local = replace(options, backend="local")

    @ray.remote(num_gpus=gpu_fraction)
    def one(grid: dict) -> int:
        return len(run_local(grid, preset, cache_dir, device, local, progress=False))

    ray.get([one.remote(g) for g in grids])


def run_ray(grid: dict | None, preset: Preset, cache_dir: Path, device, options: SweepOptions,
            progress: bool) -> pd.DataFrame:
    """Train the pending worlds of ``grid`` as Ray tasks, then read the table from the cache (equal
    to the local backend's, ``from_cache`` aside)."""
    plan, _ = plan_runs(grid, preset, open_store(cache_dir))
    dev = get_device(device)
    _ray_tasks(world_grids(plan), preset, cache_dir, str(dev), options,
               options.gpu_fraction if dev.type == "cuda" else 0.0)
    df = run_local(grid, preset, cache_dir, dev, replace(options, backend="local"), progress)
    df.attrs["backend"] = "ray"
    return df
