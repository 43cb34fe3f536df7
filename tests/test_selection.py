"""Bob's protocol: learning-rate grid and early stopping selected on validation — never on test."""

import copy

import pandas as pd
import pytest
import torch

import reuse_utils as ru
import reuse_utils.generator.worlds as worlds_mod
from reuse_utils.analysis import stats
from reuse_utils.experiments.presets import get_preset
from reuse_utils.training import BobProtocol, fit_selected, make_bob, split_train_val
from reuse_utils.training import selection as sel_mod

TINY = get_preset("smoke").with_(n_alice=300, n_bob=150, n_test=200, seeds=(0,), alice_epochs=1, bob_epochs=3,
                                 bob_head_epochs=4, bob_lrs=(1e-3, 1e-2))
GRID = {"dataset": ["mnist5k"], "task_corr": [0.0, 1.0], "k": [1, 2, 5], "mode": ["reinit", "finetune"]}


@pytest.fixture(scope="module")
def pairs(mnist5k_train):
    return ru.make_pairs(mnist5k_train, 240, 0.5, 0.3, seed=0)


def test_split_is_deterministic_and_disjoint(pairs):
    tr, va = split_train_val(pairs, 0.25)
    assert len(tr) == 180 and len(va) == 60
    assert torch.equal(torch.cat([tr.x, va.x]), pairs.x) and torch.equal(va.linked, pairs.linked[180:])
    with pytest.raises(ValueError, match="at least 2 training pairs"):
        split_train_val(pairs.subset(slice(0, 1)), 0.2)


@pytest.mark.parametrize("kwargs,match", [({"lrs": ()}, "lrs must be"), ({"lrs": (0.0,)}, "lrs must be"),
                                          ({"val_fraction": 1.0}, "val_fraction"), ({"patience": 0}, "patience"),
                                          ({"finetune_lr_factor": 2.0}, "finetune_lr_factor")])
def test_protocol_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BobProtocol(**kwargs)


def _members(pairs, k=2, arch="mlp"):
    src = ru.build_model(arch, pairs.input_shape, 10, width=16 if arch == "mlp" else 4, seed=0)
    return [make_bob(src, k, mode, 10, seed=1) for mode in ("reinit", "finetune")], ["reinit", "finetune"]


@pytest.mark.parametrize("arch, k", [("mlp", 2), ("cnn", 3)])
def test_stacked_training_equals_one_at_a_time(pairs, arch, k, assert_same_training):
    """The vmap path and the per-member loop run the same arithmetic (Adam, lr factors, stopping);
    for convolutions too (stacked on CUDA, one channels-last network at a time on the CPU)."""
    proto = BobProtocol(lrs=(1e-3, 3e-3), max_epochs=4, head_epochs=4, patience=2, batch_size=32,
                        finetune_lr_factor=0.1)
    tr, va = split_train_val(pairs, proto.val_fraction)
    bobs, modes = _members(pairs, k, arch)
    start = bobs[0].record.frozen_layers
    x_tr = bobs[0].forward_to(tr.x, start).detach()
    x_va = bobs[0].forward_to(va.x, start).detach()
    import torch.nn as nn

    members = [(i, lr) for i in range(2) for lr in proto.lrs]
    tops = [copy.deepcopy(nn.Sequential(*bobs[i].layers[start:])) for i, _ in members]
    factors = [ru.training.lr_factors(tops[j], modes[i], proto.finetune_lr_factor) for j, (i, _) in enumerate(members)]
    lrs = [lr for _, lr in members]

    def fit(stacked):
        m = ru.training.Members([copy.deepcopy(t) for t in tops], lrs, factors, [0] * len(tops),
                                [(x_tr, tr.y_bob, x_va, va.y_bob)], [0])
        return ru.training.fit_members(m, proto, 4, torch.device("cpu"), stacked=stacked)

    s_tops, s_stats = fit(True)
    l_tops, l_stats = fit(False)
    for a, b in zip(s_stats, l_stats, strict=True):
        assert a["epoch"] == b["epoch"] and a["epochs_run"] == b["epochs_run"]
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
    for ta, tb, t0 in zip(s_tops, l_tops, tops, strict=True):  # conftest: relative to the movement
        assert_same_training(list(ta.parameters()), list(tb.parameters()), list(t0.parameters()))
    assert any(f != 1.0 for f in factors[2].values()) and all(f == 1.0 for f in factors[0].values())


