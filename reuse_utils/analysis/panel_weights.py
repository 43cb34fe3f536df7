"""Measuring *why* Bob is lucky at zero correlation: the weights that only see Bob's panel.

At task_corr = feature_corr = 0 Bob's panel carries no information on Alice's label, so the
weights of Alice's network that read only Bob's panel get no consistent gradient. What her
optimizer does to them decides what Bob inherits:

* ``cnn``: convolutions share weights across panels, so Bob's panel is filtered by features Alice
  learned on hers; the ``fc`` weights reading Bob's half of the last feature map are the
  panel-specific ones.
* ``mlp``: every first-layer weight reads a single pixel; those on Bob's pixels are panel-specific.

:func:`panel_weight_norms` returns the RMS of those weights (Alice's half, Bob's half) for a
trained network and for the same network at initialisation (same seed), so weight decay's
erasure (ratio < 1) and Adam's keeping or growing (ratio ≥ 1) show as numbers.
"""

from __future__ import annotations

import math

import torch

from reuse_utils.training.models import LayeredNet

__all__ = ["panel_weight_norms", "panel_columns"]


def panel_columns(regions: dict, layout: str, stride: int, size: int) -> dict[str, list[int]]:
    """Feature-map positions (columns for horizontal, rows for vertical layout) lying wholly inside
    each panel, for a map downsampled by ``stride`` to ``size`` positions."""
    axis = (2, 3) if layout == "horizontal" else (0, 1)
    out = {}
    for name, reg in regions.items():
        lo, hi = reg[axis[0]], reg[axis[1]]
        out[name] = [j for j in range(size) if j * stride >= lo and (j + 1) * stride <= hi]
    return out


def _panel_weights(model: LayeredNet, regions: dict, layout: str) -> dict[str, torch.Tensor]:
    c, h, w = model.input_shape
    if model.arch == "cnn":
        lin = model.layers[3][1]
        ch = lin.in_features // ((h // 8) * (w // 8))
        weight = lin.weight.detach().reshape(lin.out_features, ch, h // 8, w // 8)
        stride, size = 8, (w // 8 if layout == "horizontal" else h // 8)
    elif model.arch == "mlp":
        lin = model.layers[0][1]
        weight = lin.weight.detach().reshape(lin.out_features, c, h, w)
        stride, size = 1, (w if layout == "horizontal" else h)
    else:
        raise ValueError(f"model.arch must be 'cnn' or 'mlp' for panel weights; got {model.arch!r}")
    cols = panel_columns(regions, layout, stride, size)
    dim = 3 if layout == "horizontal" else 2
    return {name: weight.index_select(dim, torch.tensor(idx, device=weight.device)) for name, idx in cols.items()}


def _rms(t: torch.Tensor) -> float:
    return float(t.float().pow(2).mean().sqrt())


def panel_weight_norms(model: LayeredNet, init_model: LayeredNet, regions: dict,
                       layout: str = "horizontal") -> dict:
    """RMS of the panel-specific weights of ``model`` and of ``init_model`` (its initialisation).

    Returns ``alice_rms``, ``bob_rms``, ``alice_rms_init``, ``bob_rms_init``, ``bob_vs_init``
    (bob_rms / bob_rms_init: < 1 means erased, ≥ 1 kept or grown) and ``bob_vs_alice``.
    """
    now, init = _panel_weights(model, regions, layout), _panel_weights(init_model, regions, layout)
    out = {"alice_rms": _rms(now["alice"]), "bob_rms": _rms(now["bob"]),
           "alice_rms_init": _rms(init["alice"]), "bob_rms_init": _rms(init["bob"])}
    out["bob_vs_init"] = out["bob_rms"] / out["bob_rms_init"] if out["bob_rms_init"] > 0 else math.nan
    out["bob_vs_alice"] = out["bob_rms"] / out["alice_rms"] if out["alice_rms"] > 0 else math.nan
    return out
