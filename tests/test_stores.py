"""Stores and names that used to end in silently wrong numbers or obscure errors: record ranges,
dataset names that reach outside the data roots, repaired Alice caches, roots that are not paths
and a full disk."""

import errno
import json
from types import SimpleNamespace

import pytest
import torch

import reuse_utils as ru
from reuse_utils.core import io
from reuse_utils.core.ids import stable_hash
from reuse_utils.datasets import load_dataset
from reuse_utils.experiments.alices import AliceStore
from reuse_utils.experiments.casestudy import valid_case_result
from reuse_utils.experiments.grid import CODE_VERSION, alice_config, expand_grid
from reuse_utils.experiments.presets import get_preset
from reuse_utils.experiments.records import RecordStore, field_problem, record_checksum
from reuse_utils.experiments.sweep_plan import MAY_BE_NAN, valid_result
from reuse_utils.generator import make_world

TINY = get_preset("smoke").with_(n_alice=300, n_bob=120, n_test=200, seeds=(0,), alice_epochs=1, bob_epochs=1)
GRID = {"dataset": ["mnist5k"], "task_corr": [0.5], "k": [1, 5], "mode": ["reinit"]}
RESULT = {"bob_test_acc": 0.8, "bob_test_acc_linked": 0.9, "bob_test_acc_unlinked": float("nan"),
          "bob_train_acc": 0.85, "bob_val_acc": 0.8, "bob_val_loss": 0.5, "bob_lr": 0.01, "bob_epoch": 3,
          "alice_test_acc": 0.7, "chance": 0.5, "task_corr_measured": -0.4, "feature_corr_measured": 0.1,
          "seconds": 1.0, "n_layers": 5, "n_classes": 2, "n_test": 200, "n_val": 24, "bob_l2": float("nan"),
          "bob_iters": 5, "stopped_by": "patience", "selection_edge": False, "alice_stopped_by": "patience",
          "alice_epoch": 7}


def _edit(path, **fields):
    """Hand-edit the result of the record at ``path``, its checksum recomputed so that it still matches."""
    rec = json.loads(path.read_text())
    rec["result"].update(fields)
    rec["sha256"] = record_checksum(rec)
    path.write_text(json.dumps(rec))


# ----------------------------------------------------------------------------- record ranges


@pytest.mark.parametrize("field,value,why", [
    ("alice_test_acc", -0.5, "outside [0, 1]"), ("bob_test_acc_linked", 7.0, "outside [0, 1]"),
    ("chance", float("inf"), "outside [0, 1]"), ("linked_fraction", 1.5, "outside [0, 1]"),
    ("instance_share", -0.1, "outside [0, 1]"), ("task_corr_measured", -1.5, "outside [-1, 1]"),
    ("measured_corr", 2.0, "outside [-1, 1]"), ("bob_val_acc", float("nan"), "NaN"),
    ("bob_test_acc", None, "not a number"), ("bob_train_acc", True, "not a number"),
    ("chance", "0.5", "not a number")])
def test_every_accuracy_fraction_and_correlation_field_is_range_checked(field, value, why):
    problem = field_problem({**RESULT, field: value}, MAY_BE_NAN)
    assert problem is not None and field in problem and why in problem
    assert not valid_result({**RESULT, field: value})


def test_fields_in_range_pass_and_nan_only_where_allowed():
    assert field_problem(RESULT, MAY_BE_NAN) is None and valid_result(RESULT)
    assert field_problem({"task_corr_measured": -1.0, "chance": 0.0, "bob_test_acc": 1, "bob_lr": -3.0}) is None
    assert "NaN" in field_problem(RESULT)  # bob_test_acc_unlinked is NaN: allowed only when named
    assert not valid_result({**RESULT, "bob_test_acc": float("nan")})  # Bob is always scored
    assert valid_result({**RESULT, "alice_test_acc": float("nan")})  # a source not scored on Alice's labels


@pytest.mark.parametrize("field,value", [("alice_test_acc", -0.5), ("bob_test_acc_linked", 7.0)])
def test_store_reports_an_out_of_range_record_whose_checksum_matches(tmp_path, field, value):
    store = RecordStore(tmp_path, CODE_VERSION, valid_result, MAY_BE_NAN)
    config = {"run": 1}
    key = store.write(config, RESULT)
    assert store.lookup(config).result is not None
    _edit(store.path(key), **{field: value})
    found = store.lookup(config)
    assert found.corrupt and found.result is None and field in found.why and "outside [0, 1]" in found.why


