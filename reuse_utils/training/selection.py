"""Bob's training with model selection on validation data — never on test data.

Protocol (:class:`BobProtocol`), for one Bob network per mode at one depth k:

* Bob's training pairs are split: the last ``val_fraction`` of them (the pairs are i.i.d.) are his
  **validation** set, the rest his training set (:func:`split_train_val`).
* **k = 1 with frozen features** (``head="convex"``) is a convex problem and is solved as one:
  multinomial logistic regression of Bob's labels on the frozen features (standardised with the
  training part's mean and standard deviation, folded back into the output layer), minimising
  mean cross-entropy + λ/2·‖W‖² (bias not penalised) with L-BFGS to a gradient tolerance
  (:func:`fit_logistic_head`). The L2 strength λ is chosen on validation loss from ``l2s``.
* **k ≥ 2** (and ``head="sgd"``): every (mode, learning rate) trains with Adam from the same
  initial weights and one shared minibatch order. After each epoch its validation loss (mean
  cross-entropy) is measured; the weights of its epoch with the lowest validation loss are kept
  (**early stopping**: a member stops after ``patience`` epochs without a real improvement — a
  validation loss below the last improvement's by more than the fraction ``min_delta`` of it —,
  at most ``max_epochs``; ``head_epochs`` for an SGD head). ``finetune``: pretrained layers among the top k (all but the new output layer)
  learn at ``lr × finetune_lr_factor`` (1 by default: one tuned rate for every trained layer, as in
  Yosinski et al.'s AnB+).
* **Grids that widen until the choice is interior**: per Bob, the value (learning rate or λ) with
  the lowest validation loss is selected; while it is the largest (smallest) value tried, the next
  value ``grid_step`` times larger (smaller) is tried too, within ``lr_range`` / ``l2_range``. A
  choice still at an end when the bounds stop the search is flagged ``selection_edge`` — except a
  largest λ whose loss is within ``min_delta`` of the constant prediction's (the limit λ → ∞):
  uninformative features leave that prediction best, and no larger λ differs from it.
* Every :class:`Selection` says how training stopped (``stopped_by``: ``"patience"``, ``"cap"`` —
  the epoch or iteration limit —, or ``"solver"``: L-BFGS converged). Test data play no part.

Members that can be stacked (:func:`members_stack`: no BatchNorm in the trained layers, no
convolution on the CPU) train together with ``torch.func.vmap`` and a per-member Adam
(:func:`fit_members`); others one at a time with the same arithmetic. :func:`fit_selected_many`
stacks the members of many worlds (seeds × correlation levels at one depth), each on its own data
and minibatch order.
"""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
import threading
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from reuse_utils.core.device import Accel, autocast, seed_everything
from reuse_utils.core.ids import check_seed
from reuse_utils.core.workers import map_workers
from reuse_utils.generator import Pairs
from reuse_utils.training.ensemble import stack_members, stackable
from reuse_utils.training.inference import frozen_features
from reuse_utils.training.models import LayeredNet
from reuse_utils.training.transfer import MODES, frozen_depth, split_train_val

__all__ = ["BobProtocol", "BobTask", "Members", "fit_members", "lr_factors", "HEADS", "STOPS", "convex_head", "fit_logistic_head", "fit_selected", "fit_selected_many", "members_stack", "split_train_val", "task_on_pairs", "Selection",
           "train_bob_selected"]

BETAS, EPS = (0.9, 0.999), 1e-8  # Adam's defaults


HEADS = ("convex", "sgd")
STOPS = ("patience", "cap", "solver")  #: how a selected Bob's training stopped


