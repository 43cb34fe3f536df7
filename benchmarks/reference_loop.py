"""The plain PyTorch loop a user would write for one Bob run (the benchmark's baseline).

A ``DataLoader`` over a ``TensorDataset``, the full network forward every step (frozen layers
included, under ``requires_grad=False``), one run at a time, evaluation through another
``DataLoader``. Same model construction (``make_bob``), optimizer, epochs, batch size and seeds as
the engine, so accuracies agree within seed noise.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from reuse_utils.training.models import LayeredNet
from reuse_utils.training.transfer import TrainConfig


def reference_train_bob(bob: LayeredNet, x: torch.Tensor, y: torch.Tensor, config: TrainConfig, seed: int,
                        device: torch.device) -> LayeredNet:
    torch.manual_seed(seed)
    bob.to(device)
    opt = config.make_optimizer(bob.parameters())
    loader = DataLoader(TensorDataset(x, y), batch_size=config.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    frozen = getattr(bob, "frozen_layers", 0)
    for _ in range(config.epochs):
        bob.train()
        for layer in bob.layers[:frozen]:
            layer.eval()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = nn.functional.cross_entropy(bob(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return bob


@torch.no_grad()
def reference_accuracy(model: LayeredNet, x: torch.Tensor, y: torch.Tensor, device: torch.device,
                       batch_size: int = 256) -> float:
    model.eval()
    correct = 0
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=batch_size):
        correct += int((model(xb.to(device)).argmax(1).cpu() == yb).sum())
    return correct / len(y)
