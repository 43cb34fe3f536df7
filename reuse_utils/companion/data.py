"""The data each notebook needs, whether it can be had, and ``make data``.

A notebook names the data it needs in its metadata by *role* (``{"reuse_utils": {"data": [...],
"data_optional": [...]}}``; in the paired ``.py`` source, the ``reuse_utils:`` key of the jupytext
header; undeclared: ``["base"]``):

``base``          the run's dataset (``--dataset``), else the preset's (``mnist5k`` at smoke and
                  quick, ``fashion_mnist`` at paper);
``other_domain``  the preset's second dataset (notebook 05's domain control);
``case``          the case studies' photos: the real ones when all are on disk, else the offline
                  stand-in, which is built from ``fashion_mnist``.

A notebook whose ``data`` cannot be had is skipped by the runner with the reason; one whose
``data_optional`` cannot be had runs and skips that part itself, saying so.

``python -m reuse_utils.companion.data --preset quick`` (``make data``) obtains every dataset the
preset's notebooks use (:func:`reuse_utils.datasets.obtain`: on disk, Debian's package, or a
download) and prints one line for each; it exits 0 even when one cannot be had (the runner then
skips what needs it), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from reuse_utils.companion.lanes import list_notebooks, notebook_metadata
from reuse_utils.core.text import one_line
from reuse_utils.datasets import DatasetError, Obtained, obtain, unavailable_reason
from reuse_utils.datasets.casedata import real_case_data_available
from reuse_utils.experiments.presets import PRESETS, Preset, get_preset
from reuse_utils.generator import is_glm

__all__ = ["ROLES", "notebook_data", "role_datasets", "missing_data", "provision", "main"]

ROLES = ("base", "other_domain", "case")
STANDIN_SOURCE = "fashion_mnist"  #: the dataset the case studies' offline stand-in is built from
CASE_SOURCES = ("real", "standin")  #: a notebook's ``dataset`` that picks the case studies' source
REAL_PHOTOS = "real case-study photos"  #: what ``case`` needs with ``dataset="real"`` (no dataset name of its own)


def notebook_data(path: Path) -> tuple[list[str], list[str]]:
    """The roles notebook ``path`` needs and those it uses when present (``data``, ``data_optional``);
    ``ValueError`` naming the notebook for an unknown role."""
    meta = notebook_metadata(path)
    out = []
    for key, default in (("data", ["base"]), ("data_optional", [])):
        roles = meta.get(key, default)
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            raise ValueError(f"{Path(path).name}: metadata reuse_utils.{key} must be a list of {list(ROLES)}; "
                             f"got {roles!r}")
        out.append(list(roles))
    return out[0], out[1]


def role_datasets(role: str, preset: str | Preset, dataset: str | None = None) -> list[str]:
    """The base datasets behind ``role`` at ``preset`` (``dataset``: the run's ``--dataset``); for
    ``case``, none when the real photos are all on disk, else the stand-in's source."""
    p = get_preset(preset)
    if role not in ROLES:
        raise ValueError(f"role must be one of {list(ROLES)}; got {role!r}")
    if role == "base":
        name = dataset or p.dataset
        return [] if is_glm(name) or name in CASE_SOURCES else [name]  # a GLM world is generated
    if role == "other_domain":
        return [p.other_domain]
    if dataset == "real":
        return [REAL_PHOTOS] if not real_case_data_available(p.case_size) else []
    return [] if dataset != "standin" and real_case_data_available(p.case_size) else [STANDIN_SOURCE]


def missing_data(roles: Iterable[str], preset: str | Preset, dataset: str | None = None) -> str | None:
    """None when every dataset of ``roles`` can be had; else one line naming the first that cannot,
    its role and why."""
    for role in roles:
        for name in role_datasets(role, preset, dataset):
            if name == REAL_PHOTOS:
                return "needs the real case-study photos (dataset='real'), which are not all on disk: docs/datasets.md, 'Real case studies'"
            try:
                reason = unavailable_reason(name)
            except DatasetError:  # there but undecodable: the notebook runs and fails with the error
                continue
            if reason is not None:
                what = "the case studies' offline stand-in is built from it" if role == "case" else f"its {role} data"
                return f"needs {name!r} ({what}), which is unavailable: {reason}"
    return None


def provision(presets: Iterable[str], notebooks: Iterable[Path], dataset: str | None = None) -> list[Obtained]:
    """Obtain every dataset that ``notebooks`` use (needed or optional) at each of ``presets``, each once."""
    names: list[str] = []
    for preset in presets:
        for nb in notebooks:
            need, optional = notebook_data(nb)
            for role in need + optional:
                names += [n for n in role_datasets(role, preset, dataset)
                          if n not in names and n != REAL_PHOTOS]
    return [_obtain_or_say(name) for name in names]


def _obtain_or_say(name: str) -> Obtained:
    """:func:`~reuse_utils.datasets.obtain`, with any unexpected error turned into its line."""
    try:
        return obtain(name)
    except Exception as exc:  # noqa: BLE001 - `make data` must say what went wrong and go on
        return Obtained(name, "unavailable", f"{name}: UNAVAILABLE ({type(exc).__name__}: {one_line(exc)})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Obtain the datasets a preset's notebooks use.")
    ap.add_argument("--preset", action="append", choices=sorted(PRESETS),
                    help="repeatable; default: quick and smoke (what `make reproduce` and `make test` run)")
    ap.add_argument("--dataset", default=None, help="the run's base dataset (default: the preset's)")
    ap.add_argument("--notebooks", default="notebooks", type=Path, help="folder of NN_*.ipynb notebooks")
    args = ap.parse_args(argv)
    if not args.notebooks.is_dir():
        ap.error(f"--notebooks: {args.notebooks} is not a folder")
    books = list_notebooks(args.notebooks)
    try:
        done = provision(args.preset or ["quick", "smoke"], books, args.dataset)
    except ValueError as exc:
        ap.error(str(exc))
    for item in done:
        print(f"[data] {item.line}", flush=True)
    lacking = [item.name for item in done if not item.ok]
    if lacking:
        print(f"[data] {len(lacking)} dataset(s) unavailable: {', '.join(lacking)}; `make reproduce` skips the "
              "notebooks that need them and says so", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
