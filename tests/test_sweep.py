
import pytest

import reuse_utils.experiments.alices as alices_mod
import reuse_utils.experiments.sweep_train as sweep_mod
from reuse_utils.experiments.grid import expand_grid
from reuse_utils.experiments.presets import get_preset
from reuse_utils.experiments.sweep import SweepOptions, run_sweep

TINY = get_preset("smoke").with_(n_alice=300, n_bob=120, n_test=200, seeds=(0,), alice_epochs=1,
                                 bob_epochs=1)
GRID = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": [1, 5], "mode": ["reinit"]}


def _sweep(tmp_path, grid=GRID, preset=TINY):
    return run_sweep(grid, preset=preset, cache_dir=tmp_path / "cache", progress=False, device="cpu")


def test_rows_and_columns(tmp_path):
    df = _sweep(tmp_path)
    assert len(df) == 4
    for col in ("dataset", "arch", "alice_optimizer", "alice_world", "task_corr", "feature_corr", "k", "mode",
                "source", "seed", "n_alice", "n_bob", "n_layers", "bob_test_acc", "bob_train_acc",
                "alice_test_acc", "chance", "task_corr_measured", "feature_corr_measured", "seconds",
                "from_cache"):
        assert col in df.columns, col
    assert not df.from_cache.any()
    assert df.attrs["alices_trained"] == 2 and df.attrs["bobs_trained"] == 4
    assert set(df.n_layers) == {5}
    assert df.loc[df.task_corr == 1.0, "task_corr_measured"].iloc[0] == pytest.approx(1.0)


def test_rerun_trains_nothing(tmp_path, monkeypatch):
    first = _sweep(tmp_path)

    def no_training(*a, **k):
        raise AssertionError("training called on a cached sweep")

    monkeypatch.setattr(sweep_mod, "fit_selected_many", no_training)
    monkeypatch.setattr(alices_mod, "train_alice", no_training)
    monkeypatch.setattr(alices_mod, "train_alices", no_training)
    again = _sweep(tmp_path)
    assert again.from_cache.all()
    assert again.attrs["bobs_trained"] == 0 and again.attrs["alices_trained"] == 0
    assert list(again.bob_test_acc) == list(first.bob_test_acc)


def test_resume_after_interruption(tmp_path, monkeypatch):
    real = sweep_mod.fit_selected_many  # one call per depth: k = 1 of both worlds, then k = 5
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated kill")
        return real(*a, **k)

    monkeypatch.setattr(sweep_mod, "fit_selected_many", flaky)
    with pytest.raises(KeyboardInterrupt):
        _sweep(tmp_path)
    monkeypatch.setattr(sweep_mod, "fit_selected_many", real)
    resumed = _sweep(tmp_path)
    assert resumed.from_cache.sum() == 2 and resumed.attrs["bobs_trained"] == 2
    assert not list((tmp_path / "cache" / "bob").glob(".*.tmp"))  # no half-written record
    fresh = run_sweep(GRID, preset=TINY, cache_dir=tmp_path / "fresh", progress=False, device="cpu")
    assert list(resumed.bob_test_acc) == list(fresh.bob_test_acc)  # identical numbers on CPU


def test_controls_modes_and_skips(tmp_path):
    grid = {"dataset": ["mnist5k"], "task_corr": [0.0, 0.5], "feature_corr": [0.0, 0.25], "k": [1, 2],
            "mode": ["reinit", "finetune"], "source": ["alice", "random"], "alice_world": ["independent"]}
    df = _sweep(tmp_path, grid)
    assert df.attrs["skipped"] == 0  # the dials are independent: every (t, α) is reachable on images
    assert len(df) == 4 * 2 * 2 * 2
    assert df.attrs["alices_trained"] == 1  # one independent-world Alice serves every world
    k1 = df[df.k == 1].groupby(["task_corr", "feature_corr", "source", "mode"]).bob_test_acc.first().unstack("mode")
    assert (k1["reinit"] == k1["finetune"]).all()  # modes coincide at k = 1


def test_expand_grid_all_depths_and_errors():
    runs, _ = expand_grid({"arch": ["cnn", "mlp"], "task_corr": [0.0], "mode": ["reinit"], "seed": [0]}, TINY)
    assert sorted({(r["arch"], r["k"]) for r in runs}) == [("cnn", k) for k in range(1, 6)] + [("mlp", k) for k in range(1, 5)]
    with pytest.raises(ValueError, match="unknown grid axis"):
        expand_grid({"lr": [0.1]}, TINY)
    with pytest.raises(ValueError, match="grid axis 'k'.*exceeds"):
        expand_grid({"k": [9]}, TINY)
    with pytest.raises(ValueError, match="grid axis 'alice_optimizer'"):
        expand_grid({"alice_optimizer": ["lbfgs"]}, TINY)
    with pytest.raises(ValueError, match="grid axis 'task_corr'"):
        expand_grid({"task_corr": [1.5]}, TINY)
    with pytest.raises(ValueError, match="preset must be one of"):
        run_sweep(GRID, preset="huge")
    with pytest.raises(ValueError, match="grid axis 'feature_corr': 0.8 is outside"):
        expand_grid({"feature_corr": [0.8]}, TINY)
    with pytest.raises(ValueError, match="grid axis 'feature_corr'"):
        expand_grid({"feature_corr": [1.0]}, TINY)


