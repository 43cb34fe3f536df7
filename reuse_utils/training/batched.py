"""Several Bob runs of the same shape trained at once: ``torch.func.functional_call`` + ``vmap``
over stacked parameters.

A group is Bobs that share the frozen prefix, the training inputs (prefix activations) and the
minibatch order, and differ in their trainable weights (e.g. ``reinit`` and ``finetune`` at the
same k). Each model's loss depends only on its own parameters, and Adam/AdamW/SGD act elementwise,
so one optimizer over the stacked parameters equals one optimizer per model: the results match
sequential training up to floating-point summation order. Networks with BatchNorm in their
trainable layers are not batched (their running statistics are per model); callers fall back to
:func:`reuse_utils.transfer.train_bob`.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from reuse_utils.core.device import Accel, autocast, seed_everything
from reuse_utils.training.models import LayeredNet
from reuse_utils.training.transfer import TrainConfig, frozen_depth

__all__ = ["can_batch", "train_bobs_batched"]


def can_batch(bobs: list[LayeredNet]) -> bool:
    """True when the Bobs share architecture and frozen depth, and their trainable layers hold no
    BatchNorm (running statistics cannot be stacked)."""
    if len(bobs) < 2:
        return False
    start = frozen_depth(bobs[0])
    if any(frozen_depth(b) != start or b.spec() != bobs[0].spec() for b in bobs):
        return False
    return not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in bobs[0].layers[start:].modules())


def train_bobs_batched(bobs: list[LayeredNet], inputs: torch.Tensor, y: torch.Tensor, config: TrainConfig,
                       seed: int, device: torch.device, accel: Accel | None = None) -> list[LayeredNet]:
    """Train the top layers of every Bob in ``bobs`` on ``inputs`` (activations of their frozen
    prefix, or raw inputs when nothing is frozen) with one shared minibatch order (``seed``)."""
    if not can_batch(bobs):
        raise ValueError("bobs must be ≥ 2 networks of one architecture and frozen depth, without BatchNorm "
                         "in their trainable layers")
    start = frozen_depth(bobs[0])
    acc = (accel or Accel()).resolve(device)
    seed_everything(seed)
    tops = [nn.Sequential(*b.layers[start:]).to(device) for b in bobs]
    params, buffers = stack_module_state(tops)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    base = copy.deepcopy(tops[0]).to("meta")
    opt = config.make_optimizer(params.values())
    steps = math.ceil(len(y) / config.batch_size)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps * config.epochs) if config.cosine else None)

    def forward(p, b, x):
        return functional_call(base, (p, b), (x,))

    batched = torch.vmap(forward, in_dims=(0, 0, None))
    gen = torch.Generator().manual_seed(seed)
    inputs, y = inputs.to(device), y.to(device)
    m = len(bobs)
    for _ in range(config.epochs):
        perm = torch.randperm(len(y), generator=gen).to(device)
        for i in range(0, len(y), config.batch_size):
            idx = perm[i: i + config.batch_size]
            with autocast(device, enabled=acc.bf16):
                logits = batched(params, buffers, inputs[idx])  # M×B×classes
            loss = nn.functional.cross_entropy(logits.float().reshape(m * len(idx), -1), y[idx].repeat(m),
                                               reduction="sum") / len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
    with torch.no_grad():
        for j, top in enumerate(tops):
            for name, p in top.named_parameters():
                p.copy_(params[name][j])
    for b in bobs:
        b.eval()
    return bobs
