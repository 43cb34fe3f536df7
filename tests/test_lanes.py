"""Notebooks side by side: the dependency graph, the start order, the runner's lanes, memory shares."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import torch

from reuse_utils.analysis.run_manifest import load_run
from reuse_utils.companion import runner
from reuse_utils.companion.lanes import (
    Outcome,
    dependency_graph,
    notebook_needs,
    planned_schedule,
    remaining_path,
    run_lanes,
    start_order,
)
from reuse_utils.core.device import SHARE_ENV, device_share
from reuse_utils.training.prefix_cache import free_memory_bytes

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _paths(*names: str) -> list[Path]:
    return [Path(n) for n in names]


def test_graph_from_declared_needs():
    nbs = _paths("01_a.ipynb", "02_b.ipynb", "03_c.ipynb", "04_d.ipynb")
    graph = dependency_graph(nbs, {"01_a.ipynb": [], "02_b.ipynb": ["01"], "03_c.ipynb": ["01_a", "02_b.ipynb"],
                                   "04_d.ipynb": None})
    assert graph == {"01_a.ipynb": set(), "02_b.ipynb": {"01_a.ipynb"}, "03_c.ipynb": {"01_a.ipynb", "02_b.ipynb"},
                     "04_d.ipynb": {"01_a.ipynb", "02_b.ipynb", "03_c.ipynb"}}  # undeclared: every earlier one


def test_needs_outside_the_run_are_met_and_bad_needs_are_named():
    universe = _paths("01_a.ipynb", "02_b.ipynb", "03_c.ipynb")
    run = [universe[2]]
    assert dependency_graph(run, {"03_c.ipynb": ["02"]}, universe) == {"03_c.ipynb": set()}
    assert dependency_graph(run, {"03_c.ipynb": None}, universe) == {"03_c.ipynb": set()}
    with pytest.raises(ValueError, match=r"02_b.ipynb: needs '03'.*not an earlier notebook"):
        dependency_graph(universe, {"01_a.ipynb": [], "02_b.ipynb": ["03"], "03_c.ipynb": []})
    with pytest.raises(ValueError, match=r"needs '09_typo'"):
        dependency_graph(universe, {"01_a.ipynb": [], "02_b.ipynb": ["09_typo"], "03_c.ipynb": []})


def test_needs_must_be_a_list_of_names(tmp_path):
    path = tmp_path / "01_x.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["reuse_utils"] = {"needs": "03"}
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match=r"01_x.ipynb: metadata reuse_utils.needs must be a list"):
        notebook_needs(path)
    nb.metadata.pop("reuse_utils")
    nbformat.write(nb, path)
    assert notebook_needs(path) is None
    path.write_text("{ not json")
    with pytest.raises(ValueError, match=r"01_x.ipynb: cannot read the notebook's metadata"):
        notebook_needs(path)


def test_previous_seconds_ignore_other_presets_and_garbage(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"preset": "quick", "seconds": {"01": 12.5, "02": "x", "03": -1,
                                                                                   "04": True, "05": 7}}))
    assert runner.previous_seconds(tmp_path, "quick") == {"01": 12.5, "05": 7.0}
    assert runner.previous_seconds(tmp_path, "paper") == {}
    (tmp_path / "run.json").write_text(json.dumps({"preset": "quick", "seconds": [1, 2]}))
    assert runner.previous_seconds(tmp_path, "quick") == {}


def test_the_companion_notebooks_declare_what_they_reuse():
    """04 reuses 03's Alices; 05, 06 and 09 reuse 04's Bob runs and its feature-axis Alices; 08 reuses
    07's case study; 01, 02, 03 and 07 reuse nothing."""
    nbs = runner.list_notebooks(NOTEBOOKS)
    assert all(notebook_needs(p) is not None for p in nbs), "a notebook without needs runs after all others"
    graph = {k[:2]: sorted(v[:2] for v in vs) for k, vs in dependency_graph(nbs).items()}
    assert graph == {"01": [], "02": [], "03": [], "04": ["03"], "05": ["04"], "06": ["04"], "07": [], "08": ["07"],
                     "09": ["04"]}


def test_the_longest_remaining_path_starts_first():
    graph = {"01": set(), "02": set(), "03": set(), "04": {"03"}, "05": {"04"}}
    assert start_order(graph, set(), set(), remaining_path(graph)) == ["03", "01", "02"]  # 3 notebooks hang on 03
    expected = {"01": 100.0, "02": 5.0, "03": 10.0, "04": 10.0, "05": 10.0}
    assert remaining_path(graph, expected)["03"] == 30.0
    assert start_order(graph, set(), set(), remaining_path(graph, expected)) == ["01", "03", "02"]
    assert start_order(graph, {"03"}, {"01", "03"}, remaining_path(graph)) == ["04", "02"]
    partial = remaining_path(graph, {"01": 100.0, "03": 10.0, "04": 30.0})  # 02 and 05 unknown: median 30
    assert partial["02"] == 30.0 and partial["03"] == 70.0