def test_which_members_stack():
    """Stacked unless BatchNorm is trained or convolutions run on the CPU (one at a time measured faster)."""
    conv = ru.build_model("cnn", (1, 28, 56), 10, width=4, seed=0)
    dense = ru.build_model("mlp", (1, 28, 56), 10, width=8, seed=0)
    res = ru.build_model("resnet18", (3, 16, 16), 10, seed=0)
    top = lambda m, k: torch.nn.Sequential(*m.layers[m.n_layers - k:])  # noqa: E731
    assert not sel_mod.members_stack(top(conv, 3), torch.device("cpu"))
    assert sel_mod.members_stack(top(conv, 2), torch.device("cpu"))
    assert sel_mod.members_stack(top(conv, 3), torch.device("cuda"))
    assert sel_mod.members_stack(top(dense, 4), torch.device("cpu"))
    assert not sel_mod.members_stack(top(res, 2), torch.device("cuda"))


def test_early_stopping_keeps_the_best_epoch(pairs):
    proto = BobProtocol(lrs=(0.3,), max_epochs=12, head_epochs=12, patience=1, batch_size=16)  # far too large a rate
    tr, va = split_train_val(pairs, proto.val_fraction)
    bobs, modes = _members(pairs)
    start = bobs[0].record.frozen_layers
    (sel,) = fit_selected(bobs[:1], modes[:1], bobs[0].forward_to(tr.x, start).detach(), tr.y_bob,
                          bobs[0].forward_to(va.x, start).detach(), va.y_bob, proto, 0, torch.device("cpu"))
    assert sel.epochs_run < 12 and 1 <= sel.epoch <= sel.epochs_run
    with torch.no_grad():
        logits = bobs[0].forward_from(bobs[0].forward_to(va.x, start), start)
    assert float(torch.nn.functional.cross_entropy(logits, va.y_bob)) == pytest.approx(sel.val_loss, abs=1e-4)


def test_selection_never_looks_at_test_labels(tmp_path, monkeypatch):
    """Corrupt every test label: the chosen learning rates, epochs, validation scores and k* stay the
    same; only the test accuracies move."""
    kw = {"preset": TINY, "progress": False, "device": "cpu"}
    clean = ru.run_sweep(GRID, cache_dir=tmp_path / "clean", **kw)
    real = worlds_mod.make_world

    def corrupted(*a, **k):
        w = real(*a, **k)
        gen = torch.Generator().manual_seed(123)
        w.test.y_bob = w.test.y_bob[torch.randperm(len(w.test.y_bob), generator=gen)]
        return w

    monkeypatch.setattr(ru.experiments.sweep_context, "make_world", corrupted)
    bad = ru.run_sweep(GRID, cache_dir=tmp_path / "bad", **kw)
    key = ["task_corr", "k", "mode"]
    m = clean.merge(bad, on=key, suffixes=("", "_bad"))
    for col in ("bob_lr", "bob_l2", "bob_epoch", "bob_iters", "bob_val_acc", "bob_val_loss", "stopped_by",
                "selection_edge"):
        assert m[col].equals(m[f"{col}_bad"].rename(col)), col  # NaN (lr of a convex head) equals NaN here
    assert (m.bob_test_acc != m.bob_test_acc_bad).any()
    pick = stats.optimal_depth(clean[clean["mode"] == "reinit"], "task_corr", value="bob_val_acc")
    pick_bad = stats.optimal_depth(bad[bad["mode"] == "reinit"], "task_corr", value="bob_val_acc")
    assert list(pick.best_k) == list(pick_bad.best_k)