def test_case_study_records_are_range_checked(tmp_path):
    good = {"bob_test_acc": 0.8, "bob_val_acc": 0.7, "bob_lr": 0.01, "bob_epoch": 2, "bob_l2": float("nan"),
            "stopped_by": "patience", "selection_edge": False}
    assert valid_case_result(good)
    for field, value in (("bob_test_acc", -0.5), ("bob_val_acc", 7.0), ("bob_val_acc", float("nan")),
                         ("bob_test_acc", None), ("some_fraction", 2.0), ("measured_corr", -1.01)):
        assert not valid_case_result({**good, field: value}), field
    assert not valid_case_result({"bob_val_acc": 0.7})
    store = RecordStore(tmp_path, CODE_VERSION, valid_case_result)
    key = store.write({"case": 1}, good)
    _edit(store.path(key), bob_test_acc=-0.5)
    found = store.lookup({"case": 1})
    assert found.corrupt and "bob_test_acc" in found.why


# ----------------------------------------------------------------------------- dataset names


@pytest.mark.parametrize("name", ["open_images:/srv/x/a,/srv/x/b@8", "open_images:../a,b", "open_images:a,..",
                                  "open_images:a/b,c", "open_images:a\\b,c", "open_images:.hidden,b",
                                  "open_images:a\0,b", "open_images:Dog,/etc"])
def test_a_dataset_name_is_plain_class_names_only(tmp_data, name):
    with pytest.raises(ValueError, match=r"^name: .*plain class names.*root=") as info:
        load_dataset(name, "train")
    assert not isinstance(info.value, TypeError)


def test_a_folder_of_ones_own_goes_through_root(tmp_path, oi_root):
    ds = load_dataset("open_images:Dog,Cat@8", "train", root=oi_root, cache=False)
    assert ds.source == str(oi_root / "open_images" / "train") and ds.classes == ["Dog", "Cat"]
    with pytest.raises(ValueError, match="name: "):
        load_dataset(f"open_images:{oi_root}/open_images/train/Dog,Cat@8", "train", root=oi_root, cache=False)


def test_fetch_open_images_refuses_paths_and_roots_that_are_not_paths(tmp_path):
    with pytest.raises(ValueError, match="classes must be plain"):
        ru.fetch_open_images(["../Dog", "Cat"], 5, root=tmp_path)
    with pytest.raises(ValueError, match="root must be a folder path"):
        ru.fetch_open_images(["Dog", "Cat"], 5, root=123)


@pytest.mark.parametrize("root", [123, 1.5, True, ["data"]])
def test_a_root_that_is_not_a_path_is_a_value_error_naming_root(tmp_data, root):
    with pytest.raises(ValueError, match="root must be a folder path"):
        load_dataset("mnist5k", "train", root=root)


# ----------------------------------------------------------------------------- Alice checkpoints


def _wanted(preset):
    grid = {"dataset": ["mnist5k"], "arch": ["mlp"], "task_corr": [0.0, 0.5], "k": [1], "mode": ["reinit"]}
    runs, _ = expand_grid(grid, preset)
    out = {}
    for run in runs:
        acfg = alice_config(run, preset)
        out.setdefault(stable_hash(acfg), (acfg, lambda acfg=acfg, run=run: make_world(
            run["dataset"], acfg["task_corr"], acfg["feature_corr"], run["seed"], n_alice=run["n_alice"],
            n_bob=run["n_bob"], n_test=preset.n_test)))
    return list(out.values())