def test_planned_schedule():
    graph = {"01": set(), "02": set(), "03": set(), "04": {"03"}, "05": {"04"}}
    secs = {"01": 70.0, "02": 70.0, "03": 130.0, "04": 140.0, "05": 80.0}
    one = planned_schedule(graph, 1, secs)
    assert [n for n, _ in sorted(one.items(), key=lambda kv: kv[1])] == ["01", "02", "03", "04", "05"]
    assert max(end for _, end in one.values()) == 490.0  # one lane: the sum
    two = planned_schedule(graph, 2, secs)
    assert two["03"] == (0.0, 130.0) and two["05"] == (270.0, 350.0)  # the chain first, the rest beside it
    assert max(end for _, end in two.values()) == 350.0
    assert all(two[n][0] >= max((two[m][1] for m in graph[n]), default=0.0) for n in graph)  # needs kept
    with pytest.raises(ValueError, match="jobs must be an integer ≥ 1"):
        planned_schedule(graph, 0, secs)


def test_one_lane_runs_in_this_process_in_numbered_order():
    graph = {"01": set(), "02": set(), "03": set(), "04": {"03"}}
    seen: list[str] = []

    def work(name: str) -> Outcome:
        seen.append(name)
        return Outcome(name, "done", 0.0, None)

    assert [o.name for o in run_lanes(graph, work, 1, expected={"03": 100.0})] == ["01", "02", "03", "04"] == seen
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="jobs must be an integer ≥ 1"):
            list(run_lanes(graph, work, bad))


@pytest.mark.parametrize("jobs, cores, want", [("1", 8, 1), ("3", 2, 3), ("auto", 1, 2), ("auto", 2, 2), ("auto", 6, 3), ("auto", 8, 4),
                                               ("auto", 64, 4), ("9", 2, 4)])
def test_jobs(monkeypatch, jobs, cores, want):
    monkeypatch.setattr(runner.os, "cpu_count", lambda: cores)
    assert runner.resolve_jobs(jobs, 4) == want  # never more lanes than notebooks


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5", ""])
def test_bad_jobs_are_refused_by_name(bad, tmp_path):
    with pytest.raises(ValueError, match="--jobs must be an integer ≥ 1 or 'auto'"):
        runner.resolve_jobs(bad, 4)
    with pytest.raises(SystemExit) as info:
        runner.main(["--notebooks", str(NOTEBOOKS), "--results", str(tmp_path / "r"), "--jobs", bad])
    assert info.value.code == 2


def _stamp(stem: str) -> str:
    """A cell that sleeps 4 s and writes ``<results_dir>/<stem>.json``: [start, end, the kernel's
    device share, its OpenMP wait policy]."""
    return ("import json, os, time\nt0 = time.time()\ntime.sleep(4)\n"
            f"json.dump([t0, time.time(), os.environ.get('{SHARE_ENV}'), os.environ.get('OMP_WAIT_POLICY')], "
            f"open(os.path.join(results_dir, '{stem}.json'), 'w'))")


