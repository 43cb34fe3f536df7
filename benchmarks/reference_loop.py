"""The plain PyTorch loop a user would write for one Bob run (the benchmark's baseline).

A ``DataLoader`` over a ``TensorDataset``, the full network forward every step (frozen layers
included, under ``requires_grad=False``), one run at a time, evaluation through another
``DataLoader``. Same model construction (``make_bob``), protocol (:class:`BobProtocol`: the same
validation split, learning-rate grid, finetune rate factor, early stopping on validation loss,
selection of the lr by validation loss), batch size and seeds as the engine, so accuracies agree
within seed noise.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from reuse_utils.training.models import LayeredNet
from reuse_utils.training.selection import BobProtocol


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


def reference_train_bob_selected(bob: LayeredNet, mode: str, x: torch.Tensor, y: torch.Tensor,
                                 protocol: BobProtocol, seed: int, device: torch.device) -> LayeredNet:
    """Bob by the engine's protocol, written plainly: one (lr) member after the other."""
    n_val = min(max(1, round(len(y) * protocol.val_fraction)), len(y) - 1)
    xt, yt, xv, yv = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    frozen = getattr(bob, "frozen_layers", 0)
    k = bob.n_layers - frozen
    best_overall, best_loss = None, math.inf
    for lr in protocol.lrs:
        cand = copy.deepcopy(bob).to(device)
        groups = []
        for i, layer in enumerate(cand.layers[frozen:], start=frozen):
            factor = protocol.finetune_lr_factor if mode == "finetune" and i < cand.n_layers - 1 else 1.0
            groups.append({"params": list(layer.parameters()), "lr": lr * factor})
        opt = torch.optim.Adam(groups)
        loader = DataLoader(TensorDataset(xt, yt), batch_size=protocol.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        state, loss_here, stale = None, math.inf, 0
        for _ in range(protocol.epochs_for(k)):
            cand.train()
            for layer in cand.layers[:frozen]:
                layer.eval()
            _train_epoch(cand, loader, opt, device)
            v = _val_loss(cand, xv, yv, device)
            if v < loss_here - 1e-7:
                state, loss_here, stale = copy.deepcopy(cand.state_dict()), v, 0
            else:
                stale += 1
                if stale >= protocol.patience:
                    break
        cand.load_state_dict(state)
        if loss_here < best_loss:
            best_overall, best_loss = cand, loss_here
    return best_overall


def reference_train_alice(train_x: torch.Tensor, train_y: torch.Tensor, arch: str, config, seed: int,
                          device: torch.device, width: int | None = None) -> LayeredNet:
    """Alice as a user would write her: a shuffling ``DataLoader``, the optimizer of ``config``
    (:class:`reuse_utils.training.TrainConfig`), one network at a time."""
    from reuse_utils.training.models import build_model

    model = build_model(arch, tuple(train_x.shape[1:]), int(train_y.max()) + 1, width=width, seed=seed).to(device)
    opt = config.make_optimizer(model.parameters())
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=config.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    for _ in range(config.epochs):
        model.train()
        _train_epoch(model, loader, opt, device)
    model.eval()
    return model
