"""Which data the case studies use: the real photos when all are on disk, else an offline stand-in.

:func:`build_standin` writes a stand-in with real semantic structure (Fashion-MNIST footwear and
garments: Alice = sneaker ("cat") vs ankle boot ("dog")) in exactly the Oxford-IIIT Pet and Open
Images export layouts, so the real loaders are exercised. Results on it are always labelled
"stand-in data".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from reuse_utils.core.io import atomic_write_text
from reuse_utils.datasets.base import (
    FASHION_CLASSES,
    DatasetUnavailable,
    ImageDataset,
    default_data_dir,
)
from reuse_utils.datasets.registry import load_dataset

__all__ = ["REAL_TASKS", "STANDIN_TASKS", "STANDIN_ALICE", "CaseData", "build_standin", "standin_root",
           "standin_task_names", "resolve_case_data", "prefer_from", "per_class", "real_case_data_available"]

#: Bob's real tasks (Open Images class names), from semantically closest to Alice's dog-vs-cat.
REAL_TASKS: dict[str, tuple[str, str, str]] = {
    "same task, new domain": ("Dog", "Cat", "related"),
    "canine vs feline": ("Fox", "Lynx", "related"),
    "other animals": ("Horse", "Cattle", "other"),
    "unrelated": ("Car", "Airplane", "unrelated"),
}

#: Stand-in: Alice = sneaker ("cat") vs ankle boot ("dog"); Bob's tasks from Fashion-MNIST.
STANDIN_ALICE = (7, 9)  # Sneaker, Ankle boot
STANDIN_TASKS: dict[str, tuple[int, int, str]] = {
    "same task, new domain": (7, 9, "related"),       # Sneaker vs Ankle boot, recoloured + flipped
    "related footwear": (5, 9, "related"),            # Sandal vs Ankle boot
    "sneaker vs sandal": (7, 5, "related"),           # footwear again
    "other garments": (2, 4, "other"),                # Pullover vs Coat
    "tops": (0, 6, "other"),                          # T-shirt/top vs Shirt
    "unrelated": (1, 8, "unrelated"),                 # Trouser vs Bag
    "dress vs bag": (3, 8, "unrelated"),              # Dress vs Bag
}
STANDIN_VERSION = "2"  #: bumped when the task list changes; an older stand-in is completed on first use



def standin_root(root: str | os.PathLike | None = None) -> Path:
    """Where the stand-in lives: ``<data dir>/standin`` (never mixed with real data)."""
    return Path(root) if root is not None else default_data_dir() / "standin"


def _write_jpegs(images: torch.Tensor, folder: Path, stem: str) -> list[str]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, img in enumerate(images):
        name = f"{stem}_{i + 1}"
        arr = img.permute(1, 2, 0).numpy()
        Image.fromarray(arr if arr.shape[2] == 3 else arr[:, :, 0]).save(folder / f"{name}.jpg", quality=95)
        names.append(name)
    return names


def _new_domain(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The stand-in's "other photo collection": sepia tint and random horizontal flips."""
    rgb = images.expand(-1, 3, -1, -1).float()
    rgb = rgb * torch.tensor([1.0, 0.8, 0.55]).view(1, 3, 1, 1) + torch.tensor([20.0, 12.0, 0.0]).view(1, 3, 1, 1)
    flip = torch.rand(len(images), generator=gen) < 0.5
    rgb[flip] = rgb[flip].flip(-1)
    return rgb.clamp(0, 255).to(torch.uint8)