def test_two_lanes_overlap_independent_notebooks_and_keep_needs(tmp_path, monkeypatch, toy_notebook):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "01_a.ipynb", _stamp("01_a"), [])
    toy_notebook(nbs / "02_b.ipynb", _stamp("02_b"), ["01"])
    toy_notebook(nbs / "03_c.ipynb", _stamp("03_c"), [])
    monkeypatch.delenv(SHARE_ENV, raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    results = tmp_path / "res"
    assert runner.main(["--preset", "smoke", "--notebooks", str(nbs), "--results", str(results), "--jobs", "2",
                        "--quiet"]) == 0
    span = {n: json.loads((results / f"{n}.json").read_text()) for n in ("01_a", "02_b", "03_c")}
    assert span["03_c"][0] < span["01_a"][1] and span["01_a"][0] < span["03_c"][1]  # side by side
    assert span["02_b"][0] >= span["01_a"][1]  # after what it needs
    assert {s[2] for s in span.values()} == {"0.5"}  # each kernel may take half the device's memory
    assert {s[3] for s in span.values()} == {"PASSIVE"}  # and its waiting OpenMP threads sleep
    assert SHARE_ENV not in os.environ  # the runner's own environment is left alone
    run = load_run(results)
    assert run["jobs"] == 2 and run["state"] == "complete" and set(run["seconds"]) == set(run["notebooks"])
    assert all(state == "done" for state in run["notebooks"].values())
    assert list(run["seconds"]) == sorted(run["seconds"])  # in notebook order, whatever order they finished in
    assert "(2 notebooks side by side at most)" in (results / "report.html").read_text()


def test_lane_environment(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert runner.lane_environment(1) == {}
    assert runner.lane_environment(4) == {SHARE_ENV: "0.25", "OMP_WAIT_POLICY": "PASSIVE"}
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice stands
    assert runner.lane_environment(3) == {SHARE_ENV: "0.333333", "OMP_WAIT_POLICY": "ACTIVE"}


def test_device_share(monkeypatch):
    monkeypatch.delenv(SHARE_ENV, raising=False)
    assert device_share() == 1.0
    monkeypatch.setenv(SHARE_ENV, "0.25")
    assert device_share() == 0.25
    for bad in ("0", "1.5", "-0.1", "half", "nan"):
        monkeypatch.setenv(SHARE_ENV, bad)
        with pytest.raises(ValueError, match=f"{SHARE_ENV} must be a fraction in"):
            device_share()


def test_free_memory_is_the_share_of_available_ram(monkeypatch):
    psutil = pytest.importorskip("psutil")

    class Memory:
        available = 8 * 2**30

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory())
    monkeypatch.delenv(SHARE_ENV, raising=False)
    assert free_memory_bytes(torch.device("cpu")) == 8 * 2**30
    monkeypatch.setenv(SHARE_ENV, "0.5")
    assert free_memory_bytes(torch.device("cpu")) == 4 * 2**30


def test_free_vram_is_capped_by_the_share(monkeypatch):
    gib = 2**30
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (60 * gib, 80 * gib))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 10 * gib)
    monkeypatch.delenv(SHARE_ENV, raising=False)
    assert free_memory_bytes(torch.device("cuda")) == 60 * gib
    monkeypatch.setenv(SHARE_ENV, "0.5")  # 40 GiB allowed, 10 already held by this process
    assert free_memory_bytes(torch.device("cuda")) == 30 * gib
    monkeypatch.setenv(SHARE_ENV, "0.1")
    assert free_memory_bytes(torch.device("cuda")) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and process checks")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigterm_stops_the_run_and_still_writes_the_report(tmp_path, jobs, toy_notebook):
    """What `timeout` does to a run that is too long (the GPU run of the `paper` preset): the running
    notebook is marked stopped, the run `stopped`, the report written, the kernel gone; exit 143."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "01_fast.ipynb", _stamp("01_fast"), [])
    pid_file = tmp_path / "kernel.pid"
    toy_notebook(nbs / "02_slow.ipynb", f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                                        "time.sleep(120)", [])
    results = tmp_path / "res"
    proc = subprocess.Popen([sys.executable, "-m", "reuse_utils.companion.runner", "--preset", "smoke", "--notebooks",
                             str(nbs), "--results", str(results), "--jobs", jobs, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not pid_file.exists() or not (results / "01_fast.json").exists():
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read() if proc.poll() is not None else ""
        time.sleep(0.2)
    kernel = int(pid_file.read_text())
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 143, out
    run = load_run(results)
    assert run["state"] == "stopped" and run["notebooks"]["02_slow.ipynb"] == "stopped", run
    assert "[reproduce] stopped (Stopped)" in out
    assert "This run is <b>stopped</b>" in (results / "report.html").read_text()
    deadline = time.time() + 15  # ipykernel leaves within about a second of its parent
    while _alive(kernel) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(kernel), "the stopped notebook's kernel is still running"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_lane_whose_worker_dies_fails_its_notebook_not_the_runner(tmp_path, capsys, toy_notebook):
    """The kernel kills its own parent (the lane's worker process): the notebook is named as failed,
    the run marked failed and the report written, instead of a traceback and a run left `running`."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "01_doomed.ipynb", "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\n"
                                          "time.sleep(30)", [])
    toy_notebook(nbs / "02_fine.ipynb", _stamp("02_fine"), [])
    results = tmp_path / "res"
    code = runner.main(["--preset", "smoke", "--notebooks", str(nbs), "--results", str(results), "--jobs", "2",
                        "--quiet"])
    out = capsys.readouterr().out
    assert code == 1 and "FAILED 01_doomed.ipynb: the lanes' worker pool broke, a worker process died" in out
    run = load_run(results)
    assert run["state"] == "failed" and run["notebooks"]["01_doomed.ipynb"] == "failed"
    assert (results / "report.html").exists()
