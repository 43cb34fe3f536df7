"""Independent trainings side by side on the CPU (core.workers): same numbers as one at a time."""

import pytest
import torch

import reuse_utils as ru
from reuse_utils.core.workers import cpu_workers, map_workers
from reuse_utils.training import TrainConfig, train_alice, train_alices


def test_map_workers_keeps_order_and_restores_threads(monkeypatch):
    monkeypatch.setenv("REUSE_CPU_WORKERS", "3")
    before = torch.get_num_threads()
    inner = map_workers(lambda i: (i * i, torch.get_num_threads(), cpu_workers("cpu")), range(7), "cpu")
    assert [v for v, _, _ in inner] == [i * i for i in range(7)]
    assert {t for _, t, _ in inner} == {1} and {w for _, _, w in inner} == {1}  # one intra-op thread, no nesting
    assert torch.get_num_threads() == before
    assert cpu_workers("meta") == 1
    monkeypatch.setenv("REUSE_CPU_WORKERS", "0")
    with pytest.raises(ValueError, match="REUSE_CPU_WORKERS"):
        cpu_workers("cpu")
    monkeypatch.setenv("REUSE_CPU_WORKERS", "2")
    with pytest.raises(ZeroDivisionError):
        map_workers(lambda i: 1 / (i - 1), range(3), "cpu")
    assert torch.get_num_threads() == before


def test_seeded_builds_in_threads_equal_sequential_builds(monkeypatch):
    """Seeded weight draws borrow the global generator under a lock: built in threads, every net has
    exactly the weights of its sequential build, and the caller's RNG stream is untouched."""
    monkeypatch.setenv("REUSE_CPU_WORKERS", "4")
    seeds = list(range(12))
    build = lambda s: ru.build_model("cnn", (1, 28, 56), 10, width=4, seed=s)  # noqa: E731
    torch.manual_seed(123)
    threaded = map_workers(build, seeds, "cpu")
    after = torch.rand(3)
    torch.manual_seed(123)
    sequential = [build(s) for s in seeds]
    assert torch.equal(after, torch.rand(3))
    for a, b in zip(threaded, sequential, strict=True):
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(pa, pb)


def test_alices_side_by_side_equal_their_runs_alone(mnist5k_train, monkeypatch):
    """train_alices on the CPU (cnn: one at a time by policy) runs two Alices in threads; each is bit
    for bit her own train_alice run with one intra-op thread."""
    pairs = [ru.make_pairs(mnist5k_train, 160, t, 0.0, seed=s) for t, s in ((0.0, 0), (1.0, 1), (0.5, 2))]
    cfg = TrainConfig(epochs=2, batch_size=32)
    monkeypatch.setenv("REUSE_CPU_WORKERS", "2")
    together = train_alices(pairs, "cnn", cfg, [0, 1, 2], test_pairs=pairs, device="cpu", width=4)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        alone = [train_alice(p, "cnn", cfg, s, test_pairs=p, device="cpu", width=4) for p, s in zip(pairs, [0, 1, 2],
                                                                                                    strict=True)]
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(together, alone, strict=True):
        assert a.record.history == b.record.history
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(pa, pb)


def test_bob_members_side_by_side_equal_one_at_a_time(mnist5k_train, monkeypatch):
    """Conv Bob members on the CPU (not stacked) train in threads; selections and weights equal
    the same members trained one after another with one intra-op thread, bit for bit."""
    import copy

    from reuse_utils.training import BobProtocol, BobTask, fit_selected_many, split_train_val

    # the grid held fixed: a widening round with one member would run it on every intra-op thread
    proto = BobProtocol(lrs=(1e-3, 3e-3), max_epochs=3, head_epochs=3, patience=2, batch_size=32, lr_range=(1e-3, 3e-3))
    src = ru.build_model("cnn", (1, 28, 56), 10, width=4, seed=0)

    def tasks():
        out = []
        for t, seed in ((0.0, 0), (1.0, 1)):
            pairs = ru.make_pairs(mnist5k_train, 120, t, 0.0, seed=seed)
            tr, va = split_train_val(pairs, proto.val_fraction)
            bobs = [ru.make_bob(src, 3, m, 10, seed=seed) for m in ("reinit", "finetune")]
            x_tr, x_va = bobs[0].forward_to(tr.x, 2).detach(), bobs[0].forward_to(va.x, 2).detach()
            out.append(BobTask([copy.deepcopy(b) for b in bobs], ["reinit", "finetune"], x_tr, tr.y_bob, x_va,
                               va.y_bob, seed))
        return out

    monkeypatch.setenv("REUSE_CPU_WORKERS", "2")
    a_tasks = tasks()
    together = fit_selected_many(a_tasks, proto, torch.device("cpu"))
    monkeypatch.setenv("REUSE_CPU_WORKERS", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        b_tasks = tasks()
        alone = fit_selected_many(b_tasks, proto, torch.device("cpu"))
    finally:
        torch.set_num_threads(threads)
    assert together == alone
    for ta, tb in zip(a_tasks, b_tasks, strict=True):
        for ba, bb in zip(ta.bobs, tb.bobs, strict=True):
            for pa, pb in zip(ba.parameters(), bb.parameters(), strict=True):
                assert torch.equal(pa, pb)