def test_corrupt_alices_are_retrained_with_their_group_and_equal_the_clean_ones(tmp_path, monkeypatch):
    preset = TINY.with_(seeds=(0, 1))
    wanted = _wanted(preset)
    assert len(wanted) == 4
    cpu = torch.device("cpu")
    assert AliceStore(tmp_path, cpu).train_missing(wanted) == 4
    clean = {p.name: torch.load(p, weights_only=True)["state_dict"] for p in (tmp_path / "alice").glob("*.pt")}
    broken = sorted((tmp_path / "alice").glob("*.pt"))[:2]
    broken[0].write_bytes(broken[0].read_bytes()[:200])  # truncated
    blob = torch.load(broken[1], weights_only=True)  # weights changed, checksum left stale
    blob["state_dict"] = {k: v + 1 if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    torch.save(blob, broken[1])

    store = AliceStore(tmp_path, cpu)
    groups = []
    train_many = store.train_many
    monkeypatch.setattr(store, "train_many", lambda configs, worlds, group=None: (
        groups.append(sorted(stable_hash(c) for c in configs)), train_many(configs, worlds, group))[1])
    with pytest.warns(UserWarning, match="Alice checkpoint") as caught:
        assert store.train_missing(wanted) == 2
    assert sum("Alice checkpoint" in str(w.message) for w in caught) == 2
    assert groups == [sorted(p.stem for p in broken)] and store.trained == 2
    for p in (tmp_path / "alice").glob("*.pt"):
        again = torch.load(p, weights_only=True)["state_dict"]
        assert all(torch.equal(again[k], clean[p.name][k]) for k in again), p.name


def test_has_verifies_and_get_does_not_read_the_checkpoint_again(tmp_path, monkeypatch):
    preset = TINY
    (config, build), = _wanted(preset)[:1]
    cpu = torch.device("cpu")
    AliceStore(tmp_path, cpu).train_missing([(config, build)])
    store = AliceStore(tmp_path, cpu)
    world = build()
    reads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: (reads.append(a[0]), real_load(*a, **k))[1])
    assert store.has(config)
    model, meta = store.get(config, world)
    assert len(reads) == 1 and store.trained == 0
    assert store.get(config, world)[0] is model and len(reads) == 1  # verified: from memory
    pt = store.paths(stable_hash(config))[0]
    pt.write_bytes(b"garbage")
    fresh = AliceStore(tmp_path, cpu)
    with pytest.warns(UserWarning, match="Alice checkpoint"):
        assert not fresh.has(config)
    assert not pt.exists()  # discarded by has(): train_missing retrains it


# ----------------------------------------------------------------------------- a full disk


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["replace", "fsync", "mkstemp"])
def test_a_full_disk_says_no_space_left_and_leaves_no_temp(tmp_path, monkeypatch, where):
    target = {"replace": (io.os, "replace"), "fsync": (io.os, "fsync"), "mkstemp": (io.tempfile, "mkstemp")}[where]
    monkeypatch.setattr(*target, _no_space)
    with pytest.raises(OSError, match=f"no space left on {tmp_path}") as info:
        io.atomic_write_json(tmp_path / "x.json", {"a": 1})
    assert info.value.errno == errno.ENOSPC and type(info.value) is OSError
    assert not list(tmp_path.iterdir())


def test_a_full_disk_under_torch_save_says_no_space_left(tmp_path, monkeypatch):
    def enforce(obj, fh):
        raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0: file write failed")

    monkeypatch.setattr(io.torch, "save", enforce)
    monkeypatch.setattr(io.shutil, "disk_usage", lambda p: SimpleNamespace(total=100, used=100, free=0))
    with pytest.raises(OSError, match="no space left on"):
        io.atomic_torch_save({"x": torch.zeros(3)}, tmp_path / "m.pt")
    assert not list(tmp_path.iterdir())


def test_other_write_errors_pass_unchanged(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(io.os, "replace", denied)
    with pytest.raises(PermissionError, match="Permission denied"):
        io.atomic_write_text(tmp_path / "x.txt", "x")
    def failed(obj, fh):
        raise RuntimeError("file write failed")

    monkeypatch.setattr(io.torch, "save", failed)
    with pytest.raises(RuntimeError, match="file write failed"):  # plenty of space: not a full disk
        io.atomic_torch_save({}, tmp_path / "m.pt")


def test_a_full_disk_under_a_record_store_is_an_oserror_naming_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(io.os, "replace", _no_space)
    store = RecordStore(tmp_path / "bob", CODE_VERSION, valid_result, MAY_BE_NAN)
    with pytest.raises(OSError, match=f"no space left on {tmp_path / 'bob'}"):
        store.write({"run": 1}, RESULT)
