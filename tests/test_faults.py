"""Fault injection: every way a cache, a run or an input can go wrong ends in a clear error or a
warned recompute whose results equal a clean run — never in silently wrong numbers."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import reuse_utils as ru
from reuse_utils.analysis.claims_spec import spec_hash
from reuse_utils.analysis.ledger import load_claims, record_claim
from reuse_utils.analysis.run_manifest import load_run
from reuse_utils.companion import runner
from reuse_utils.core.io import atomic_write_json
from reuse_utils.core.paths import default_data_dir
from reuse_utils.datasets import DatasetCorrupt, DatasetUnavailable, load_dataset
from reuse_utils.experiments.presets import get_preset

TINY = get_preset("smoke").with_(n_alice=300, n_bob=120, n_test=200, seeds=(0,), alice_epochs=1, bob_epochs=1)
GRID = {"dataset": ["mnist5k"], "task_corr": [0.5], "k": [1, 5], "mode": ["reinit"]}

RESULT = {"statement": "s", "operationalisation": "o", "test": "t", "unit": "seed", "n": 3, "effect": 0.1,
          "ci": [0.0, 0.2], "p_value": 0.01, "passed": True, "spec_hash": spec_hash()}


def _sweep(cache):
    return ru.run_sweep(GRID, preset=TINY, cache_dir=cache, progress=False, device="cpu")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    cache = tmp_path_factory.mktemp("clean") / "cache"
    return cache, _sweep(cache)


def _copy(clean, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(clean[0], cache)
    return cache


def _same(df, ref):
    assert list(df.bob_test_acc) == list(ref.bob_test_acc)
    assert list(df.alice_test_acc) == list(ref.alice_test_acc)


# ----------------------------------------------------------------------------- Alice checkpoints


@pytest.mark.parametrize("damage", ["garbled", "truncated"])
def test_damaged_alice_checkpoint_is_retrained(clean, tmp_path, damage):
    """Bytes flipped in the middle or the file cut short: warned, retrained once, the same numbers as
    the clean run, and the retrained checkpoint is sound and reused."""
    cache = _copy(clean, tmp_path)
    pt = next((cache / "alice").glob("*.pt"))
    data = bytearray(pt.read_bytes())
    if damage == "garbled":
        mid = len(data) // 2
        data[mid:mid + 64] = bytes(255 - b for b in data[mid:mid + 64])
    else:
        data = data[:100]
    pt.write_bytes(bytes(data))
    shutil.rmtree(cache / "bob")
    with pytest.warns(UserWarning, match="Corrupt or incompatible Alice checkpoint"):
        df = _sweep(cache)
    assert df.attrs["alices_trained"] == 1
    _same(df, clean[1])
    again = _sweep(cache)
    assert again.attrs["alices_trained"] == 0 and again.from_cache.all()


def test_alice_checkpoint_with_consistent_checksum_but_wrong_weights(clean, tmp_path):
    """Weights replaced and re-checksummed by hand: the accuracy check on load still catches it."""
    from reuse_utils.core.ids import tensors_digest

    cache = _copy(clean, tmp_path)
    pt = next((cache / "alice").glob("*.pt"))
    blob = torch.load(pt, weights_only=True)
    blob["state_dict"] = {k: torch.zeros_like(v) if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    blob["sha256"] = tensors_digest(blob["state_dict"])
    torch.save(blob, pt)
    shutil.rmtree(cache / "bob")
    with pytest.warns(UserWarning, match="accuracy"):
        df = _sweep(cache)
    _same(df, clean[1])


# ----------------------------------------------------------------------------- Bob records


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_config", "out_of_range", "hand_edited"])
def test_damaged_bob_record_is_recomputed(clean, tmp_path, damage):
    """A record that is not JSON, cut short, of another configuration, out of its range or edited by
    hand (its checksum no longer matches): warned, that one Bob retrained, the clean run's numbers."""
    cache = _copy(clean, tmp_path)
    path = sorted((cache / "bob").glob("*.json"))[0]
    rec = json.loads(path.read_text())
    if damage == "garbage":
        path.write_text("{not json")
    elif damage == "truncated":
        path.write_text(path.read_text()[:40])
    else:
        if damage == "wrong_config":
            rec["config"]["k"] = 99
        elif damage == "out_of_range":
            rec["result"]["bob_test_acc"] = 1.7
        else:
            rec["result"]["bob_test_acc"] = rec["result"]["bob_test_acc"] / 10
        path.write_text(json.dumps(rec))
    with pytest.warns(UserWarning, match="Corrupt or incompatible sweep record"):
        df = _sweep(cache)
    assert df.attrs["bobs_trained"] == 1 and df.from_cache.sum() == len(df) - 1
    _same(df, clean[1])
    assert json.loads(path.read_text())["result"]["bob_test_acc"] == json.loads(
        (clean[0] / "bob" / path.name).read_text())["result"]["bob_test_acc"]  # rewritten with the clean value


