"""Alice's pre-training and Bob's top-k retraining (inference: :mod:`~reuse_utils.training.inference`).

Definitions (Yosinski et al. 2014 naming):

* Alice's network has L layers (see :mod:`reuse_utils.training.models`). Bob **retrains the top k**
  (1 ≤ k ≤ L) and keeps the bottom L − k **frozen**: no gradient, and their normalisation
  statistics frozen (kept in eval mode).
* ``mode="reinit"`` (AnB): the top k layers are re-initialised before Bob trains them.
  ``mode="finetune"`` (AnB+): the top k start from the source weights; only the output layer is
  re-initialised (Bob's classes are not Alice's). For k = 1 the two modes coincide.
* ``k = 0``: no retraining — Alice's predictions are taken as Bob's (only when the class counts
  match): the "unchanged model" reference of the linear analysis.
* Controls: ``source`` may be an **untrained** network of the same architecture (random-init
  features); *scratch* is ``k = L`` with ``mode="reinit"``.

Because frozen layers are deterministic functions of the input (eval mode, no dropout, no data
augmentation), Bob's training computes their output once and trains the top k on it
("frozen-prefix caching"); this is exactly equivalent to running the full network each step.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn

from reuse_utils.core.checks import is_real
from reuse_utils.core.device import Accel, autocast, get_device, seed_everything
from reuse_utils.core.ids import check_seed
from reuse_utils.core.workers import seeded_rng
from reuse_utils.generator import Pairs, check_finite, check_pairs
from reuse_utils.training.inference import check_eval_pairs, check_target, evaluate, frozen_features
from reuse_utils.training.models import (
    LayeredNet,
    TrainRecord,
    build_model,
    output_linear,
    reset_layer,
)

__all__ = ["TrainConfig", "train_alice", "make_bob", "train_bob", "MODES", "OPTIMIZERS", "frozen_depth",
           "random_source", "split_train_val"]

MODES = ("reinit", "finetune")
OPTIMIZERS = ("sgd", "adam", "adamw")


@dataclass(frozen=True)
class TrainConfig:
    """How to train one network.

    optimizer: ``"sgd"`` (with ``momentum``), ``"adam"`` (``weight_decay`` as L2 penalty) or
    ``"adamw"`` (decoupled weight decay). lr > 0; 0 ≤ momentum < 1; weight_decay ≥ 0;
    epochs ≥ 1 passes over the training pairs (with early stopping: at most); batch_size ≥ 1;
    ``cosine``: cosine-annealed lr over all steps. ``patience`` ≥ 1: **early stopping** — the last
    ``val_fraction`` of the training pairs are held out (:func:`split_train_val`), training stops
    after ``patience`` epochs without a validation loss lower than the last improvement's by more
    than the fraction ``min_delta`` of it, and the weights of the epoch with the lowest validation
    loss are kept; 0: every epoch runs and the last weights are kept. Numeric fields refuse ``bool``.
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    epochs: int = 5
    batch_size: int = 64
    cosine: bool = False
    patience: int = 0
    val_fraction: float = 0.1
    min_delta: float = 0.01

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}; got {self.optimizer!r}")
        if not is_real(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a finite number > 0; got {self.lr!r}")
        if not is_real(self.momentum) or not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {self.momentum!r}")
        if not is_real(self.weight_decay) or self.weight_decay < 0:
            raise ValueError(f"weight_decay must be a finite number ≥ 0; got {self.weight_decay!r}")
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer ≥ 1; got {v!r}")
        if not isinstance(self.cosine, bool):
            raise ValueError(f"cosine must be True or False; got {self.cosine!r}")
        if not isinstance(self.patience, numbers.Integral) or isinstance(self.patience, bool) or self.patience < 0:
            raise ValueError(f"patience must be an integer ≥ 0 (0: no early stopping); got {self.patience!r}")
        if not is_real(self.val_fraction) or not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1); got {self.val_fraction!r}")
        if not is_real(self.min_delta) or not 0 <= self.min_delta < 1:
            raise ValueError(f"min_delta must be in [0, 1); got {self.min_delta!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        params = [p for p in params if p.requires_grad]
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum,
                                   weight_decay=self.weight_decay)
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        return torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)


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


def frozen_depth(model: LayeredNet) -> int:
    """Number of bottom layers that are frozen (0 for a fully trainable network)."""
    return model.record.frozen_layers


def _set_train_mode(model: LayeredNet) -> None:
    model.train()
    for layer in model.layers[: frozen_depth(model)]:
        layer.eval()  # frozen BatchNorm statistics


