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


def _toy_notebook(path: Path, code: str, needs: list[str] | None = None, **meta) -> Path:
    """A two-cell notebook at ``path``: a ``parameters`` cell (``preset``, ``results_dir``), then
    ``code``; ``needs`` and any other keyword (``data=[...]``, ``claims=[...]``) go to its
    ``reuse_utils`` metadata (None: no declaration)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("preset = 'x'\nresults_dir = '.'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if needs is not None or meta:
        nb.metadata["reuse_utils"] = {**({"needs": needs} if needs is not None else {}), **meta}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def toy_notebook():
    """Writes toy notebooks for the runner's tests: ``toy_notebook(path, code, needs=None, **meta)``."""
    return _toy_notebook


#: How far apart two trainings that run the same arithmetic in another grouping may end, as a fraction
#: of how far training moved the weights (see :func:`_assert_same_training`).
SAME_TRAINING_RTOL = 0.05


def _assert_same_training(a, b, start, rtol: float = SAME_TRAINING_RTOL) -> None:
    """``a`` and ``b`` (parameter lists of two trainings from the same ``start``) are the same training.

    The two differ only in how the arithmetic is grouped (members stacked with vmap or one at a time,
    channels-last or not), so their weights differ by float32 rounding carried through the steps — and
    that depends on the CPU's kernels, not on the code being right, so it gets no absolute bound. Adam
    divides each gradient by its own running RMS: a coordinate whose gradient is at rounding level takes
    a step of about ±lr whichever way the rounding fell, so single weights can differ by several lr
    (3.7e-4 after 16 Adam steps at lr 1e-3 on one x86-64 CPU, under 1e-4 on another). What rounding
    cannot do is take the weights elsewhere. Per tensor, ‖a − b‖₂ ≤ ``rtol``·‖a − start‖₂: every
    bug this guards against (other data, minibatch order, initial weights, rate or stopping epoch)
    moves the weights as far again (ratio ≈ 1), while rounding gave at most 0.005 (the worst tensor
    of these tests, measured). A tensor that did not move must not move in the other either."""
    import torch

    moved_all = sum(float((x.detach().float().cpu() - y.detach().float().cpu()).norm()) ** 2
                    for x, y in zip(a, start, strict=True)) ** 0.5
    scale = sum(float(y.detach().float().norm()) ** 2 for y in start) ** 0.5
    # the reference must be where training started: these trainings move the weights by 3–64 % of
    # their norm; from another seed's start the distance is about √2 of it — which would make the rule lax
    assert moved_all <= 1.0 * scale, f"start is not the trainings' start: moved {moved_all:.3g} of norm {scale:.3g}"
    for i, (pa, pb, p0) in enumerate(zip(a, b, start, strict=True)):
        pa, pb, p0 = (t.detach().float().cpu() for t in (pa, pb, p0))
        moved = float((pa - p0).norm())
        gap = float((pa - pb).norm())
        if moved == 0.0:
            assert torch.equal(pb, p0), f"tensor {i} is frozen in one training and moved in the other"
        else:
            assert gap <= rtol * moved, (f"tensor {i}: the trainings differ by {gap:.3g}, "
                                         f"{gap / moved:.3g} of the movement {moved:.3g} (at most {rtol})")


@pytest.fixture
def assert_same_training():
    """``assert_same_training(params_a, params_b, params_at_start)``: see :func:`_assert_same_training`."""
    return _assert_same_training