def build_standin(root: str | os.PathLike | None = None, *, n_alice_per_class: int = 1800,
                  n_alice_test_per_class: int = 500, n_bob_per_class: int = 500,
                  n_bob_test_per_class: int = 200, seed: int = 0) -> Path:
    """Write the offline stand-in (from Fashion-MNIST) in the Oxford-IIIT Pet and Open Images export
    layouts under ``root`` (default ``data/standin``); returns ``root``. Idempotent: a complete
    stand-in of this version (marker file) is left as it is; an older one gets the missing class folders."""
    root = standin_root(root)
    marker = root / "STANDIN_COMPLETE"
    if marker.exists() and marker.read_text().strip() == f"complete v{STANDIN_VERSION}":
        return root
    gen = torch.Generator().manual_seed(seed)
    fm = {s: load_dataset("fashion_mnist", s) for s in ("train", "test")}

    def pick(split: str, cls: int, n: int) -> torch.Tensor:
        idx = torch.nonzero(fm[split].labels == cls).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)[:n]]
        return fm[split].images[idx]

    pets = root / "oxford-iiit-pet"
    for split, n in (("trainval", n_alice_per_class), ("test", n_alice_test_per_class)):
        lines = []
        fm_split = "train" if split == "trainval" else "test"
        for species, (cls, stem) in enumerate(zip(STANDIN_ALICE, ("standin_cat", "standin_dog"), strict=True), start=1):
            names = _write_jpegs(pick(fm_split, cls, n).expand(-1, 3, -1, -1), pets / "images", f"{stem}_{split}")
            lines += [f"{nm} {species} {species} 1" for nm in names]
        (pets / "annotations").mkdir(parents=True, exist_ok=True)
        atomic_write_text(pets / "annotations" / f"{split}.txt", "\n".join(lines) + "\n")
    names = fm["train"].classes
    for split, n in (("train", n_bob_per_class), ("test", n_bob_test_per_class)):
        for a, b, _ in STANDIN_TASKS.values():
            for cls in (a, b):
                folder = root / "open_images" / split / names[cls].replace("/", "-")
                if folder.exists():
                    continue
                # Bob's images come from the other split than Alice's where possible (never shared)
                src = "test" if split == "train" else "train"
                _write_jpegs(_new_domain(pick(src, cls, n), gen), folder, f"{split}_{cls}")
    atomic_write_text(marker, f"complete v{STANDIN_VERSION}\n")
    return root


def standin_task_names() -> dict[str, tuple[str, str, str]]:
    """Stand-in Bob tasks as (class A folder, class B folder, relatedness group)."""
    return {k: (FASHION_CLASSES[a].replace("/", "-"), FASHION_CLASSES[b].replace("/", "-"), g)
            for k, (a, b, g) in STANDIN_TASKS.items()}



@dataclass
class CaseData:
    """Where the case-study data come from: ``root`` (None = the usual search), Bob's ``tasks``
    (name → (class A, class B, relatedness group)) and ``label`` ("stand-in data" or None)."""

    root: Path | None
    tasks: dict[str, tuple[str, str, str]]
    label: str | None

    @property
    def is_standin(self) -> bool:
        return self.label is not None

    def suffix(self) -> str:
        return "_standin" if self.is_standin else ""


def real_case_data_available(size: int) -> bool:
    """Whether every real case-study dataset (Oxford-IIIT Pet and Bob's Open Images pairs, both
    splits, at ``size`` px) loads from disk."""
    try:
        for split in ("train", "test"):
            load_dataset(f"pets@{size}", split, download=False)
            for a, b, _ in REAL_TASKS.values():
                load_dataset(f"open_images:{a},{b}@{size}", split, download=False)
    except DatasetUnavailable:
        return False
    return True


def resolve_case_data(size: int, *, prefer: str = "auto", root: str | os.PathLike | None = None) -> CaseData:
    """Real data when every real dataset is on disk (``prefer="auto"``/``"real"``), else the stand-in
    (built on first use). ``prefer="real"`` raises :class:`DatasetUnavailable` instead of substituting."""
    if prefer not in ("auto", "real", "standin"):
        raise ValueError(f"prefer must be 'auto', 'real' or 'standin'; got {prefer!r}")
    if prefer != "standin" and real_case_data_available(size):
        return CaseData(None, dict(REAL_TASKS), None)
    if prefer == "real":
        raise DatasetUnavailable("Real case-study data are not all on disk: see docs/datasets.md, 'Real case studies'.")
    return CaseData(build_standin(root), standin_task_names(), "stand-in data")


def per_class(ds: ImageDataset, n: int, seed: int = 0) -> ImageDataset:
    """At most ``n`` images of each class, drawn without replacement, in a random order (both
    deterministic by ``seed``).

    The order matters: loaders list images class by class, and Bob's validation part is the tail of
    his training pairs (:func:`reuse_utils.training.split_train_val`, which assumes i.i.d. pairs):
    in class order that tail would hold a single class."""
    gen = torch.Generator().manual_seed(seed)
    keep = []
    for c in range(ds.num_classes):
        idx = torch.nonzero(ds.labels == c).flatten()
        keep.append(idx[torch.randperm(len(idx), generator=gen)[:n]])
    kept = torch.cat(keep)
    return ds.subset(kept[torch.randperm(len(kept), generator=gen)])



def prefer_from(dataset: str | None) -> str:
    """Map a notebook's ``dataset`` parameter to :func:`resolve_case_data`'s ``prefer``:
    ``"real"`` / ``"standin"`` force a source; anything else (None, a base dataset name) is auto."""
    return dataset if dataset in ("real", "standin") else "auto"