@dataclass(frozen=True)
class BobProtocol:
    """How every Bob is trained and selected (module docstring). Units: learning rates per Adam
    step; epochs as passes over Bob's training part; ``val_fraction`` of his pairs; λ (``l2s``) per
    unit of mean cross-entropy on standardised features; ``solver_tol`` on the largest absolute
    gradient entry of the convex objective."""

    lrs: tuple[float, ...] = (1e-3,)
    max_epochs: int = 60
    head_epochs: int = 24
    patience: int = 3
    batch_size: int = 64
    val_fraction: float = 0.2
    finetune_lr_factor: float = 1.0
    head: str = "convex"
    l2s: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)
    grid_step: float = 3.0
    lr_range: tuple[float, float] = (1e-5, 0.3)
    l2_range: tuple[float, float] = (1e-8, 100.0)
    solver_max_iter: int = 2000
    solver_tol: float = 1e-5
    min_delta: float = 0.01

    def __post_init__(self) -> None:
        for name in ("lrs", "l2s"):
            v = getattr(self, name)
            if (not isinstance(v, tuple) or not v
                    or not all(isinstance(x, numbers.Real) and math.isfinite(x) and x > 0 for x in v)):
                raise ValueError(f"{name} must be a non-empty tuple of finite numbers > 0; got {v!r}")
        for name in ("max_epochs", "head_epochs", "patience", "batch_size", "solver_max_iter"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or not 1 <= v <= 100_000:
                raise ValueError(f"{name} must be an integer in [1, 100000]; got {v!r}")
        if not isinstance(self.val_fraction, numbers.Real) or not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1); got {self.val_fraction!r}")
        if not isinstance(self.finetune_lr_factor, numbers.Real) or not 0 < self.finetune_lr_factor <= 1:
            raise ValueError(f"finetune_lr_factor must be in (0, 1]; got {self.finetune_lr_factor!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {list(HEADS)}; got {self.head!r}")
        if not isinstance(self.grid_step, numbers.Real) or not 1 < self.grid_step <= 100:
            raise ValueError(f"grid_step must be a number in (1, 100]; got {self.grid_step!r}")
        for name, grid in (("lr_range", self.lrs), ("l2_range", self.l2s)):
            r = getattr(self, name)
            if (not isinstance(r, tuple) or len(r) != 2 or not all(isinstance(x, numbers.Real) and x > 0 for x in r)
                    or not r[0] <= min(grid) <= max(grid) <= r[1]):
                raise ValueError(f"{name} must be a (low, high) tuple of numbers > 0 containing the grid "
                                 f"{list(grid)}; got {r!r}")
        if not isinstance(self.solver_tol, numbers.Real) or not 0 < self.solver_tol < 1:
            raise ValueError(f"solver_tol must be in (0, 1); got {self.solver_tol!r}")
        if not isinstance(self.min_delta, numbers.Real) or not 0 <= self.min_delta < 1:
            raise ValueError(f"min_delta must be in [0, 1); got {self.min_delta!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        for name in ("lrs", "l2s", "lr_range", "l2_range"):
            d[name] = list(getattr(self, name))
        return d

    def epochs_for(self, k: int) -> int:
        return self.head_epochs if k == 1 else self.max_epochs


@dataclass
class Selection:
    """The selected member of one mode: ``lr`` (NaN for a convex head), best ``epoch`` (1-based; 0
    for a convex head), ``val_loss`` and ``val_acc`` there, ``epochs_run`` (L-BFGS iterations for a
    convex head), ``l2`` (λ; NaN for SGD), ``stopped_by`` (:data:`STOPS`), ``selection_edge``
    (the chosen value is at an open end of the values tried: :func:`_open_end`) and ``tried`` (every
    value tried, sorted)."""

    lr: float
    epoch: int
    val_loss: float
    val_acc: float
    epochs_run: int
    stopped_by: str = "cap"
    selection_edge: bool = False
    l2: float = float("nan")
    tried: tuple[float, ...] = ()

    def fields(self) -> dict:
        """As record fields: validation scores, the tuned value (``bob_lr`` or ``bob_l2``), ``bob_epoch``,
        ``bob_iters`` (epochs run, or L-BFGS iterations), ``stopped_by`` and ``selection_edge``."""
        return {"bob_val_acc": self.val_acc, "bob_val_loss": self.val_loss, "bob_lr": self.lr, "bob_l2": self.l2,
                "bob_epoch": self.epoch, "bob_iters": self.epochs_run, "stopped_by": self.stopped_by,
                "selection_edge": bool(self.selection_edge)}


def lr_factors(top: nn.Module, mode: str, factor: float) -> dict[str, float]:
    """Per trained-parameter learning-rate multiplier of ``top`` (the trained layers, output layer
    last): ``factor`` on the pretrained layers in finetune mode, 1 elsewhere."""
    out_layer = len(top) - 1
    names = dict(top.named_parameters())
    return {n: (factor if mode == "finetune" and int(n.split(".")[0]) < out_layer else 1.0) for n in names}


def _mean_ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits.float(), y)


