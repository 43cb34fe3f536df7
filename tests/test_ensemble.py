"""Many Alices, one training loop: each stacked member equals its one-at-a-time training."""

import pytest
import torch

import reuse_utils as ru
from reuse_utils.training import (
    TrainConfig,
    alice_group_size,
    build_model,
    train_alice,
    train_alices,
)


def _worlds(n=240):
    return [ru.make_world("mnist5k", t, a, s, n_alice=n, n_bob=20, n_test=120)
            for t, a, s in ((0.0, 0.0, 0), (0.5, 0.3, 1), (1.0, 0.0, 2))]


@pytest.mark.parametrize(("arch", "width", "opt"), [("cnn", 4, {"optimizer": "adam", "lr": 1e-3}),
                                                    ("mlp", 32, {"optimizer": "sgd", "lr": 0.05, "weight_decay": 1e-3}),
                                                    ("mlp", 32, {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 1e-2})])
def test_stacked_alices_equal_sequential(arch, width, opt, assert_same_training):
    """Own data, own initial weights and own minibatch order per member: the same weights, history
    and accuracy as training each alone (float rounding aside: conftest's rule, relative to how far
    training moved the weights; a loss agrees to 1e-4 of itself, float32 sums of 32 terms)."""
    cfg = TrainConfig(**opt, epochs=2, batch_size=32)
    worlds, seeds = _worlds(), [5, 6, 7]
    stacked = train_alices([w.alice_train for w in worlds], arch, cfg, seeds, test_pairs=[w.test for w in worlds],
                           device="cpu", width=width, group=3)
    for w, s, model in zip(worlds, seeds, stacked, strict=True):
        alone = train_alice(w.alice_train, arch, cfg, s, test_pairs=w.test, device="cpu", width=width)
        init = build_model(arch, w.alice_train.input_shape, w.alice_train.num_classes_alice, width=width, seed=s)
        assert_same_training(list(alone.parameters()), list(model.parameters()), list(init.parameters()))
        for ra, rb in zip(alone.record.history, model.record.history, strict=True):
            assert ra["epoch"] == rb["epoch"]
            assert ra["train_loss"] == pytest.approx(rb["train_loss"], rel=1e-4)
            assert ra["test_acc"] == pytest.approx(rb["test_acc"], abs=1 / 120 + 1e-9)
        assert model.record.frozen_layers == 0 and not model.training
    a, b = stacked[0], stacked[1]
    assert not torch.equal(next(a.parameters()), next(b.parameters()))  # members differ (own seed, own data)


def test_group_sizes_and_errors():
    cpu = torch.device("cpu")
    mlp = build_model("mlp", (1, 28, 56), 10, width=32)
    cnn = build_model("cnn", (1, 28, 56), 10, width=4)
    res = build_model("resnet18", (3, 32, 32), 2)
    assert alice_group_size(cpu, cnn, 1000, 100, 64) == 1  # convolutions: one at a time off CUDA
    assert 1 < alice_group_size(cpu, mlp, 1000, 100, 64) <= ru.training.MAX_GROUP
    assert alice_group_size(cpu, res, 1000, 100, 64, requested=None) == 1  # BatchNorm never stacks
    assert alice_group_size(cpu, cnn, 1000, 100, 64, requested=4) == 4
    with pytest.raises(ValueError, match="group must be an integer"):
        alice_group_size(cpu, cnn, 1000, 100, 64, requested=0)
    worlds = _worlds(60)
    cfg = TrainConfig(epochs=1)
    with pytest.raises(ValueError, match="seeds must have one entry"):
        train_alices([w.alice_train for w in worlds], "mlp", cfg, [0], device="cpu")
    other = ru.make_world("mnist5k", 0.0, 0.0, 9, n_alice=61, n_bob=20, n_test=20)
    with pytest.raises(ValueError, match="share input shape, size"):
        train_alices([worlds[0].alice_train, other.alice_train], "mlp", cfg, [0, 1], device="cpu")
    with pytest.raises(ValueError, match="non-empty list"):
        train_alices([], "mlp", cfg, [], device="cpu")


def test_the_same_training_rule_catches_one_epoch_less_and_a_wrong_start(assert_same_training):
    """Negative controls of conftest's rule: a training one epoch shorter, or compared from another
    seed's initial weights, must fail it."""
    w = _worlds()[0]
    cfg = TrainConfig(optimizer="adam", lr=1e-3, epochs=2, batch_size=32)
    a = train_alice(w.alice_train, "mlp", cfg, 5, device="cpu", width=32)
    b = train_alice(w.alice_train, "mlp", TrainConfig(optimizer="adam", lr=1e-3, epochs=1, batch_size=32), 5,
                    device="cpu", width=32)
    init = build_model("mlp", w.alice_train.input_shape, w.alice_train.num_classes_alice, width=32, seed=5)
    other = build_model("mlp", w.alice_train.input_shape, w.alice_train.num_classes_alice, width=32, seed=6)
    with pytest.raises(AssertionError, match="the trainings differ"):
        assert_same_training(list(a.parameters()), list(b.parameters()), list(init.parameters()))
    with pytest.raises(AssertionError, match="start is not the trainings' start"):
        assert_same_training(list(a.parameters()), list(a.parameters()), list(other.parameters()))


def test_stacked_alices_stop_early_as_each_would_alone(assert_same_training):
    """With patience, each stacked member stops when its own validation loss stalls (the others train
    on) and keeps its best epoch's weights: the same stop, best epoch and weights as alone."""
    cfg = TrainConfig(optimizer="sgd", lr=0.2, momentum=0.9, epochs=8, batch_size=32, patience=1, min_delta=0.05)
    worlds, seeds = _worlds(), [5, 6, 7]
    stacked = train_alices([w.alice_train for w in worlds], "mlp", cfg, seeds, test_pairs=[w.test for w in worlds],
                           device="cpu", width=32, group=3)
    stops = []
    for w, s, model in zip(worlds, seeds, stacked, strict=True):
        alone = train_alice(w.alice_train, "mlp", cfg, s, test_pairs=w.test, device="cpu", width=32)
        init = build_model("mlp", w.alice_train.input_shape, w.alice_train.num_classes_alice, width=32, seed=s)
        assert (model.record.stopped_by, model.record.best_epoch, len(model.record.history)) == (
            alone.record.stopped_by, alone.record.best_epoch, len(alone.record.history))
        assert_same_training(list(alone.parameters()), list(model.parameters()), list(init.parameters()))
        assert all("val_loss" in row for row in model.record.history)
        best = min(r["val_loss"] for r in alone.record.history)
        assert alone.record.history[alone.record.best_epoch - 1]["val_loss"] == best
        stops.append(alone.record.stopped_by)
    assert "patience" in stops  # the rule fired for some member within the cap
