"""The benchmarks' harness (one timer, one schema, one writer, one folder), the sweep benchmark's
scaled reference (``--reference-seeds``) and Alice cache, and the entry point ``python -m benchmarks``;
every record in ``benchmarks/measured/`` follows the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from benchmarks import __main__ as entry
from benchmarks import bench_sweep, harness
from reuse_utils.experiments import get_preset

ROOT = Path(__file__).resolve().parents[1]
MEASURED = ROOT / "benchmarks" / "measured"
GRID = {"task_corr": [0.0], "seed": [0, 1], "k": [1], "mode": ["reinit"]}


def _record(**over) -> dict:
    doc = harness.document("demo", parameters={"preset": "smoke"}, seconds={"a": 1.5, "b": 2},
                           results={"rows": [1, 2]}, repeats=3, accuracy_agreement=None)
    return {**doc, **over}


# --- the schema -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(MEASURED.glob("*.json")), ids=lambda p: p.name)
def test_every_measured_file_follows_the_schema(path):
    doc = json.loads(path.read_text())
    assert harness.validate(doc) == [], f"{path.name}: {harness.validate(doc)}"


def test_measured_folder_holds_records():
    assert len(list(MEASURED.glob("*.json"))) >= 10


def test_a_record_has_the_schema_keys_of_this_machine():
    doc = _record()
    assert tuple(doc) == harness.KEYS and doc["schema"] == harness.SCHEMA
    assert tuple(doc["machine"]) == harness.MACHINE_KEYS and doc["machine"]["cores"] >= 1
    assert doc["machine"]["gpu"] is None and doc["machine"]["os"] and doc["machine"]["cpu"]
    assert doc["torch"] == torch.__version__
    assert doc["parameters"]["preset"] == "smoke" and doc["parameters"]["torch_threads"] == torch.get_num_threads()
    assert doc["seconds"] == {"a": 1.5, "b": 2.0} and doc["repeats"] == 3


@pytest.mark.parametrize("change, message", [
    (lambda d: {**d, "speedup": 2.0}, "not in the schema"),
    (lambda d: {k: v for k, v in d.items() if k != "seconds"}, "missing"),
    (lambda d: {**d, "schema": 2}, "schema must be 1"),
    (lambda d: {**d, "machine": {"cpu": "x", "cores": 2, "os": "y"}}, "machine must have the keys"),
    (lambda d: {**d, "machine": {**d["machine"], "cores": "2"}}, "machine.cores"),
    (lambda d: {**d, "seconds": {}}, "seconds must be a non-empty"),
    (lambda d: {**d, "seconds": {"a": -1.0}}, "non-negative"),
    (lambda d: {**d, "seconds": {"a": "1"}}, "non-negative"),
    (lambda d: {**d, "repeats": 0}, "repeats"),
    (lambda d: {**d, "results": [1]}, "results must be an object"),
    (lambda d: {**d, "accuracy_agreement": 0.1}, "accuracy_agreement"),
])
def test_the_schema_refuses_what_it_does_not_define(change, message):
    problems = harness.validate(change(_record()))
    assert any(message in p for p in problems), problems


def test_write_refuses_a_record_off_the_schema_and_writes_one_on_it(tmp_path):
    with pytest.raises(harness.SchemaError, match="not in the schema"):
        harness.write({**_record(), "extra": 1}, tmp_path, "bad")
    assert not (tmp_path / "bad.json").exists()
    path = harness.write(_record(), tmp_path / "new", "demo_smoke_cpu2")
    assert path == tmp_path / "new" / "demo_smoke_cpu2.json"
    assert harness.validate(json.loads(path.read_text())) == []


def test_out_defaults_to_the_measured_folder():
    args = harness.arguments("demo", "A demo.").parse_args([])
    assert args.out == MEASURED and args.preset == "quick" and args.cache is None


# --- the timer and the caches ---------------------------------------------------------------------

def test_timed_calls_repeats_times_after_a_warm_up_and_keeps_best_and_median():
    calls = []
    t, out = harness.timed(lambda: calls.append(1) or len(calls), repeats=3, warmup=True)
    assert len(calls) == 4 and out == 4 and len(t.times) == 3
    assert t.best == min(t.times) <= t.median <= max(t.times)
    with pytest.raises(ValueError, match="repeats"):
        harness.timed(lambda: None, repeats=0)


def test_cache_dir_is_temporary_unless_a_folder_is_given(tmp_path):
    with harness.cache_dir(None) as tmp:
        (tmp / "x").write_text("1")
    assert not tmp.exists()
    with harness.cache_dir(tmp_path / "kept") as kept:
        (kept / "x").write_text("1")
    assert (tmp_path / "kept" / "x").exists()


def test_benchmark_code_has_no_path_hacks_and_no_fixed_temporary_folders():
    files = [*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "tools").glob("*.py"), *(ROOT / "tests").glob("*.py")]
    hacks = [p.name for p in files if "sys.path.insert" in p.read_text() and p.name not in ("test_faults.py", "test_bench.py")]
    assert not hacks, f"{hacks} change sys.path: run them as python -m benchmarks.<name> / tools.<name>"
    tmp = [p.name for p in files if p.parent.name != "tests" and re.search(r"""["']/tmp/""", p.read_text())]
    assert not tmp, f"{tmp} hard-code a /tmp folder: use harness.cache_dir (a --cache or a temporary folder)"


