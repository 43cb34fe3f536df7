"""Inputs that used to give silent wrong results are refused loudly, or canonicalised (−0.0 dials)."""

import math
from dataclasses import replace

import pytest
import torch

import reuse_utils as ru
import reuse_utils.experiments.alices as alices_mod
import reuse_utils.experiments.sweep_train as sweep_mod
from reuse_utils.core.ids import canonical_dial, stable_hash
from reuse_utils.experiments.grid import alice_config, bob_config, expand_grid
from reuse_utils.experiments.presets import get_preset
from reuse_utils.training import (
    BobProtocol,
    TrainConfig,
    bob_accuracy,
    build_model,
    evaluate,
    fit_selected,
    frozen_features,
    make_bob,
    train_alice,
    train_alices,
    train_bob,
)

TINY = get_preset("smoke").with_(n_alice=300, n_bob=120, n_test=200, seeds=(0,), alice_epochs=1, bob_epochs=1)
GRID = {"dataset": ["mnist5k"], "task_corr": [0.0], "k": [1], "mode": ["reinit"]}
DIVERGE = TrainConfig(optimizer="sgd", lr=1e30, momentum=0.0, epochs=2, batch_size=16)
FAST = TrainConfig(epochs=1, batch_size=32)


def positive_zero(v: float) -> bool:
    return v == 0.0 and math.copysign(1.0, v) == 1.0


@pytest.fixture(scope="module")
def pairs(mnist5k_train):
    return ru.make_pairs(mnist5k_train, 64, 0.5, seed=0)


def with_x(p, index, value):
    """A copy of ``p`` with ``x[index] = value``."""
    x = p.x.clone()
    x[index] = value
    return replace(p, x=x)


# ----------------------------------------------------------------------------- −0.0 is 0.0


def test_canonical_dial():
    assert positive_zero(canonical_dial(-0.0)) and positive_zero(canonical_dial(0))
    assert canonical_dial(0.1 + 0.2) == 0.3 and canonical_dial(-0.6) == -0.6
    assert math.isnan(canonical_dial(float("nan")))


@pytest.mark.parametrize("dataset", ["mnist5k", "glm"])
def test_negative_zero_world_is_the_zero_world(dataset):
    kw = {"n_alice": 40, "n_bob": 40, "n_test": 40}
    zero = ru.make_world(dataset, 0.0, 0.0, 3, **kw)
    neg = ru.make_world(dataset, -0.0, -0.0, 3, **kw)
    assert positive_zero(neg.task_corr) and positive_zero(neg.feature_corr)
    for role in ("alice_train", "bob_train", "test"):
        a, b = getattr(zero, role), getattr(neg, role)
        assert torch.equal(a.x, b.x) and torch.equal(a.y_alice, b.y_alice) and torch.equal(a.y_bob, b.y_bob)
        assert positive_zero(b.task_corr) and positive_zero(b.feature_corr)


def test_negative_zero_pairs_report_zero(mnist5k_train):
    p = ru.make_pairs(mnist5k_train, 16, -0.0, -0.0, seed=1)
    assert positive_zero(p.task_corr) and positive_zero(p.feature_corr)
    assert torch.equal(p.x, ru.make_pairs(mnist5k_train, 16, 0.0, 0.0, seed=1).x)
    assert positive_zero(ru.make_glm_pairs(16, -0.0, math.pi / 2).feature_corr)


def test_negative_zero_grid_has_the_zero_config_hashes():
    zero, _ = expand_grid({**GRID, "feature_corr": [0.0]}, TINY)
    neg, _ = expand_grid({**GRID, "task_corr": [-0.0], "feature_corr": [-0.0]}, TINY)
    assert len(zero) == len(neg) == 1
    assert positive_zero(neg[0]["task_corr"]) and positive_zero(neg[0]["feature_corr"])
    assert stable_hash(bob_config(neg[0], TINY)) == stable_hash(bob_config(zero[0], TINY))
    assert stable_hash(alice_config(neg[0], TINY)) == stable_hash(alice_config(zero[0], TINY))
    both, _ = expand_grid({**GRID, "task_corr": [0.0, -0.0]}, TINY)
    assert len(both) == 1  # one setting, one run


def test_negative_zero_sweep_reuses_the_zero_cache(tmp_path, monkeypatch):
    first = ru.run_sweep(GRID, preset=TINY, cache_dir=tmp_path / "cache", progress=False, device="cpu")

    def no_training(*a, **k):
        raise AssertionError("a −0.0 sweep trained instead of reading the 0.0 cache")

    monkeypatch.setattr(sweep_mod, "fit_selected_many", no_training)
    monkeypatch.setattr(alices_mod, "train_alice", no_training)
    monkeypatch.setattr(alices_mod, "train_alices", no_training)
    again = ru.run_sweep({**GRID, "task_corr": [-0.0], "feature_corr": [-0.0]}, preset=TINY,
                         cache_dir=tmp_path / "cache", progress=False, device="cpu")
    assert again.from_cache.all() and again.attrs["alices_trained"] == 0
    assert all(positive_zero(v) for v in again.task_corr) and all(positive_zero(v) for v in again.feature_corr)
    assert list(again.bob_test_acc) == list(first.bob_test_acc)