def test_a_deleted_bob_record_is_retrained_without_a_warning(clean, tmp_path):
    cache = _copy(clean, tmp_path)
    sorted((cache / "bob").glob("*.json"))[1].unlink()
    df = _sweep(cache)
    assert df.attrs["bobs_trained"] == 1
    _same(df, clean[1])


def test_concurrent_writers_leave_a_valid_record(tmp_path):
    from reuse_utils.experiments.records import RecordStore

    store = RecordStore(tmp_path, "v", lambda r: True)
    cfg = {"a": 1}
    threads = [threading.Thread(target=store.write, args=(cfg, {"x": i})) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = store.lookup(cfg)
    assert found.result is not None and not found.corrupt
    assert not list(tmp_path.glob(".*.tmp"))


def test_killed_writer_leaves_no_half_file_and_its_temp_is_cleaned(tmp_path):
    target = tmp_path / "x.json"
    pkg = str(Path(ru.__file__).parent.parent)
    code = (f"import os, signal, sys; sys.path.insert(0, {pkg!r})\n"
            "from reuse_utils.core import io\n"
            "def write(fh):\n    fh.write(b'{\"half\": '); fh.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
            f"io.atomic_write({str(target)!r}, write)\n")
    subprocess.run([sys.executable, "-c", code], check=False)
    assert not target.exists() and len(list(tmp_path.glob(".x.json.*.tmp"))) == 1
    atomic_write_json(target, {"ok": True})
    assert json.loads(target.read_text()) == {"ok": True}
    assert not list(tmp_path.glob(".x.json.*.tmp"))


def test_written_files_honour_the_umask(tmp_path):
    from reuse_utils.core.io import FILE_MODE

    atomic_write_json(tmp_path / "m.json", {})
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == FILE_MODE
    assert FILE_MODE & 0o044  # readable by others under a usual umask (022), unlike mkstemp's 0600


# ----------------------------------------------------------------------------- decoded-data caches


def test_swapped_dataset_cache_is_not_used(tmp_data):
    train = load_dataset("mnist5k", "train")
    test = load_dataset("mnist5k", "test")
    cache = tmp_data / "cache"
    shutil.copy(cache / "mnist5k_test.pt", cache / "mnist5k_train.pt")
    with pytest.warns(UserWarning, match="holds 'mnist5k'/'test'"):
        again = load_dataset("mnist5k", "train")
    assert len(again) == len(train) != len(test) and torch.equal(again.images, train.images)


def test_photo_cache_follows_its_folder(oi_root, tmp_data):
    assert len(load_dataset("open_images:Dog,Cat@8", "train", root=oi_root)) == 6
    shutil.rmtree(oi_root / "open_images" / "train" / "Cat")
    with pytest.warns(UserWarning, match="source files have changed"), \
            pytest.raises(DatasetUnavailable, match=r"lacks the class folder\(s\) \[.*Cat"):
        load_dataset("open_images:Dog,Cat@8", "train", root=oi_root)
    shutil.copy(oi_root / "open_images" / "train" / "Dog" / "dog0.jpg", oi_root / "open_images" / "train" / "Dog" / "dog9.jpg")
    assert len(load_dataset("open_images:Dog,Car@8", "train", root=oi_root)) == 7


def test_pets_split_lists_must_name_both_species(pets_root, tmp_data):
    ann = pets_root / "oxford-iiit-pet" / "annotations" / "trainval.txt"
    ann.write_text("")
    with pytest.raises(DatasetCorrupt, match="lists no image"):
        load_dataset("pets@16", "train", root=pets_root)
    ann.write_text("beagle_3 2 2 1\npug_4 25 2 1\n")
    with pytest.raises(DatasetCorrupt, match="only dogs"):
        load_dataset("pets@16", "train", root=pets_root)


# ----------------------------------------------------------------------------- where files go


def test_data_defaults_to_the_working_project_not_the_install(tmp_path, monkeypatch):
    monkeypatch.delenv("REUSE_DATA", raising=False)
    proj = tmp_path / "myproject"
    (proj / "sub").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("")
    monkeypatch.chdir(proj / "sub")
    assert default_data_dir() == proj.resolve() / "data"


def test_unusable_root_is_an_error(tmp_path, tmp_data):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(ValueError, match="root must be a folder"):
        load_dataset("mnist5k", "train", root=f)


# ----------------------------------------------------------------------------- the ledger


@pytest.mark.parametrize("bad", ["False", float("nan"), [False], 0.3, None, 1])
def test_record_claim_needs_a_real_bool(tmp_path, bad):
    with pytest.raises(ValueError, match="passed must be a bool"):
        record_claim(tmp_path, "C9_x", {**RESULT, "passed": bad}, preset="smoke", dataset="d", notebook="n")


@pytest.mark.parametrize("bad", ["../../x", "a/b", "", ".hidden", "C1 x"])
def test_record_claim_needs_a_safe_id(tmp_path, bad):
    with pytest.raises(ValueError, match="id must be"):
        record_claim(tmp_path, bad, RESULT, preset="smoke", dataset="d", notebook="n")
    assert not (tmp_path.parent / "x.json").exists()


def test_claims_of_another_preset_are_not_mixed_and_not_deleted(tmp_path):
    """Without a run manifest the newest claim's preset is the run's; the others are kept, apart."""
    record_claim(tmp_path, "C1_x", RESULT, preset="quick", dataset="d", notebook="a.ipynb")
    record_claim(tmp_path, "C2_x", {**RESULT, "passed": np.bool_(False)}, preset="smoke", dataset="d",
                 notebook="b.ipynb")
    assert sorted(c["preset"] for c in load_claims(tmp_path)) == ["quick", "smoke"]
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert [c["id"] for c in doc["claims"]] == ["C2_x"] and [c["id"] for c in doc["earlier"]] == ["C1_x"]


# ----------------------------------------------------------------------------- the runner


RECORD = ("from reuse_utils.analysis.ledger import record_claim\n"
          "r = dict(statement='s', operationalisation='o', test='t', unit='seed', n=3, effect=0.1, ci=[0, 1], "
          "p_value=0.01, passed=True)\n"
          "record_claim(results_dir, '{id}', r, preset=preset, dataset='d', notebook='{nb}')")


@pytest.fixture
def toy_notebooks(tmp_path, toy_notebook):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "01_ok.ipynb", RECORD.format(id="C1_ok", nb="01_ok.ipynb"))
    toy_notebook(nbs / "02_boom.ipynb", "x = 1\nraise RuntimeError('the cell blew up')")
    toy_notebook(nbs / "03_ok.ipynb", RECORD.format(id="C3_ok", nb="03_ok.ipynb"))
    return nbs


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_failing_notebook_is_named_and_the_run_marked(toy_notebooks, tmp_path, capsys, jobs):
    """One lane or two (the failure is caught in the lane's worker process and reported here)."""
    results = tmp_path / "res"
    results.mkdir()
    (results / "report.html").write_text("an old report")
    code = runner.main(["--preset", "smoke", "--notebooks", str(toy_notebooks), "--results", str(results),
                        "--device", "cpu", "--jobs", jobs])
    out = capsys.readouterr().out
    assert code == 1
    assert "[reproduce] FAILED 02_boom.ipynb: cell" in out and "RuntimeError: the cell blew up" in out
    run = load_run(results)
    assert run["state"] == "failed" and run["notebooks"] == {"01_ok.ipynb": "done", "02_boom.ipynb": "failed",
                                                             "03_ok.ipynb": "done"}
    report = (results / "report.html").read_text()
    assert "an old report" not in report and "failed" in report
    assert json.loads((results / "claims.json").read_text())["run"]["state"] == "failed"
    # --only reruns one notebook and keeps the others' claims
    assert runner.main(["--preset", "smoke", "--notebooks", str(toy_notebooks), "--results", str(results),
                        "--only", "03", "--device", "cpu"]) == 0
    assert {c["id"] for c in load_claims(results)} == {"C1_ok", "C3_ok"}
    assert load_run(results)["state"] == "partial"