# --- the entry point ------------------------------------------------------------------------------

def test_entry_point_lists_every_benchmark_and_each_has_a_main(capsys):
    assert entry.main(["--list"]) == 0
    listed = capsys.readouterr().out
    import importlib

    for name, b in entry.BENCHMARKS.items():
        assert name in listed
        assert callable(importlib.import_module(b.module).main), name
    assert {n for n, b in entry.BENCHMARKS.items() if b.default} >= {"sweep"}


def test_entry_point_refuses_an_unknown_name(capsys):
    assert entry.main(["no_such_bench"]) == 2
    assert "no benchmark 'no_such_bench'" in capsys.readouterr().err


def test_entry_point_forwards_the_options_to_the_named_benchmark(monkeypatch):
    seen = []
    monkeypatch.setattr(bench_sweep, "main", lambda argv: seen.append(argv) or 0)
    assert entry.main(["sweep", "--preset", "smoke", "--grids", "small"]) == 0
    assert seen == [["--preset", "smoke", "--grids", "small"]]


# --- the sweep benchmark --------------------------------------------------------------------------

def test_reference_on_one_seed_is_scaled_to_the_grid(tmp_path):
    preset = get_preset("smoke")
    doc = bench_sweep.bench("tiny", GRID, preset, torch.device("cpu"), tmp_path, reference_seeds=1)
    assert doc["benchmark"] == "sweep" and doc["parameters"]["grid"] == "tiny"
    assert doc["parameters"]["runs"] == 2 and doc["parameters"]["reference_runs"] == 1
    assert doc["results"]["reference_seconds_extrapolated"] is True
    s = doc["seconds"]
    assert s["reference"] == pytest.approx(2 * s["reference_measured"])
    assert doc["results"]["speedup"] == pytest.approx(s["reference"] / s["engine"])
    assert doc["accuracy_agreement"]["runs_compared"] == 1
    written = json.loads(next(tmp_path.glob("sweep_tiny_smoke_*.json")).read_text())
    assert tuple(written) == harness.KEYS and harness.validate(written) == []
    assert written["parameters"]["reference_runs"] == 1 and written["commit"]


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
    doc = bench_sweep.bench("tiny", GRID, preset, torch.device("cpu"), tmp_path / "out", alice_cache=tmp_path / "paper")
    assert doc["parameters"]["runs"] == 2 and doc["parameters"]["alice_cache"] == str(tmp_path / "paper")
    assert sorted(p.name for p in (tmp_path / "paper" / "alice").iterdir()) == before  # copied, not touched
    with pytest.raises(ValueError, match="alice_cache must be a cache folder holding alice/"):
        bench_sweep.bench("tiny", GRID, preset, torch.device("cpu"), tmp_path / "out", alice_cache=tmp_path / "none")


def test_alices_row_is_a_record_of_the_schema(tmp_path):
    doc = bench_sweep.bench_alices(get_preset("smoke").with_(alice_epochs=1), torch.device("cpu"), tmp_path, n_worlds=2)
    assert doc["benchmark"] == "alices" and doc["parameters"]["runs"] == 2
    assert set(doc["seconds"]) == {"reference", "engine"}
    assert {"max_abs_acc_diff", "mean_abs_acc_diff", "seed_std"} <= set(doc["accuracy_agreement"])
    written = json.loads(next(tmp_path.glob("alices_smoke_*.json")).read_text())
    assert harness.validate(written) == []