# ----------------------------------------------------------------------------- NaN / inf inputs


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_measure_correlations_refuses_non_finite_pixels(pairs, value):
    with pytest.raises(ValueError, match=r"pairs\.x holds 1 non-finite"):
        ru.measure_correlations(with_x(pairs, (0, 0, 3, 3), value))


def test_training_refuses_non_finite_inputs(pairs):
    bad = with_x(pairs, (5, 0, 10, 10), float("nan"))
    with pytest.raises(ValueError, match=r"train_pairs\.x holds"):
        train_alice(bad, "mlp", FAST, 0, device="cpu", width=8)
    with pytest.raises(ValueError, match=r"test_pairs\.x holds"):
        train_alice(pairs, "mlp", FAST, 0, test_pairs=bad, device="cpu", width=8)
    src = build_model("mlp", pairs.input_shape, 10, width=8, seed=0)
    bob = make_bob(src, 2, "reinit", 10, 0)
    with pytest.raises(ValueError, match=r"train_pairs\.x holds"):
        train_bob(bob, bad, FAST, 0, device="cpu")
    feats = frozen_features(bob, pairs.x, 2, "cpu")
    feats[0, 0] = float("inf")
    with pytest.raises(ValueError, match="features holds"):
        train_bob(bob, pairs, FAST, 0, device="cpu", features=feats)
    with pytest.raises(ValueError, match="x holds"):
        frozen_features(bob, bad.x, 2, "cpu")


def test_diverging_alice_stops_with_an_error(pairs):
    with pytest.raises(FloatingPointError, match=r"Alice \(mlp, seed 0\).*non-finite.*epoch 1"):
        train_alice(pairs, "mlp", DIVERGE, 0, device="cpu", width=8)


def test_diverging_stacked_alices_stop_with_an_error(pairs):
    with pytest.raises(FloatingPointError, match=r"seed\(s\) \[0, 1\].*non-finite in epoch 1"):
        train_alices([pairs, pairs], "mlp", DIVERGE, [0, 1], device="cpu", width=8, group=2)


def test_diverging_bob_stops_with_an_error(pairs):
    src = build_model("mlp", pairs.input_shape, 10, width=8, seed=0)
    with pytest.raises(FloatingPointError, match=r"Bob \(k=2, seed 4\).*epoch 1"):
        train_bob(make_bob(src, 2, "reinit", 10, 0), pairs, DIVERGE, 4, device="cpu")


@pytest.mark.parametrize("arch,k,stacked", [("mlp", 2, True), ("cnn", 5, False)])
def test_diverging_selected_bob_stops_with_an_error(pairs, arch, k, stacked):
    """Every rate of the grid diverges: an error naming the task seed and rates. One rate of several
    diverging is simply never chosen (a wide grid must be able to hold a rate that is too large).
    Both training paths: stacked (vmap) and one at a time (convolutions trained on the CPU)."""
    from reuse_utils.training.selection import members_stack

    src = build_model(arch, pairs.input_shape, 10, width=8 if arch == "mlp" else 4, seed=0)
    bob = make_bob(src, k, "reinit", 10, 0)
    top = torch.nn.Sequential(*bob.layers[bob.record.frozen_layers:])
    assert members_stack(top, torch.device("cpu")) is stacked
    x = frozen_features(bob, pairs.x, bob.record.frozen_layers, "cpu")
    protocol = BobProtocol(lrs=(1e30,), max_epochs=2, head_epochs=2, batch_size=16, lr_range=(1e30, 1e30))
    with pytest.raises(FloatingPointError, match=r"Bob training \(task seed 7\).*any learning rate of \[1e\+30\]"):
        fit_selected([bob], ["reinit"], x[:48], pairs.y_bob[:48], x[48:], pairs.y_bob[48:], protocol, 7,
                     torch.device("cpu"))
    wide = BobProtocol(lrs=(1e-3, 1e30), max_epochs=2, head_epochs=2, batch_size=16, lr_range=(1e-3, 1e30))
    bob = make_bob(src, k, "reinit", 10, 0)
    (sel,) = fit_selected([bob], ["reinit"], x[:48], pairs.y_bob[:48], x[48:], pairs.y_bob[48:], wide, 7,
                          torch.device("cpu"))
    assert sel.lr == 1e-3 and all(torch.isfinite(p).all() for p in bob.parameters())


