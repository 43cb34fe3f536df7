"""What Bob's best depth reveals: transferability scores at every cut of Alice's network, Bob's
measured depth curves beside them, and the layer-wise similarity of Alice, Bob and the controls.

A *cut* is named by the depth Bob retrains: at cut k the features are the output of Alice's first
L − k layers on Bob's training pairs (k = L: the input pixels), the features Bob's top k layers
would be trained on. :func:`score_sweep` scores every cut of every world of a sweep table
(:data:`~reuse_utils.analysis.transferability.CUT_SCORES`, and the model-level
:data:`~reuse_utils.analysis.transferability.MODEL_SCORES` of Alice's output); :func:`depth_curves`
reduces the sweep to Bob's validation accuracy per (world, k) — the better of his modes at that
depth, as he would choose — with the test accuracy of that choice; :func:`estimator_table` sets
the two side by side. Every choice of depth here (the score's best cut, Bob's k*) is made without
test data; test accuracy only measures what a choice costs.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from reuse_utils.analysis.evaluators import SELECT_ON, WORLD_KEYS, chosen_config
from reuse_utils.analysis.stats import kendall_tau_b
from reuse_utils.analysis.transferability import (
    CUT_SCORES,
    MODEL_SCORES,
    cut_scores,
    leep,
    linear_cka,
    nce,
)
from reuse_utils.experiments import Preset, get_preset
from reuse_utils.experiments.grid import bob_config, bob_protocol
from reuse_utils.experiments.sweep_context import SweepContext
from reuse_utils.training import LayeredNet, frozen_features, split_train_val

__all__ = ["score_cuts", "score_sweep", "depth_curves", "cut_table", "estimator_table", "layer_cka", "break_depth",
           "CKA_THRESHOLD"]

CKA_THRESHOLD = 0.9  #: a layer whose (unbiased) linear CKA with Alice's falls below this is one Bob changed


def score_cuts(source: LayeredNet, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> pd.DataFrame:
    """Every cut's scores (one row per k = 1..L: ``k``, ``dim``, each of
    :data:`~reuse_utils.analysis.transferability.CUT_SCORES`) and the model-level scores of the
    source's class probabilities (``leep``, ``nce``, the same on every row) for inputs ``x`` with
    Bob's labels ``y``; ``seconds`` on each row: the whole scoring of this source, features
    included."""
    t0 = time.perf_counter()
    L = source.n_layers
    rows, h, y_np = [], x, y.cpu().numpy()
    feats = {L: x}
    for start in range(1, L + 1):  # each layer's output from the previous one: one pass through the network
        h = frozen_features(source, h, start, device, bf16=False, begin=start - 1)
        feats[L - start] = h
    probs = torch.softmax(feats[0].double(), 1).cpu().numpy()
    model = {"leep": leep(probs, y_np), "nce": nce(probs.argmax(1), y_np)}
    for k in range(1, L + 1):
        f = feats[k].reshape(len(x), -1)
        rows.append({"k": k, "dim": int(f.shape[1]), **cut_scores(f.cpu(), y_np), **model})
    seconds = time.perf_counter() - t0
    return pd.DataFrame(rows).assign(seconds=seconds)


def score_sweep(frame: pd.DataFrame, preset: str | Preset, cache_dir: str | Path, device: torch.device,
                progress: bool = False) -> pd.DataFrame:
    """:func:`score_cuts` of Alice on the training part of Bob's pairs (the split Bob trains on; his
    validation part, on which his depth curve is measured, is left out) for every world of ``frame``
    (a sweep table; rows with source ``"alice"``), Alices from the checkpoint cache (trained if
    missing). One row per (world, k) with the world's :data:`~reuse_utils.analysis.evaluators.WORLD_KEYS`.
    Features in float32 on every device (the sweep trains on bf16 features on CUDA)."""
    from tqdm.auto import tqdm

    p = get_preset(preset)
    rows = frame[frame.source == "alice"].drop_duplicates([c for c in WORLD_KEYS if c in frame.columns])
    ctx = SweepContext(p, device, Path(cache_dir), feature_cache=False, memory_budget=None, accel=None)
    out = []
    for _, row in tqdm(list(rows.iterrows()), desc="scoring cuts", disable=not progress):
        run = {key: (v.item() if isinstance(v, np.generic) else v) for key, v in row.items()}
        world = ctx.world(run)
        source, _, _, _ = ctx.source(run, bob_config(run, p), world)
        train, _ = split_train_val(world.bob_train, bob_protocol(p).val_fraction)
        table = score_cuts(source, train.x, train.y_bob, device)
        out.append(table.assign(**{key: run[key] for key in WORLD_KEYS if key in run}, n_layers=source.n_layers))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def depth_curves(frame: pd.DataFrame, modes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per (world, k) of ``frame``'s Alice rows: Bob's best validation accuracy over his modes at that
    depth (``val_acc``, with its ``val_loss``; ties as :func:`~reuse_utils.analysis.evaluators.chosen_config`: the lower validation loss, then reinit; ``modes``:
    only those), the ``mode`` it picks and that run's ``test_acc``; ``bob_seconds``: the training
    time of every Bob at that depth (all modes)."""
    keys = [c for c in WORLD_KEYS if c in frame.columns]
    sub = frame[frame.source == "alice"]
    seconds = sub.drop_duplicates(keys + ["k", "mode"]).groupby(keys + ["k"]).seconds.sum().rename("bob_seconds")
    if modes is not None:
        sub = sub[sub["mode"].isin(modes) | (sub.k == 1)]  # k = 1: the modes coincide
    best = chosen_config(sub, within=("k",))
    best = best.assign(val_loss=best["bob_val_loss"] if "bob_val_loss" in best.columns else 0.0)
    out = best[keys + ["k", "n_layers", "mode", SELECT_ON, "val_loss", "bob_test_acc"]].rename(
        columns={SELECT_ON: "val_acc", "bob_test_acc": "test_acc"})
    return out.merge(seconds.reset_index(), on=keys + ["k"], how="left").sort_values(keys + ["k"]).reset_index(drop=True)


