"""Bob's training with model selection on validation data — never on test data.

Protocol (:class:`BobProtocol`), for one Bob network per mode at one depth k:

* Bob's training pairs are split: the last ``val_fraction`` of them (the pairs are i.i.d.) are his
  **validation** set, the rest his training set (:func:`split_train_val`).
* Every (mode, learning rate) of the grid ``lrs`` trains with Adam from the same initial weights
  and one shared minibatch order. After each epoch its validation loss (mean cross-entropy) is
  measured; the weights of its best epoch are kept (**early stopping**: training of a member stops
  after ``patience`` epochs without improvement, at most ``max_epochs``; the head-only Bob, k = 1,
  gets ``head_epochs`` to train to convergence).
* ``finetune``: the pretrained layers among the top k (all but the new output layer) learn at
  ``lr × finetune_lr_factor``; ``reinit`` layers and the output layer at ``lr``.
* Per mode, the learning rate with the lowest best validation loss is **selected**; its weights,
  learning rate, epoch, validation loss and accuracy are returned. Test data play no part.

Members that can be stacked (:func:`members_stack`: no BatchNorm in the trained layers, no
convolution on the CPU) train together with ``torch.func.vmap`` and a per-member Adam
(:func:`fit_selected`); others one at a time with the same arithmetic. :func:`fit_selected_many` stacks the members of many worlds (seeds × correlation
levels at one depth), each on its own data and minibatch order.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from reuse_utils.core.device import Accel, autocast, seed_everything
from reuse_utils.core.ids import check_seed
from reuse_utils.core.workers import map_workers
from reuse_utils.generator import Pairs
from reuse_utils.training.ensemble import stackable
from reuse_utils.training.models import LayeredNet
from reuse_utils.training.transfer import MODES, frozen_depth, frozen_features

__all__ = ["BobProtocol", "BobTask", "fit_selected", "fit_selected_many", "members_stack", "split_train_val", "task_on_pairs", "Selection",
           "train_bob_selected"]

BETAS, EPS = (0.9, 0.999), 1e-8  # Adam's defaults


@dataclass(frozen=True)
class BobProtocol:
    """How every Bob is trained and selected (module docstring). Units: learning rates per Adam
    step, epochs as passes over Bob's training part, ``val_fraction`` of his pairs."""

    lrs: tuple[float, ...] = (1e-3,)
    max_epochs: int = 8
    head_epochs: int = 24
    patience: int = 3
    batch_size: int = 64
    val_fraction: float = 0.2
    finetune_lr_factor: float = 0.1

    def __post_init__(self) -> None:
        if (not isinstance(self.lrs, tuple) or not self.lrs
                or not all(isinstance(v, numbers.Real) and math.isfinite(v) and v > 0 for v in self.lrs)):
            raise ValueError(f"lrs must be a non-empty tuple of finite numbers > 0; got {self.lrs!r}")
        for name in ("max_epochs", "head_epochs", "patience", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or not 1 <= v <= 100_000:
                raise ValueError(f"{name} must be an integer in [1, 100000]; got {v!r}")
        if not isinstance(self.val_fraction, numbers.Real) or not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1); got {self.val_fraction!r}")
        if not isinstance(self.finetune_lr_factor, numbers.Real) or not 0 < self.finetune_lr_factor <= 1:
            raise ValueError(f"finetune_lr_factor must be in (0, 1]; got {self.finetune_lr_factor!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lrs"] = list(self.lrs)
        return d

    def epochs_for(self, k: int) -> int:
        return self.head_epochs if k == 1 else self.max_epochs


@dataclass
class Selection:
    """The selected member of one mode: ``lr``, best ``epoch`` (1-based), ``val_loss`` and
    ``val_acc`` at that epoch, and ``epochs_run`` of that member."""

    lr: float
    epoch: int
    val_loss: float
    val_acc: float
    epochs_run: int


def split_train_val(pairs: Pairs, val_fraction: float) -> tuple[Pairs, Pairs]:
    """(training part, validation part): the last ``round(n · val_fraction)`` pairs (at least one
    each) are validation. Deterministic, and a random split because the pairs come in a random order:
    generated pairs are i.i.d., the case studies' images are shuffled
    (:func:`reuse_utils.datasets.per_class`). Pairs listed class by class would validate on one class."""
    n = len(pairs)
    if n < 2:
        raise ValueError(f"Bob needs at least 2 training pairs to hold some out for validation; got {n}")
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    return pairs.subset(slice(0, n - n_val)), pairs.subset(slice(n - n_val, n))