def test_case_gains_choose_on_validation():
    rows = []
    for seed in range(2):
        for k, mode, val, test in [(1, "reinit", 0.9, 0.6), (2, "reinit", 0.7, 0.95), (3, "reinit", 0.5, 0.5)]:
            rows.append({"task": "t", "group": "related", "seed": seed, "k": k, "n_layers": 3, "mode": mode,
                         "source": "alice", "bob_val_acc": val, "bob_test_acc": test, "measured_corr": 0.5})
    gains = ru.case_gains(pd.DataFrame(rows))
    assert set(gains.best_k) == {1}  # the validation winner, although k = 2 is better on test
    assert gains.error_reduction.iloc[0] == pytest.approx((0.5 - 0.4) / 0.5)


def test_many_worlds_in_one_loop_equal_each_world_alone(assert_same_training):
    """fit_selected_many: Bobs of three worlds (own data, own minibatch order) trained in one stacked
    loop select the same learning rate and epoch, and reach the same weights, as each world alone (the
    grid held fixed: the widening only adds members, decided from the same validation losses)."""
    proto = BobProtocol(lrs=(1e-3, 3e-3), max_epochs=4, head_epochs=4, patience=2, batch_size=32,
                        lr_range=(1e-3, 3e-3))
    tasks_a, tasks_b, starts = [], [], []
    for t, seed in ((0.0, 0), (0.5, 1), (1.0, 2)):
        w = ru.make_world("mnist5k", t, 0.0, seed, n_alice=None, n_bob=200, n_test=50)
        tr, va = split_train_val(w.bob_train, proto.val_fraction)
        bobs, modes = _members(w.bob_train)
        start = bobs[0].record.frozen_layers
        x_tr, x_va = bobs[0].forward_to(tr.x, start).detach(), bobs[0].forward_to(va.x, start).detach()
        starts.append([copy.deepcopy(b) for b in bobs])
        for tasks in (tasks_a, tasks_b):
            tasks.append(sel_mod.BobTask([copy.deepcopy(b) for b in bobs], modes, x_tr, tr.y_bob, x_va, va.y_bob,
                                         10 + seed))
    together = sel_mod.fit_selected_many(tasks_a, proto, torch.device("cpu"))
    alone = [sel_mod.fit_selected_many([task], proto, torch.device("cpu"))[0] for task in tasks_b]
    for ta, tb, t0, sa, sb in zip(tasks_a, tasks_b, starts, together, alone, strict=True):
        for ba, bb, b0, a, b in zip(ta.bobs, tb.bobs, t0, sa, sb, strict=True):
            assert (a.lr, a.epoch, a.epochs_run) == (b.lr, b.epoch, b.epochs_run)
            assert a.val_loss == pytest.approx(b.val_loss, rel=1e-4)
            assert_same_training(list(ba.parameters()), list(bb.parameters()), list(b0.parameters()))
    with pytest.raises(ValueError, match="training and validation pairs"):
        short = sel_mod.BobTask(tasks_a[0].bobs, tasks_a[0].modes, tasks_a[0].train_x[:-1], tasks_a[0].train_y[:-1],
                                tasks_a[0].val_x, tasks_a[0].val_y, 0)
        sel_mod.fit_selected_many([tasks_a[1], short], proto, torch.device("cpu"))


def _head_task(pairs, src_arch="mlp"):
    src = ru.build_model(src_arch, pairs.input_shape, 10, width=16, seed=0)
    bob = make_bob(src, 1, "reinit", 10, seed=1)
    tr, va = split_train_val(pairs, 0.25)
    start = bob.record.frozen_layers
    return bob, bob.forward_to(tr.x, start).detach(), tr.y_bob, bob.forward_to(va.x, start).detach(), va.y_bob


