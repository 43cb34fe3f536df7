"""Where transfer comes from: captum attributions split by panel, per layer.

* :func:`panel_shares` — Integrated Gradients (baseline: blank panels, pixel value -1) for the
  true label; the share of total |attribution| falling on Alice's and on Bob's panel, averaged
  over samples.
* :func:`layer_panel_shares` — LayerConductance of every convolutional layer; the share of
  |conductance| located on Bob's side of the feature map (positions wholly inside a panel).
* :func:`randomised_reliance` — accuracy when Alice's or Bob's panel is replaced by an independent
  draw; ``bob_reliance`` = drop(Bob randomised) / (sum of both drops): the behavioural counterpart
  of the attribution share.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from reuse_utils.analysis.panel_weights import panel_columns
from reuse_utils.generator import Pairs
from reuse_utils.training import LayeredNet, evaluate

__all__ = ["panel_shares", "layer_panel_shares", "randomised_reliance", "attribution_maps", "attribution_rows"]


def _inputs(model: LayeredNet, pairs: Pairs, target: str, n: int):
    dev = next(model.parameters()).device
    n = min(n, len(pairs))
    x = pairs.x[:n].to(dev)
    y = pairs.labels(target)[:n].to(dev)
    return x, y, torch.full_like(x, -1.0)


def attribution_maps(model: LayeredNet, pairs: Pairs, target: str = "bob", n: int = 200,
                     n_steps: int = 32) -> torch.Tensor:
    """Integrated-Gradients attribution maps (N×C×H×W) for the true ``target`` labels."""
    from captum.attr import IntegratedGradients

    model.eval()
    x, y, base = _inputs(model, pairs, target, n)
    ig = IntegratedGradients(model)
    out = [ig.attribute(x[i:i + 64], baselines=base[i:i + 64], target=y[i:i + 64], n_steps=n_steps)
           for i in range(0, len(x), 64)]
    return torch.cat(out).detach().cpu()


def panel_shares(model: LayeredNet, pairs: Pairs, target: str = "bob", n: int = 200,
                 n_steps: int = 32) -> dict:
    """Mean share of |IG attribution| on each panel (shares sum to 1 per sample)."""
    attr = attribution_maps(model, pairs, target, n, n_steps).abs()
    totals = {}
    for name, (r0, r1, c0, c1) in pairs.regions.items():
        totals[name] = attr[:, :, r0:r1, c0:c1].flatten(1).sum(1)
    denom = sum(totals.values()).clamp_min(1e-12)
    return {f"{name}_share": float((v / denom).mean()) for name, v in totals.items()}


def layer_panel_shares(model: LayeredNet, pairs: Pairs, target: str = "bob", n: int = 100,
                       n_steps: int = 16) -> dict[str, float]:
    """Per conv layer (by name): share of |LayerConductance| on Bob's side of the feature map."""
    from captum.attr import LayerConductance

    model.eval()
    x, y, base = _inputs(model, pairs, target, n)
    out = {}
    h_in = x.shape[2] if pairs.layout == "vertical" else x.shape[3]
    for name, layer in zip(model.layer_names, model.layers, strict=True):
        if not any(isinstance(m, torch.nn.Conv2d) for m in layer.modules()):
            continue  # not a spatial layer: no panel split
        lc = LayerConductance(model, layer)
        attr = torch.cat([lc.attribute(x[i:i + 50], baselines=base[i:i + 50], target=y[i:i + 50], n_steps=n_steps)
                          for i in range(0, len(x), 50)]).detach().abs()
        if attr.ndim != 4:
            continue
        size = attr.shape[2] if pairs.layout == "vertical" else attr.shape[3]
        cols = panel_columns(pairs.regions, pairs.layout, h_in // size, size)
        dim = 2 if pairs.layout == "vertical" else 3
        mass = {p: float(attr.index_select(dim, torch.tensor(c, device=attr.device)).sum()) for p, c in cols.items()}
        total = mass["alice"] + mass["bob"]
        out[name] = mass["bob"] / total if total > 0 else math.nan
    return out


def randomised_reliance(model: LayeredNet, pairs: Pairs, target: str = "bob", seed: int = 0) -> dict:
    """Accuracy intact and with each panel randomised; ``bob_reliance`` in [0, 1] (NaN if no drop)."""
    acc = evaluate(model, pairs, target)
    acc_a = evaluate(model, pairs.randomize_panel("alice", seed), target)
    acc_b = evaluate(model, pairs.randomize_panel("bob", seed + 1), target)
    da, db = max(acc - acc_a, 0.0), max(acc - acc_b, 0.0)
    return {"acc": acc, "acc_alice_randomised": acc_a, "acc_bob_randomised": acc_b,
            "bob_reliance": db / (da + db) if da + db > 0 else float(np.nan)}


def attribution_rows(models, test_pairs: Pairs, *, n: int = 200, n_steps: int = 32, n_layer: int = 100,
                     seed: int = 0, progress: bool = False) -> list[dict]:
    """Attribution measurements of each ``(name, k, model, target)`` in ``models`` on ``test_pairs``.

    One row per model: model, k, target, alice_share, bob_share (Integrated Gradients), per-layer
    Bob-side conductance shares (``layer:<name>``), accuracies with each panel randomised and
    ``bob_reliance``. ``progress`` shows a tqdm bar over the models.
    """
    from tqdm.auto import tqdm

    rows = []
    for name, k, model, target in tqdm(models, desc="attribution", disable=not progress):
        row = {"model": name, "k": k, "target": target}
        row.update(panel_shares(model, test_pairs, target, n, n_steps))
        row.update({f"layer:{ln}": v for ln, v in
                    layer_panel_shares(model, test_pairs, target, n_layer, max(8, n_steps // 2)).items()})
        row.update(randomised_reliance(model, test_pairs, target, seed))
        rows.append(row)
    return rows
