"""Shared fixtures: small offline datasets, a temporary data root, headless plotting."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")
os.environ.setdefault("REUSE_OFFLINE", "1")  # tests never reach dataset hosts


@pytest.fixture(scope="session")
def mnist5k_train():
    from reuse_utils.datasets import load_dataset

    return load_dataset("mnist5k", "train")


@pytest.fixture(scope="session")
def mnist5k_test():
    from reuse_utils.datasets import load_dataset

    return load_dataset("mnist5k", "test")


@pytest.fixture(scope="session")
def digits_train():
    from reuse_utils.datasets import load_dataset

    return load_dataset("digits", "train")


@pytest.fixture
def tmp_data(tmp_path, monkeypatch):
    """An empty data root used as $REUSE_DATA (the repository's data/ is hidden)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("REUSE_DATA", str(root))
    return root


def _jpeg(path, value, size=(40, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, dtype=np.uint8)).save(path)


@pytest.fixture
def pets_root(tmp_path):
    """Oxford-IIIT Pet layout: images/*.jpg and annotations/{trainval,test}.txt
    ("<image id> <class id 1-37> <species 1=cat 2=dog> <breed id>")."""
    base = tmp_path / "pets" / "oxford-iiit-pet"
    rows = {"trainval": [("Abyssinian_1", 1, 1), ("Bengal_2", 6, 1), ("beagle_3", 2, 2), ("pug_4", 25, 2),
                         ("pug_5", 25, 2)],
            "test": [("Abyssinian_9", 1, 1), ("beagle_9", 2, 2)]}
    for split, items in rows.items():
        for name, _cls, species in items:
            _jpeg(base / "images" / f"{name}.jpg", 40 * species)
        (base / "annotations").mkdir(parents=True, exist_ok=True)
        (base / "annotations" / f"{split}.txt").write_text(
            "".join(f"{n} {c} {sp} 1\n" for n, c, sp in items))
    return tmp_path / "pets"


def _open_images_tree(root: Path, counts: dict[str, int]) -> Path:
    """FiftyOne ImageClassificationDirectoryTree export under ``root``:
    open_images/<split>/<class>/<file>.jpg, ``counts[split]`` images of each class (Dog, Cat, Car;
    one grey value per class)."""
    for split, n in counts.items():
        for cls, value in (("Dog", 200), ("Cat", 50), ("Car", 120)):
            for i in range(n):
                _jpeg(root / "open_images" / split / cls / f"{cls.lower()}{i}.jpg", value)
    return root


@pytest.fixture
def oi_root(tmp_path):
    """A small Open Images export (:func:`_open_images_tree`): 3 training and 2 test images per class."""
    return _open_images_tree(tmp_path / "oi", {"train": 3, "test": 2})


@pytest.fixture
def open_images_tree():
    """Writes Open Images exports of any size: ``open_images_tree(root, {"train": n, "test": m})``."""
    return _open_images_tree


def _toy_notebook(path: Path, code: str, needs: list[str] | None = None) -> Path:
    """A two-cell notebook at ``path``: a ``parameters`` cell (``preset``, ``results_dir``), then
    ``code``; ``needs`` goes to its ``reuse_utils`` metadata (None: no declaration)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("preset = 'x'\nresults_dir = '.'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if needs is not None:
        nb.metadata["reuse_utils"] = {"needs": needs}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def toy_notebook():
    """Writes toy notebooks for the runner's tests: ``toy_notebook(path, code, needs=None)``."""
    return _toy_notebook