def test_convex_head_is_the_logistic_regression_optimum(pairs):
    """k = 1 is solved as a convex problem: the head equals scikit-learn's multinomial logistic
    regression (an independent solver) with the same L2 strength on the same standardised features."""
    from sklearn.linear_model import LogisticRegression

    bob, xt, yt, xv, yv = _head_task(pairs)
    proto = BobProtocol(l2s=(1e-2,), l2_range=(1e-2, 1e-2), solver_tol=1e-8)
    (sel,) = fit_selected([bob], ["reinit"], xt, yt, xv, yv, proto, 0, torch.device("cpu"))
    assert sel.stopped_by == "solver" and sel.l2 == 1e-2 and sel.selection_edge  # a one-value grid is its own edge
    mu, sd = xt.double().mean(0), xt.double().std(0, unbiased=False).clamp_min(1e-8)
    sd[xt.double().std(0, unbiased=False) < 1e-8] = 1.0
    z = ((xt.double() - mu) / sd).numpy()
    ref = LogisticRegression(C=1 / (len(yt) * 1e-2), tol=1e-10, max_iter=10_000).fit(z, yt.numpy())
    with torch.no_grad():
        ours = torch.softmax(bob.forward_from(xv, bob.record.frozen_layers).double(), 1).numpy()
    theirs = ref.predict_proba(((xv.double() - mu) / sd).numpy())
    assert abs(ours - theirs).max() < 1e-3
    with torch.no_grad():
        loss = float(torch.nn.functional.cross_entropy(bob.forward_from(xv, bob.record.frozen_layers), yv))
    assert sel.val_loss == pytest.approx(loss, rel=1e-4)


def test_grids_widen_until_the_choice_is_interior(pairs):
    bob, xt, yt, xv, yv = _head_task(pairs)
    (sel,) = fit_selected([bob], ["reinit"], xt, yt, xv, yv, BobProtocol(l2s=(30.0,)), 0, torch.device("cpu"))
    assert not sel.selection_edge and len(sel.tried) >= 3 and min(sel.tried) < sel.l2 < max(sel.tried)
    capped = BobProtocol(l2s=(30.0,), l2_range=(10.0, 100.0))  # the grid may not go low enough: flagged
    (edge,) = fit_selected([copy.deepcopy(bob)], ["reinit"], xt, yt, xv, yv, capped, 0, torch.device("cpu"))
    assert edge.selection_edge and edge.l2 == pytest.approx(10.0)
    bobs, modes = _members(pairs)
    tr, va = split_train_val(pairs, 0.2)
    start = bobs[0].record.frozen_layers
    x_tr, x_va = bobs[0].forward_to(tr.x, start).detach(), bobs[0].forward_to(va.x, start).detach()
    slow = BobProtocol(lrs=(1e-5,), max_epochs=30, patience=2, batch_size=32)
    sels = fit_selected(bobs, modes, x_tr, tr.y_bob, x_va, va.y_bob, slow, 0, torch.device("cpu"))
    for s in sels:
        assert s.lr > 1e-5 and not s.selection_edge and s.stopped_by in ("patience", "cap")
        assert s.tried[0] == pytest.approx(1e-5) and len(s.tried) >= 3
    short = BobProtocol(lrs=(1e-3,), lr_range=(1e-3, 1e-3), max_epochs=2, patience=5)
    (cap,) = fit_selected([copy.deepcopy(bobs[0])], modes[:1], x_tr, tr.y_bob, x_va, va.y_bob, short, 0,
                          torch.device("cpu"))
    assert cap.stopped_by == "cap" and cap.epochs_run == 2 and cap.selection_edge


def test_uninformative_features_end_at_the_constant_prediction_not_at_an_edge():
    """Labels independent of the features: the validation loss falls toward the constant prediction's
    as λ grows, so the largest λ wins — the limit λ → ∞ itself, not an under-searched grid. With
    informative features the same grid ends inside."""
    from reuse_utils.training.selection import fit_logistic_head

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400, 16, generator=gen)
    noise = torch.randint(0, 4, (400,), generator=gen)
    _, _, flat = fit_logistic_head(x[:300], noise[:300], x[300:], noise[300:], 4, BobProtocol())
    assert flat.l2 == max(flat.tried) and not flat.selection_edge and flat.val_acc < 0.5
    signal = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()
    _, _, good = fit_logistic_head(x[:300], signal[:300], x[300:], signal[300:], 4, BobProtocol())
    assert min(good.tried) < good.l2 < max(good.tried) and not good.selection_edge and good.val_acc > 0.8
