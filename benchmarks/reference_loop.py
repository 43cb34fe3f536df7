"""The plain PyTorch loop a user would write for one Bob run (the benchmark's baseline).

A ``DataLoader`` over a ``TensorDataset``, the full network forward every step (frozen layers
included, under ``requires_grad=False``), one run at a time, evaluation through another
``DataLoader``. Same model construction (``make_bob``) and the same converged protocol
(:class:`BobProtocol`): the validation split; the head-only Bob (k = 1) as the same convex
logistic fit on the frozen features (what a user would do with scikit-learn); deeper Bobs over the
learning-rate grid that widens while the best rate is at its end, each rate trained until its
validation loss stops improving by ``min_delta`` for ``patience`` epochs (the lowest-loss epoch
kept), the rate chosen by validation loss — so accuracies agree within seed noise.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from reuse_utils.training.models import LayeredNet
from reuse_utils.training.selection import BobProtocol, convex_head, fit_logistic_head


@torch.no_grad()
def reference_accuracy(model: LayeredNet, x: torch.Tensor, y: torch.Tensor, device: torch.device,
                       batch_size: int = 256) -> float:
    model.eval()
    correct = 0
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=batch_size):
        correct += int((model(xb.to(device)).argmax(1).cpu() == yb).sum())
    return correct / len(y)


@torch.no_grad()
def _val_loss(model: LayeredNet, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    model.eval()
    total = 0.0
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=1024):
        total += float(nn.functional.cross_entropy(model(xb.to(device)), yb.to(device), reduction="sum"))
    return total / len(y)


def _train_epoch(model: LayeredNet, loader: DataLoader, opt: torch.optim.Optimizer, device: torch.device) -> None:
    """One pass over ``loader``: cross-entropy, backward, optimizer step per minibatch."""
    for xb, yb in loader:
        loss = nn.functional.cross_entropy(model(xb.to(device)), yb.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()


class _EarlyStop:
    """The engine's rule, plainly: keep the lowest-validation-loss weights; stop after ``patience``
    epochs without a loss below the last improvement's by more than the fraction ``min_delta``."""

    def __init__(self, patience: int, min_delta: float):
        self.patience, self.min_delta = patience, min_delta
        self.state, self.best, self.ref, self.stale = None, math.inf, math.inf, 0

    def stop(self, model: nn.Module, v: float) -> bool:
        if v < self.best - 1e-7:
            self.state, self.best = copy.deepcopy(model.state_dict()), v
        if v < self.ref * (1 - self.min_delta) - 1e-7:
            self.ref, self.stale = v, 0
            return False
        self.stale += 1
        return self.stale >= self.patience

    def restore(self, model: nn.Module) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


def _train_rate(bob: LayeredNet, mode: str, lr: float, data, protocol: BobProtocol, seed: int, k: int,
                device: torch.device) -> tuple[LayeredNet, float]:
    """One learning rate: Adam, early stopping by the protocol's rule; (network, best validation loss)."""
    xt, yt, xv, yv = data
    frozen = bob.record.frozen_layers
    cand = copy.deepcopy(bob).to(device)
    groups = []
    for i, layer in enumerate(cand.layers[frozen:], start=frozen):
        factor = protocol.finetune_lr_factor if mode == "finetune" and i < cand.n_layers - 1 else 1.0
        groups.append({"params": list(layer.parameters()), "lr": lr * factor})
    opt = torch.optim.Adam(groups)
    loader = DataLoader(TensorDataset(xt, yt), batch_size=protocol.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    rule = _EarlyStop(protocol.patience, protocol.min_delta)
    for _ in range(protocol.epochs_for(k)):
        cand.train()
        for layer in cand.layers[:frozen]:
            layer.eval()
        _train_epoch(cand, loader, opt, device)
        if rule.stop(cand, _val_loss(cand, xv, yv, device)):
            break
    rule.restore(cand)
    return cand, rule.best


def reference_train_bob_selected(bob: LayeredNet, mode: str, x: torch.Tensor, y: torch.Tensor,
                                 protocol: BobProtocol, seed: int, device: torch.device) -> LayeredNet:
    """Bob by the engine's protocol, written plainly: one (lr) member after the other."""
    n_val = min(max(1, round(len(y) * protocol.val_fraction)), len(y) - 1)
    xt, yt, xv, yv = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    frozen = bob.record.frozen_layers
    k = bob.n_layers - frozen
    if k == 1 and protocol.head == "convex" and convex_head(nn.Sequential(*bob.layers[frozen:])) is not None:
        bob = copy.deepcopy(bob).to(device)
        with torch.no_grad():  # the frozen features, through the full prefix (a user's forward hook)
            zt = torch.cat([bob.forward_to(xb.to(device), frozen) for (xb,) in DataLoader(TensorDataset(xt), 256)])
            zv = torch.cat([bob.forward_to(xb.to(device), frozen) for (xb,) in DataLoader(TensorDataset(xv), 256)])
        prefix, linear = convex_head(nn.Sequential(*bob.layers[frozen:]))
        w, b, _ = fit_logistic_head(prefix(zt).flatten(1), yt, prefix(zv).flatten(1), yv, bob.num_classes, protocol)
        with torch.no_grad():
            linear.weight.copy_(w.to(device))
            linear.bias.copy_(b.to(device))
        return bob
    tried: dict[float, tuple[LayeredNet, float]] = {}
    pending = list(protocol.lrs)
    while pending:
        for lr in pending:
            tried[lr] = _train_rate(bob, mode, lr, (xt, yt, xv, yv), protocol, seed, k, device)
        best = min(tried, key=lambda v: (tried[v][1], v))
        pending = []
        lo, hi = min(tried), max(tried)
        if best == hi and best * protocol.grid_step <= protocol.lr_range[1] * (1 + 1e-9):
            pending = [best * protocol.grid_step]
        elif best == lo and best / protocol.grid_step >= protocol.lr_range[0] * (1 - 1e-9):
            pending = [best / protocol.grid_step]
    return tried[min(tried, key=lambda v: (tried[v][1], v))][0]


def reference_train_alice(train_x: torch.Tensor, train_y: torch.Tensor, arch: str, config, seed: int,
                          device: torch.device, width: int | None = None) -> LayeredNet:
    """Alice as a user would write her: a shuffling ``DataLoader``, the optimizer of ``config``
    (:class:`reuse_utils.training.TrainConfig`), one network at a time; with ``config.patience``, the
    last ``val_fraction`` of her pairs held out and the same early-stopping rule as the engine."""
    from reuse_utils.training.models import build_model

    model = build_model(arch, tuple(train_x.shape[1:]), int(train_y.max()) + 1, width=width, seed=seed).to(device)
    xv = yv = None
    if config.patience:
        n_val = min(max(1, round(len(train_y) * config.val_fraction)), len(train_y) - 1)
        train_x, xv, train_y, yv = train_x[:-n_val], train_x[-n_val:], train_y[:-n_val], train_y[-n_val:]
    opt = config.make_optimizer(model.parameters())
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=config.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    rule = _EarlyStop(config.patience, config.min_delta)
    for _ in range(config.epochs):
        model.train()
        _train_epoch(model, loader, opt, device)
        if xv is not None and rule.stop(model, _val_loss(model, xv, yv, device)):
            break
    rule.restore(model)
    model.eval()
    return model