# ----------------------------------------------------------------------------- shapes and layouts


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_evaluation_set_of_another_layout_is_refused(mnist5k_train, arch):
    horizontal = ru.make_pairs(mnist5k_train, 32, 0.5, seed=0)
    vertical = ru.make_pairs(mnist5k_train, 32, 0.5, layout="vertical", seed=0)  # 56×28 into a 28×56 network
    net = build_model(arch, horizontal.input_shape, 10, width=8 if arch == "mlp" else 4, seed=0)
    assert 0 <= evaluate(net, horizontal, "alice") <= 1
    shapes = r"input_shape \(1, 56, 28\).*input_shape \(1, 28, 56\)"
    with pytest.raises(ValueError, match=shapes):
        evaluate(net, vertical, "alice")
    bob = make_bob(net, 1, "reinit", 10, 0)
    with pytest.raises(ValueError, match=shapes):
        bob_accuracy(bob, vertical)
    with pytest.raises(ValueError, match=shapes):
        train_bob(bob, vertical, FAST, 0, device="cpu")


# ----------------------------------------------------------------------------- obscure errors


@pytest.mark.parametrize("field", ["lr", "momentum", "weight_decay", "epochs", "batch_size"])
@pytest.mark.parametrize("value", [True, False])
def test_train_config_refuses_bools(field, value):
    with pytest.raises(ValueError, match=f"{field} must be"):
        TrainConfig(**{field: value})


@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_alice_group_is_named(tmp_path, value):
    with pytest.raises(ValueError, match="alice_group must be an integer ≥ 1 or None"):
        ru.SweepOptions(alice_group=value)
    assert not (tmp_path / "cache" / "alice").exists()


def test_non_pairs_are_named(pairs):
    with pytest.raises(ValueError, match="pairs must be a Pairs"):
        ru.measure_correlations(None)
    with pytest.raises(ValueError, match="train_pairs must be a Pairs"):
        train_alice("x", "mlp", FAST, 0, device="cpu")
    src = build_model("mlp", pairs.input_shape, 10, width=8, seed=0)
    with pytest.raises(ValueError, match="train_pairs must be a Pairs"):
        train_bob(make_bob(src, 1, "reinit", 10, 0), "x", FAST, 0, device="cpu")
    with pytest.raises(ValueError, match="pairs must be a Pairs"):
        evaluate(src, None)


@pytest.mark.parametrize("name", [["smoke"], None, 3])
def test_get_preset_of_a_non_name(name):
    with pytest.raises(ValueError, match="preset must be one of"):
        get_preset(name)


def test_k_zero_is_refused_by_the_grid(tmp_path):
    with pytest.raises(ValueError, match=r"grid axis 'k': values must be integers ≥ 1"):
        expand_grid({**GRID, "k": [0]}, TINY)
    with pytest.raises(ValueError, match="grid axis 'k'"):
        ru.run_sweep({**GRID, "k": [0]}, preset=TINY, cache_dir=tmp_path / "cache", progress=False, device="cpu")
    assert not (tmp_path / "cache" / "alice").exists()


@pytest.mark.parametrize("changes,field", [
    ({"n_test": 0}, "n_test"), ({"n_bob": -5}, "n_bob"), ({"n_alice": 2.5}, "n_alice"),
    ({"alice_epochs": 0}, "alice_epochs"), ({"bob_epochs": True}, "bob_epochs"), ({"batch_size": 0}, "batch_size"),
    ({"seeds": ()}, "seeds"), ({"seeds": (-1,)}, "seeds"), ({"bob_val_fraction": 1.0}, "bob_val_fraction"),
    ({"bob_val_fraction": 0}, "bob_val_fraction"), ({"bob_lrs": ()}, "bob_lrs"), ({"alice_lr": 0.0}, "alice_lr"),
    ({"ks": (0,)}, "ks"), ({"task_corrs": ()}, "task_corrs"), ({"modes": ("scratch",)}, "modes"),
])
def test_preset_fields_are_validated(changes, field):
    with pytest.raises(ValueError, match=rf"Preset\.{field}"):
        get_preset("smoke").with_(**changes)


def test_shipped_presets_are_valid():
    for name in ("smoke", "quick", "paper"):
        p = get_preset(name)
        assert p.with_() == p


def test_the_finite_check_runs_once_per_x_and_again_after_an_edit(pairs, monkeypatch):
    import reuse_utils.generator.pairs as pairs_mod
    from reuse_utils.generator import check_pairs

    scans = []
    real = pairs_mod.check_finite
    monkeypatch.setattr(pairs_mod, "check_finite", lambda x, name: scans.append(name) or real(x, name))
    fresh = ru.make_pairs(ru.load_dataset("mnist5k", "test"), 50, 0.0, 0.0, seed=3)
    check_pairs(fresh)
    check_pairs(fresh)
    assert len(scans) == 1
    fresh.x[0, 0, 0, 0] = float("nan")  # an edit in place moves the version counter
    with pytest.raises(ValueError, match="non-finite"):
        check_pairs(fresh)