def test_html_rendering_failure_does_not_fail_an_executed_notebook(toy_notebooks, tmp_path, capsys, monkeypatch):
    """nbconvert without its templates (a --target install) raised for every notebook of a GPU run and
    marked all of them failed; the notebook ran, so it is done, and one line says the HTML is missing."""
    def no_templates(path):
        raise ValueError("No template sub-directory with name 'lab' found in the following paths:\n /x")

    monkeypatch.setattr(runner, "render_html", no_templates)
    results = tmp_path / "res"
    code = runner.main(["--preset", "smoke", "--notebooks", str(toy_notebooks), "--results", str(results),
                        "--only", "01", "--device", "cpu", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "01_ok.ipynb: executed; no HTML copy (ValueError: No template" in out
    run = load_run(results)
    assert run["notebooks"]["01_ok.ipynb"] == "done" and run["seconds"]["01_ok.ipynb"] > 0
    if runner.children_cpu_seconds() is not None:  # the kernel's CPU time, where the platform says it
        assert 0 < run["cpu_seconds"]["01_ok.ipynb"] and "cores busy" in out


def test_unknown_notebook_name_is_an_error(toy_notebooks, tmp_path):
    with pytest.raises(SystemExit) as info:
        runner.main(["--notebooks", str(toy_notebooks), "--results", str(tmp_path / "r"), "--only", "09_typo"])
    assert info.value.code == 2


# ----------------------------------------------------------------------------- silent inputs


@pytest.mark.parametrize("call,match", [
    (lambda c: ru.run_sweep([], preset=TINY, cache_dir=c, progress=False), "grid must be a dict"),
    (lambda c: ru.run_sweep("abc", preset=TINY, cache_dir=c, progress=False), "grid must be a dict"),
    (lambda c: ru.run_sweep({"n_bob": [10**9]}, preset=TINY, cache_dir=c, progress=False), "grid axis 'n_bob'"),
    (lambda c: ru.run_sweep(GRID, preset=TINY, cache_dir=c, progress=False, device="tpu"), "device must be"),
])
def test_sweep_inputs_are_refused_before_any_work(tmp_path, call, match):
    with pytest.raises(ValueError, match=match):
        call(tmp_path / "cache")
    assert not (tmp_path / "cache" / "alice").exists()


def test_cache_dir_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="cache_dir must be a folder"):
        ru.run_sweep(GRID, preset=TINY, cache_dir=f, progress=False)


def test_model_and_generator_inputs(mnist5k_train):
    src = ru.build_model("cnn", (1, 28, 56), 10, width=4)
    bob = ru.make_bob(src, np.int64(2), "reinit", np.int64(10), 0)
    assert bob.record.frozen_layers == bob.n_layers - 2 and isinstance(bob.record.frozen_layers, int)
    with pytest.raises(ValueError, match="width must be an integer"):
        ru.build_model("mlp", (1, 28, 56), 10, width=10**9)
    with pytest.raises(ValueError, match="width must be an integer"):
        ru.build_model("mlp", (1, 28, 56), 10, width=True)
    with pytest.raises(ValueError, match="input_shape"):
        ru.build_model("cnn", (True, 28, 56), 10)
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 10\*\*8\]"):
        ru.make_pairs(mnist5k_train, 10**12)
    with pytest.raises(ValueError, match="label_map values must be integer"):
        ru.make_pairs(mnist5k_train, 10, 0.5, label_map=[float(i) + 0.5 for i in range(10)])


