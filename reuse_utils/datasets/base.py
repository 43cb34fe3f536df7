"""Image datasets as tensors, their errors, where they are looked for, and their decoded-tensor cache.

An :class:`ImageDataset` holds uint8 images N×C×H×W, int64 labels and class names. Full datasets
are looked for, in order, in the ``root`` argument, then ``$REUSE_DATA`` if set, else
``<project folder>/data`` (:func:`reuse_utils.core.paths.project_root`). Decoded tensors are cached atomically in
``<data dir>/cache/<name>_<split>.pt`` with a checksum; a corrupt cache file is reported, deleted
and rebuilt, never reused.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from reuse_utils.core.io import atomic_torch_save
from reuse_utils.core.paths import default_data_dir

__all__ = ["ImageDataset", "DatasetError", "DatasetUnavailable", "DatasetCorrupt", "default_data_dir",
           "search_roots", "system_roots", "writable_dir", "download_allowed", "SYSTEM_DATA_ENV", "cache_path", "read_cache", "write_cache",
           "folder_fingerprint", "check_root",
           "SPLITS", "MNIST_CLASSES", "FASHION_CLASSES", "CIFAR10_CLASSES"]

SPLITS = ("train", "test")
CACHE_FORMAT = 3  # 2: the entry names the dataset and split it holds; 3: and its source fingerprint

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


def check_root(root: str | os.PathLike) -> Path:
    """``root`` as a folder that exists or can be created; ``ValueError`` naming it otherwise (never a
    silent fallback to another place)."""
    if not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root must be a folder path (str or Path) or None; got {root!r}")
    path = Path(root).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"root must be a folder; {str(path)!r} is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"root {str(path)!r} is not a usable folder: {exc}") from exc
    return path


def search_roots(root: str | os.PathLike | None) -> list[Path]:
    """Folders searched for a dataset, in order and without repeats: ``root``, then the default data
    folder (:func:`~reuse_utils.core.paths.default_data_dir`: ``$REUSE_DATA``, else
    ``<project folder>/data``)."""
    roots = [check_root(root)] if root is not None else []
    default = default_data_dir()
    return roots + ([default] if default not in roots else [])


SYSTEM_DATA_ENV = "REUSE_SYSTEM_DATA"
DEFAULT_SYSTEM_ROOTS = (Path("/usr/share/datasets"),)  # where Debian's dataset-* packages install


def system_roots() -> list[Path]:
    """Folders of system-wide dataset copies (Debian's ``/usr/share/datasets``), searched after the
    search roots: ``$REUSE_SYSTEM_DATA`` (folders separated by ``os.pathsep``) when set — set and
    empty, none: the system copies are hidden, as on a machine without them."""
    env = os.environ.get(SYSTEM_DATA_ENV)
    if env is None:
        return list(DEFAULT_SYSTEM_ROOTS)
    return [Path(part).expanduser() for part in env.split(os.pathsep) if part.strip()]


def writable_dir(candidates: list[Path]) -> Path | None:
    """The first of ``candidates`` that can be created and written to (None if none can)."""
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


def download_allowed(download: bool | None) -> bool:
    """``download`` if given, else True unless ``$REUSE_OFFLINE`` is 1/true/yes."""
    if download is not None:
        return bool(download)
    return os.environ.get("REUSE_OFFLINE", "").strip().lower() not in {"1", "true", "yes"}


# ----------------------------------------------------------------------------- cache


def _checksum(images: torch.Tensor, labels: torch.Tensor) -> str:
    h = hashlib.sha256()
    h.update(images.contiguous().numpy().tobytes())
    h.update(labels.contiguous().numpy().tobytes())
    return h.hexdigest()


def cache_path(cache_root: Path, name: str, split: str) -> Path:
    """Where the decoded tensors of ``name``/``split`` are cached under ``cache_root``."""
    return cache_root / "cache" / f"{name}_{split}.pt"


def folder_fingerprint(paths: list[Path]) -> str:
    """SHA-256 of the files under ``paths`` (each a file or a folder, searched recursively): relative
    names, sizes and modification times — what a decoded-tensor cache of them depends on. A missing
    path is part of the fingerprint too."""
    h = hashlib.sha256()
    for top in paths:
        if top.is_file():
            st = top.stat()
            h.update(f"{top.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        elif top.is_dir():
            for f in sorted(p for p in top.rglob("*") if p.is_file()):
                st = f.stat()
                h.update(f"{f.relative_to(top)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        else:
            h.update(f"missing:{top.name}\n".encode())
    return h.hexdigest()


def read_cache(path: Path, name: str, split: str, fingerprint: str | None = None) -> ImageDataset | None:
    """Load a cached dataset; one that is corrupt, holds another dataset or split, or was decoded
    from source files whose ``fingerprint`` has changed is reported, deleted and ``None`` returned."""
    if not path.exists():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if blob.get("format") != CACHE_FORMAT:
            raise ValueError(f"cache format {blob.get('format')!r}, expected {CACHE_FORMAT}")
        images, labels = blob["images"], blob["labels"]
        if _checksum(images, labels) != blob["sha256"]:
            raise ValueError("checksum mismatch")
        if (blob.get("name"), blob.get("split")) != (name, split):
            raise ValueError(f"it holds {blob.get('name')!r}/{blob.get('split')!r}, not {name!r}/{split!r}")
        if blob.get("fingerprint") != fingerprint:
            raise ValueError("its source files have changed since it was decoded")
        return ImageDataset(images, labels, list(blob["classes"]), name, split, str(blob["source"]))
    except Exception as exc:  # noqa: BLE001 - any failure means the cache is unusable
        warnings.warn(f"Ignoring corrupt dataset cache {path} ({exc}); it is deleted and rebuilt.",
                      stacklevel=3)
        try:
            path.unlink()
        except OSError:
            pass
        return None


def write_cache(path: Path, ds: ImageDataset, fingerprint: str | None = None) -> None:
    """Cache ``ds``'s tensors atomically at ``path`` with a checksum, its identity and ``fingerprint``."""
    try:
        atomic_torch_save(
            {"format": CACHE_FORMAT, "name": ds.name, "split": ds.split, "fingerprint": fingerprint, "images": ds.images, "labels": ds.labels, "classes": ds.classes,
             "source": ds.source, "sha256": _checksum(ds.images, ds.labels)},
            path,
        )
    except OSError as exc:
        warnings.warn(f"Could not write dataset cache {path}: {exc}", stacklevel=3)