@dataclass
class Members:
    """The members of one stacked fit (:func:`fit_members`): member ``j`` trains ``tops[j]`` with Adam at
    learning rate ``lrs[j]`` × ``factors[j][name]`` per parameter (:func:`lr_factors`) on
    ``data[owner[j]]`` — (train_x, train_y, val_x, val_y), the inputs of the trained layers — with that
    task's minibatch order, a generator seeded with ``seeds[owner[j]]``."""

    tops: list[nn.Module]
    lrs: list[float]
    factors: list[dict[str, float]]
    owner: list[int]
    data: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]
    seeds: list[int]

    def __post_init__(self):
        m = len(self.tops)
        if not m or len(self.lrs) != m or len(self.factors) != m or len(self.owner) != m:
            raise ValueError(f"Members: tops, lrs, factors and owner must be non-empty and of one length; got "
                             f"{m}, {len(self.lrs)}, {len(self.factors)}, {len(self.owner)}")
        if len(self.seeds) != len(self.data) or not all(0 <= o < len(self.data) for o in self.owner):
            raise ValueError(f"Members: one seed per task ({len(self.data)} tasks, {len(self.seeds)} seeds) and "
                             f"owner in [0, {len(self.data)})")


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
    accel = (accel or Accel()).resolve(device)
    seed_everything(seeds[0])
    if k == 1 and protocol.head == "convex" and convex_head(nn.Sequential(*bobs[0].layers[start:])) is not None:
        return _select_convex(tasks, protocol, start, device)
    return _select_sgd(tasks, protocol, start, k, seeds, device, accel)


def _ends(losses: dict[float, float], chosen: float, flat_top: float | None, tol: float) -> tuple[bool, bool]:
    """(top open, bottom open): whether the best value may lie above / below the values tried
    (``losses``: value → validation loss) because ``chosen`` is their largest / smallest. With
    ``flat_top`` (the loss of the limit beyond the top — for an L2 strength λ → ∞, the constant
    prediction of the training classes' frequencies) the top is open only while its loss is below
    that limit's by more than the fraction ``tol``: uninformative features leave the constant
    prediction best, and nothing beyond the top differs from it."""
    vals = sorted(losses)
    top = chosen == vals[-1] and (flat_top is None or losses[chosen] < flat_top * (1 - tol))
    return top, chosen == vals[0]


def _open_end(losses: dict[float, float], chosen: float, flat_top: float | None = None, tol: float = 0.0) -> bool:
    """Whether ``chosen`` sits at an open end of the values tried (:func:`_ends`)."""
    return any(_ends(losses, chosen, flat_top, tol))


def _next_value(losses: dict[float, float], chosen: float, step: float, bounds: tuple[float, float],
                flat_top: float | None = None, tol: float = 0.0) -> float | None:
    """The value to try next while ``chosen`` is at an open end (:func:`_ends`): ``chosen × step``
    above an open top, else ``chosen / step`` below the bottom, within ``bounds``; else None."""
    top, bottom = _ends(losses, chosen, flat_top, tol)
    if top and chosen * step <= bounds[1] * (1 + 1e-9):
        return chosen * step
    if bottom and chosen / step >= bounds[0] * (1 - 1e-9):
        return chosen / step
    return None