def test_no_temp_file_left_by_a_normal_run(clean):
    assert not [p for p in clean[0].rglob("*.tmp")]
    assert os.access(next((clean[0] / "bob").glob("*.json")), os.R_OK)



def test_checksum_covers_zero_dim_tensors():
    """BatchNorm's ``num_batches_tracked`` is a 0-dim integer tensor: the state-dict checksum must
    read it (a resnet18 Alice checkpoint failed here before) and change when it changes."""
    from reuse_utils.core.ids import tensors_digest

    a = tensors_digest({"w": torch.ones(2), "n": torch.tensor(3)})
    assert a == tensors_digest({"w": torch.ones(2), "n": torch.tensor(3)})
    assert a != tensors_digest({"w": torch.ones(2), "n": torch.tensor(4)})


# ----------------------------------------------------------------------------- a newcomer's run

UNAVAILABLE = ("from reuse_utils.datasets import DatasetUnavailable\n"
               "raise DatasetUnavailable(\"Dataset 'x' (train) is unavailable. Download failed: Error downloading a.gz:\\n"
               "Tried http://example.invalid/, got: no network. To get it: copy it.\")")


def _links(report: str) -> list[str]:
    return re.findall(r"href='([^']+)'", report)


def test_notebooks_without_their_data_are_skipped_with_the_reason(tmp_path, toy_notebook, monkeypatch, capsys):
    """No system copy, offline, empty data folder: the notebook that declares case data is not started;
    the run is partial, exit 0; its claims show as not run; the report warns at smoke and links only
    files that exist. A notebook that raises DatasetUnavailable for data it did not declare has failed
    (undeclared data or a loader fault), with the whole message."""
    monkeypatch.setenv("REUSE_SYSTEM_DATA", "")
    monkeypatch.setenv("REUSE_OFFLINE", "1")
    monkeypatch.setenv("REUSE_DATA", str(tmp_path / "empty_data"))
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "01_ok.ipynb", RECORD.format(id="C1_ok", nb="01_ok.ipynb"), [], data=[], claims=["C1_ok"])
    toy_notebook(nbs / "02_case.ipynb", "raise SystemExit('must not start')", [], data=["case"], claims=["C2_case"])
    results = tmp_path / "res"
    args = ["--preset", "smoke", "--notebooks", str(nbs), "--results", str(results), "--device", "cpu", "--quiet"]
    code = runner.main(args)
    out = capsys.readouterr().out
    assert code == 0
    assert "[reproduce] SKIPPED 02_case.ipynb: needs 'fashion_mnist'" in out
    run = load_run(results)
    assert run["state"] == "partial"
    assert run["notebooks"] == {"01_ok.ipynb": "done", "02_case.ipynb": "skipped"}
    assert "fashion_mnist" in run["reasons"]["02_case.ipynb"] and "01_ok.ipynb" not in run["reasons"]
    not_run = json.loads((results / "claims.json").read_text())["not_run"]
    assert [(c["id"], c["state"]) for c in not_run] == [("C2_case", "skipped")]
    assert re.search(r"run partial after \d+ s: 1 of 2 notebooks done; skipped: 02 \(needs 'fashion_mnist'", out)
    report = (results / "report.html").read_text()
    assert "verdicts mean nothing at this size" in report
    assert "not run (notebook skipped: needs &#x27;fashion_mnist&#x27;" in report
    links = _links(report)
    assert links == ["notebooks/01_ok.html"] and all((results / x).exists() for x in links)
    toy_notebook(nbs / "03_late.ipynb", UNAVAILABLE, [], data=[], claims=["C3_late"])
    assert runner.main([*args, "--only", "03"]) == 1
    out = capsys.readouterr().out
    assert "FAILED 03_late.ipynb" in out and "got: no network. To get it: copy it." in out
    assert load_run(results)["notebooks"]["03_late.ipynb"] == "failed"