def test_glm_world_sweep(tmp_path):
    """The same protocol on flat Gaussian features: mlp only; unreachable (t, α) pairs are skipped."""
    grid = {"dataset": ["glm:d=2,noise=0.5"], "arch": ["mlp"], "task_corr": [0.0, 0.3], "feature_corr": [0.0, 0.6],
            "k": [1, "L"], "mode": ["reinit"]}
    df = _sweep(tmp_path, grid)
    assert df.attrs["skipped"] == 1  # (t=0.3, α=0) cannot be reached
    assert len(df) == 3 * 2 and set(df.n_layers) == {4}
    row = df[(df.task_corr == 0.3) & (df.k == 1)].iloc[0]
    assert row.task_corr_measured == pytest.approx(0.3, abs=0.1) and row.chance < 0.6
    assert df.bob_test_acc_linked.isna().all()  # no label is copied in a GLM world
    with pytest.raises(ValueError, match="every \\(task_corr, feature_corr\\) pair"):
        expand_grid({**grid, "task_corr": [0.5], "feature_corr": [0.0]}, TINY)
    with pytest.raises(ValueError, match="grid axis 'arch'.*needs 'mlp'"):
        expand_grid({**grid, "arch": ["cnn"]}, TINY)


def test_linked_and_unlinked_accuracy(tmp_path):
    """Bob's accuracy is the mix of his accuracies on the linked and the unlinked test pairs, weighted
    by the linked share of the very test pairs he was scored on (exact up to float rounding)."""
    from reuse_utils.generator import make_world

    df = _sweep(tmp_path, {"dataset": ["mnist5k"], "task_corr": [0.5], "k": [1], "mode": ["reinit"]})
    row = df.iloc[0]
    test = make_world("mnist5k", 0.5, 0.0, 0, n_alice=TINY.n_alice, n_bob=TINY.n_bob, n_test=TINY.n_test).test
    f = float(test.linked.float().mean())
    assert 0.3 < f < 0.7
    # accuracies are float32 means (rounding ≤ 1e-7), their grain 1/n_test = 0.005
    assert row.bob_test_acc == pytest.approx(f * row.bob_test_acc_linked + (1 - f) * row.bob_test_acc_unlinked,
                                             abs=1e-6)


def test_smoke_sweep_shows_the_effects(tmp_path):
    """Acceptance: head-only Bob gains from task correlation, and beats chance at zero for some k."""
    from reuse_utils.analysis.stats import above_chance

    p = get_preset("smoke")
    df = run_sweep({"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": [1, 5], "mode": ["reinit"]},
                   preset=p, cache_dir=tmp_path / "c", progress=False, device="cpu")
    k1 = df[df.k == 1].groupby("task_corr").bob_test_acc.mean()
    assert k1[1.0] > k1[0.0] + 0.2
    zero = df[df.task_corr == 0.0].groupby("k")[["bob_test_acc", "chance"]].mean()
    best = zero.bob_test_acc.max()
    assert above_chance(best, p.n_test, float(zero.chance.mean()))["p_value"] < 0.01


def test_feature_cache_matches_streaming_and_budget_fallback(tmp_path):
    grid = {"dataset": ["mnist5k"], "task_corr": [0.5], "k": [1, 2, 3], "mode": ["reinit", "finetune"],
            "source": ["alice", "random"]}
    kw = {"preset": TINY, "progress": False, "device": "cpu"}
    cached = run_sweep(grid, cache_dir=tmp_path / "a", options=SweepOptions(batch_runs=False), **kw)
    plain = run_sweep(grid, cache_dir=tmp_path / "b", options=SweepOptions(batch_runs=False, feature_cache=False), **kw)
    tiny = run_sweep(grid, cache_dir=tmp_path / "c", options=SweepOptions(batch_runs=False, memory_budget=1024), **kw)
    assert cached.attrs["prefix_cache"]["hits"] > 0
    assert tiny.attrs["prefix_cache"]["streamed"] > 0 and tiny.attrs["prefix_cache"]["used_mb"] == 0
    key = ["k", "mode", "source", "seed"]
    for other in (plain, tiny):
        m = cached.merge(other, on=key, suffixes=("", "_o"))
        assert (m.bob_test_acc - m.bob_test_acc_o).abs().max() <= 2 / TINY.n_test  # ≤ 2 flipped argmaxes


def test_prefix_cache_lru_and_validation():
    import torch

    from reuse_utils.training.prefix_cache import PrefixCache

    c = PrefixCache(torch.device("cpu"), budget_bytes=3 * 400)
    for i in range(4):
        assert c.get(i, lambda: torch.zeros(100)) is not None  # 400 bytes each
    assert len(c.entries) == 3 and 0 not in c.entries
    assert c.get(9, lambda: torch.zeros(1000)) is None  # larger than the whole budget: stream
    with pytest.raises(ValueError, match="budget_bytes"):
        PrefixCache(torch.device("cpu"), budget_bytes=-1)


