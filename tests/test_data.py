from pathlib import Path

import pytest
import torch

import reuse_utils.datasets.registry as registry_mod
from reuse_utils.datasets import DatasetCorrupt, DatasetUnavailable, ImageDataset, load_dataset

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_mnist5k_split_is_stratified_and_deterministic(tmp_data):
    tr, te = load_dataset("mnist5k", "train"), load_dataset("mnist5k", "test")
    assert tr.images.shape == (4000, 1, 28, 28) and te.images.shape == (1000, 1, 28, 28)
    assert tr.images.dtype == torch.uint8 and tr.labels.dtype == torch.int64
    assert tr.class_counts().tolist() == [400] * 10
    assert te.class_counts().tolist() == [100] * 10
    assert tr.classes == [str(i) for i in range(10)]
    again = load_dataset("mnist5k", "train", cache=False)
    assert torch.equal(again.images, tr.images) and torch.equal(again.labels, tr.labels)
    # train and test hold different digits (no image copied across the split)
    tr_set = {bytes(img.numpy()) for img in tr.images[:500]}
    assert not any(bytes(img.numpy()) in tr_set for img in te.images)


def test_digits_offline():
    d = load_dataset("digits", "test")
    assert d.images.shape[1:] == (1, 8, 8) and d.num_classes == 10 and len(d) == 360
    assert int(d.images.max()) == 255


@pytest.mark.parametrize("name", ["imagenet", "", None])
def test_unknown_name(name):
    with pytest.raises(ValueError, match="name must be"):
        load_dataset(name)


def test_bad_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_dataset("mnist5k", "validation")


def test_cache_is_written_and_reused(tmp_data, monkeypatch):
    first = load_dataset("mnist5k", "test")
    cache = tmp_data / "cache" / "mnist5k_test.pt"
    assert cache.exists()

    def boom(*a, **k):
        raise AssertionError("loader called although a valid cache exists")

    monkeypatch.setitem(registry_mod.LOADERS, "mnist5k", boom)
    second = load_dataset("mnist5k", "test")
    assert torch.equal(first.images, second.images)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "tamper"])
def test_corrupt_cache_is_reported_and_rebuilt(tmp_data, damage):
    good = load_dataset("mnist5k", "test")
    cache = tmp_data / "cache" / "mnist5k_test.pt"
    if damage == "truncate":
        cache.write_bytes(cache.read_bytes()[:1000])
    elif damage == "garbage":
        cache.write_bytes(b"not a torch file")
    else:  # valid file, wrong content: the checksum catches it
        blob = torch.load(cache, weights_only=True)
        blob["images"][0, 0, 0, 0] ^= 1
        torch.save(blob, cache)
    with pytest.warns(UserWarning, match="corrupt dataset cache"):
        again = load_dataset("mnist5k", "test")
    assert torch.equal(again.images, good.images)
    assert load_dataset("mnist5k", "test") is not None  # rebuilt cache now valid


def test_unavailable_lists_every_place_and_how(tmp_data, tmp_path, monkeypatch):
    monkeypatch.setenv("REUSE_SYSTEM_DATA", str(tmp_path / "no_system_copy"))
    explicit = tmp_path / "explicit_root"
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("fashion_mnist", "train", root=explicit, download=False)
    msg = str(info.value)
    assert "'fashion_mnist'" in msg
    for place in (explicit, tmp_data, tmp_path / "no_system_copy" / "fashion-mnist"):
        assert str(place) in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "downloads disabled" in msg


def test_offline_env_disables_download(tmp_data, monkeypatch):
    monkeypatch.setenv("REUSE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailable, match="cifar10"):
        load_dataset("cifar10")


def test_no_silent_fallback_to_other_dataset(tmp_data):
    with pytest.raises(DatasetUnavailable):
        load_dataset("mnist", download=False)


def _write_idx(path: Path, arr: torch.Tensor) -> None:
    import numpy as np

    a = arr.numpy().astype(np.uint8)
    magic = {1: 0x00000801, 3: 0x00000803}[a.ndim]
    header = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in a.shape)
    path.write_bytes(header + a.tobytes())


def test_torchvision_layout_loads_and_corrupt_raw_is_clear_error(tmp_data, tmp_path):
    root = tmp_path / "mnist_root"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    imgs = torch.randint(0, 256, (20, 28, 28), dtype=torch.uint8)
    labels = torch.arange(20) % 10
    for prefix in ("train", "t10k"):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", imgs)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    ds = load_dataset("mnist", "train", root=root, cache=False)
    assert ds.images.shape == (20, 1, 28, 28) and torch.equal(ds.images[:, 0], imgs)
    # truncate the image file: decoding must fail loudly, naming the folder
    f = raw / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:500])
    with pytest.raises(DatasetCorrupt, match="cannot be decoded"):
        load_dataset("mnist", "train", root=root, cache=False)


@pytest.mark.skipif(not (DEBIAN_FASHION / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_copy(tmp_data):
    te = load_dataset("fashion_mnist", "test")
    assert te.images.shape == (10000, 1, 28, 28) and te.num_classes == 10
    assert "Debian" in te.source
    assert (tmp_data / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte").exists()
    assert (tmp_data / "cache" / "fashion_mnist_test.pt").exists()


def test_corrupt_system_copy_is_clear_error(tmp_data, tmp_path, monkeypatch):
    sysdir = tmp_path / "fake_debian" / "fashion-mnist"
    sysdir.mkdir(parents=True)
    for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte"):
        (sysdir / f"{f}.gz").write_bytes(b"\x1f\x8b truncated")
    monkeypatch.setenv("REUSE_SYSTEM_DATA", str(sysdir.parent))
    with pytest.raises(DatasetCorrupt, match="cannot be decompressed"):
        load_dataset("fashion_mnist", download=False)
    assert not list((tmp_data / "FashionMNIST" / "raw").glob("*ubyte"))  # nothing half-written


def test_image_dataset_validation():
    with pytest.raises(ValueError, match="uint8"):
        ImageDataset(torch.zeros(2, 1, 4, 4), torch.zeros(2, dtype=torch.long), ["a"], "x")
    with pytest.raises(ValueError, match="labels must lie"):
        ImageDataset(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 3]), ["a", "b"], "x")


def test_select_classes(digits_train):
    sub = digits_train.select_classes([3, 8])
    assert sub.classes == ["3", "8"] and set(sub.labels.tolist()) == {0, 1}
    with pytest.raises(ValueError, match="class_ids"):
        digits_train.select_classes([3, 3])
