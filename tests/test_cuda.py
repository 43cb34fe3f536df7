"""Checks on a CUDA device (``pytest -m cuda``), skipped without one; small and quick (smoke sizes).

The engine on the GPU against the same engine on the CPU of the same machine (learning rates chosen
alike, accuracies within bf16/ordering noise, transfer gaining with task correlation), and the engine
against the plain PyTorch loop on the GPU (:func:`benchmarks.bench_sweep.bench`, its record of the
benchmark schema). The tolerances are from an H100 (``benchmarks/measured/gpu_selection_check_h100.json``:
learning rates alike on all 48 runs, mean |Δacc| 0.019 against a seed standard deviation of 0.05).
"""

from __future__ import annotations

import pytest
import torch

from benchmarks import bench_sweep, harness
from reuse_utils.experiments import get_preset, run_sweep

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

GRID = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": [1, 2, 5], "mode": ["reinit", "finetune"],
        "source": ["alice", "random"]}
KEY = ["task_corr", "k", "mode", "source", "seed"]


@pytest.fixture(scope="module")
def gpu_and_cpu(tmp_path_factory):
    """The same smoke sweep (two seeds) on the GPU and on the CPU, merged run by run."""
    tmp = tmp_path_factory.mktemp("cuda")
    p = get_preset("smoke").with_(seeds=(0, 1))
    gpu = run_sweep(GRID, preset=p, cache_dir=tmp / "gpu", progress=False, device=torch.device("cuda"))
    cpu = run_sweep(GRID, preset=p, cache_dir=tmp / "cpu", progress=False, device=torch.device("cpu"))
    return gpu, cpu, gpu.merge(cpu, on=KEY, suffixes=("_gpu", "_cpu"))


def test_every_run_is_made_on_both_devices(gpu_and_cpu):
    gpu, cpu, m = gpu_and_cpu
    assert len(gpu) == len(cpu) == len(m) > 0


def test_the_gpu_chooses_the_learning_rates_the_cpu_chooses(gpu_and_cpu):
    _, _, m = gpu_and_cpu
    both = m[m.bob_lr_gpu.notna() & m.bob_lr_cpu.notna()]  # the convex head (k = 1) has no learning rate
    assert len(both) > 0
    assert (both.bob_lr_gpu == both.bob_lr_cpu).mean() >= 0.9


def test_gpu_accuracies_agree_with_the_cpu_within_seed_noise(gpu_and_cpu):
    _, cpu, m = gpu_and_cpu
    diff = (m.bob_test_acc_gpu - m.bob_test_acc_cpu).abs()
    seed_std = float(cpu.groupby([c for c in KEY if c != "seed"]).bob_test_acc.std().mean())
    assert diff.mean() <= max(0.05, seed_std), (float(diff.mean()), seed_std)


def test_head_only_transfer_gains_with_task_correlation_on_the_gpu(gpu_and_cpu):
    gpu, _, _ = gpu_and_cpu
    k1 = gpu[(gpu.k == 1) & (gpu.source == "alice")].groupby("task_corr").bob_test_acc.mean()
    assert k1[1.0] - k1[0.0] > 0.1, k1.to_dict()  # 0.32 on the CPU at smoke


def test_engine_agrees_with_the_plain_loop_on_the_gpu(tmp_path):
    grid = {"task_corr": [0.0, 1.0], "seed": [0], "k": [1, 5], "mode": ["reinit"]}
    doc = bench_sweep.bench("tiny_cuda", grid, get_preset("smoke"), torch.device("cuda"), tmp_path)
    assert harness.validate(doc) == [] and doc["machine"]["gpu"]
    assert doc["parameters"]["runs"] == doc["parameters"]["reference_runs"] == 4
    assert doc["accuracy_agreement"]["mean_abs_acc_diff"] <= 0.05, doc["accuracy_agreement"]
    assert doc["results"]["peak_gpu_mb"] > 0
    assert (tmp_path / f"sweep_tiny_cuda_smoke_{harness.device_tag(torch.device('cuda'))}.json").is_file()