def _lr_factors(bob: LayeredNet, top: nn.Module, mode: str, factor: float) -> dict[str, float]:
    """Per trained-parameter lr multiplier: ``factor`` on pretrained layers in finetune mode."""
    out_layer = len(top) - 1
    names = dict(top.named_parameters())
    return {n: (factor if mode == "finetune" and int(n.split(".")[0]) < out_layer else 1.0) for n in names}


def _mean_ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits.float(), y)


@dataclass
class BobTask:
    """One world's Bobs at one depth for :func:`fit_selected_many`: one Bob per entry of ``modes``,
    their trained layers' inputs (``train_x`` / ``val_x``: frozen-prefix activations, or raw inputs
    when nothing is frozen) with labels, and the seed of the task's minibatch order."""

    bobs: list[LayeredNet]
    modes: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    seed: int


def task_on_pairs(bobs: list[LayeredNet], modes: list[str], pairs: Pairs, inputs: torch.Tensor, val_fraction: float,
                  seed: int) -> tuple[BobTask, Pairs]:
    """The :class:`BobTask` of Bobs trained on ``pairs`` — split by :func:`split_train_val`, ``inputs``
    (their trained layers' inputs for every pair, in order) sliced alike — and its training part."""
    train, val = split_train_val(pairs, val_fraction)
    n = len(train)
    return BobTask(bobs, modes, inputs[:n], train.y_bob, inputs[n:], val.y_bob, seed), train


def fit_selected(bobs: list[LayeredNet], modes: list[str], train_x: torch.Tensor, train_y: torch.Tensor,
                 val_x: torch.Tensor, val_y: torch.Tensor, protocol: BobProtocol, seed: int,
                 device: torch.device, accel: Accel | None = None) -> list[Selection]:
    """Train every Bob (one per entry of ``modes``, all at the same depth) over the protocol's
    learning-rate grid and keep, per Bob, the selected member's best weights (in place).

    ``train_x`` / ``val_x`` are the inputs of the trained layers (frozen-prefix activations, or raw
    inputs when nothing is frozen). Returns one :class:`Selection` per Bob.
    """
    return fit_selected_many([BobTask(bobs, modes, train_x, train_y, val_x, val_y, seed)], protocol, device, accel)[0]


def fit_selected_many(tasks: list[BobTask], protocol: BobProtocol, device: torch.device,
                      accel: Accel | None = None) -> list[list[Selection]]:
    """:func:`fit_selected` for many worlds at once: every (task, Bob, learning rate) is one member of
    one stacked training loop (same depth, same architecture, same numbers of training and
    validation pairs); each task keeps its own data and minibatch order, so each Bob's result
    equals its task trained alone up to float rounding. Returns the selections task by task.
    A learning rate whose training diverges keeps its best finite epoch (or is never chosen); a Bob whose
    every rate diverged from the first epoch is a ``FloatingPointError`` naming the task seed and rates."""
    if not tasks:
        raise ValueError("tasks must be a non-empty list of BobTask")
    for task in tasks:
        if len(task.bobs) != len(task.modes) or not task.bobs:
            raise ValueError(f"bobs and modes must be non-empty lists of equal length; got {len(task.bobs)} and "
                             f"{len(task.modes)}")
        bad = [m for m in task.modes if m not in MODES]
        if bad:
            raise ValueError(f"modes must be among {list(MODES)}; got {bad}")
    bobs = [b for task in tasks for b in task.bobs]
    start = frozen_depth(bobs[0])
    k = bobs[0].n_layers - start
    if any(frozen_depth(b) != start for b in bobs):
        raise ValueError("bobs must share their frozen depth")
    sizes = {(len(t.train_y), len(t.val_y)) for t in tasks}
    if len(sizes) != 1:
        raise ValueError(f"tasks must share their numbers of training and validation pairs; got {sorted(sizes)}")
    seeds = [check_seed(t.seed) for t in tasks]
    acc = (accel or Accel()).resolve(device)
    seed_everything(seeds[0])
    members = [(ti, i, lr) for ti, task in enumerate(tasks) for i in range(len(task.bobs)) for lr in protocol.lrs]
    tops = [copy.deepcopy(nn.Sequential(*tasks[ti].bobs[i].layers[start:])).to(device) for ti, i, _ in members]
    factors = [_lr_factors(tasks[ti].bobs[i], tops[j], tasks[ti].modes[i], protocol.finetune_lr_factor)
               for j, (ti, i, _) in enumerate(members)]
    lrs = [lr for _, _, lr in members]
    owner = [ti for ti, _, _ in members]
    data = [(t.train_x.to(device), t.train_y.to(device), t.val_x.to(device), t.val_y.to(device)) for t in tasks]
    epochs = protocol.epochs_for(k)
    fit = _fit_stacked if members_stack(tops[0], device) else _fit_apart
    best_tops, stats = fit(tops, lrs, factors, owner, data, protocol, epochs, seeds, device, acc)
    out = []
    for ti, task in enumerate(tasks):
        sel = []
        for i, bob in enumerate(task.bobs):
            js = [j for j, (mt, mi, _) in enumerate(members) if mt == ti and mi == i]
            j = min(js, key=lambda j: (stats[j]["val_loss"], -stats[j]["val_acc"], js.index(j)))
            if not math.isfinite(stats[j]["val_loss"]):  # a diverged rate is never chosen; all diverged: an error
                _no_finite_epoch(task.seed, [lrs[x] for x in js])
            with torch.no_grad():
                for layer, new in zip(bob.layers[start:], best_tops[j], strict=True):
                    layer.load_state_dict(new.state_dict())
            bob.eval()
            sel.append(Selection(lr=lrs[j], **stats[j]))
        out.append(sel)
    return out


