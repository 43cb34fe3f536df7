"""Photo datasets of the case studies, registered as families of names.

* ``load_dataset("pets")`` — Oxford-IIIT Pet through torchvision
  (``OxfordIIITPet(..., target_types="binary-category")``: 0 = cat, 1 = dog), split ``trainval`` →
  ``train``; images resized (shorter side) and centre-cropped to 64 px (``"pets@96"`` for 96 px),
  decoded once and cached.
* ``load_dataset("open_images:Dog,Cat")`` — an ImageFolder export
  ``<root>/open_images/<split>/<class>/*.jpg`` read as a binary task with the classes in the order
  given (``@96`` suffix for the size); :func:`fetch_open_images` makes that export with FiftyOne's
  zoo (optional extra ``pip install -e .[openimages]``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from reuse_utils.datasets.base import (
    DatasetCorrupt,
    DatasetUnavailable,
    ImageDataset,
    check_root,
    default_data_dir,
    folder_fingerprint,
    writable_dir,
)
from reuse_utils.datasets.registry import register_loader_resolver

__all__ = ["fetch_open_images", "OPEN_IMAGES_SPLITS", "DEFAULT_SIZE"]

DEFAULT_SIZE = 64
OPEN_IMAGES_SPLITS = {"train": "train", "test": "test"}
IMG_EXT = (".jpg", ".jpeg", ".png")


def _parse_size(name: str) -> tuple[str, int]:
    if "@" in name:
        base, size = name.rsplit("@", 1)
        if not size.isdigit() or not 8 <= int(size) <= 512:
            raise ValueError(f"image size after '@' must be an integer in [8, 512]; got {size!r}")
        return base, int(size)
    return name, DEFAULT_SIZE


def _transform(size: int):
    from torchvision import transforms as T

    return T.Compose([T.Resize(size), T.CenterCrop(size), T.PILToTensor()])


def _decode(paths: Sequence[Path], size: int) -> torch.Tensor:
    from PIL import Image

    tf = _transform(size)
    out = torch.empty(len(paths), 3, size, size, dtype=torch.uint8)
    for i, p in enumerate(paths):
        try:
            with Image.open(p) as im:
                out[i] = tf(im.convert("RGB"))
        except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
            raise DatasetCorrupt(f"Image {p} cannot be decoded ({exc}); delete or replace it") from exc
    return out


# ----------------------------------------------------------------------------- Oxford-IIIT Pet


def _pets_loader(size: int, name: str):
    def load(split: str, roots: list[Path], download: bool) -> ImageDataset:
        from torchvision.datasets import OxfordIIITPet

        tv_split = "trainval" if split == "train" else "test"
        looked = []
        for r in roots:
            base = r / "oxford-iiit-pet"
            looked.append(str(base))
            if not (base / "images").is_dir() or not (base / "annotations" / f"{tv_split}.txt").is_file():
                continue
            try:
                ds = OxfordIIITPet(str(r), split=tv_split, target_types="binary-category", download=False)
                labels = torch.tensor(ds._bin_labels, dtype=torch.int64)
                paths = list(ds._images)
            except (RuntimeError, ValueError) as exc:
                raise DatasetCorrupt(f"Oxford-IIIT Pet annotations under {base} cannot be read ({exc})") from exc
            if len(labels) == 0:
                raise DatasetCorrupt(f"Oxford-IIIT Pet split list {base / 'annotations' / (tv_split + '.txt')} "
                                     f"lists no image")
            if len(labels.unique()) < 2:
                raise DatasetCorrupt(f"Oxford-IIIT Pet split list {base / 'annotations' / (tv_split + '.txt')} lists "
                                     f"only {'cats' if int(labels[0]) == 0 else 'dogs'}: the task needs both species")
            return ImageDataset(_decode(paths, size), labels, ["cat", "dog"], name, split, str(base))
        writable = writable_dir(roots)
        how = ("python -c \"from torchvision.datasets import OxfordIIITPet; "
               "OxfordIIITPet('data', download=True)\" (or unpack images.tar.gz and annotations.tar.gz "
               "into <root>/oxford-iiit-pet/)")
        if download and writable is not None:
            try:
                OxfordIIITPet(str(writable), split=tv_split, target_types="binary-category", download=True)
            except Exception as exc:  # noqa: BLE001
                raise DatasetUnavailable(f"Dataset 'pets' ({split}) is unavailable. Looked in: {'; '.join(looked)}. "
                                         f"Download failed: {exc}. To get it: {how}") from exc
            return load(split, [writable], False)
        raise DatasetUnavailable(f"Dataset 'pets' ({split}) is unavailable. Looked in: {'; '.join(looked)}; "
                                 f"downloads disabled. To get it: {how}")

    def fingerprint(split: str, roots: list[Path]) -> str | None:
        tv_split = "trainval" if split == "train" else "test"
        for r in roots:
            base = r / "oxford-iiit-pet"
            if (base / "images").is_dir() and (base / "annotations" / f"{tv_split}.txt").is_file():
                return folder_fingerprint([base / "annotations" / f"{tv_split}.txt", base / "images"])
        return None

    load.fingerprint = fingerprint
    return load


# ----------------------------------------------------------------------------- Open Images export


def _open_images_loader(classes: list[str], size: int, name: str):
    def load(split: str, roots: list[Path], download: bool) -> ImageDataset:
        looked = []
        for r in roots:
            base = r / "open_images" / OPEN_IMAGES_SPLITS[split]
            looked.append(str(base))
            missing = [str(base / c) for c in classes if not (base / c).is_dir()]
            if len(missing) == len(classes):
                continue
            if missing:
                raise DatasetUnavailable(f"Dataset {name!r} ({split}): the Open Images export under {base} lacks the "
                                         f"class folder(s) {missing}")
            paths, labels = [], []
            for i, c in enumerate(classes):
                files = sorted(p for p in (base / c).iterdir() if p.suffix.lower() in IMG_EXT)
                if not files:
                    raise DatasetCorrupt(f"Open Images export folder {base / c} holds no images")
                paths += files
                labels += [i] * len(files)
            return ImageDataset(_decode(paths, size), torch.tensor(labels, dtype=torch.int64),
                                list(classes), name, split, str(base))
        cmd = (f"pip install -e '.[openimages]' && python -c \"import reuse_utils as ru; ru."
               f"fetch_open_images({classes!r}, 500, 'train'); ru.fetch_open_images({classes!r}, 200, 'test')\"")
        raise DatasetUnavailable(f"Dataset {name!r} ({split}) is unavailable. Looked in: {'; '.join(looked)}. "
                                 f"To get it: {cmd}")

    def fingerprint(split: str, roots: list[Path]) -> str | None:
        for r in roots:
            base = r / "open_images" / OPEN_IMAGES_SPLITS[split]
            if any((base / c).is_dir() for c in classes):
                return folder_fingerprint([base / c for c in classes])
        return None

    load.fingerprint = fingerprint
    return load


def _plain(cls: str) -> bool:
    """Whether ``cls`` is a plain class name: one folder name inside a data root, never a path
    (no separator, no NUL, no leading '.', not absolute)."""
    return (isinstance(cls, str) and bool(cls) and not any(ch in cls for ch in "/\\\0")
            and not cls.startswith(".") and not Path(cls).is_absolute() and Path(cls).name == cls)


def _resolve(name: str):
    if not isinstance(name, str):
        return None
    base, size = _parse_size(name.strip())
    if base == "pets":
        return _pets_loader(size, name)
    if base.startswith("open_images:"):
        classes = [c.strip() for c in base.split(":", 1)[1].split(",")]
        if len(classes) != 2 or not all(classes) or classes[0] == classes[1]:
            raise ValueError(f"open_images task must name two different classes, e.g. 'open_images:Dog,Cat'; got {name!r}")
        if not all(map(_plain, classes)):
            raise ValueError(f"name: the Open Images classes of {name!r} must be plain class names (no path, "
                             f"no '/', '\\' or leading '.'); a folder of your own goes through root=")
        return _open_images_loader(classes, size, name)
    return None


register_loader_resolver(_resolve, "'pets[@SIZE]', 'open_images:A,B[@SIZE]'")



def fetch_open_images(classes: Sequence[str], max_per_class: int, split: str = "train",
                      root: str | os.PathLike | None = None, seed: int = 0) -> Path:
    """Download image-level-labelled Open Images V7 samples with FiftyOne's zoo and export them as
    ``<root>/open_images/<split>/<class>/`` (FiftyOne's ImageClassificationDirectoryTree exporter).

    ``split`` ∈ {"train", "test"} (Open Images' own split of that name). Images positive for more
    than one of ``classes`` are left out (their label would be ambiguous).
    """
    if split not in OPEN_IMAGES_SPLITS:
        raise ValueError(f"split must be one of {list(OPEN_IMAGES_SPLITS)}; got {split!r}")
    if not isinstance(max_per_class, int) or max_per_class < 1:
        raise ValueError(f"max_per_class must be a positive integer; got {max_per_class!r}")
    classes = list(classes)
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be ≥ 2 distinct Open Images class names; got {classes}")
    if not all(map(_plain, classes)):
        raise ValueError(f"classes must be plain Open Images class names (no path, no '/', '\\' or leading '.'); "
                         f"got {classes}; a folder of your own goes through root=")
    out = check_root(root) if root is not None else default_data_dir()
    try:
        import fiftyone as fo
        import fiftyone.zoo as foz
    except ImportError as exc:
        raise DatasetUnavailable("fetch_open_images needs FiftyOne: pip install -e '.[openimages]'") from exc
    export_dir = out / "open_images" / OPEN_IMAGES_SPLITS[split]
    for cls in classes:
        ds = foz.load_zoo_dataset("open-images-v7", split=OPEN_IMAGES_SPLITS[split], label_types=["classifications"],
                                  classes=[cls], max_samples=max_per_class, seed=seed, shuffle=True,
                                  dataset_name=f"reuse-oi-{split}-{cls}")
        keep = []
        for sample in ds:
            labels = {c.label for c in (sample["positive_labels"].classifications if sample["positive_labels"] else [])}
            if cls in labels and not (labels & (set(classes) - {cls})):
                sample["reuse_label"] = fo.Classification(label=cls)
                sample.save()
                keep.append(sample.id)
        ds.select(keep).export(export_dir=str(export_dir), dataset_type=fo.types.ImageClassificationDirectoryTree,
                               label_field="reuse_label")
    return export_dir

