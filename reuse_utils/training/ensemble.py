"""Many networks, one training loop: networks of one architecture trained together on their own data.

The Alices of a sweep (every seed and correlation level) share architecture and training recipe
but not data. :func:`train_alices` stacks their parameters (``torch.func.stack_module_state``) and
runs them with ``torch.vmap`` over models *and* data: member m sees its own inputs, its own
minibatch order (a ``torch.Generator`` seeded with its own seed, exactly as the one-at-a-time loop
of :func:`~reuse_utils.training.transfer.train_alice`) and starts from its own initial weights
(built from its own seed). SGD, Adam and AdamW update every element independently, so one
``torch.optim`` optimizer over the stacked tensors *is* one optimizer per member; a member's result
therefore equals its sequential run up to float rounding (tested).

Group size (:func:`alice_group_size`): how many members train at once. On CUDA it is bounded by a
memory budget (half of the free VRAM over a per-member estimate: data, activations, weights and
optimizer state); off CUDA convolutional networks train one at a time unless asked — stacked
(grouped) convolutions gain nothing on the CPU, dense networks much (``benchmarks/measured/``) —
each channels-last and, on the CPU, side by side with
the others in threads (:func:`reuse_utils.core.workers.map_workers`). Networks with BatchNorm
(``resnet18``) and cosine schedules train one at a time.
"""

from __future__ import annotations

import copy
import math
import numbers

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from reuse_utils.core.device import Accel, autocast, get_device, seed_everything
from reuse_utils.core.ids import check_seed
from reuse_utils.core.workers import map_workers
from reuse_utils.generator import Pairs
from reuse_utils.training.models import LayeredNet, TrainRecord, build_model
from reuse_utils.training.prefix_cache import free_memory_bytes
from reuse_utils.training.transfer import TrainConfig, split_train_val, train_alice

__all__ = ["train_alices", "alice_group_size", "stackable", "stack_members", "MAX_GROUP"]

MAX_GROUP = 32  #: most members trained together (more gave no further speed-up on an H100)


def stackable(model: nn.Module) -> bool:
    """Whether ``model`` can train stacked: no BatchNorm (its running statistics are per call)."""
    return not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def _member_bytes(model: nn.Module, n_train: int, n_test: int, sample_elems: int, batch_size: int) -> int:
    """Rough bytes one member needs on the device: its data (float32), weights with gradient and
    two optimizer states, and a batch's activations (an overestimate: 64 floats per input element)."""
    params = sum(p.numel() for p in model.parameters())
    return 4 * ((n_train + n_test) * sample_elems + 4 * params + 64 * batch_size * sample_elems)


