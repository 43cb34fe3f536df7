"""The package's shape: floors with one-way imports, no private names across modules, one API."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reuse_utils as ru

PKG = Path(ru.__file__).resolve().parent
FLOORS = ["core", "datasets", "generator", "training", "experiments", "analysis", "companion"]


def test_public_api_at_the_top_level():
    for name in ("load_dataset", "make_pairs", "measure_correlations", "build_model", "train_alice", "make_bob",
                 "run_sweep", "get_preset", "load_claims", "run_case_study", "setup"):
        assert callable(getattr(ru, name)), name
    assert set(ru.__all__) <= set(dir(ru))


def test_every_module_sits_on_a_floor():
    top = sorted(p.name for p in PKG.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists())
    assert top == sorted(["__init__.py", *FLOORS])


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reuse_utils"):
            yield node.module, [a.name for a in node.names]


def test_no_private_name_imported_across_modules():
    bad = [(str(p.relative_to(PKG)), mod, name) for p in PKG.rglob("*.py") for mod, names in _imports(p)
           for name in names if name.startswith("_")]
    assert not bad, bad


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                    reason="import-linter not installed (pip install -e .[dev])")
def test_import_contracts_kept():
    exe = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(exe)], cwd=PKG.parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "2 kept, 0 broken" in out.stdout