def cut_table(scores: pd.DataFrame, curves: pd.DataFrame, reinit: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`score_cuts` rows beside Bob's depth curve (:func:`depth_curves`; ``reinit``: the curve of
    his reinit mode alone, as ``val_acc_reinit``) at the depths he trained, one row per (world, k).
    Each score is rounded to 9 significant digits of its world's largest |value| (``<name>_ranked``),
    so that values equal up to float rounding — the published H-score at C − 1 once a cut has d ≥ n − 1
    — tie instead of being ordered by rounding error."""
    keys = [c for c in WORLD_KEYS if c in curves.columns and c in scores.columns]
    both = curves.merge(scores, on=keys + ["k"], how="inner", suffixes=("", "_score"))
    if reinit is not None:
        both = both.merge(reinit[keys + ["k", "val_acc"]].rename(columns={"val_acc": "val_acc_reinit"}),
                          on=keys + ["k"], how="left")
    for name in CUT_SCORES:
        scale = both.groupby(keys)[name].transform(
            lambda v: float(np.nanmax(np.abs(v))) if np.isfinite(v).any() and np.nanmax(np.abs(v)) > 0 else 1.0)
        both[f"{name}_ranked"] = np.round(both[name] / scale, 9)
    return both.sort_values(keys + ["k"]).reset_index(drop=True)


def estimator_table(cuts: pd.DataFrame) -> pd.DataFrame:
    """Per world and score (:data:`~reuse_utils.analysis.transferability.CUT_SCORES`) of a
    :func:`cut_table`: ``tau`` (Kendall τ_b between the rounded score and Bob's validation accuracy
    over the depths he trained; ``tau_reinit`` against his reinit curve), ``k_score`` (the score's
    best cut; ties: the smaller k), ``k_star`` (Bob's validation-chosen depth: best ``val_acc``, then
    the lower validation loss, then the smaller k, as :func:`~reuse_utils.analysis.evaluators.chosen_config`),
    ``hit`` (k_score among the depths tied with k* on validation accuracy), ``regret`` (test accuracy
    at k* minus at k_score: what trusting the score costs) and ``regret_k1`` (the same for always
    retraining only the head), ``n_depths`` (depths Bob trained there; ``n_layers`` when every one),
    ``saturated`` (cuts at the score's maximum tie), ``score_seconds`` (scoring every cut) and
    ``bob_seconds`` (training Bob at every depth and mode)."""
    keys = [c for c in WORLD_KEYS if c in cuts.columns]
    rows = []
    for world, g in cuts.groupby(keys, sort=True):
        g = g.sort_values("k")
        ks, val, test = g.k.to_numpy(), g.val_acc.to_numpy(float), g.test_acc.to_numpy(float)
        star = int(np.lexsort((ks, g.val_loss.to_numpy(float), -val))[0])
        tied = val == val.max()
        head = test[ks == 1][0] if (ks == 1).any() else np.nan
        base = dict(zip(keys, world if isinstance(world, tuple) else (world,), strict=True))
        reinit = g.val_acc_reinit.to_numpy(float) if "val_acc_reinit" in g.columns else None
        for name in CUT_SCORES:
            v = g[f"{name}_ranked"].to_numpy(float)
            pick = int(np.argmax(v))  # the first maximum: the smaller k
            rows.append({**base, "score": name, "n_depths": len(ks), "n_layers": int(g.n_layers.iloc[0]),
                         "tau": kendall_tau_b(v, val), "tau_reinit": kendall_tau_b(v, reinit) if reinit is not None else np.nan,
                         "k_score": int(ks[pick]), "k_star": int(ks[star]), "hit": bool(tied[pick]),
                         "regret": float(test[star] - test[pick]), "regret_k1": float(test[star] - head),
                         "saturated": int(np.sum(v == v.max())), "score_seconds": float(g.seconds.iloc[0]),
                         "bob_seconds": float(g.bob_seconds.sum()), "best_val_acc": float(val[star]),
                         **{m: float(g[m].iloc[0]) for m in MODEL_SCORES}})
    return pd.DataFrame(rows)


@torch.no_grad()
def layer_cka(a: LayeredNet, b: LayeredNet, x: torch.Tensor, device: torch.device) -> list[float]:
    """Linear CKA between the outputs of ``a``'s and ``b``'s layers 1..L on inputs ``x`` (same L), by the
    unbiased HSIC estimator over all of ``x`` (:func:`~reuse_utils.analysis.transferability.linear_cka`
    with one batch): the biased estimator gives unrelated wide representations a CKA far from 0 at a
    few hundred samples (≈ 0.6 for two independent 1,568-d ones at n = 1,000)."""
    if a.n_layers != b.n_layers:
        raise ValueError(f"a and b must have the same number of layers; got {a.n_layers} and {b.n_layers}")
    out, ha, hb = [], x, x
    for layer in range(1, a.n_layers + 1):
        ha = frozen_features(a, ha, layer, device, bf16=False, begin=layer - 1)
        hb = frozen_features(b, hb, layer, device, bf16=False, begin=layer - 1)
        out.append(linear_cka(ha.reshape(len(x), -1), hb.reshape(len(x), -1), batch_size=len(x)))
    return out


def break_depth(cka: list[float], threshold: float = CKA_THRESHOLD) -> int:
    """The depth (counted from the top, like k) at which Alice–Bob similarity breaks: L − ℓ + 1 for the
    lowest layer ℓ whose CKA is below ``threshold``; 1 when none is (Bob replaced only the output layer,
    whose classes are his)."""
    L = len(cka)
    low = [i for i, v in enumerate(cka, start=1) if v < threshold]
    return L - low[0] + 1 if low else 1
