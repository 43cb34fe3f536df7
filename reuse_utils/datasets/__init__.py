"""Floor 2 — ``datasets``: base image datasets, offline where possible, cached as decoded tensors.

:func:`load_dataset` is the one way in (:mod:`.registry`); built-in sets (:mod:`.builtin`:
``mnist5k``, ``digits``, ``mnist``, ``fashion_mnist``, ``cifar10``) and the case studies' photos
(:mod:`.photos`: ``pets[@SIZE]``, ``open_images:A,B[@SIZE]``) register themselves here; which case
data to use, real or the labelled stand-in, is :mod:`.casedata`; whether a dataset can be had and
getting it (``make data``) is :mod:`.fetch`. Imports only ``core``.
"""

from reuse_utils.datasets import builtin, photos  # noqa: F401 - register their loaders
from reuse_utils.datasets.base import (
    FASHION_CLASSES,
    DatasetCorrupt,
    DatasetError,
    DatasetUnavailable,
    ImageDataset,
    default_data_dir,
)
from reuse_utils.datasets.casedata import (
    REAL_TASKS,
    STANDIN_TASKS,
    CaseData,
    build_standin,
    per_class,
    prefer_from,
    resolve_case_data,
    standin_root,
    standin_task_names,
)
from reuse_utils.datasets.fetch import Obtained, obtain, unavailable_reason
from reuse_utils.datasets.photos import fetch_open_images
from reuse_utils.datasets.registry import (
    available_datasets,
    load_dataset,
    register_loader,
    register_loader_resolver,
)

__all__ = ["FASHION_CLASSES", "DatasetCorrupt", "DatasetError", "DatasetUnavailable", "ImageDataset",
           "default_data_dir", "REAL_TASKS", "STANDIN_TASKS", "CaseData", "build_standin", "per_class",
           "prefer_from", "resolve_case_data", "standin_root", "standin_task_names", "fetch_open_images",
           "available_datasets", "load_dataset", "register_loader", "register_loader_resolver",
           "Obtained", "obtain", "unavailable_reason"]