def _select_sgd(tasks: list[BobTask], protocol: BobProtocol, start: int, k: int, seeds: list[int],
                device: torch.device, accel: Accel) -> list[list[Selection]]:
    """Adam over a learning-rate grid that widens while the choice is at its end (module docstring)."""
    data = [(t.train_x.to(device), t.train_y.to(device), t.val_x.to(device), t.val_y.to(device)) for t in tasks]
    epochs = protocol.epochs_for(k)
    bob_ids = [(ti, i) for ti, task in enumerate(tasks) for i in range(len(task.bobs))]
    tried: dict[tuple[int, int], dict[float, tuple[dict, nn.Module]]] = {b: {} for b in bob_ids}
    pending = [(ti, i, float(lr)) for ti, i in bob_ids for lr in protocol.lrs]
    stack = members_stack(nn.Sequential(*tasks[0].bobs[0].layers[start:]), device)

    def pick(b: tuple[int, int]) -> float:
        return min(tried[b], key=lambda lr: (tried[b][lr][0]["val_loss"], -tried[b][lr][0]["val_acc"], lr))

    while pending:
        tops = [copy.deepcopy(nn.Sequential(*tasks[ti].bobs[i].layers[start:])).to(device) for ti, i, _ in pending]
        factors = [lr_factors(tops[j], tasks[ti].modes[i], protocol.finetune_lr_factor)
                   for j, (ti, i, _) in enumerate(pending)]
        members = Members(tops, [lr for _, _, lr in pending], factors, [ti for ti, _, _ in pending], data, seeds)
        best_tops, stats = fit_members(members, protocol, epochs, device, accel, stacked=stack)
        for (ti, i, lr), top, st in zip(pending, best_tops, stats, strict=True):
            tried[(ti, i)][lr] = (st, top)
        pending = []
        for b in bob_ids:
            chosen = pick(b)
            if not math.isfinite(tried[b][chosen][0]["val_loss"]):
                continue  # every rate diverged: an error below
            losses = {lr: st["val_loss"] for lr, (st, _) in tried[b].items()}
            nxt = _next_value(losses, chosen, protocol.grid_step, protocol.lr_range)
            if nxt is not None and nxt not in tried[b]:
                pending.append((*b, nxt))
    out = []
    for ti, task in enumerate(tasks):
        sel = []
        for i, bob in enumerate(task.bobs):
            lr = pick((ti, i))
            st, top = tried[(ti, i)][lr]
            if not math.isfinite(st["val_loss"]):  # a diverged rate is never chosen; all diverged: an error
                _no_finite_epoch(task.seed, sorted(tried[(ti, i)]))
            with torch.no_grad():
                for layer, new in zip(bob.layers[start:], top, strict=True):
                    layer.load_state_dict(new.state_dict())
            bob.eval()
            sel.append(Selection(lr=lr, epoch=st["epoch"], val_loss=st["val_loss"], val_acc=st["val_acc"],
                                 epochs_run=st["epochs_run"], stopped_by=st["stopped_by"],
                                 selection_edge=_open_end({v: x[0]["val_loss"] for v, x in tried[(ti, i)].items()}, lr),
                                 tried=tuple(sorted(tried[(ti, i)]))))
        out.append(sel)
    return out


def convex_head(top: nn.Sequential) -> tuple[nn.Module, nn.Linear] | None:
    """(parameter-free prefix, output ``nn.Linear``) when the trained layers ``top`` are one layer
    ending in its only parameterised module — a linear map of fixed features, whose training with
    cross-entropy is convex; else None."""
    if len(top) != 1:
        return None
    mods = list(top[0]) if isinstance(top[0], nn.Sequential) else [top[0]]
    if not mods or not isinstance(mods[-1], nn.Linear):
        return None
    prefix = nn.Sequential(*mods[:-1])
    if any(True for _ in prefix.parameters()) or any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                                                    for m in prefix.modules()):
        return None
    return prefix, mods[-1]


