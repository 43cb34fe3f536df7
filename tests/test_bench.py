"""The sweep benchmark's scaled reference (``--reference-seeds``): what it runs and what it reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_sweep  # noqa: E402

from reuse_utils.experiments import get_preset  # noqa: E402

GRID = {"task_corr": [0.0], "seed": [0, 1], "k": [1], "mode": ["reinit"]}


def test_reference_on_one_seed_is_scaled_to_the_grid(tmp_path):
    preset = get_preset("smoke")
    res = bench_sweep.bench("tiny", GRID, preset, torch.device("cpu"), tmp_path, reference_seeds=1)
    assert res["runs"] == 2 and res["reference_runs"] == 1
    assert res["reference_seconds_extrapolated"] is True
    assert res["reference_seconds"] == pytest.approx(2 * res["reference_seconds_measured"])
    assert res["speedup"] == pytest.approx(res["reference_seconds"] / res["engine_seconds"])
    written = json.loads(next(tmp_path.glob("sweep_tiny_smoke_*.json")).read_text())
    assert written["reference_runs"] == 1 and written["commit"]


@pytest.mark.parametrize("m", [0, 3])
def test_reference_seeds_outside_the_grid_is_refused(tmp_path, m):
    with pytest.raises(ValueError, match="reference_seeds must be between 1 and the grid's 2 seeds"):
        bench_sweep.bench("tiny", GRID, get_preset("smoke"), torch.device("cpu"), tmp_path, reference_seeds=m)


def test_alice_cache_seeds_the_alices_so_none_is_trained(tmp_path, monkeypatch):
    from reuse_utils.experiments import alices, run_sweep

    preset = get_preset("smoke")
    run_sweep(GRID, preset=preset, cache_dir=tmp_path / "paper", progress=False, device=torch.device("cpu"))
    before = sorted(p.name for p in (tmp_path / "paper" / "alice").iterdir())

    def refuse(*args, **kwargs):
        raise AssertionError("an Alice was trained although the cache holds her")

    monkeypatch.setattr(alices, "train_alice", refuse)
    monkeypatch.setattr(alices, "train_alices", refuse)
    res = bench_sweep.bench("tiny", GRID, preset, torch.device("cpu"), tmp_path / "out", alice_cache=tmp_path / "paper")
    assert res["runs"] == 2 and res["alice_cache"] == str(tmp_path / "paper")
    assert sorted(p.name for p in (tmp_path / "paper" / "alice").iterdir()) == before  # copied, not touched
    with pytest.raises(ValueError, match="alice_cache must be a cache folder holding alice/"):
        bench_sweep.bench("tiny", GRID, preset, torch.device("cpu"), tmp_path / "out", alice_cache=tmp_path / "none")
