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


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path) -> list[str]:
    """Private names of the package that ``path`` uses: imported (``from reuse_utils.x import _y``),
    read as an attribute of a name bound to the package (``sel._fit``, ``ru.x._y``) or patched by name
    (``monkeypatch.setattr(mod, "_y", ...)``, ``"reuse_utils.x._y"``)."""
    tree = ast.parse(path.read_text())
    bound, bad = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("reuse_utils")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reuse_utils"):
            bad += [f"{node.module}.{a.name}" for a in node.names if _private(a.name)]
            bound |= {a.asname or a.name for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                bad.append(ast.unparse(node))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setattr"
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            target, name = node.args[0], node.args[1].value
            if (isinstance(target, ast.Name) and target.id in bound and _private(name)) or (
                    name.startswith("reuse_utils.") and _private(name.rsplit(".", 1)[-1])):
                bad.append(f"setattr({ast.unparse(target)}, {name!r})")
    return bad


@pytest.mark.parametrize("folder", ["tests", "benchmarks"])
def test_no_private_name_of_the_package_used_from_tests_or_benchmarks(folder):
    root = PKG.parent / folder
    bad = {str(p.relative_to(PKG.parent)): uses for p in sorted(root.rglob("*.py")) if (uses := private_uses(p))}
    assert not bad, bad


def test_the_private_use_check_sees_each_form(tmp_path):
    demo = tmp_path / "demo.py"
    demo.write_text("import reuse_utils as ru\nimport reuse_utils.training.selection as sel\n"
                    "from reuse_utils.core.io import _MODE\n"
                    "def test(monkeypatch):\n    sel._fit_stacked()\n    ru.core.io._atomic\n"
                    "    monkeypatch.setattr(sel, '_lr', 1)\n    fig._suptitle\n    ru.__version__\n")
    assert sorted(private_uses(demo)) == sorted(["reuse_utils.core.io._MODE", "sel._fit_stacked", "ru.core.io._atomic",
                                                 "setattr(sel, '_lr')"])


def test_no_training_state_set_on_modules():
    """Training state lives in the declared ``LayeredNet.record`` (:class:`TrainRecord`): no attribute
    of a network is set outside its constructor, and none is read back with a ``getattr`` default."""
    nets = {"model", "bob", "alice", "net", "source", "src", "m"}
    init = next(n for n in ast.walk(ast.parse((PKG / "training" / "models.py").read_text()))
                if isinstance(n, ast.ClassDef) and n.name == "LayeredNet")
    declared = {t.attr for n in ast.walk(init) if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"}
    assert {"record", "num_classes", "input_shape"} <= declared
    bad = []
    for p in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, (ast.AnnAssign, ast.AugAssign)) else []
            for t in targets:
                for el in (t.elts if isinstance(t, ast.Tuple) else [t]):
                    if (isinstance(el, ast.Attribute) and isinstance(el.value, ast.Name) and el.value.id in nets
                            and el.attr not in declared):
                        bad.append(f"{p.name}:{node.lineno} {ast.unparse(el)}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                    and len(node.args) == 3 and isinstance(node.args[0], ast.Name) and node.args[0].id in nets):
                bad.append(f"{p.name}:{node.lineno} {ast.unparse(node)}")
    assert not bad, bad


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                    reason="import-linter not installed (pip install -e .[dev])")
def test_import_contracts_kept():
    exe = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(exe)], cwd=PKG.parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "2 kept, 0 broken" in out.stdout


MAX_FUNCTION_LINES = 80


def test_no_function_longer_than_80_lines_without_a_reason():
    """A function of the package is at most 80 lines, unless its docstring says why it must be one
    piece ("one piece")."""
    long = []
    for p in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and "one piece" not in (ast.get_docstring(node) or ""):
                    long.append(f"{p.relative_to(PKG)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long


def test_run_sweep_takes_at_most_six_parameters():
    import inspect

    assert len(inspect.signature(ru.run_sweep).parameters) <= 6
