"""Shared fixtures: small offline datasets, a temporary data root, headless plotting."""

from __future__ import annotations

import os

import matplotlib
import pytest

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
