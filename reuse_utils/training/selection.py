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

Members that can be stacked (same architecture, no BatchNorm in the trained layers) train together
with ``torch.func.vmap`` and a per-member Adam (:func:`fit_selected`); others one at a time with the
same arithmetic.
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
from reuse_utils.generator import Pairs
from reuse_utils.training.models import LayeredNet
from reuse_utils.training.transfer import MODES, frozen_depth, frozen_features

__all__ = ["BobProtocol", "fit_selected", "split_train_val", "Selection", "train_bob_selected"]

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
    each) are validation. Deterministic; the pairs are i.i.d., so the split is a random one."""
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


def fit_selected(bobs: list[LayeredNet], modes: list[str], train_x: torch.Tensor, train_y: torch.Tensor,
                 val_x: torch.Tensor, val_y: torch.Tensor, protocol: BobProtocol, seed: int,
                 device: torch.device, accel: Accel | None = None) -> list[Selection]:
    """Train every Bob (one per entry of ``modes``, all at the same depth) over the protocol's
    learning-rate grid and keep, per Bob, the selected member's best weights (in place).

    ``train_x`` / ``val_x`` are the inputs of the trained layers (frozen-prefix activations, or raw
    inputs when nothing is frozen). Returns one :class:`Selection` per Bob.
    """
    if len(bobs) != len(modes) or not bobs:
        raise ValueError(f"bobs and modes must be non-empty lists of equal length; got {len(bobs)} and {len(modes)}")
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ValueError(f"modes must be among {list(MODES)}; got {bad}")
    seed = check_seed(seed)
    start = frozen_depth(bobs[0])
    k = bobs[0].n_layers - start
    if any(frozen_depth(b) != start for b in bobs):
        raise ValueError("bobs must share their frozen depth")
    acc = (accel or Accel()).resolve(device)
    seed_everything(seed)
    members = [(i, lr) for i in range(len(bobs)) for lr in protocol.lrs]
    tops = [copy.deepcopy(nn.Sequential(*bobs[i].layers[start:])).to(device) for i, _ in members]
    factors = [_lr_factors(bobs[i], tops[j], modes[i], protocol.finetune_lr_factor) for j, (i, _) in enumerate(members)]
    lrs = [lr for _, lr in members]
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in tops[0].modules())
    train_x, train_y = train_x.to(device), train_y.to(device)
    val_x, val_y = val_x.to(device), val_y.to(device)
    runner = _fit_loop if has_bn else _fit_stacked
    best_tops, stats = runner(tops, lrs, factors, train_x, train_y, val_x, val_y, protocol, protocol.epochs_for(k),
                              seed, device, acc)
    out = []
    for i, bob in enumerate(bobs):
        js = [j for j, (mi, _) in enumerate(members) if mi == i]
        j = min(js, key=lambda j: (stats[j]["val_loss"], -stats[j]["val_acc"], js.index(j)))
        with torch.no_grad():
            for layer, new in zip(bob.layers[start:], best_tops[j], strict=True):
                layer.load_state_dict(new.state_dict())
        bob.eval()
        out.append(Selection(lr=lrs[j], **stats[j]))
    return out


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


def _fit_stacked(tops, lrs, factors, train_x, train_y, val_x, val_y, protocol, epochs, seed, device, acc):
    params, buffers = stack_module_state(tops)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    base = copy.deepcopy(tops[0]).to("meta")
    m = len(tops)
    lr_vec = {n: torch.tensor([lrs[j] * factors[j][n] for j in range(m)], device=device).view(-1, *[1] * (p.ndim - 1))
              for n, p in params.items()}
    state = {n: (torch.zeros_like(p), torch.zeros_like(p)) for n, p in params.items()}

    def call(p, b, x):
        return functional_call(base, (p, b), (x,))

    batched = torch.vmap(call, in_dims=(0, 0, None))
    best = {n: p.detach().clone() for n, p in params.items()}
    best_loss = torch.full((m,), math.inf, device=device)
    best_acc = torch.zeros(m, device=device)
    best_epoch = torch.zeros(m, dtype=torch.long, device=device)
    stale = torch.zeros(m, dtype=torch.long, device=device)
    active = torch.ones(m, dtype=torch.bool, device=device)
    ran = torch.zeros(m, dtype=torch.long, device=device)
    gen = torch.Generator().manual_seed(seed)
    step = 0
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(train_y), generator=gen).to(device)
        for i in range(0, len(train_y), protocol.batch_size):
            idx = perm[i: i + protocol.batch_size]
            with autocast(device, enabled=acc.bf16):
                logits = batched(params, buffers, train_x[idx])
            loss = nn.functional.cross_entropy(logits.float().reshape(m * len(idx), -1), train_y[idx].repeat(m),
                                               reduction="sum") / len(idx)
            grads = torch.autograd.grad(loss, list(params.values()))
            step += 1
            with torch.no_grad():
                c1, c2 = 1 - BETAS[0] ** step, 1 - BETAS[1] ** step
                for (n, p), g in zip(params.items(), grads, strict=True):
                    mom, var = state[n]
                    mom.mul_(BETAS[0]).add_(g, alpha=1 - BETAS[0])
                    var.mul_(BETAS[1]).addcmul_(g, g, value=1 - BETAS[1])
                    upd = (mom / c1) / ((var / c2).sqrt() + EPS) * lr_vec[n]
                    keep = active.view(-1, *[1] * (p.ndim - 1))
                    p.sub_(torch.where(keep, upd, torch.zeros_like(upd)))
        with torch.no_grad(), autocast(device, enabled=acc.bf16):
            vloss, vacc = _eval_members(lambda x: batched(params, buffers, x), val_x, val_y)
        with torch.no_grad():
            ran += active.long()
            better = active & (vloss < best_loss - 1e-7)
            for n, p in params.items():
                best[n][better] = p[better]
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
                p.copy_(best[n][j])
        out.append(top)
    stats = [{"epoch": int(best_epoch[j]), "val_loss": float(best_loss[j]), "val_acc": float(best_acc[j]),
              "epochs_run": int(ran[j])} for j in range(m)]
    return out, stats


def _fit_loop(tops, lrs, factors, train_x, train_y, val_x, val_y, protocol, epochs, seed, device, acc):
    """The same protocol one member at a time (trained layers with BatchNorm)."""
    out, stats = [], []
    for j, top in enumerate(tops):
        named = dict(top.named_parameters())
        groups = {}
        for n, p in named.items():
            groups.setdefault(factors[j][n], []).append(p)
        opt = torch.optim.Adam([{"params": ps, "lr": lrs[j] * f} for f, ps in groups.items()], betas=BETAS, eps=EPS)
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
                vloss, vacc = _eval_members(lambda x, top=top: top(x).unsqueeze(0), val_x, val_y)
            if float(vloss[0]) < best_loss - 1e-7:
                best_state = copy.deepcopy(top.state_dict())
                best_loss, best_acc, best_epoch, stale = float(vloss[0]), float(vacc[0]), epoch, 0
            else:
                stale += 1
                if stale >= protocol.patience:
                    break
        top.load_state_dict(best_state)
        out.append(top)
        stats.append({"epoch": best_epoch, "val_loss": best_loss, "val_acc": best_acc, "epochs_run": ran})
    return out, stats


def train_bob_selected(bob: LayeredNet, mode: str, pairs: Pairs, protocol: BobProtocol, seed: int,
                       device: torch.device, accel: Accel | None = None,
                       features: torch.Tensor | None = None) -> tuple[LayeredNet, Selection]:
    """One Bob trained on ``pairs`` (split into training and validation parts) and selected by
    ``protocol``; returns the Bob (in place) and its :class:`Selection`. ``features``: the frozen
    prefix's activations of ``pairs`` when the caller already has them. ``k = 0`` trains nothing."""
    start = frozen_depth(bob)
    train, val = split_train_val(pairs, protocol.val_fraction)
    if start == bob.n_layers:
        return bob, Selection(lr=float("nan"), epoch=0, val_loss=float("nan"), val_acc=float("nan"), epochs_run=0)
    bob.to(device)
    bf16 = (accel or Accel()).resolve(device).bf16
    if features is not None and start:
        x = features
    else:
        x = frozen_features(bob, pairs.x, start, device, bf16=bf16) if start else pairs.x
    n = len(train)
    (sel,) = fit_selected([bob], [mode], x[:n], train.y_bob, x[n:], val.y_bob, protocol, seed, device, accel)
    return bob, sel
