"""Getting the data on a fresh machine: system copies that can be hidden, `make data`, and the
roles through which notebooks declare what they need."""

import gzip
import json
from pathlib import Path

import pytest
import torch

import reuse_utils.datasets.fetch as fetch_mod
from reuse_utils.companion import data as data_mod
from reuse_utils.datasets import load_dataset, obtain, unavailable_reason
from reuse_utils.datasets.base import system_roots

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _fake_debian_copy(system_root: Path, n: int = 30) -> Path:
    """A valid gzipped IDX copy of 'Fashion-MNIST' (n random images a split) as Debian lays it out."""
    folder = system_root / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for prefix in ("train", "t10k"):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=gen)
        labels = torch.arange(n, dtype=torch.uint8) % 10
        for kind, arr, magic in (("images-idx3", images, 0x803), ("labels-idx1", labels, 0x801)):
            header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
            with gzip.open(folder / f"{prefix}-{kind}-ubyte.gz", "wb") as f:
                f.write(header + arr.numpy().tobytes())
    return folder


def test_system_roots_follow_the_switch(monkeypatch, tmp_path):
    monkeypatch.delenv("REUSE_SYSTEM_DATA", raising=False)
    assert system_roots() == [Path("/usr/share/datasets")]
    monkeypatch.setenv("REUSE_SYSTEM_DATA", "")
    assert system_roots() == []
    monkeypatch.setenv("REUSE_SYSTEM_DATA", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert system_roots() == [tmp_path / "a", tmp_path / "b"]


def test_a_system_copy_loads_and_names_itself_and_hiding_it_makes_it_unavailable(tmp_data, tmp_path, monkeypatch):
    copy = _fake_debian_copy(tmp_path / "sys")
    monkeypatch.setenv("REUSE_SYSTEM_DATA", str(tmp_path / "sys"))
    ds = load_dataset("fashion_mnist", "test")
    assert len(ds) == 30 and str(copy) in ds.source and "Debian" in ds.source
    assert unavailable_reason("fashion_mnist", download=False) is None
    elsewhere = tmp_path / "other_data"
    monkeypatch.setenv("REUSE_DATA", str(elsewhere))
    monkeypatch.setenv("REUSE_SYSTEM_DATA", "")
    reason = unavailable_reason("fashion_mnist", download=False)
    assert reason.startswith("DatasetUnavailable: Dataset 'fashion_mnist'") and "\n" not in reason


def test_obtain_says_present_or_what_to_do(tmp_data, tmp_path, monkeypatch):
    monkeypatch.setenv("REUSE_SYSTEM_DATA", "")
    assert obtain("mnist5k").how == "present"
    got = obtain("fashion_mnist", allow_fetch=False)
    assert not got.ok and got.how == "unavailable"
    assert "apt-get install dataset-fashion-mnist" in got.line and "\n" not in got.line
    assert "skipped" in got.line


def test_obtain_installs_the_debian_package_where_it_can(tmp_data, tmp_path, monkeypatch):
    """Root with apt-get: the package is installed (here: a stand-in for apt-get that lays out the
    files) and the dataset then loads from the system copy."""
    system = tmp_path / "sys"
    monkeypatch.setenv("REUSE_SYSTEM_DATA", str(system))
    monkeypatch.setattr(fetch_mod, "DEFAULT_SYSTEM_ROOTS", (system,))
    monkeypatch.setattr(fetch_mod.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(fetch_mod.os, "geteuid", lambda: 0)
    calls = []

    def fake_apt(package):
        calls.append(package)
        _fake_debian_copy(system)

    monkeypatch.setattr(fetch_mod, "apt_install", fake_apt)
    got = obtain("fashion_mnist", allow_fetch=True)
    assert calls == ["dataset-fashion-mnist"] and got.how == "debian", got.line
    assert obtain("fashion_mnist").how == "present"  # a second call installs nothing
    assert calls == ["dataset-fashion-mnist"]
    monkeypatch.setattr(fetch_mod.os, "geteuid", lambda: 1000)
    assert fetch_mod.apt_possible() == "installing a Debian package needs root"


def test_make_data_prints_a_line_per_dataset_and_never_fails(tmp_data, monkeypatch, capsys):
    monkeypatch.setenv("REUSE_SYSTEM_DATA", "")
    assert data_mod.main(["--notebooks", str(NOTEBOOK_DIR), "--preset", "smoke"]) == 0
    out = capsys.readouterr()
    lines = [x for x in out.out.splitlines() if x.startswith("[data]")]
    assert len(lines) == 2 and "mnist5k: on disk" in lines[0] and "fashion_mnist: UNAVAILABLE" in lines[1]
    assert "skips the notebooks that need them" in out.err
    with pytest.raises(SystemExit):
        data_mod.main(["--notebooks", str(NOTEBOOK_DIR), "--preset", "huge"])


def test_roles_resolve_through_the_preset(monkeypatch):
    monkeypatch.setattr(data_mod, "real_case_data_available", lambda size: False)
    assert data_mod.role_datasets("base", "quick") == ["mnist5k"]
    assert data_mod.role_datasets("base", "quick", "digits") == ["digits"]
    assert data_mod.role_datasets("base", "paper") == ["fashion_mnist"]
    assert data_mod.role_datasets("other_domain", "smoke") == ["fashion_mnist"]
    assert data_mod.role_datasets("case", "smoke") == ["fashion_mnist"]
    monkeypatch.setattr(data_mod, "real_case_data_available", lambda size: True)
    assert data_mod.role_datasets("case", "smoke") == []
    with pytest.raises(ValueError, match="role must be one of"):
        data_mod.role_datasets("photos", "smoke")


def test_notebook_data_declarations(tmp_path, toy_notebook):
    plain = toy_notebook(tmp_path / "01_a.ipynb", "x = 1")
    assert data_mod.notebook_data(plain) == (["base"], [])
    bad = toy_notebook(tmp_path / "02_b.ipynb", "x = 1")
    book = json.loads(bad.read_text())
    book["metadata"]["reuse_utils"] = {"data": ["imagenet"]}
    bad.write_text(json.dumps(book))
    with pytest.raises(ValueError, match="02_b.ipynb: metadata reuse_utils.data must be a list of"):
        data_mod.notebook_data(bad)


def test_with_the_system_copies_hidden_only_the_fashion_notebooks_lack_data(tmp_data, monkeypatch):
    """Offline, no system copy, an empty data folder: at smoke and quick only the case studies lack their
    data (05 uses Fashion-MNIST only for a part it skips itself); every other notebook can run."""
    monkeypatch.setenv("REUSE_SYSTEM_DATA", "")
    monkeypatch.setenv("REUSE_OFFLINE", "1")
    from reuse_utils.companion.runner import data_skips, list_notebooks

    for preset in ("smoke", "quick"):
        skips = data_skips(list_notebooks(NOTEBOOK_DIR), preset, None)
        assert sorted(n[:2] for n in skips) == ["07", "08"], skips
        assert all("needs 'fashion_mnist'" in r and "\n" not in r for r in skips.values())


def test_apt_that_hangs_or_cannot_run_is_a_reason_not_a_crash(monkeypatch):
    import subprocess

    def hangs(cmd, **kwargs):
        assert kwargs["stdin"] is subprocess.DEVNULL and "Acquire::http::Timeout=30" in cmd
        raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])

    monkeypatch.setattr(fetch_mod.subprocess, "run", hangs)
    assert "took over" in fetch_mod.apt_install("dataset-fashion-mnist")
    monkeypatch.setattr(fetch_mod.subprocess, "run", lambda cmd, **kw: (_ for _ in ()).throw(OSError("no such file")))
    assert "apt-get could not run" in fetch_mod.apt_install("dataset-fashion-mnist")


def test_make_data_turns_an_unexpected_error_into_its_line(monkeypatch):
    def boom(name):
        raise RuntimeError("the disk\nvanished")

    monkeypatch.setattr(data_mod, "obtain", boom)
    (got,) = data_mod.provision(["smoke"], [NOTEBOOK_DIR / "02_data_generation.ipynb"])
    assert not got.ok and "RuntimeError: the disk vanished" in got.line