@pytest.mark.parametrize("arch", ["cnn", "mlp"])
def test_worlds_and_modes_trained_together_match_apart(tmp_path, arch):
    """Stacked Alices (mlp: stacked on the CPU too) and Bobs of four worlds × two modes in one loop
    per depth equal the one-at-a-time sweep up to float rounding."""
    grid = {"dataset": ["mnist5k"], "arch": [arch], "task_corr": [0.0, 0.5], "seed": [0, 1], "k": [1, 2, 3],
            "mode": ["reinit", "finetune"]}
    kw = {"preset": TINY, "progress": False, "device": "cpu"}
    batched = run_sweep(grid, cache_dir=tmp_path / "a", options=SweepOptions(batch_runs=True), **kw)
    seq = run_sweep(grid, cache_dir=tmp_path / "b", options=SweepOptions(batch_runs=False), **kw)
    assert batched.attrs["bobs_trained"] == seq.attrs["bobs_trained"] == 20
    assert batched.attrs["alices_trained"] == seq.attrs["alices_trained"] == 4
    m = batched.merge(seq, on=["task_corr", "seed", "k", "mode"], suffixes=("", "_seq"))
    assert (m.alice_test_acc - m.alice_test_acc_seq).abs().max() <= 3 / TINY.n_test
    assert (m.bob_test_acc - m.bob_test_acc_seq).abs().max() <= 3 / TINY.n_test
    for col in ("bob_lr", "bob_l2", "bob_epoch", "stopped_by", "selection_edge"):  # NaN: the rate of a convex head
        assert m[col].equals(m[f"{col}_seq"].rename(col)), col
    again = run_sweep(grid, cache_dir=tmp_path / "a", options=SweepOptions(batch_runs=True), **kw)
    assert again.from_cache.all()


def test_ray_backend_equals_local(tmp_path):
    """Each world goes out as one Ray task on a local cluster; the records and the table equal the local run."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
    grid = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": [1, 2], "mode": ["reinit", "finetune"],
            "source": ["alice", "random"]}
    local = _sweep(tmp_path / "local", grid)
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        dist = run_sweep(grid, preset=TINY, cache_dir=tmp_path / "ray" / "cache", progress=False, device="cpu",
                         options=SweepOptions(backend="ray"))
    finally:
        ray.shutdown()
    key = ["task_corr", "k", "mode", "source", "seed"]
    m = local.merge(dist, on=key, suffixes=("", "_ray"))
    assert len(m) == len(local) == len(dist) and dist.attrs["backend"] == "ray"
    assert m.bob_lr.equals(m.bob_lr_ray.rename("bob_lr")) and m.bob_l2.equals(m.bob_l2_ray.rename("bob_l2"))
    for col in ("bob_test_acc", "bob_val_acc", "alice_test_acc"):  # one world per task vs worlds stacked
        assert (m[col] - m[f"{col}_ray"]).abs().max() <= 2 / TINY.n_test, col
    with pytest.raises(ValueError, match="backend must be one of"):
        SweepOptions(backend="spark")


def test_fully_reinitialised_bobs_train_once_per_world(tmp_path):
    """A Bob with every layer re-initialised (k = L, reinit) keeps nothing of his source: the runs that
    differ only in it train once per world, and the copies equal each run trained on its own bit
    for bit (each with its own source's alice_test_acc)."""
    grid = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": ["L"], "mode": ["reinit"],
            "source": ["alice", "random"], "alice_optimizer": ["adam", "sgd"]}
    kw = {"preset": TINY.with_(alice_epochs=3, alice_patience=3), "progress": False, "device": "cpu"}  # Alices that differ
    once = run_sweep(grid, cache_dir=tmp_path / "a", **kw)
    apart = run_sweep(grid, cache_dir=tmp_path / "b", options=SweepOptions(batch_runs=False), **kw)
    assert len(once) == len(apart) > 2 * 2 and once.attrs["bobs_trained"] == 2
    assert apart.attrs["bobs_trained"] == 2 * 3  # per world: two Alices and one random network (its rows repeat)
    bob_cols = ["bob_test_acc", "bob_train_acc", "bob_val_acc", "bob_val_loss", "bob_lr", "bob_epoch"]
    for _, rows in once.groupby("task_corr"):
        assert (rows[bob_cols].nunique() == 1).all() and (rows.seconds > 0).sum() == 1
        assert rows.alice_test_acc.nunique() > 1  # each row keeps its own source's accuracy
    key = ["task_corr", "source", "alice_optimizer"]
    m = once.merge(apart, on=key, suffixes=("", "_apart"))
    assert len(m) == len(once)
    for col in bob_cols + ["alice_test_acc"]:
        assert m[col].equals(m[f"{col}_apart"].rename(col)), col
    again = run_sweep(grid, cache_dir=tmp_path / "a", **kw)
    assert again.from_cache.all()
