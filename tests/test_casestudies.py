"""Case-study loaders on tiny fixtures in the exact on-disk layouts, and the protocol helpers."""

import sys
import types

import numpy as np
import pytest
import torch

from reuse_utils import datasets as rd
from reuse_utils import generator as rg
from reuse_utils.datasets import DatasetCorrupt, DatasetUnavailable, load_dataset


def test_pets_loader_binary_category_and_resize(pets_root, tmp_data):
    tr = load_dataset("pets@16", "train", root=pets_root)
    assert tr.images.shape == (5, 3, 16, 16) and tr.images.dtype == torch.uint8
    assert tr.labels.tolist() == [0, 0, 1, 1, 1] and tr.classes == ["cat", "dog"]
    te = load_dataset("pets@16", "test", root=pets_root)
    assert te.labels.tolist() == [0, 1]
    assert int(tr.images[0].float().mean().round()) == 40  # cat images are value 40
    assert list((pets_root / "cache").glob("pets*16_train.pt"))


def test_pets_corrupt_image_is_clear_error(pets_root, tmp_data):
    (pets_root / "oxford-iiit-pet" / "images" / "pug_4.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetCorrupt, match="pug_4.jpg"):
        load_dataset("pets@16", "train", root=pets_root, cache=False)


def test_pets_unavailable_names_places_and_command(tmp_data, tmp_path):
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("pets", "train", root=tmp_path / "nowhere", download=False)
    msg = str(info.value)
    assert "oxford-iiit-pet" in msg and "OxfordIIITPet" in msg and str(tmp_path / "nowhere") in msg


def test_open_images_loader_orders_classes_as_given(oi_root, tmp_data):
    ds = load_dataset("open_images:Dog,Cat@8", "train", root=oi_root)
    assert ds.classes == ["Dog", "Cat"] and ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert ds.images.shape == (6, 3, 8, 8)
    assert len(load_dataset("open_images:Cat,Car@8", "test", root=oi_root)) == 4


def test_open_images_unavailable_gives_fetch_command(oi_root, tmp_data):
    with pytest.raises(DatasetUnavailable, match=r"fetch_open_images\(\['Fox', 'Lynx'\]"):
        load_dataset("open_images:Fox,Lynx", "train", root=oi_root)
    with pytest.raises(ValueError, match="two different classes"):
        load_dataset("open_images:Dog,Dog", "train", root=oi_root)
    with pytest.raises(ValueError, match="image size"):
        load_dataset("pets@3", "train")


def test_measured_task_correlation_known_phi():
    rng = np.random.default_rng(0)
    bob = rng.integers(0, 2, 40_000)
    for phi in (0.0, 0.3, 0.8):
        keep = rng.random(40_000) < phi  # Alice copies Bob's label with prob phi, else coin flip: phi exact
        alice = np.where(keep, bob, rng.integers(0, 2, 40_000))
        assert rg.measured_task_correlation(alice, bob) == pytest.approx(phi, abs=0.02)
    assert rg.measured_task_correlation(1 - bob, bob) == pytest.approx(1.0, abs=1e-3)  # sign-free


def test_task_pairs_and_per_class(digits_train):
    sub = rd.per_class(digits_train, 5)
    assert sub.class_counts().tolist() == [5] * 10
    p = rg.task_pairs(sub)
    assert p.x.shape == (50, 1, 8, 8) and torch.equal(p.y_alice, p.y_bob)
    assert float(p.x.min()) >= -1 and float(p.x.max()) <= 1


def test_per_class_draws_in_a_random_order(digits_train):
    by_class = digits_train.subset(torch.argsort(digits_train.labels, stable=True))  # as folder loaders list them
    sub = rd.per_class(by_class, 20)
    assert sub.class_counts().tolist() == [20] * 10
    tail = sub.labels[-40:]  # what a 20% validation tail would hold
    assert len(set(tail.tolist())) >= 6, "per_class must not list its images class by class"
    assert torch.equal(rd.per_class(by_class, 20).labels, sub.labels)  # deterministic
    assert not torch.equal(rd.per_class(by_class, 20, seed=1).labels, sub.labels)


def test_case_study_validates_bob_on_both_classes(pets_root, open_images_tree, tmp_data, tmp_path, monkeypatch):
    """Bob's validation part (the tail of his pairs) must hold both classes of his task, though the
    loaders list images class by class."""
    import shutil

    from reuse_utils.experiments import casestudy
    from reuse_utils.experiments.presets import get_preset

    root = open_images_tree(tmp_path / "case", {"train": 15, "test": 3})
    shutil.copytree(pets_root / "oxford-iiit-pet", root / "oxford-iiit-pet")
    seen = []
    original = casestudy.fit_selected_many

    def spy(tasks, *args, **kwargs):
        seen.extend(task.val_y.clone() for task in tasks)
        return original(tasks, *args, **kwargs)

    monkeypatch.setattr(casestudy, "fit_selected_many", spy)
    preset = get_preset("smoke").with_(case_size=16, case_alice_per_class=3, case_bob_per_class=15,
                                       case_alice_epochs=1, case_bob_epochs=1, bob_val_fraction=0.2)
    data = rd.CaseData(root, {"dog vs cat": ("Dog", "Cat", "related")}, None)
    df = casestudy.run_case_study(data, preset=preset, seeds=[0], cache_dir=tmp_path / "cache", device="cpu",
                                  ks=[1, 2], controls=False)
    assert len(df) == 3 and seen  # k = 1 reinit, k = 2 reinit and finetune
    for val_y in seen:
        assert len(val_y) == 6 and set(val_y.tolist()) == {0, 1}, val_y


def test_fetch_open_images_uses_fiftyone_zoo_and_exporter(tmp_path, monkeypatch):
    calls = {"load": [], "export": []}

    class Cls:
        def __init__(self, label):
            self.label = label

    class Sample(dict):
        def __init__(self, sid, **kw):
            super().__init__(**kw)
            self.id = sid

        def save(self):
            pass

    class View(list):
        def select(self, ids):
            return View(x for x in self if x.id in ids)

        def export(self, export_dir, dataset_type, label_field):
            calls["export"].append((export_dir, dataset_type, label_field, [s["reuse_label"].label for s in self]))

    def load_zoo_dataset(name, **kw):
        calls["load"].append((name, kw))
        both = Sample("both", positive_labels=types.SimpleNamespace(classifications=[Cls("Dog"), Cls("Cat")]))
        only = Sample("only", positive_labels=types.SimpleNamespace(classifications=[Cls(kw["classes"][0])]))
        return View([only, both])

    fo = types.ModuleType("fiftyone")
    fo.Classification = Cls
    fo.types = types.SimpleNamespace(ImageClassificationDirectoryTree="ImageClassificationDirectoryTree")
    zoo = types.ModuleType("fiftyone.zoo")
    zoo.load_zoo_dataset = load_zoo_dataset
    fo.zoo = zoo
    monkeypatch.setitem(sys.modules, "fiftyone", fo)
    monkeypatch.setitem(sys.modules, "fiftyone.zoo", zoo)
    out = rd.fetch_open_images(["Dog", "Cat"], 7, "test", root=tmp_path)
    assert out == tmp_path / "open_images" / "test"
    name, kw = calls["load"][0]
    assert name == "open-images-v7" and kw["label_types"] == ["classifications"] and kw["max_samples"] == 7
    assert kw["split"] == "test"
    assert calls["export"][0][1] == "ImageClassificationDirectoryTree"
    assert calls["export"][0][3] == ["Dog"] and calls["export"][1][3] == ["Cat"]  # ambiguous image left out
    with pytest.raises(ValueError, match="max_per_class"):
        rd.fetch_open_images(["Dog", "Cat"], 0)
    with pytest.raises(ValueError, match="split must be"):
        rd.fetch_open_images(["Dog", "Cat"], 5, "validation")


def test_fetch_open_images_without_fiftyone(monkeypatch):
    monkeypatch.setitem(sys.modules, "fiftyone", None)
    with pytest.raises(DatasetUnavailable, match=r"\.\[openimages\]"):
        rd.fetch_open_images(["Dog", "Cat"], 5)


@pytest.mark.skipif(not __import__("pathlib").Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists(),
                    reason="needs Debian's dataset-fashion-mnist")
def test_standin_is_written_in_real_layouts_and_labelled(tmp_data, tmp_path):
    root = rd.build_standin(tmp_path / "standin", n_alice_per_class=20, n_alice_test_per_class=5,
                            n_bob_per_class=6, n_bob_test_per_class=4)
    assert (root / "oxford-iiit-pet" / "annotations" / "trainval.txt").exists()
    pets = load_dataset("pets@16", "train", root=root)
    assert pets.class_counts().tolist() == [20, 20]
    a, b, group = rd.standin_task_names()["related footwear"]
    bob = load_dataset(f"open_images:{a},{b}@16", "test", root=root)
    assert bob.class_counts().tolist() == [4, 4] and group == "related"
    data = rd.resolve_case_data(16, prefer="standin", root=root)
    assert data.label == "stand-in data" and data.suffix() == "_standin"
    with pytest.raises(DatasetUnavailable):
        rd.resolve_case_data(16, prefer="real")