def _fit(model: LayeredNet, start: int, inputs: torch.Tensor, y: torch.Tensor, config: TrainConfig,
         seed: int, device: torch.device, progress: bool, desc: str,
         eval_fn=None, accel: Accel | None = None, val: tuple[torch.Tensor, torch.Tensor] | None = None) -> TrainRecord:
    """Train layers ``start..L-1`` on ``inputs`` (activations of layer ``start - 1``); with ``val``
    (inputs, labels) and ``config.patience``, stop early and keep the best epoch's weights. Returns
    ``model.record`` with this training's history, ``stopped_by`` (``"patience"`` or ``"cap"``) and
    ``best_epoch``, which it also becomes.
    ``FloatingPointError`` naming ``desc`` and the epoch when an epoch's training loss is not finite."""
    accel = (accel or Accel()).resolve(device)
    params = [p for layer in model.layers[start:] for p in layer.parameters()]
    if accel.channels_last and inputs.ndim == 4:
        model.to(memory_format=torch.channels_last)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    forward = (torch.compile(lambda xb: model.forward_from(xb, start)) if accel.compile
               else (lambda xb: model.forward_from(xb, start)))
    opt = config.make_optimizer(params)
    n = len(y)
    steps_per_epoch = math.ceil(n / config.batch_size)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps_per_epoch * config.epochs)
             if config.cosine else None)
    gen = torch.Generator().manual_seed(seed)
    history: list[dict] = []
    best_state, best_loss, best_epoch, stale, stopped, ref = None, math.inf, config.epochs, 0, "cap", math.inf
    from tqdm.auto import trange

    for epoch in trange(config.epochs, desc=desc, disable=not progress, leave=False):
        _set_train_mode(model)
        perm = torch.randperm(n, generator=gen).to(inputs.device)
        total, correct, seen = 0.0, 0, 0
        for i in range(0, n, config.batch_size):
            idx = perm[i: i + config.batch_size]
            xb, yb = inputs[idx], y[idx]
            with autocast(device, enabled=accel.bf16):
                logits = forward(xb)
                loss = nn.functional.cross_entropy(logits.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
        if not math.isfinite(total):
            raise FloatingPointError(f"{desc}: the training loss became non-finite ({total / seen}) in epoch "
                                     f"{epoch + 1} of {config.epochs}; lower the learning rate ({config.lr}) "
                                     f"or check the inputs")
        row = {"epoch": epoch + 1, "train_loss": total / seen, "train_acc": correct / seen}
        if val is not None:
            row.update(_val_scores(forward, model, *val))
        if eval_fn is not None:
            row.update(eval_fn())
        history.append(row)
        if val is not None and config.patience:
            if row["val_loss"] < best_loss - 1e-7:  # the kept weights: the lowest validation loss
                best_loss, best_epoch = row["val_loss"], epoch + 1
                best_state = copy.deepcopy(model.state_dict())
            if row["val_loss"] < ref * (1 - config.min_delta) - 1e-7:  # the stopping rule: a real improvement
                ref, stale = row["val_loss"], 0
            else:
                stale += 1
                if stale >= config.patience:
                    stopped = "patience"
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.record = replace(model.record, history=history, stopped_by=stopped,
                           best_epoch=best_epoch if best_state is not None else len(history))
    model.eval()
    return model.record


@torch.no_grad()
def _val_scores(forward, model: LayeredNet, x: torch.Tensor, y: torch.Tensor, batch: int = 1024) -> dict:
    """``val_loss`` (mean cross-entropy) and ``val_acc`` of ``forward`` on held-out ``x``, ``y`` (eval mode)."""
    was = model.training
    model.eval()
    loss, hits = 0.0, 0
    for i in range(0, len(y), batch):
        logits = forward(x[i: i + batch]).float()
        loss += float(nn.functional.cross_entropy(logits, y[i: i + batch], reduction="sum"))
        hits += int((logits.argmax(1) == y[i: i + batch]).sum())
    model.train(was)
    return {"val_loss": loss / len(y), "val_acc": hits / len(y)}


def train_alice(train_pairs: Pairs, arch: str, config: TrainConfig, seed: int, *,
                test_pairs: Pairs | None = None, device: str | torch.device = "auto",
                width: int | None = None, progress: bool = False, accel: Accel | None = None) -> LayeredNet:
    """Train Alice's network on ``y_alice`` of ``train_pairs``.

    Which pairs Alice sees is the caller's choice (the sweep's ``alice_world``): by default the
    same dials as Bob's ("same world"); ``"independent"`` trains her on (0, 0) pairs. The
    returned model's ``record`` (:class:`TrainRecord`) holds the per-epoch loss/accuracy (and Alice's
    test accuracy when ``test_pairs`` is given) and how training stopped. ``ValueError`` for pairs
    with NaN or ±inf inputs;
    ``FloatingPointError`` when the training loss becomes non-finite.
    """
    check_pairs(train_pairs, "train_pairs")
    if test_pairs is not None:
        check_pairs(test_pairs, "test_pairs")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    seed = check_seed(seed)
    dev = get_device(device)
    seed_everything(seed)
    model = build_model(arch, train_pairs.input_shape, train_pairs.num_classes_alice, width=width,
                        seed=seed).place(dev)
    fit_pairs, val = train_pairs, None
    if config.patience:
        fit_pairs, held = split_train_val(train_pairs, config.val_fraction)
        val = (held.x.to(dev), held.y_alice.to(dev))
    x, y = fit_pairs.x.to(dev), fit_pairs.y_alice.to(dev)
    eval_fn = (lambda: {"test_acc": evaluate(model, test_pairs, "alice")}) if test_pairs is not None else None
    rec = _fit(model, 0, x, y, config, seed, dev, progress, f"Alice ({arch}, seed {seed})", eval_fn, accel, val)
    # exactly evaluate(model, test_pairs, "alice") of the returned weights (the kept epoch's row)
    model.record = replace(rec, final_test_acc=rec.history[rec.best_epoch - 1]["test_acc"] if test_pairs is not None
                           else None)
    return model


def make_bob(source: LayeredNet, k: int, mode: str, num_classes: int, seed: int) -> LayeredNet:
    """Bob's network from ``source``: top ``k`` layers trainable, bottom ``L - k`` frozen.

    Re-initialised layers are drawn on the CPU from ``seed`` (then moved to the source's device),
    so the same seed gives the same Bob on every device. See the module docstring for ``mode``,
    ``k = 0`` and the controls. Raises ``ValueError`` for
    k outside [0, L] (for this model), an unknown mode, or ``k = 0`` with a class-count mismatch.
    """
    if not isinstance(source, LayeredNet):
        raise ValueError(f"source must be a LayeredNet (Alice's or an untrained one); got {type(source).__name__}")
    L = source.n_layers
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 0 <= k <= L:
        raise ValueError(f"k must be an integer in [0, {L}] for this {source.arch} (L = {L} layers); got {k!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}; got {mode!r}")
    if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool) or not 2 <= num_classes <= 100_000:
        raise ValueError(f"num_classes must be an integer in [2, 100000]; got {num_classes!r}")
    k, num_classes, seed = int(k), int(num_classes), check_seed(seed)
    device = next(source.parameters()).device
    bob = copy.deepcopy(source).cpu()  # re-initialise on the CPU: the same weights on every device
    if k == 0:
        if num_classes != source.num_classes:
            raise ValueError(f"k = 0 (no retraining) needs Bob's num_classes == Alice's ({source.num_classes}); "
                             f"got {num_classes}. Use k in [1, {L}].")
    else:
        with seeded_rng(seed):
            if mode == "reinit":
                for layer in bob.layers[L - k:L - 1]:  # the output layer is replaced below
                    reset_layer(layer)
            head = output_linear(bob)
            _replace_module(bob.layers[-1], head, nn.Linear(head.in_features, int(num_classes)))
        bob.num_classes = int(num_classes)
    bob.place(device)
    bob.record = TrainRecord(frozen_layers=L - k)  # nothing of Alice's training record
    for i, layer in enumerate(bob.layers):
        for p in layer.parameters():
            p.requires_grad_(i >= L - k)
    return bob