def members_stack(top: nn.Module, device: torch.device) -> bool:
    """Whether Bobs with trained layers ``top`` train stacked on ``device`` (else one at a time, same
    arithmetic): not with BatchNorm (its statistics are per call), and not convolutions on the CPU,
    where channels-last networks one at a time, side by side in threads, beat the stacked (grouped,
    NCHW) convolution (2 cores, quick cnn, 2 modes × 2 learning rates: k = 3 1.3×, k = 4 1.3×,
    k = 5 2.2×; ``benchmarks/measured/memory_format_quick_cpu2.json``)."""
    return stackable(top) and not (torch.device(device).type == "cpu" and any(isinstance(m, nn.Conv2d) for m in top.modules()))


def _eval_members(forward, val_x: torch.Tensor, val_y: torch.Tensor, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-member mean validation loss and accuracy; ``forward(x)`` returns M×B×classes logits."""
    losses, hits = [], []
    for i in range(0, len(val_y), chunk):
        logits = forward(val_x[i: i + chunk]).float()
        y = val_y[i: i + chunk]
        losses.append(nn.functional.cross_entropy(logits.transpose(1, 2), y.expand(len(logits), -1),
                                                  reduction="none").sum(1))
        hits.append((logits.argmax(2) == y).float().sum(1))
    n = len(val_y)
    return torch.stack(losses).sum(0) / n, torch.stack(hits).sum(0) / n


def _no_finite_epoch(seed: int, lrs: list[float]) -> None:
    """``FloatingPointError``: at every learning rate of the grid, Bob's validation loss was never finite."""
    raise FloatingPointError(f"Bob training (task seed {seed}): the validation loss was not finite in any epoch at "
                             f"any learning rate of {lrs}; lower the learning rates or check the inputs")


def _fit_stacked(tops, lrs, factors, owner, data, protocol, epochs, seeds, device, acc):
    """Members ``tops`` trained together; member j trains on ``data[owner[j]]`` with that task's
    minibatch order (a generator seeded with ``seeds[owner[j]]``). Adam per member with its own
    learning rate, in ``torch._foreach`` arithmetic (a few kernels per step, not a few per tensor)."""
    params, buffers = stack_module_state(tops)
    params = {k: v.detach().contiguous().clone().requires_grad_(True) for k, v in params.items()}
    names = list(params)
    plist = [params[n] for n in names]
    base = copy.deepcopy(tops[0]).to("meta")
    m, n_tasks = len(tops), len(data)
    lr_vec = [torch.tensor([lrs[j] * factors[j][n] for j in range(m)], device=device).view(-1, *[1] * (params[n].ndim - 1))
              for n in names]
    mom = [torch.zeros_like(p) for p in plist]
    var = [torch.zeros_like(p) for p in plist]

    def call(p, b, x):
        return functional_call(base, (p, b), (x,))

    shared = n_tasks == 1
    batched = torch.vmap(call, in_dims=(0, 0, None if shared else 0))
    own = torch.tensor(owner, device=device)
    if shared:
        train_x, train_y, val_x, val_y = data[0]
    else:
        train_x, train_y = torch.stack([d[0] for d in data]), torch.stack([d[1] for d in data])
        val_x, val_y = torch.stack([d[2] for d in data]), torch.stack([d[3] for d in data])
    n_train = train_y.shape[-1]
    rows = torch.arange(n_tasks, device=device).unsqueeze(1)
    best = [p.detach().clone() for p in plist]
    best_loss = torch.full((m,), math.inf, device=device)
    best_acc = torch.zeros(m, device=device)
    best_epoch = torch.zeros(m, dtype=torch.long, device=device)
    stale = torch.zeros(m, dtype=torch.long, device=device)
    active = torch.ones(m, dtype=torch.bool, device=device)
    ran = torch.zeros(m, dtype=torch.long, device=device)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    step = 0
    for epoch in range(1, epochs + 1):
        perm = torch.stack([torch.randperm(n_train, generator=g) for g in gens]).to(device)
        keep = active.float()
        lr_eff = [lv * keep.view(-1, *[1] * (lv.ndim - 1)) for lv in lr_vec]  # stopped members stand still
        for i in range(0, n_train, protocol.batch_size):
            idx = perm[:, i: i + protocol.batch_size]
            if shared:
                xb, yb = train_x[idx[0]], train_y[idx[0]].expand(m, -1)
            else:
                xb, yb = train_x[rows, idx][own], train_y.gather(1, idx)[own]
            with autocast(device, enabled=acc.bf16):
                logits = batched(params, buffers, xb)
            loss = nn.functional.cross_entropy(logits.float().transpose(1, 2), yb, reduction="sum") / idx.shape[1]
            grads = torch.autograd.grad(loss, plist)
            step += 1
            with torch.no_grad():
                c1, c2 = 1 - BETAS[0] ** step, 1 - BETAS[1] ** step
                torch._foreach_mul_(mom, BETAS[0])
                torch._foreach_add_(mom, grads, alpha=1 - BETAS[0])
                torch._foreach_mul_(var, BETAS[1])
                torch._foreach_addcmul_(var, grads, grads, value=1 - BETAS[1])
                denom = torch._foreach_div(var, c2)
                torch._foreach_sqrt_(denom)
                torch._foreach_add_(denom, EPS)
                upd = torch._foreach_div(mom, c1)
                torch._foreach_div_(upd, denom)
                torch._foreach_mul_(upd, lr_eff)
                torch._foreach_sub_(plist, upd)
        with torch.no_grad(), autocast(device, enabled=acc.bf16):
            if shared:
                vloss, vacc = _eval_members(lambda x: batched(params, buffers, x), val_x, val_y)
            else:
                vloss, vacc = _eval_stacked(batched, params, buffers, val_x, val_y, own)
        with torch.no_grad():
            ran += active.long()
            better = active & (vloss < best_loss - 1e-7)
            for b, p in zip(best, plist, strict=True):
                b[better] = p[better]
            best_loss = torch.where(better, vloss, best_loss)
            best_acc = torch.where(better, vacc, best_acc)
            best_epoch = torch.where(better, torch.full_like(best_epoch, epoch), best_epoch)
            stale = torch.where(better, torch.zeros_like(stale), stale + active.long())
            active &= stale < protocol.patience
        if not bool(active.any()):
            break
    out = []
    for j, top in enumerate(tops):
        with torch.no_grad():
            for n, p in top.named_parameters():
                p.copy_(best[names.index(n)][j])
        out.append(top)
    stats = [{"epoch": e, "val_loss": vl, "val_acc": va, "epochs_run": r} for e, vl, va, r in
             zip(best_epoch.tolist(), best_loss.tolist(), best_acc.tolist(), ran.tolist(), strict=True)]
    return out, stats


def _eval_stacked(batched, params, buffers, val_x: torch.Tensor, val_y: torch.Tensor, own: torch.Tensor,
                  max_elems: int = 2 ** 26) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-member mean validation loss and accuracy when member j's data is task ``own[j]``'s
    (``val_x``: tasks × n × …), in chunks of at most ``max_elems`` input elements."""
    m, n = len(own), val_y.shape[1]
    per_sample = max(1, val_x[0, 0].numel())
    chunk = max(1, min(n, max_elems // (m * per_sample)))
    loss, hits = torch.zeros(m, device=val_y.device), torch.zeros(m, device=val_y.device)
    for i in range(0, n, chunk):
        logits = batched(params, buffers, val_x[own, i: i + chunk]).float()
        y = val_y[own, i: i + chunk]
        loss += nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none").sum(1)
        hits += (logits.argmax(2) == y).float().sum(1)
    return loss / n, hits / n


def _fit_apart(tops, lrs, factors, owner, data, protocol, epochs, seeds, device, acc):
    """:func:`_fit_stacked`'s protocol, arguments and results, one member at a time (where
    :func:`members_stack` says no); on the CPU members train side by side in threads
    (:func:`reuse_utils.core.workers.map_workers`)."""
    done = map_workers(lambda j: _fit_one(tops[j], lrs[j], factors[j], data[owner[j]], protocol, epochs,
                                          seeds[owner[j]], device, acc), range(len(tops)), device)
    return [top for top, _ in done], [stats for _, stats in done]


def _fit_one(top, lr, factors, data, protocol, epochs, seed, device, acc):
    """One member: Adam (per-parameter lr ``lr × factor``), the task's minibatch order (a generator
    seeded with ``seed``), best validation loss kept, stopped after ``patience`` stale epochs."""
    train_x, train_y, val_x, val_y = data
    groups = {}
    for n, p in top.named_parameters():
        groups.setdefault(factors[n], []).append(p)
    opt = torch.optim.Adam([{"params": ps, "lr": lr * f} for f, ps in groups.items()], betas=BETAS, eps=EPS)
    gen = torch.Generator().manual_seed(seed)
    best_state, best_loss, best_acc, best_epoch, stale, ran = None, math.inf, 0.0, 0, 0, 0
    for epoch in range(1, epochs + 1):
        top.train()
        perm = torch.randperm(len(train_y), generator=gen).to(device)
        for i in range(0, len(train_y), protocol.batch_size):
            idx = perm[i: i + protocol.batch_size]
            with autocast(device, enabled=acc.bf16):
                loss = _mean_ce(top(train_x[idx]), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        ran = epoch
        top.eval()
        with torch.no_grad(), autocast(device, enabled=acc.bf16):
            vloss, vacc = _eval_members(lambda x: top(x).unsqueeze(0), val_x, val_y)
        if float(vloss[0]) < best_loss - 1e-7:
            best_state = copy.deepcopy(top.state_dict())
            best_loss, best_acc, best_epoch, stale = float(vloss[0]), float(vacc[0]), epoch, 0
        else:
            stale += 1
            if stale >= protocol.patience:
                break
    if best_state is not None:  # None: no epoch had a finite validation loss; this rate is never chosen
        top.load_state_dict(best_state)
    return top, {"epoch": best_epoch, "val_loss": best_loss, "val_acc": best_acc, "epochs_run": ran}


def train_bob_selected(bob: LayeredNet, mode: str, pairs: Pairs, protocol: BobProtocol, seed: int,
                       device: torch.device, accel: Accel | None = None,
                       features: torch.Tensor | None = None) -> tuple[LayeredNet, Selection]:
    """One Bob trained on ``pairs`` (split into training and validation parts) and selected by
    ``protocol``; returns the Bob (in place) and its :class:`Selection`. ``features``: the frozen
    prefix's activations of ``pairs`` when the caller already has them. ``k = 0`` trains nothing."""
    start = frozen_depth(bob)
    if start == bob.n_layers:
        split_train_val(pairs, protocol.val_fraction)  # too few pairs is an error even when nothing trains
        return bob, Selection(lr=float("nan"), epoch=0, val_loss=float("nan"), val_acc=float("nan"), epochs_run=0)
    bob.to(device)
    bf16 = (accel or Accel()).resolve(device).bf16
    if features is not None and start:
        x = features
    else:
        x = frozen_features(bob, pairs.x, start, device, bf16=bf16) if start else pairs.x
    task, _ = task_on_pairs([bob], [mode], pairs, x, protocol.val_fraction, seed)
    ((sel,),) = fit_selected_many([task], protocol, device, accel)
    return bob, sel