def _logistic(theta: np.ndarray, x: torch.Tensor, y: torch.Tensor, n_classes: int, lam: float) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits x·Wᵀ + b plus λ/2·‖W‖², and its gradient (θ = [W | b] flattened;
    float64, on the CPU: torch's kernels, not NumPy's, whose BLAS threads contend with torch's)."""
    d = x.shape[1]
    wb = torch.from_numpy(theta).view(n_classes, d + 1)
    w, b = wb[:, :d], wb[:, d]
    logp = torch.log_softmax(x @ w.T + b, 1)
    n = len(y)
    rows = torch.arange(n)
    loss = -logp[rows, y].mean() + 0.5 * lam * (w * w).sum()
    g = logp.clamp_min(-600.0).exp_()  # e^-600 ≈ 1e-261: no subnormal numbers (slow on x86), no change
    g[rows, y] -= 1.0
    g /= n
    grad = torch.cat([g.T @ x + lam * w, g.sum(0)[:, None]], 1)
    return float(loss), grad.numpy().ravel()


def _val_scores(theta: np.ndarray, x: torch.Tensor, y: torch.Tensor, n_classes: int) -> tuple[float, float]:
    loss, _ = _logistic(theta, x, y, n_classes, 0.0)
    wb = torch.from_numpy(theta).view(n_classes, x.shape[1] + 1)
    pred = (x @ wb[:, :-1].T + wb[:, -1]).argmax(1)
    return loss, float((pred == y).double().mean())


@contextlib.contextmanager
def one_blas_thread():
    """SciPy's L-BFGS-B calls BLAS on tiny vectors, where BLAS threads spinning beside torch's slow
    every iteration several-fold. Limits BLAS to one thread, from the main thread only (the limit is
    process-wide)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def fit_logistic_head(train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor, val_y: torch.Tensor,
                      n_classes: int, protocol: BobProtocol) -> tuple[torch.Tensor, torch.Tensor, Selection]:
    """The converged multinomial logistic head on fixed features (rows of ``train_x``), λ chosen on
    validation loss from a widening grid (module docstring). Returns (weight K × d, bias K) in the
    features' own units, and the :class:`Selection` (``epochs_run``: L-BFGS iterations)."""
    from scipy.optimize import minimize

    xt = train_x.detach().double().cpu().reshape(len(train_x), -1)
    xv = val_x.detach().double().cpu().reshape(len(val_x), -1)
    yt, yv = train_y.cpu().long(), val_y.cpu().long()
    mu, sd = xt.mean(0), xt.std(0, unbiased=False)
    sd[sd < 1e-8] = 1.0
    xt, xv = (xt - mu) / sd, (xv - mu) / sd
    n_par = n_classes * (xt.shape[1] + 1)
    fits: dict[float, tuple[np.ndarray, float, float, int, str]] = {}
    freq = torch.bincount(yt, minlength=n_classes).double().clamp_min(0.5) / len(yt)  # λ → ∞: the class frequencies
    prior_loss = float(-freq.log()[yv].mean())

    def solve(lam: float) -> None:
        near = min(fits, key=lambda v: abs(math.log(v / lam)), default=None)  # warm start on the path
        theta0 = fits[near][0] if near is not None else np.zeros(n_par)
        res = minimize(_logistic, theta0, args=(xt, yt, n_classes, lam), jac=True, method="L-BFGS-B",
                       options={"maxiter": protocol.solver_max_iter, "gtol": protocol.solver_tol, "ftol": 1e-15,
                                "maxcor": 20})
        converged = float(np.abs(res.jac).max()) <= protocol.solver_tol or res.status == 0
        vloss, vacc = _val_scores(res.x, xv, yv, n_classes)
        fits[lam] = (res.x, vloss, vacc, int(res.nit), "solver" if converged else "cap")

    def pick() -> float:
        return min(fits, key=lambda v: (fits[v][1], -fits[v][2], -v))

    with one_blas_thread():
        for lam in sorted(protocol.l2s, reverse=True):
            solve(float(lam))
        while True:
            nxt = _next_value({v: f[1] for v, f in fits.items()}, pick(), protocol.grid_step, protocol.l2_range,
                              prior_loss, protocol.min_delta)
            if nxt is None or nxt in fits:
                break
            solve(nxt)
    lam = pick()
    theta, vloss, vacc, iters, stop = fits[lam]
    wb = torch.from_numpy(theta).view(n_classes, -1)
    w = wb[:, :-1] / sd
    b = wb[:, -1] - w @ mu
    sel = Selection(lr=float("nan"), epoch=0, val_loss=vloss, val_acc=vacc, epochs_run=iters, stopped_by=stop,
                    selection_edge=_open_end({v: f[1] for v, f in fits.items()}, lam, prior_loss, protocol.min_delta),
                    l2=lam,
                    tried=tuple(sorted(fits)))
    return w.float(), b.float(), sel


def _select_convex(tasks: list[BobTask], protocol: BobProtocol, start: int, device: torch.device) -> list[list[Selection]]:
    """Every task's head-only Bobs as converged logistic heads (:func:`fit_logistic_head`), one fit per
    task (its modes coincide at k = 1), tasks side by side on the CPU's cores."""
    prefix, _ = convex_head(nn.Sequential(*tasks[0].bobs[0].layers[start:]))

    def one(task: BobTask):
        with torch.no_grad():
            zt, zv = prefix(task.train_x.to(device)).flatten(1), prefix(task.val_x.to(device)).flatten(1)
        return fit_logistic_head(zt, task.train_y, zv, task.val_y, task.bobs[0].num_classes, protocol)

    with one_blas_thread():
        fitted = map_workers(one, tasks, torch.device("cpu"))
    out = []
    for task, (w, b, sel) in zip(tasks, fitted, strict=True):
        for bob in task.bobs:
            _, linear = convex_head(nn.Sequential(*bob.layers[start:]))
            with torch.no_grad():
                linear.weight.copy_(w.to(linear.weight.device))
                linear.bias.copy_(b.to(linear.bias.device))
            bob.eval()
        out.append([copy.copy(sel) for _ in task.bobs])
    return out


def members_stack(top: nn.Module, device: torch.device) -> bool:
    """Whether Bobs with trained layers ``top`` train stacked on ``device`` (else one at a time, same
    arithmetic): not with BatchNorm (its statistics are per call), and not convolutions on the CPU,
    where channels-last networks one at a time, side by side in threads, beat the stacked (grouped,
    NCHW) convolution (``benchmarks/measured/memory_format_quick_cpu2.json``)."""
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


def fit_members(members: Members, protocol: BobProtocol, epochs: int, device: torch.device,
                accel: Accel | None = None, *, stacked: bool | None = None) -> tuple[list[nn.Module], list[dict]]:
    """Train every member of ``members`` for at most ``epochs`` epochs with the protocol's batch size,
    early stopping (``patience``, ``min_delta``) and the lowest-validation-loss weights kept (in place).
    ``stacked``: all members in one ``vmap`` loop (True), one at a time (False), or as
    :func:`members_stack` says for ``members.tops[0]`` (None); both compute the same up to float
    rounding. Returns the trained tops and, per member, ``epoch`` (kept, 0: none finite), ``val_loss``,
    ``val_acc``, ``epochs_run`` and ``stopped_by`` (``"patience"`` or ``"cap"``)."""
    accel = (accel or Accel()).resolve(device)
    if stacked is None:
        stacked = members_stack(members.tops[0], device)
    return (_fit_stacked if stacked else _fit_apart)(members, protocol, epochs, device, accel)


def _adam_step(plist, grads, mom, var, lr_eff, step: int) -> None:
    """One Adam update of every stacked parameter in ``plist``, in ``torch._foreach`` arithmetic."""
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


def _fit_stacked(members: Members, protocol: BobProtocol, epochs: int, device: torch.device, accel: Accel):
    """:func:`fit_members` with every member in one loop: ``torch.func.vmap`` over the stacked
    weights, Adam per member with its own learning rates (:func:`_adam_step`)."""
    tops, lrs, factors, owner, data, seeds = (members.tops, members.lrs, members.factors, members.owner,
                                              members.data, members.seeds)
    m, n_tasks = len(tops), len(data)
    shared = n_tasks == 1
    params, buffers, batched = stack_members(tops, shared_input=shared)
    names = list(params)
    plist = [params[n] for n in names]
    lr_vec = [torch.tensor([lrs[j] * factors[j][n] for j in range(m)], device=device).view(-1, *[1] * (params[n].ndim - 1))
              for n in names]
    mom = [torch.zeros_like(p) for p in plist]
    var = [torch.zeros_like(p) for p in plist]
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
    ref = torch.full((m,), math.inf, device=device)
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
            with autocast(device, enabled=accel.bf16):
                logits = batched(params, buffers, xb)
            loss = nn.functional.cross_entropy(logits.float().transpose(1, 2), yb, reduction="sum") / idx.shape[1]
            grads = torch.autograd.grad(loss, plist)
            step += 1
            with torch.no_grad():
                _adam_step(plist, grads, mom, var, lr_eff, step)
        with torch.no_grad(), autocast(device, enabled=accel.bf16):
            if shared:
                vloss, vacc = _eval_members(lambda x: batched(params, buffers, x), val_x, val_y)
            else:
                vloss, vacc = _eval_stacked(batched, params, buffers, val_x, val_y, own)
        with torch.no_grad():
            ran += active.long()
            better = active & (vloss < best_loss - 1e-7)  # the kept weights: the lowest validation loss
            improved = active & (vloss < ref * (1 - protocol.min_delta) - 1e-7)  # the stopping rule
            for b, p in zip(best, plist, strict=True):
                b[better] = p[better]
            best_loss = torch.where(better, vloss, best_loss)
            best_acc = torch.where(better, vacc, best_acc)
            best_epoch = torch.where(better, torch.full_like(best_epoch, epoch), best_epoch)
            ref = torch.where(improved, vloss, ref)
            stale = torch.where(improved, torch.zeros_like(stale), stale + active.long())
            active &= stale < protocol.patience
        if not bool(active.any()):
            break
    out = []
    for j, top in enumerate(tops):
        with torch.no_grad():
            for n, p in top.named_parameters():
                p.copy_(best[names.index(n)][j])
        out.append(top)
    stats = [{"epoch": e, "val_loss": vl, "val_acc": va, "epochs_run": r, "stopped_by": "cap" if on else "patience"}
             for e, vl, va, r, on in zip(best_epoch.tolist(), best_loss.tolist(), best_acc.tolist(), ran.tolist(),
                                         active.tolist(), strict=True)]
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


def _fit_apart(members: Members, protocol: BobProtocol, epochs: int, device: torch.device, accel: Accel):
    """:func:`fit_members` one member at a time (where :func:`members_stack` says no); on the CPU
    members train side by side in threads (:func:`reuse_utils.core.workers.map_workers`)."""
    m = members
    done = map_workers(lambda j: _fit_one(m.tops[j], m.lrs[j], m.factors[j], m.data[m.owner[j]], protocol, epochs,
                                          m.seeds[m.owner[j]], device, accel), range(len(m.tops)), device)
    return [top for top, _ in done], [stats for _, stats in done]


def _fit_one(top, lr, factors, data, protocol, epochs, seed, device, accel):
    """One member: Adam (per-parameter lr ``lr × factor``), the task's minibatch order (a generator
    seeded with ``seed``), best validation loss kept, stopped after ``patience`` stale epochs."""
    train_x, train_y, val_x, val_y = data
    groups = {}
    for n, p in top.named_parameters():
        groups.setdefault(factors[n], []).append(p)
    opt = torch.optim.Adam([{"params": ps, "lr": lr * f} for f, ps in groups.items()], betas=BETAS, eps=EPS)
    gen = torch.Generator().manual_seed(seed)
    best_state, best_loss, best_acc, best_epoch, stale, ran, stopped = None, math.inf, 0.0, 0, 0, 0, "cap"
    ref = math.inf  # the loss an epoch must beat by the fraction min_delta to reset the patience count
    for epoch in range(1, epochs + 1):
        top.train()
        perm = torch.randperm(len(train_y), generator=gen).to(device)
        for i in range(0, len(train_y), protocol.batch_size):
            idx = perm[i: i + protocol.batch_size]
            with autocast(device, enabled=accel.bf16):
                loss = _mean_ce(top(train_x[idx]), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        ran = epoch
        top.eval()
        with torch.no_grad(), autocast(device, enabled=accel.bf16):
            vloss, vacc = _eval_members(lambda x: top(x).unsqueeze(0), val_x, val_y)
        v = float(vloss[0])
        if v < best_loss - 1e-7:  # the kept weights: the lowest validation loss
            best_state = copy.deepcopy(top.state_dict())
            best_loss, best_acc, best_epoch = v, float(vacc[0]), epoch
        if v < ref * (1 - protocol.min_delta) - 1e-7:  # the stopping rule: a real improvement
            ref, stale = v, 0
        else:
            stale += 1
            if stale >= protocol.patience:
                stopped = "patience"
                break
    if best_state is not None:  # None: no epoch had a finite validation loss; this rate is never chosen
        top.load_state_dict(best_state)
    return top, {"epoch": best_epoch, "val_loss": best_loss, "val_acc": best_acc, "epochs_run": ran,
                 "stopped_by": stopped}


def train_bob_selected(bob: LayeredNet, mode: str, pairs: Pairs, protocol: BobProtocol, seed: int,
                       device: torch.device, accel: Accel | None = None,
                       features: torch.Tensor | None = None) -> tuple[LayeredNet, Selection]:
    """One Bob trained on ``pairs`` (split into training and validation parts) and selected by
    ``protocol``; returns the Bob (in place) and its :class:`Selection`. ``features``: the frozen
    prefix's activations of ``pairs`` when the caller already has them. ``k = 0`` trains nothing."""
    start = frozen_depth(bob)
    if start == bob.n_layers:
        split_train_val(pairs, protocol.val_fraction)  # too few pairs is an error even when nothing trains
        return bob, Selection(lr=float("nan"), epoch=0, val_loss=float("nan"), val_acc=float("nan"), epochs_run=0,
                              stopped_by="solver")
    bob.to(device)
    bf16 = (accel or Accel()).resolve(device).bf16
    if features is not None and start:
        x = features
    else:
        x = frozen_features(bob, pairs.x, start, device, bf16=bf16) if start else pairs.x
    task, _ = task_on_pairs([bob], [mode], pairs, x, protocol.val_fraction, seed)
    ((sel,),) = fit_selected_many([task], protocol, device, accel)
    return bob, sel