def test_a_failure_keeps_its_whole_message(tmp_path, toy_notebook, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "01_boom.ipynb", "raise RuntimeError('Error downloading a.gz:\\nTried http://x/, got: refused')")
    code = runner.main(["--preset", "smoke", "--notebooks", str(nbs), "--results", str(tmp_path / "r"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"FAILED 01_boom.ipynb: cell \d+ raised RuntimeError: Error downloading a.gz: Tried http://x/, "
                     r"got: refused\n", out)
    assert "got: refused" in load_run(tmp_path / "r")["reasons"]["01_boom.ipynb"]
    from reuse_utils.core.text import one_line

    assert one_line("a\n b", limit=3) == "a b" and one_line("abcdef", limit=4) == "abc…" and one_line("a\nb") == "a b"


def test_only_reruns_that_complete_the_set_make_it_complete(tmp_path, toy_notebook, capsys):
    """The run's state is the folder's: a notebook that failed, rerun alone and done, completes the set;
    a rerun at another preset does not inherit the earlier notebooks' states."""
    flag = tmp_path / "broken"
    flag.write_text("")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "01_ok.ipynb", RECORD.format(id="C1_ok", nb="01_ok.ipynb"), [], claims=["C1_ok"])
    toy_notebook(nbs / "02_flaky.ipynb", f"import os\nassert not os.path.exists({str(flag)!r}), 'broken'\n"
                 + RECORD.format(id="C2_flaky", nb="02_flaky.ipynb"), [], claims=["C2_flaky"])
    results = tmp_path / "res"
    args = ["--preset", "smoke", "--notebooks", str(nbs), "--results", str(results), "--quiet"]
    assert runner.main(args) == 1
    assert json.loads((results / "claims.json").read_text())["not_run"][0]["id"] == "C2_flaky"
    assert "not run (notebook failed: cell" in (results / "report.html").read_text()
    flag.unlink()
    assert runner.main([*args, "--only", "02"]) == 0
    run = load_run(results)
    assert run["state"] == "complete" and set(run["notebooks"].values()) == {"done"} and not run["reasons"]
    assert json.loads((results / "claims.json").read_text())["not_run"] == []
    assert runner.main(["--preset", "quick", "--notebooks", str(nbs), "--results", str(results), "--quiet",
                        "--only", "02"]) == 0
    assert load_run(results)["notebooks"]["01_ok.ipynb"] == "not run"
    assert load_run(results)["state"] == "partial"
    capsys.readouterr()


# ----------------------------------------------------------------------------- claims that belong to a run


def test_claims_of_an_earlier_run_are_listed_apart(tmp_path, toy_notebook):
    """A quick claim in the folder, then the runner at smoke --only one notebook: the quick claim is not
    this run's — claims.json and the report list it apart, with its preset."""
    results = tmp_path / "res"
    record_claim(results, "C1_monotonic_task", RESULT, preset="quick", dataset="mnist5k", notebook="04.ipynb")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    toy_notebook(nbs / "03_x.ipynb", "x = 1", [])
    assert runner.main(["--preset", "smoke", "--notebooks", str(nbs), "--results", str(results), "--quiet",
                        "--only", "03"]) == 0
    doc = json.loads((results / "claims.json").read_text())
    assert doc["run"]["preset"] == "smoke" and doc["claims"] == []
    assert [(c["id"], c["preset"]) for c in doc["earlier"]] == [("C1_monotonic_task", "quick")]
    report = (results / "report.html").read_text()
    assert "From an earlier run" in report and "<th>preset</th>" in report
    assert report.index("From an earlier run") < report.index("C1_monotonic_task")


def test_an_unreadable_claim_is_reported_not_dropped(tmp_path):
    record_claim(tmp_path, "C1_a", RESULT, preset="smoke", dataset="d", notebook="a.ipynb")
    record_claim(tmp_path, "C2_b", RESULT, preset="smoke", dataset="d", notebook="b.ipynb")
    path = tmp_path / "claims" / "C2_b.json"
    path.write_text(path.read_text()[:40])
    with pytest.warns(UserWarning, match="C2_b.json could not be read"):
        assert [c["id"] for c in load_claims(tmp_path)] == ["C1_a"]
    record_claim(tmp_path, "C3_c", RESULT, preset="smoke", dataset="d", notebook="c.ipynb")
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert [b["file"] for b in doc["unreadable"]] == ["C2_b.json"]
    from reuse_utils.companion.report import write_report

    html = write_report(tmp_path, preset="smoke", dataset=None, device="cpu", timings={}, wall_seconds=1).read_text()
    assert "C2_b.json: could not be read" in html


def test_load_claims_of_a_missing_folder_or_a_file_is_an_error(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    for bad in (tmp_path / "missing", tmp_path / "f.txt", 123):
        with pytest.raises(ValueError, match="results_dir must be an existing results folder"):
            load_claims(bad)


def test_a_claim_the_data_could_not_test_is_recorded_with_n_zero(tmp_path):
    untested = {**RESULT, "n": 0, "p_value": None, "ci": [None, None], "effect": None, "passed": False}
    assert record_claim(tmp_path, "C3_x", untested, preset="quick", dataset="d", notebook="a.ipynb")["n"] == 0
    with pytest.raises(ValueError, match="n must be an integer"):
        record_claim(tmp_path, "C4_x", {**untested, "passed": True}, preset="quick", dataset="d", notebook="a.ipynb")


@pytest.mark.parametrize("field,value,match", [
    ("p_value", -3, "p_value must be None or a number in"), ("p_value", 1.5, "p_value must be"),
    ("n", -1, "n must be an integer"), ("n", 2.5, "n must be an integer"), ("n", True, "n must be an integer"),
    ("ci", [5, 1], "lower ≤ upper"), ("ci", [0.5, 0.9], "must lie within its ci"), ("ci", [0, 1, 2], "ci must be"),
])
def test_record_claim_checks_its_numbers_and_keeps_the_real_claims(tmp_path, field, value, match):
    record_claim(tmp_path, "C1_real", RESULT, preset="quick", dataset="d", notebook="a.ipynb")
    with pytest.raises(ValueError, match=match):
        record_claim(tmp_path, "C2_bad", {**RESULT, field: value}, preset="quick", dataset="d", notebook="b.ipynb")
    assert [c["id"] for c in load_claims(tmp_path)] == ["C1_real"]


@pytest.mark.parametrize("preset", [None, "bogus", 3])
def test_record_claim_refuses_an_unknown_preset_before_touching_the_folder(tmp_path, preset):
    record_claim(tmp_path, "C1_real", RESULT, preset="quick", dataset="d", notebook="a.ipynb")
    with pytest.raises(ValueError, match="preset must be one of"):
        record_claim(tmp_path, "C2_x", RESULT, preset=preset, dataset="d", notebook="b.ipynb")
    assert [c["id"] for c in load_claims(tmp_path)] == ["C1_real"]


def test_everything_in_the_report_is_escaped(tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    record_claim(tmp_path, "C1_x", {**RESULT, "statement": evil, "unit": evil, "test": evil,
                                    "operationalisation": evil}, preset="smoke", dataset=evil, notebook=evil,
                 data_label=evil)
    from reuse_utils.companion.report import write_report

    html = write_report(tmp_path, preset="smoke", dataset=evil, device="cpu", timings={evil: 1.0},
                        wall_seconds=1).read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# ----------------------------------------------------------------------------- a run that died


def test_a_running_manifest_whose_runner_is_gone_reads_as_died(tmp_path):
    import socket
    import time

    from reuse_utils.analysis.ledger import save_run
    from reuse_utils.analysis.run_manifest import DEAD_AFTER

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a pid that no longer runs
    base = {"state": "running", "preset": "smoke", "notebooks": {}}
    save_run(tmp_path, {**base, "pid": child.pid, "host": socket.gethostname(), "heartbeat": time.time()})
    assert load_run(tmp_path)["state"] == "running"  # the pid alone may be another namespace's: wait a beat
    save_run(tmp_path, {**base, "pid": child.pid, "host": socket.gethostname(), "heartbeat": time.time() - 61})
    assert load_run(tmp_path)["state"] == "died"
    assert json.loads((tmp_path / "claims.json").read_text())["run"]["state"] == "died"
    save_run(tmp_path, {**base, "pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time()})
    assert load_run(tmp_path)["state"] == "running"  # this process is alive
    save_run(tmp_path, {**base, "pid": 1, "host": "another-host", "heartbeat": time.time() - DEAD_AFTER - 1})
    assert load_run(tmp_path)["state"] == "died"
    save_run(tmp_path, {**base, "pid": 1, "host": "another-host", "heartbeat": time.time()})
    assert load_run(tmp_path)["state"] == "running"


def test_a_garbled_manifest_is_a_warning(tmp_path):
    (tmp_path / "run.json").write_text('{"state": "runn')
    with pytest.warns(UserWarning, match="Cannot read the run manifest"):
        assert load_run(tmp_path) is None


def test_the_runner_writes_its_pid_and_says_what_happened(toy_notebooks, tmp_path, capsys):
    results = tmp_path / "res"
    assert runner.main(["--preset", "smoke", "--notebooks", str(toy_notebooks), "--results", str(results),
                        "--quiet"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("[reproduce] run failed after") and "2 of 3 notebooks done; failed: 02" in out[-1]
    run = load_run(results)
    assert run["pid"] == os.getpid() and run["heartbeat"] > 0 and run["state"] == "failed"


@pytest.mark.parametrize("args,match", [
    (["--device", "tpu"], "device must be"), (["--dataset", "bogus"], "--dataset must be one of"),
    (["--dataset", "cifar10"], "--dataset 'cifar10' cannot be had here"),
])
def test_device_and_dataset_are_checked_before_any_kernel_starts(toy_notebooks, tmp_path, capsys, args, match):
    with pytest.raises(SystemExit) as info:
        runner.main(["--notebooks", str(toy_notebooks), "--results", str(tmp_path / "r"), *args])
    assert info.value.code == 2 and match in capsys.readouterr().err
    assert not (tmp_path / "r" / "notebooks").exists()  # no notebook was started


def test_a_results_path_that_is_a_file_or_read_only_is_refused(toy_notebooks, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit):
        runner.main(["--notebooks", str(toy_notebooks), "--results", str(tmp_path / "file")])
    err = capsys.readouterr().err
    assert "--results" in err and "is a file, not a folder" in err
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(SystemExit):
            runner.main(["--notebooks", str(toy_notebooks), "--results", str(ro / "r")])
        assert "cannot write" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", [5, "0", []])
def test_setup_seeds_must_be_a_list(tmp_path, seeds):
    with pytest.raises(ValueError, match="seeds must"):
        ru.setup("smoke", seeds=seeds, results_dir=tmp_path, verbose=False)


# ----------------------------------------------------------------------------- records, names and stores


@pytest.mark.parametrize("field,value", [("alice_test_acc", -0.5), ("bob_test_acc_linked", 7.0),
                                         ("task_corr_measured", 1.5), ("bob_val_loss", -1.0),
                                         ("bob_test_acc", float("nan"))])
def test_a_record_out_of_range_is_recomputed_even_with_a_matching_checksum(clean, tmp_path, field, value):
    from reuse_utils.experiments.records import record_checksum

    cache = _copy(clean, tmp_path)
    rec_path = next((cache / "bob").glob("*.json"))
    rec = json.loads(rec_path.read_text())
    rec["result"][field] = value
    rec["sha256"] = record_checksum(rec)
    rec_path.write_text(json.dumps(rec))
    with pytest.warns(UserWarning, match="sweep record") as caught:
        df = _sweep(cache)
    if field != "bob_val_loss":  # a range of a named quantity: the warning says which
        assert field in " ".join(str(w.message) for w in caught)
    _same(df, clean[1])
    assert df.from_cache.sum() == len(df) - 1
    assert json.loads(rec_path.read_text())["result"][field] != value or math.isnan(value)  # overwritten


def test_case_results_are_range_checked():
    from reuse_utils.experiments.casestudy import valid_case_result

    good = {"bob_test_acc": 0.8, "bob_val_acc": 0.7, "chance": 0.5, "measured_corr": 0.3, "stopped_by": "solver",
            "selection_edge": False, "bob_lr": float("nan"), "bob_l2": 0.01}
    assert valid_case_result(good)
    for field, value in (("chance", 1.5), ("measured_corr", -2.0), ("bob_val_acc", float("nan")),
                         ("alice_test_acc", -0.1)):
        assert not valid_case_result({**good, field: value}), field


@pytest.mark.parametrize("name", ["open_images:/srv/x/a,/srv/x/b@8", "open_images:../a,b", "open_images:a/b,c",
                                  "open_images:.hidden,b"])
def test_a_dataset_name_cannot_reach_outside_the_data_roots(tmp_data, name):
    with pytest.raises(ValueError, match="must be plain class names"):
        load_dataset(name, "train")


def test_a_root_that_is_not_a_path_is_named(tmp_data):
    with pytest.raises(ValueError, match="root must be a folder path"):
        load_dataset("mnist5k", "train", root=123)


def test_two_corrupt_alices_are_retrained_with_their_group(tmp_path):
    """``has()`` verifies as ``get()`` does: corrupt checkpoints are retrained together by
    ``train_missing`` (stacked, as in the clean run), so the repaired cache equals the clean one."""
    grid = {"dataset": ["mnist5k"], "arch": ["mlp"], "task_corr": [0.0, 0.5], "k": [1], "mode": ["reinit"]}
    tiny = TINY.with_(seeds=(0, 1))
    cache = tmp_path / "cache"
    ru.run_sweep(grid, preset=tiny, cache_dir=cache, progress=False, device="cpu")
    clean_weights = {p.name: torch.load(p, weights_only=True)["state_dict"] for p in (cache / "alice").glob("*.pt")}
    assert len(clean_weights) == 4
    for p in sorted((cache / "alice").glob("*.pt"))[:2]:
        p.write_bytes(p.read_bytes()[:200])
    shutil.rmtree(cache / "bob")
    with pytest.warns(UserWarning, match="Alice checkpoint"):
        df = ru.run_sweep(grid, preset=tiny, cache_dir=cache, progress=False, device="cpu")
    assert df.attrs["alices_trained"] == 2
    for p in (cache / "alice").glob("*.pt"):
        again = torch.load(p, weights_only=True)["state_dict"]
        assert all(torch.equal(again[k], clean_weights[p.name][k]) for k in again), p.name


def test_a_full_disk_is_named(tmp_path, monkeypatch):
    import errno

    from reuse_utils.core import io

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io.os, "replace", full)
    with pytest.raises(OSError, match=f"no space left on {tmp_path}") as info:
        io.atomic_write_text(tmp_path / "x.json", "{}")
    assert info.value.errno == errno.ENOSPC and not list(tmp_path.iterdir())  # no temporary file left


@pytest.mark.parametrize("kwargs,match", [({"cache_dir": None}, "cache_dir must be a folder path"),
                                          ({"memory_budget": -1}, "memory_budget must be None")])
def test_sweep_arguments_are_named(tmp_path, kwargs, match):
    args = {"preset": TINY, "cache_dir": tmp_path, "progress": False}
    with pytest.raises(ValueError, match=match):
        if "memory_budget" in kwargs:
            ru.run_sweep(GRID, **args, options=ru.SweepOptions(**kwargs))
        else:
            ru.run_sweep(GRID, **{**args, **kwargs})