def alice_group_size(device: torch.device, model: nn.Module, n_train: int, n_test: int, batch_size: int,
                     requested: int | None = None) -> int:
    """Members per group on ``device``: ``requested`` when given (≥ 1); else 1 for networks that
    cannot stack, and otherwise as many as fit half the free memory (VRAM on CUDA, RAM elsewhere;
    at most :data:`MAX_GROUP`) — except convolutional networks off CUDA, which train one at a time
    (on 2 CPU cores stacking them gained nothing; dense networks ran 8× faster stacked)."""
    if requested is not None:
        if not isinstance(requested, numbers.Integral) or isinstance(requested, bool) or requested < 1:
            raise ValueError(f"group must be an integer ≥ 1 or None; got {requested!r}")
        return int(requested)
    if not stackable(model) or (device.type != "cuda" and any(isinstance(m, nn.Conv2d) for m in model.modules())):
        return 1
    elems = math.prod(model.input_shape)
    per = _member_bytes(model, n_train, n_test, elems, batch_size)
    return int(max(1, min(MAX_GROUP, (free_memory_bytes(device) // 2) // per)))


def train_alices(train_pairs: list[Pairs], arch: str, config: TrainConfig, seeds: list[int], *,
                 test_pairs: list[Pairs] | None = None, device: str | torch.device = "auto",
                 width: int | None = None, group: int | None = None, progress: bool = False,
                 accel: Accel | None = None) -> list[LayeredNet]:
    """Train one Alice per entry of ``train_pairs`` (with seed ``seeds[i]``), ``group`` at a time
    stacked (None: :func:`alice_group_size`). Each returned network equals
    ``train_alice(train_pairs[i], arch, config, seeds[i], ...)`` up to float rounding, with the same
    ``record.history`` (per epoch: ``train_loss``, ``train_acc``, and ``test_acc`` on ``test_pairs[i]``).
    ``FloatingPointError`` naming the seeds and the epoch when a member's training loss is not finite.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    if not isinstance(train_pairs, (list, tuple)) or not train_pairs:
        raise ValueError("train_pairs must be a non-empty list of Pairs")
    if len(seeds) != len(train_pairs):
        raise ValueError(f"seeds must have one entry per train_pairs ({len(train_pairs)}); got {len(seeds)}")
    if test_pairs is not None and len(test_pairs) != len(train_pairs):
        raise ValueError(f"test_pairs must have one entry per train_pairs ({len(train_pairs)}); got {len(test_pairs)}")
    seeds = [check_seed(s) for s in seeds]
    dev = get_device(device)
    shapes = {(tuple(p.input_shape), len(p), p.num_classes_alice) for p in train_pairs}
    if len(shapes) != 1:
        raise ValueError(f"train_pairs must share input shape, size and class count to train together; got {sorted(shapes)}")
    (shape, n, classes), = shapes
    probe = build_model(arch, shape, classes, width=width)
    n_test = len(test_pairs[0]) if test_pairs else 0
    size = alice_group_size(dev, probe, n, n_test, config.batch_size, group)
    if size == 1 or config.cosine or not stackable(probe):
        return map_workers(lambda i: train_alice(
            train_pairs[i], arch, config, seeds[i], test_pairs=None if test_pairs is None else test_pairs[i], device=dev,
            width=width, progress=progress, accel=accel), range(len(train_pairs)), dev)
    out: list[LayeredNet] = []
    for lo in range(0, len(train_pairs), size):
        hi = min(lo + size, len(train_pairs))
        models = [build_model(arch, shape, classes, width=width, seed=s).place(dev) for s in seeds[lo:hi]]
        tests = None if test_pairs is None else test_pairs[lo:hi]
        _fit_stacked_alices(models, train_pairs[lo:hi], tests, config, seeds[lo:hi], dev,
                            (accel or Accel()).resolve(dev), progress)
        out.extend(models)
    return out


def _stack(xs: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    return torch.stack([x.to(device) for x in xs])


def stack_members(modules: list[nn.Module], *, shared_input: bool = False):
    """``(params, buffers, batched)`` for training ``modules`` (one architecture) as one: their
    parameters stacked along a new first axis (fresh leaf tensors that require grad), their buffers
    stacked, and ``batched(params, buffers, x)`` — the modules' forward ``vmap``-ed over that axis,
    ``x`` holding one batch per member (``shared_input``: one batch for every member)."""
    params, buffers = stack_module_state(modules)
    params = {k: v.detach().contiguous().clone().requires_grad_(True) for k, v in params.items()}
    base = copy.deepcopy(modules[0]).to("meta")

    def call(p, b, x):
        return functional_call(base, (p, b), (x,))

    return params, buffers, torch.vmap(call, in_dims=(0, 0, None if shared_input else 0))


@torch.no_grad()
def _scores(batched, params, buffers, x: torch.Tensor, y: torch.Tensor, device: torch.device, bf16: bool,
            chunk: int = 1024) -> tuple[list[float], list[float]]:
    """Per-member mean cross-entropy and accuracy of the stacked networks on their own ``x`` (M × n × …)."""
    loss = torch.zeros(x.shape[0], device=device)
    hits = torch.zeros(x.shape[0], device=device)
    for i in range(0, x.shape[1], chunk):
        with autocast(device, enabled=bf16):
            logits = batched(params, buffers, x[:, i: i + chunk]).float()
        yb = y[:, i: i + chunk]
        loss += nn.functional.cross_entropy(logits.transpose(1, 2), yb, reduction="none").sum(1)
        hits += (logits.argmax(2) == yb).float().sum(1)
    return (loss / x.shape[1]).tolist(), (hits / x.shape[1]).tolist()


@torch.no_grad()
def _accuracies(batched, params, buffers, x: torch.Tensor, y: torch.Tensor, device: torch.device, bf16: bool,
                chunk: int = 1024) -> torch.Tensor:
    """Per-member accuracy of the stacked networks on their own inputs ``x`` (M × n × …)."""
    hits = torch.zeros(x.shape[0], device=device)
    for i in range(0, x.shape[1], chunk):
        with autocast(device, enabled=bf16):
            logits = batched(params, buffers, x[:, i: i + chunk])
        hits += (logits.argmax(2) == y[:, i: i + chunk]).float().sum(1)
    return hits / x.shape[1]


def _stacked_data(train: list[Pairs], tests: list[Pairs] | None, config: TrainConfig, device: torch.device):
    """Members' inputs and Alice labels stacked (members × pairs × …): training, validation (the end
    of each member's pairs when ``config.patience``; else None) and test (None without ``tests``)."""
    val_x = val_y = None
    if config.patience:  # early stopping: each member holds out the end of its own pairs
        parts = [split_train_val(p, config.val_fraction) for p in train]
        train = [fit for fit, _ in parts]
        val_x, val_y = _stack([v.x for _, v in parts], device), _stack([v.y_alice for _, v in parts], device)
    x, y = _stack([p.x for p in train], device), _stack([p.y_alice for p in train], device)
    tx = ty = None
    if tests is not None:
        tx, ty = _stack([p.x for p in tests], device), _stack([p.y_alice for p in tests], device)
    return x, y, val_x, val_y, tx, ty


def _fit_stacked_alices(models: list[LayeredNet], train: list[Pairs], tests: list[Pairs] | None, config: TrainConfig,
                        seeds: list[int], device: torch.device, accel: Accel, progress: bool) -> None:
    seed_everything(seeds[0])  # the same deterministic-algorithm switches as the sequential loop
    m = len(models)
    params, buffers, batched = stack_members(models)
    x, y, val_x, val_y, tx, ty = _stacked_data(train, tests, config, device)
    opt = config.make_optimizer(list(params.values()))
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    n, bs = x.shape[1], config.batch_size
    rows = torch.arange(m, device=device).unsqueeze(1)
    histories: list[list[dict]] = [[] for _ in range(m)]
    best = {k: v.detach().clone() for k, v in params.items()}
    best_loss, best_epoch = [math.inf] * m, [config.epochs] * m
    stale, done, stopped, ref = [0] * m, [False] * m, ["cap"] * m, [math.inf] * m
    from tqdm.auto import trange

    for epoch in trange(config.epochs, desc=f"{m} Alices", disable=not progress, leave=False):
        perm = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
        loss_sum = torch.zeros(m, device=device)
        correct = torch.zeros(m, device=device)
        for i in range(0, n, bs):
            idx = perm[:, i: i + bs]
            xb, yb = x[rows, idx], y.gather(1, idx)
            with autocast(device, enabled=accel.bf16):
                logits = batched(params, buffers, xb)
            per = nn.functional.cross_entropy(logits.float().transpose(1, 2), yb, reduction="none").mean(1)
            opt.zero_grad(set_to_none=True)
            per.sum().backward()
            opt.step()
            with torch.no_grad():
                loss_sum += per.detach() * idx.shape[1]
                correct += (logits.detach().argmax(2) == yb).float().sum(1)
        test_acc = (None if tx is None else
                    _accuracies(batched, params, buffers, tx, ty, device, accel.bf16).tolist())
        losses, accs = (loss_sum / n).tolist(), (correct / n).tolist()
        bad = [j for j, v in enumerate(losses) if not math.isfinite(v) and not done[j]]
        if bad:
            raise FloatingPointError(f"Alices ({config.optimizer}, lr {config.lr}) with seed(s) {[seeds[j] for j in bad]}: "
                                     f"the training loss became non-finite in epoch {epoch + 1} of {config.epochs}; "
                                     f"lower the learning rate or check the inputs")
        vals = None if val_x is None else _scores(batched, params, buffers, val_x, val_y, device, accel.bf16)
        for j in range(m):
            if done[j]:  # stopped early: what it does after no longer counts (its own run would have ended)
                continue
            row = {"epoch": epoch + 1, "train_loss": losses[j], "train_acc": accs[j]}
            if vals is not None:
                row.update({"val_loss": vals[0][j], "val_acc": vals[1][j]})
            if test_acc is not None:
                row["test_acc"] = test_acc[j]
            histories[j].append(row)
            if vals is None:
                continue
            if vals[0][j] < best_loss[j] - 1e-7:  # the kept weights: the lowest validation loss
                best_loss[j], best_epoch[j] = vals[0][j], epoch + 1
                with torch.no_grad():
                    for name, p in params.items():
                        best[name][j] = p[j]
            if vals[0][j] < ref[j] * (1 - config.min_delta) - 1e-7:  # the stopping rule: a real improvement
                ref[j], stale[j] = vals[0][j], 0
            else:
                stale[j] += 1
                if stale[j] >= config.patience:
                    done[j], stopped[j] = True, "patience"
        if all(done):
            break
    kept = best if val_x is not None else params
    with torch.no_grad():
        for j, model in enumerate(models):
            use_best = val_x is not None and math.isfinite(best_loss[j])
            for name, p in model.named_parameters():
                p.copy_((kept if use_best else params)[name][j])
            model.eval()
            model.record = TrainRecord(history=histories[j], stopped_by=stopped[j],
                                       best_epoch=best_epoch[j] if use_best else len(histories[j]))