def _replace_module(parent: nn.Module, old: nn.Module, new: nn.Module) -> None:
    for name, child in parent.named_children():
        if child is old:
            setattr(parent, name, new)
            return
        _replace_module(child, old, new)


def train_bob(bob: LayeredNet, train_pairs: Pairs, config: TrainConfig, seed: int, *,
              target: str = "bob", test_pairs: Pairs | None = None,
              device: str | torch.device = "auto", cache_features: bool = True,
              features: torch.Tensor | None = None, progress: bool = False,
              accel: Accel | None = None) -> LayeredNet:
    """Train Bob's top ``k`` layers on ``y_<target>`` of ``train_pairs`` (in place; returned).

    With ``cache_features`` the frozen prefix runs once over the training inputs and only the
    top k layers run per step (identical result, less compute); otherwise the full network runs
    every step with the prefix under ``no_grad``. ``features`` passes that prefix output in when
    the caller already has it (e.g. shared across the runs of a sweep). ``ValueError`` for NaN or
    ±inf inputs or features, or pairs of another input shape than Bob's network;
    ``FloatingPointError`` when the training loss becomes non-finite.
    """
    check_eval_pairs(bob, train_pairs, "train_pairs")
    if test_pairs is not None:
        check_eval_pairs(bob, test_pairs, "test_pairs")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    check_target(target)
    seed = check_seed(seed)
    k = bob.n_layers - frozen_depth(bob)
    if k == 0:
        return bob
    dev = get_device(device)
    seed_everything(seed)
    bob.place(dev)
    start = frozen_depth(bob)
    x, y = train_pairs.x.to(dev), train_pairs.labels(target).to(dev)
    if features is not None and start > 0:
        check_finite(features, "features")
        if len(features) != len(y):
            raise ValueError(f"features must have one row per training pair ({len(y)}); got {len(features)}")
        inputs, fit_start = features.to(dev), start
    elif cache_features and start > 0:
        inputs, fit_start = frozen_features(bob, x, start, dev, bf16=(accel or Accel()).resolve(dev).bf16), start
    else:
        inputs, fit_start = x, 0
    eval_fn = (lambda: {"test_acc": evaluate(bob, test_pairs, target)}) if test_pairs is not None else None
    _fit(bob, fit_start, inputs, y, config, seed, dev, progress, f"Bob (k={k}, seed {seed})", eval_fn, accel)
    return bob


def random_source(arch: str, input_shape, num_classes: int, seed: int, width: int | None = None) -> LayeredNet:
    """An untrained network of Alice's architecture: the random-init features control."""
    return build_model(arch, tuple(input_shape), num_classes, width=width, seed=check_seed(seed))
