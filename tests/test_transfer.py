import copy

import pytest
import torch

from reuse_utils.generator import make_pairs
from reuse_utils.training.inference import evaluate
from reuse_utils.training.models import build_model
from reuse_utils.training.transfer import (
    TrainConfig,
    make_bob,
    random_source,
    train_alice,
    train_bob,
)

CFG = TrainConfig("adam", 1e-2, epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def pairs(digits_train):
    return make_pairs(digits_train, 400, 0.5, 0.0, seed=0)


@pytest.fixture(scope="module")
def alice(pairs):
    return train_alice(pairs, "cnn", CFG, seed=0, device="cpu", width=4)


def _params(layer):
    return [p.detach().clone() for p in layer.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_alice_learns_and_is_deterministic(pairs, alice):
    again = train_alice(pairs, "cnn", CFG, seed=0, device="cpu", width=4)
    for (n1, p1), (_, p2) in zip(alice.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(p1, p2), n1
    assert len(alice.record.history) == 2
    assert evaluate(alice, pairs, "alice") > 0.2  # at least twice chance (1/10) after two epochs


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_frozen_layers_unchanged_trainable_changed(pairs, alice, k):
    bob = make_bob(alice, k, "finetune", 10, seed=1)
    before = [_params(layer) for layer in bob.layers]
    train_bob(bob, pairs, CFG, seed=1, device="cpu")
    L = bob.n_layers
    for i, layer in enumerate(bob.layers):
        if i < L - k:
            assert _same(before[i], _params(layer)), f"frozen layer {i} changed"
            assert all(not p.requires_grad for p in layer.parameters())
        else:
            assert not _same(before[i], _params(layer)), f"trainable layer {i} did not train"


def test_frozen_batchnorm_statistics_stay_frozen(digits_train):
    from reuse_utils.datasets import ImageDataset

    rgb = ImageDataset(digits_train.images.expand(-1, 3, -1, -1).contiguous(), digits_train.labels,
                       digits_train.classes, "digits_rgb")
    p = make_pairs(rgb, 64, 0.0, seed=0)
    src = build_model("resnet18", p.input_shape, 10, seed=0)
    bob = make_bob(src, 2, "finetune", 10, seed=0)
    stem_bn = bob.layers[0][1]
    mean_before = stem_bn.running_mean.clone()
    train_bob(bob, p, TrainConfig("adam", 1e-3, epochs=1, batch_size=32), seed=0, device="cpu",
              cache_features=False)
    assert torch.equal(mean_before, stem_bn.running_mean)
    top_bn = bob.layers[4][0].bn1
    assert top_bn.num_batches_tracked > 0  # trainable layers do update their statistics


def test_reinit_vs_finetune(alice):
    L = alice.n_layers
    fine = make_bob(alice, 3, "finetune", 10, seed=2)
    reinit = make_bob(alice, 3, "reinit", 10, seed=2)
    for i in range(L - 3, L - 1):  # top-k layers below the output
        assert _same(_params(fine.layers[i]), _params(alice.layers[i]))
        assert not _same(_params(reinit.layers[i]), _params(alice.layers[i]))
    for bob in (fine, reinit):  # output layer always re-initialised
        assert not _same(_params(bob.layers[-1]), _params(alice.layers[-1]))
        for i in range(L - 3):
            assert _same(_params(bob.layers[i]), _params(alice.layers[i]))
    one_f, one_r = make_bob(alice, 1, "finetune", 10, seed=4), make_bob(alice, 1, "reinit", 10, seed=4)
    assert all(_same(_params(a), _params(b)) for a, b in zip(one_f.layers, one_r.layers, strict=True))
    assert _same(_params(alice.layers[-1]), _params(copy.deepcopy(alice).layers[-1]))  # source untouched


def test_new_class_count_and_k0(alice, pairs):
    bob = make_bob(alice, 2, "reinit", 3, seed=0)
    assert bob(pairs.x[:4]).shape == (4, 3)
    same = make_bob(alice, 0, "reinit", 10, seed=0)
    assert evaluate(same, pairs, "bob") == evaluate(alice, pairs, "bob")
    with pytest.raises(ValueError, match="k = 0"):
        make_bob(alice, 0, "reinit", 3, seed=0)


@pytest.mark.parametrize("k", [-1, 6, 2.0, "all"])
def test_bad_k_states_range(alice, k):
    with pytest.raises(ValueError, match=r"k must be an integer in \[0, 5\]"):
        make_bob(alice, k, "reinit", 10, seed=0)


def test_bad_mode_and_source(alice):
    with pytest.raises(ValueError, match="mode must be one of"):
        make_bob(alice, 1, "freeze", 10, seed=0)
    with pytest.raises(ValueError, match="source must be a LayeredNet"):
        make_bob(torch.nn.Linear(2, 2), 1, "reinit", 10, seed=0)


def test_random_source_control(alice, pairs):
    r1 = random_source("cnn", pairs.input_shape, 10, seed=3, width=4)
    r2 = random_source("cnn", pairs.input_shape, 10, seed=3, width=4)
    assert _same(_params(r1), _params(r2))
    assert not _same(_params(r1.layers[0]), _params(alice.layers[0]))
    bob = train_bob(make_bob(r1, 2, "reinit", 10, seed=0), pairs, CFG, seed=0, device="cpu")
    L = bob.n_layers  # the control's features are the untrained network's, kept frozen through training
    assert _same(_params(torch.nn.Sequential(*bob.layers[:L - 2])), _params(torch.nn.Sequential(*r1.layers[:L - 2])))
    assert not _same(_params(bob.layers[L - 2]), _params(r1.layers[L - 2]))  # the top k were trained
    pred = bob(pairs.x).argmax(1)
    assert evaluate(bob, pairs) == float((pred == pairs.y_bob).float().mean())


def test_feature_cache_matches_full_forward(alice, pairs):
    a = train_bob(make_bob(alice, 2, "finetune", 10, seed=5), pairs, CFG, seed=5, device="cpu", cache_features=True)
    b = train_bob(make_bob(alice, 2, "finetune", 10, seed=5), pairs, CFG, seed=5, device="cpu", cache_features=False)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-5)


def test_train_history_with_test_pairs(alice, pairs):
    bob = train_bob(make_bob(alice, 1, "reinit", 10, seed=0), pairs, CFG, seed=0, device="cpu", test_pairs=pairs)
    assert [h["epoch"] for h in bob.record.history] == [1, 2]
    assert "test_acc" in bob.record.history[-1]


@pytest.mark.parametrize("kwargs,match", [
    ({"optimizer": "rmsprop"}, "optimizer must be one of"),
    ({"lr": 0}, "lr must be"),
    ({"lr": float("inf")}, "lr must be"),
    ({"momentum": 1.0}, "momentum must be in"),
    ({"weight_decay": -1e-4}, "weight_decay must be"),
    ({"epochs": 0}, "epochs must be an integer"),
    ({"batch_size": 2.5}, "batch_size must be an integer"),
    ({"cosine": "yes"}, "cosine must be"),
])
def test_train_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_cosine_schedule_follows_its_trajectory(pairs, monkeypatch):
    """With ``cosine`` the learning rate of step i (of T = steps per epoch × epochs) is
    lr · (1 + cos(π i / T)) / 2; without it, lr at every step."""
    import math

    seen = []
    real = torch.optim.SGD.step

    def step(self, *a, **k):
        seen.append(self.param_groups[0]["lr"])
        return real(self, *a, **k)

    monkeypatch.setattr(torch.optim.SGD, "step", step)
    cfg = TrainConfig("sgd", 0.05, epochs=2, batch_size=16, cosine=True)
    m = train_alice(pairs, "mlp", cfg, seed=0, device="cpu", width=16)
    T = math.ceil(len(pairs) / 16) * 2
    assert len(m.record.history) == 2 and len(seen) == T
    assert seen == pytest.approx([0.05 * (1 + math.cos(math.pi * i / T)) / 2 for i in range(T)], rel=1e-9, abs=1e-12)
    seen.clear()
    train_alice(pairs, "mlp", TrainConfig("sgd", 0.05, epochs=2, batch_size=16), seed=0, device="cpu", width=16)
    assert seen == [0.05] * T


def test_bad_target_and_seed(alice, pairs):
    with pytest.raises(ValueError, match="target must be"):
        evaluate(alice, pairs, "carol")
    with pytest.raises(ValueError, match="seed must be"):
        train_alice(pairs, "cnn", CFG, seed=-3)


def test_channels_last_switch_gives_same_training(pairs, alice, assert_same_training):
    from reuse_utils.core.device import Accel

    start = make_bob(alice, 3, "reinit", 10, seed=5)
    a = train_bob(make_bob(alice, 3, "reinit", 10, seed=5), pairs, CFG, seed=5, device="cpu")
    b = train_bob(make_bob(alice, 3, "reinit", 10, seed=5), pairs, CFG, seed=5, device="cpu",
                  accel=Accel(channels_last=True))
    assert_same_training(list(a.parameters()), list(b.parameters()), list(start.parameters()))


def test_frozen_features_from_a_shallower_prefix_equal_from_inputs(pairs, alice):
    """A prefix computed on from a shallower one (the sweep's cache does) equals it from the inputs."""
    from reuse_utils.training import frozen_features

    x = pairs.x[:70]
    one = frozen_features(alice, x, 1, "cpu", batch_size=32)
    assert torch.equal(frozen_features(alice, one, 3, "cpu", batch_size=32, begin=1),
                       frozen_features(alice, x, 3, "cpu", batch_size=32))
    with pytest.raises(ValueError, match="begin"):
        frozen_features(alice, one, 1, "cpu", begin=2)


@pytest.mark.parametrize("arch,shape", [("cnn", (1, 16, 32)), ("mlp", (1, 16, 32)), ("resnet18", (3, 16, 32))])
def test_fully_reinitialised_bob_keeps_nothing_of_his_source(arch, shape):
    """k = L, reinit: every weight and BatchNorm statistic is drawn from Bob's seed, whatever the
    source (what lets the sweep and the case studies train such a Bob once for all his sources)."""
    a = build_model(arch, shape, 4, seed=1)
    b = build_model(arch, shape, 4, seed=2)
    with torch.no_grad():  # give the sources different BatchNorm statistics too
        for net, v in ((a, 0.3), (b, -0.7)):
            for buf in net.buffers():
                if buf.dtype.is_floating_point:
                    buf.add_(v)
    bob_a, bob_b = (make_bob(src, src.n_layers, "reinit", 3, seed=9) for src in (a, b))
    sa, sb = bob_a.state_dict(), bob_b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name
    kept_a, kept_b = (next(make_bob(src, src.n_layers - 1, "reinit", 3, seed=9).parameters()) for src in (a, b))
    assert not torch.equal(kept_a, kept_b)  # with a layer kept, the source shows


def test_alice_final_test_acc_is_her_evaluated_accuracy(pairs, tmp_path):
    """The Alice store keeps the accuracy train_alice measured after the last epoch instead of
    measuring it again: it must be exactly evaluate() of the returned weights."""
    from reuse_utils.experiments.alices import AliceStore
    from reuse_utils.generator import World

    test = pairs.subset(slice(0, 150))
    alice = train_alice(pairs, "cnn", CFG, seed=3, test_pairs=test, device="cpu", width=4)
    assert alice.record.final_test_acc == evaluate(alice, test, "alice") == alice.record.history[-1]["test_acc"]
    assert train_alice(pairs, "cnn", CFG, seed=3, device="cpu", width=4).record.final_test_acc is None
    store = AliceStore(tmp_path, torch.device("cpu"))
    meta = store.put({"k": 1}, alice, World("x", 0.5, 0.0, 3, pairs, pairs, test), 1.0)
    assert meta["alice_test_acc"] == evaluate(alice, test, "alice")
