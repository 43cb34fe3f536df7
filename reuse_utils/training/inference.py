"""Inference with Alice's and Bob's networks: predicted classes, accuracy (fractions in [0, 1]),
frozen-prefix features and Bob's accuracy on the linked and unlinked samples.

Every function runs the network in eval mode and restores its training flag; batching never
changes a prediction (:func:`inference_batch`).
"""

from __future__ import annotations

import torch

from reuse_utils.core.device import autocast
from reuse_utils.generator import Pairs, check_finite, check_pairs
from reuse_utils.training.models import LayeredNet

__all__ = ["CPU_INFERENCE_BATCH", "inference_batch", "predict", "check_eval_pairs", "check_target", "evaluate",
           "frozen_features", "predict_features", "bob_predictions", "bob_accuracy", "split_accuracy"]


def check_target(target: str) -> str:
    if target not in ("alice", "bob"):
        raise ValueError(f"target must be 'alice' or 'bob'; got {target!r}")
    return target


CPU_INFERENCE_BATCH = 256  #: most inputs per inference pass on the CPU (:func:`inference_batch`)


def inference_batch(device: torch.device | str, default: int) -> int:
    """Inputs per forward pass when only predicting: ``default`` on accelerators, at most
    :data:`CPU_INFERENCE_BATCH` on the CPU, where a batch's activations then stay in cache and below
    the allocator's fresh-pages threshold (about twice as fast as 1024 on 2 cores). The batch never
    changes a prediction."""
    return min(default, CPU_INFERENCE_BATCH) if torch.device(device).type == "cpu" else default


@torch.no_grad()
def _batched(fn, x: torch.Tensor, batch: int) -> torch.Tensor:
    return torch.cat([fn(x[i: i + batch]) for i in range(0, len(x), batch)]) if len(x) else x


@torch.no_grad()
def predict(model: LayeredNet, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """Predicted class indices for inputs ``x`` (eval mode, moved to the model's device;
    ``batch_size`` None: :func:`inference_batch`)."""
    dev = next(model.parameters()).device
    was = model.training
    model.eval()
    out = _batched(lambda b: model(b.to(dev)).argmax(1), x, batch_size or inference_batch(dev, 1024))
    model.train(was)
    return out


def check_eval_pairs(model: LayeredNet, pairs: Pairs, name: str = "pairs", *, finite: bool = True) -> Pairs:
    """``pairs`` itself; a ``ValueError`` unless it is a :class:`Pairs` (with finite inputs, unless
    ``finite=False``) whose ``input_shape`` is the network's: a layout or size other than the one the
    network was built for is refused even when the flattened sizes agree."""
    check_pairs(pairs, name, finite=finite)
    want = model.input_shape
    if tuple(pairs.input_shape) != tuple(want):
        raise ValueError(f"{name} have input_shape {tuple(pairs.input_shape)} but the network was built for "
                         f"input_shape {tuple(want)}")
    return pairs


def evaluate(model: LayeredNet, pairs: Pairs, target: str = "bob", batch_size: int | None = None) -> float:
    """Accuracy (fraction in [0, 1]) of ``model`` on ``pairs`` against ``y_<target>``; ``ValueError``
    for pairs with NaN or ±inf inputs or of another input shape than the network's
    (:func:`check_eval_pairs`)."""
    check_target(target)
    check_eval_pairs(model, pairs)
    y = pairs.labels(target)
    pred = predict(model, pairs.x, batch_size)
    return float((pred.cpu() == y.cpu()).float().mean())


@torch.no_grad()
def frozen_features(model: LayeredNet, x: torch.Tensor, start: int,
                    device: str | torch.device | None = None, batch_size: int | None = None,
                    bf16: bool = True, begin: int = 0) -> torch.Tensor:
    """Output of the first ``start`` layers of ``model`` on ``x`` (eval mode, returned as float32;
    computed under bf16 autocast on CUDA unless ``bf16=False``). With ``begin`` (< ``start``),
    ``x`` is already the output of the first ``begin`` layers (as this function returned it).
    ``ValueError`` when ``x`` holds NaN or ±inf."""
    check_finite(x, "x")
    if not 0 <= begin <= start:
        raise ValueError(f"begin must be in [0, start={start}]; got {begin!r}")
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was = model.training
    model.eval()
    with autocast(dev, enabled=bf16):
        out = _batched(lambda b: model.forward_to(b.to(dev), start, begin), x,
                       batch_size or inference_batch(dev, 1024)).float()
    model.train(was)
    return out


@torch.no_grad()
def predict_features(model: LayeredNet, features: torch.Tensor, start: int,
                     batch_size: int | None = None) -> torch.Tensor:
    """Predicted class indices of ``model`` run from layer ``start`` on precomputed ``features``
    (``batch_size`` None: :func:`inference_batch`)."""
    was = model.training
    model.eval()
    pred = _batched(lambda b: model.forward_from(b, start).argmax(1), features,
                    batch_size or inference_batch(features.device, 4096))
    model.train(was)
    return pred


def bob_predictions(bob: LayeredNet, pairs: Pairs, features: torch.Tensor | None = None,
                    start: int = 0) -> torch.Tensor:
    """Bob's predicted labels on ``pairs`` (on the CPU): from cached frozen-prefix ``features``
    (layers ≥ ``start``) when given, else a full forward pass. ``ValueError`` for pairs of another
    input shape than the network's (:func:`check_eval_pairs`)."""
    check_eval_pairs(bob, pairs, finite=features is None)
    pred = predict(bob, pairs.x) if features is None else predict_features(bob, features, start)
    return pred.cpu()


def bob_accuracy(bob: LayeredNet, pairs: Pairs, features: torch.Tensor | None = None, start: int = 0) -> float:
    """Bob's accuracy (fraction) on ``pairs``; see :func:`bob_predictions`."""
    return float((bob_predictions(bob, pairs, features, start) == pairs.y_bob.cpu()).float().mean())


def split_accuracy(pred: torch.Tensor, pairs: Pairs) -> dict[str, float]:
    """Accuracy of predictions ``pred`` against ``y_bob``: overall, on the samples the task dial
    linked (b = π(a)) and on the unlinked ones (NaN where a part is empty). On unlinked samples
    copying Alice's label gives only chance: there features, not labels, must carry transfer."""
    hit = (pred.cpu() == pairs.y_bob.cpu()).float()
    linked = pairs.linked.cpu()

    def part(mask: torch.Tensor) -> float:
        return float(hit[mask].mean()) if bool(mask.any()) else float("nan")

    return {"all": float(hit.mean()), "linked": part(linked), "unlinked": part(~linked)}
