"""Measured relatedness of two tasks and their inputs: Cramér's V of the labels, panel correlations."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from reuse_utils.core.workers import map_workers
from reuse_utils.datasets.base import ImageDataset
from reuse_utils.generator.pairs import Pairs, check_pairs, make_pairs

__all__ = ["cramers_v", "measure_correlations", "measured_task_correlation", "calibration_table",
           "residual_correlation", "chance_accuracy"]



def cramers_v(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, *,
              bias_corrected: bool = True, signed_binary: bool = True) -> float:
    """Cramér's V between two label vectors (Bergsma's 2013 bias correction by default).

    For two binary variables the signed phi coefficient is returned (sign of the Pearson
    correlation of the 0/1 labels), so negative task correlation shows as negative.
    Categories that never occur are dropped. Returns 0.0 when either variable is constant.
    """
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import crosstab

    x = np.asarray(x.cpu() if isinstance(x, torch.Tensor) else x)
    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length; got {x.shape} and {y.shape}")
    table = crosstab(x, y).count
    r, k = table.shape
    n = table.sum()
    if r < 2 or k < 2 or n < 2:
        return 0.0
    chi2 = chi2_contingency(table, correction=False)[0]
    phi2 = chi2 / n
    if bias_corrected:
        phi2 = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
        kc = k - (k - 1) ** 2 / (n - 1)
        rc = r - (r - 1) ** 2 / (n - 1)
        denom = min(kc - 1, rc - 1)
    else:
        denom = min(k - 1, r - 1)
    v = math.sqrt(phi2 / denom) if denom > 0 else 0.0
    if signed_binary and r == 2 and k == 2:
        sign = np.sign(table[0, 0] * table[1, 1] - table[0, 1] * table[1, 0])
        v *= float(sign) if sign != 0 else 1.0
    return float(min(v, 1.0) if v >= 0 else max(v, -1.0))


def _pixel_correlation(pa: torch.Tensor, pb: torch.Tensor, eps: float = 1e-12) -> tuple[float, int]:
    """Mean over pixel positions of the Pearson correlation (over samples) between two panels.
    From per-pixel sums (moments accumulated in float64), one pass over the data."""
    n = len(pa)
    a = pa.reshape(n, -1).float()
    b = pb.reshape(n, -1).float()
    ma, mb = a.sum(0, dtype=torch.float64) / n, b.sum(0, dtype=torch.float64) / n
    va = (a * a).sum(0, dtype=torch.float64) / n - ma * ma
    vb = (b * b).sum(0, dtype=torch.float64) / n - mb * mb
    ok = (va > eps) & (vb > eps)
    if not bool(ok.any()):
        return 0.0, 0
    cov = (a * b).sum(0, dtype=torch.float64) / n - ma * mb
    return float((cov[ok] / torch.sqrt(va[ok] * vb[ok])).mean()), int(ok.sum())


def residual_correlation(pa: torch.Tensor, pb: torch.Tensor, ya: torch.Tensor, yb: torch.Tensor) -> float:
    """Pooled Pearson correlation of two panels' *label-cell residuals*.

    Each panel minus the mean image of its (Alice class, Bob class) cell, computed from the samples
    themselves; then ``Σ r_A·r_B / sqrt(Σ r_A² · Σ r_B²)`` over all samples and pixels. Given both
    labels the generator draws the two base images independently, so this is zero at α = 0 for
    every t, and equals α (in expectation) when both panels come from the same base data.
    Returns 0.0 when either residual is constant. Computed from sums, without forming the
    residuals: ``Σ r_A·r_B = Σ a·b − Σ_cells S_a·S_b / n_cell`` (S: a cell's pixel sums), with
    every sum accumulated in float64.
    """
    n = len(pa)
    a = pa.reshape(n, -1).float()
    b = pb.reshape(n, -1).float()
    kb = int(yb.max()) + 1 if n else 1
    cell = (ya.long() * kb + yb.long()).cpu()
    _, cell = torch.unique(cell, return_inverse=True)
    counts = torch.bincount(cell).double().unsqueeze(1)
    sa = torch.zeros(len(counts), a.shape[1]).index_add_(0, cell, a).double()
    sb = torch.zeros(len(counts), b.shape[1]).index_add_(0, cell, b).double()

    def centred(x: torch.Tensor, y: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor) -> float:
        return float((x * y).sum(dtype=torch.float64) - (sx * sy / counts).sum())

    den = math.sqrt(max(centred(a, a, sa, sa), 0.0) * max(centred(b, b, sb, sb), 0.0))
    return centred(a, b, sa, sb) / den if den > 1e-9 else 0.0


def measure_correlations(pairs: Pairs) -> dict:
    """Measured relatedness of Alice's and Bob's tasks and inputs in ``pairs``.

    Returns a dict with:

    * ``task_corr``: bias-corrected Cramér's V between ``y_alice`` and ``y_bob`` (signed phi for
      two binary tasks); ``task_corr_p_value``: chi-square test of independence.
    * ``feature_corr``: :func:`residual_correlation` of the two panels — the correlation of the
      inputs beyond what the labels explain (≈ α; 0 at α = 0 whatever t is).
    * ``pixel_corr``: mean over pixel positions of the raw Pearson correlation, across samples,
      between the panels (positions where either panel has zero variance are excluded;
      ``feature_pixels`` counts those used). Not a feature measure: linked labels alone raise it.
    * ``linked_fraction``: fraction of samples whose Bob class the task dial linked to Alice's.
    * ``shared_fraction``: fraction whose Bob base image is Alice's instance (``instance_share``).
    * ``mutual_information``: plug-in mutual information between the labels, in bits.
    * ``task_corr_dial``, ``feature_corr_dial``, ``n``.

    ``ValueError`` unless ``pairs`` is a :class:`Pairs` with finite inputs.
    """
    check_pairs(pairs, "pairs")
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import crosstab
    from sklearn.metrics import mutual_info_score

    ya, yb = pairs.y_alice.cpu().numpy(), pairs.y_bob.cpu().numpy()
    table = crosstab(ya, yb).count
    p_value = float(chi2_contingency(table, correction=False)[1]) if min(table.shape) > 1 else 1.0
    pa, pb = pairs.panel("alice").cpu(), pairs.panel("bob").cpu()
    pixel, used = _pixel_correlation(pa, pb)
    return {
        "n": len(pairs),
        "task_corr_dial": pairs.task_corr,
        "feature_corr_dial": pairs.feature_corr,
        "task_corr": cramers_v(ya, yb),
        "task_corr_p_value": p_value,
        "feature_corr": residual_correlation(pa, pb, pairs.y_alice.cpu(), pairs.y_bob.cpu()),
        "pixel_corr": pixel,
        "feature_pixels": used,
        "linked_fraction": float(pairs.linked.float().mean()),
        "shared_fraction": float(pairs.shared.float().mean()),
        "mutual_information": float(mutual_info_score(ya, yb) / math.log(2)),
    }


def calibration_table(data: ImageDataset, dials: Sequence[tuple[float, float]], seeds: Sequence[int],
                      n: int) -> pd.DataFrame:  # noqa: F821 - pandas imported lazily
    """Measured correlations (one row per dial setting and seed) for dialled-vs-measured plots; the
    settings are measured side by side on the CPU's cores (:func:`reuse_utils.core.map_workers`)."""
    import pandas as pd

    settings = [(t, f, int(seed)) for t, f in dials for seed in seeds]
    rows = map_workers(lambda s: {**measure_correlations(make_pairs(data, n, s[0], s[1], seed=s[2])), "seed": s[2]},
                       settings, "cpu")
    return pd.DataFrame(rows)


def measured_task_correlation(alice_pred: torch.Tensor | np.ndarray, bob_labels: torch.Tensor | np.ndarray) -> float:
    """Bias-corrected Cramér's V (= |phi| for binary tasks) between Alice's predictions and Bob's labels."""
    return abs(cramers_v(alice_pred, bob_labels, signed_binary=False))


def chance_accuracy(labels: torch.Tensor) -> float:
    """The accuracy of the best constant prediction on ``labels`` (integer class labels): the
    largest class's share, in [0, 1]."""
    if labels.numel() == 0:
        raise ValueError("labels must not be empty")
    return float(torch.bincount(labels).max()) / len(labels)
