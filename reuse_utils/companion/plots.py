"""Figures: sample grids, mean ± 95% CI curves, heatmaps; saved as PNG and PDF.

Every plotting function returns its matplotlib ``Figure`` and draws from plain data, so the same
function renders a static figure under papermill and the redraw behind a slider.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from reuse_utils.analysis import linear

__all__ = ["show_pairs", "save_figure", "plot_mean_ci", "set_style", "heatmap", "t_ci", "figure_caption",
           "linear_explorer_figure", "legend_outside"]


def set_style() -> None:
    """Seaborn's whitegrid theme with its colour-blind-safe palette (readable on white)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")


def t_ci(values) -> tuple[float, float]:
    """Student-t 95% interval of the mean of ``values`` — the interval the claims use — as a seaborn
    ``errorbar`` callable (a single value gives a zero-width band)."""
    from reuse_utils.analysis.stats import mean_ci

    m, lo, hi = mean_ci(values)
    return (m, m) if np.isnan(lo) else (lo, hi)


def figure_caption(fig: plt.Figure, name: str) -> str:
    """A one-line caption: the figure's suptitle, else its axes' titles, else its name."""
    sup = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return sup or "; ".join(dict.fromkeys(titles)) or name.replace("_", " ")


def save_figure(fig: plt.Figure, results_dir: str | Path, name: str,
                label: str | None = None, caption: str | None = None) -> list[Path]:
    """Save ``fig`` as ``<results_dir>/figures/<name>.png`` and ``.pdf``, and its one-line caption
    (``caption``, else :func:`figure_caption`) as ``<name>.caption.txt`` for the report; returns the
    PNG and PDF paths. ``label`` (e.g. "stand-in data") is stamped in the figure's corner."""
    out = Path(results_dir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    if label:
        fig.text(0.995, 0.005, label, ha="right", va="bottom", fontsize=8, color="crimson")
    (out / f"{name}.caption.txt").write_text((caption or figure_caption(fig, name)) + (f" [{label}]" if label else ""))
    paths = []
    for ext in ("png", "pdf"):
        p = out / f"{name}.{ext}"
        fig.savefig(p, bbox_inches="tight", dpi=130 if ext == "png" else None)
        paths.append(p)
    return paths


def show_pairs(pairs, n: int = 16, ncols: int = 4, title: str | None = None) -> plt.Figure:
    """Grid of the first ``n`` composite images, each titled with Alice's and Bob's labels.

    A dashed line marks the panel boundary; "linked" marks samples whose Bob class the task dial
    tied to Alice's, "shared" those whose Bob base image is Alice's instance (the control).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    n = min(n, len(pairs))
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    x = pairs.x[:n].detach().cpu()
    h, w = x.shape[-2:]
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols * w / max(h, w) + 0.3, 2.6 * nrows * h / max(h, w) + 0.5),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = ((x[i] + 1) / 2).clamp(0, 1)
        if img.shape[0] == 1:
            ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0))
        r0, r1, c0, c1 = pairs.regions["bob"]
        if pairs.layout == "horizontal":
            ax.axvline(c0 - 0.5, color="orange", ls="--", lw=1)
        else:
            ax.axhline(r0 - 0.5, color="orange", ls="--", lw=1)
        ya, yb = int(pairs.y_alice[i]), int(pairs.y_bob[i])
        na = pairs.alice_classes[ya] if pairs.alice_classes else ya
        nb = pairs.bob_classes[yb] if pairs.bob_classes else yb
        tag = " (shared)" if bool(pairs.shared[i]) else " (linked)" if bool(pairs.linked[i]) else ""
        ax.set_title(f"A: {na} | B: {nb}{tag}", fontsize=9)
    fig.suptitle(title or f"task correlation t = {pairs.task_corr:g}, feature correlation α = {pairs.feature_corr:g}",
                 fontsize=11)
    fig.tight_layout()
    return fig


def plot_mean_ci(df: pd.DataFrame, x: str, y: str, hue: str | None = None, *, ax=None,
                 xlabel: str | None = None, ylabel: str | None = None, chance: float | None = None,
                 title: str | None = None, style: str | None = None) -> plt.Figure:
    """Mean of ``y`` over seeds against ``x`` with a Student-t 95% confidence band (:func:`t_ci`,
    the interval the claims use), one line per ``hue`` (labelled with the number of seeds);
    optional chance line in the legend."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    else:
        fig = ax.figure
    data = df
    if hue and pd.api.types.is_numeric_dtype(df[hue]):  # categorical labels: a distinct colour-blind-safe colour each
        data = df.assign(**{hue: df[hue].map(lambda v: f"{hue} = {v:g}")})
    sns.lineplot(data=data, x=x, y=y, hue=hue, style=style, errorbar=t_ci, marker="o", ax=ax)
    if chance is not None:
        ax.axhline(chance, color="grey", ls=":", lw=1.2, label="chance")
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if title:
        ax.set_title(title)
    if hue or chance is not None:
        n = df["seed"].nunique() if "seed" in df else None
        ax.legend(fontsize=8, title=f"mean, 95% t-CI over n = {n} seeds" if n else None, title_fontsize=8)
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, *, xlabel: str, ylabel: str, title: str, cbar_label: str,
            fmt: str = ".2f", ax=None) -> plt.Figure:
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
    else:
        fig = ax.figure
    sns.heatmap(table, annot=True, fmt=fmt, cmap="viridis", ax=ax, cbar_kws={"label": cbar_label})
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def pairs_explorer(data, task_corr: float, feature_corr: float, n: int = 8, seed: int = 0,
                   n_measure: int = 4000) -> plt.Figure:
    """Sample grid at the given dials, titled with the measured correlations (slider target).

    The layout is fixed (figure size and subplot margins set, not fitted), so nothing moves as the
    dials and the measured values change."""
    from reuse_utils.generator import make_pairs, measure_correlations

    m = measure_correlations(make_pairs(data, n_measure, task_corr, feature_corr, seed=seed))
    title = (f"dials: task correlation t = {task_corr:.2f}, feature correlation α = {feature_corr:+.2f}\n"
             f"measured on {n_measure:,} pairs: Cramér's V = {m['task_corr']:.2f}, feature r = {m['feature_corr']:+.2f} "
             f"(raw pixel r = {m['pixel_corr']:+.2f}), linked fraction = {m['linked_fraction']:.2f}")
    fig = show_pairs(make_pairs(data, n, task_corr, feature_corr, seed=seed), n=n, title=title)
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + 0.4)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=1 - 0.75 / (height + 0.4), wspace=0.08, hspace=0.3)
    return fig


def acc_vs_k(df: pd.DataFrame, task_corr: float, *, ax=None, legend: bool = True) -> plt.Figure:
    """Bob's test accuracy against the number of retrained layers k at one task correlation
    (nearest level in ``df``), per source and mode, mean with 95% t-CI over seeds, and chance.

    The frame does not move with ``task_corr`` (a slider's redraw): accuracy in [0, 1], the same
    k range and ticks, the same colour for each condition at every level, the legend outside the
    axes on the right (``legend=False`` leaves it off, e.g. on all but one panel of a row)."""
    levels = np.array(sorted(df.task_corr.unique()))
    t = float(levels[np.abs(levels - task_corr).argmin()])
    data = df[df.feature_corr == 0]
    names = data.source.map({"alice": "Alice's layers", "random": "random-init control"}).fillna(data.source)
    data = data.assign(condition=names + ", " + data["mode"])
    order = sorted(data.condition.unique())
    palette = dict(zip(order, sns.color_palette("colorblind", len(order)), strict=True))
    sub = data[data.task_corr == t]
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.4, 4.2))
    else:
        fig = ax.figure
    sns.lineplot(data=sub, x="k", y="bob_test_acc", hue="condition", hue_order=order, palette=palette,
                 errorbar=t_ci, marker="o", ax=ax, legend=legend)
    ax.axhline(float(sub.chance.mean()), color="grey", ls=":", lw=1.2, label="chance")
    ks = sorted(data.k.unique())
    ax.set(xlabel="retrained layers k (top k of L)", ylabel="Bob's test accuracy (fraction)", ylim=(0, 1),
           xticks=ks, xlim=(ks[0] - 0.25, ks[-1] + 0.25), title=f"task correlation t = {t:g}")
    if legend:
        ax.legend(title=f"mean, 95% t-CI over n = {sub.seed.nunique()} seeds", fontsize=8, title_fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def show_images(ds, n: int = 8, title: str | None = None, seed: int = 0) -> plt.Figure:
    """A row of ``n`` random images of an :class:`~reuse_utils.data.ImageDataset`, titled by class."""
    import torch

    n = max(1, min(n, len(ds)))
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    fig, axes = plt.subplots(1, n, figsize=(1.6 * n, 2.0), squeeze=False)
    for ax, i in zip(axes[0], idx.tolist(), strict=True):
        img = ds.images[i]
        ax.imshow(img.permute(1, 2, 0).numpy() if img.shape[0] == 3 else img[0].numpy(), cmap="gray")
        ax.set_title(ds.classes[int(ds.labels[i])], fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


_SCORE_LABELS = {"val_acc": "Bob's validation accuracy (trained)", "logme": "LogME", "hscore": "H-score",
                 "hscore_lw": "H-score, Ledoit–Wolf"}


def depth_scores(scores: pd.DataFrame, curves: pd.DataFrame, task_corr: float, feature_corr: float, n_bob: int,
                 *, ax=None) -> plt.Figure:
    """At one world setting (nearest levels held): each cut score of Alice's features and Bob's trained
    validation accuracy against the depth k, each rescaled within its world to [0, 1] (0: its lowest k,
    1: its highest), mean with a 95% t-CI over seeds; the depths Bob trained only.

    The frame does not move with the world (a slider's redraw): y in [0, 1], x ticks 1..L for every
    world (the feature axis trains only some depths), the same colour and dash per measure, the
    legend outside the axes on the right."""
    keys = ["seed", "task_corr", "feature_corr", "n_bob", "k"]
    both = curves.merge(scores, on=[c for c in keys if c in curves.columns and c in scores.columns])
    L = int(both.k.max())
    at = both[(both.n_bob == n_bob)]
    pts = at[["task_corr", "feature_corr"]].drop_duplicates().to_numpy(float)
    t, a = pts[np.argmin(np.abs(pts - [task_corr, feature_corr]).sum(1))]
    at = at[(at.task_corr == t) & (at.feature_corr == a)]
    names = [c for c in _SCORE_LABELS if c in both.columns]
    long = at.melt(id_vars=["seed", "k"], value_vars=names, var_name="measure", value_name="v")
    span = long.groupby(["seed", "measure"]).v.transform(lambda v: (v - v.min()) / (v.max() - v.min())
                                                         if v.max() > v.min() else v * 0 + 0.5)
    long = long.assign(relative=span, measure=long.measure.map(_SCORE_LABELS))
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.6, 4.2))
    else:
        fig = ax.figure
    order = [_SCORE_LABELS[n] for n in names]
    sns.lineplot(data=long, x="k", y="relative", hue="measure", style="measure", errorbar=t_ci, marker="o", ax=ax,
                 hue_order=order, style_order=order)
    for line in ax.get_lines():
        if len(line.get_xdata()):  # the data (not seaborn's empty legend proxies): markers at 0 and 1 drawn whole
            line.set_clip_on(False)
    ax.set(xlabel="retrained layers k (the cut: Alice's first L − k layers kept)",
           ylabel="rescaled within its world (0 = lowest, 1 = highest)", ylim=(0, 1),
           xticks=range(1, L + 1), xlim=(0.75, L + 0.25),
           title=f"t = {t:g}, α = {a:g}, {n_bob} training pairs for Bob")
    ax.legend(fontsize=8, title=f"mean, 95% t-CI over n = {long.seed.nunique()} seeds", title_fontsize=8,
              loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def cka_by_layer(cka: pd.DataFrame, pair: str, hue: str = "task_corr", *, ax=None) -> plt.Figure:
    """Linear CKA of each layer's output for one model ``pair`` of a CKA study, one line per level of
    ``hue`` (mean, 95% t-CI over seeds; a single seed shows its values)."""
    sub = cka[cka.pair == pair]
    label = {"task_corr": "t", "feature_corr": "α"}.get(hue, hue)
    fig = plot_mean_ci(sub.assign(**{label: sub[hue]}), "layer", "cka", hue=label, ax=ax,
                       xlabel="layer ℓ (1 = first; L = output)", ylabel="linear CKA (0–1)", title=pair)
    ax = ax or fig.axes[0]
    names = sub.drop_duplicates("layer").sort_values("layer")
    ax.set_xticks(names.layer, [f"{i}\n{n}" for i, n in zip(names.layer, names.layer_name, strict=True)])
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower left", title=f"mean, 95% t-CI over n = {sub.seed.nunique()} seeds"
              if sub.seed.nunique() > 1 else "one seed", title_fontsize=8)
    return fig


def legend_outside(grid, *, reference_y: float, reference_label: str, title: str, loc: str = "center left",
                   anchor: tuple[float, float] = (1.0, 0.5)) -> None:
    """Draw a grey dotted reference line at ``reference_y`` on every facet of a seaborn ``grid`` and move
    the grid's legend outside the axes (``loc`` of the box at ``anchor``, figure coordinates), with an
    entry ``reference_label`` for that line."""
    grid.refline(y=reference_y, color="grey", ls=":")
    handles, labels = grid.legend.legend_handles, [x.get_text() for x in grid.legend.texts]
    grid.legend.remove()
    grid.figure.tight_layout()
    grid.figure.legend([*handles, plt.Line2D([], [], color="grey", ls=":")], [*labels, reference_label], loc=loc,
                       bbox_to_anchor=anchor, title=title)


def linear_explorer_figure(alpha: float, noise: float = 0.5, k: int = 4, scenario: str = "pairwise"):
    """The shallow linear model's explorer (slider target): Alice's w*(α) for k = 1 and Bob's
    closed-form accuracy curves with the dialled α marked.

    The frame does not move with ``alpha`` or ``noise``: fixed axes limits (weights in [−1, 1], α in
    [−1, 1], accuracy in [0, 1]), the same ticks, and the legend outside the right panel."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.25]})
    w = linear.alice_optimal_weights(alpha, 1, "pairwise", noise)
    ax1.bar(["on x_A (Alice's)", "on x_B (Bob's)"], w, color=["tab:blue", "tab:orange"])
    ax1.axhline(0, color="grey", lw=0.8)
    ax1.set_ylim(-1, 1)
    ax1.set_ylabel("unit-norm weight of w*")
    ax1.set_title(f"Alice's optimal weights (k = 1), α = {alpha:+.2f}, σ = {noise:.2f}", fontsize=10)
    grid = np.linspace(-0.98, 0.98, 99)
    for mode, ls in (("unchanged", "-"), ("refit", "--")):
        (line,) = ax2.plot(grid, [linear.closed_form_bob_accuracy(a, k, scenario, noise, mode) for a in grid], ls=ls,
                           label=f"Bob, {mode} (closed form)")
        ax2.plot([alpha], [linear.closed_form_bob_accuracy(alpha, k, scenario, noise, mode)], "o", color=line.get_color(),
                 label=f"Bob, {mode}, at the dialled α")
    ax2.axvline(alpha, color="grey", ls="--", lw=1, label="the dialled α")
    ax2.axhline(0.5, color="grey", ls=":", label="chance (0.5)")
    ax2.set(xlim=(-1, 1), ylim=(0, 1), xticks=[-1, -0.5, 0, 0.5, 1], xlabel="feature correlation α",
            ylabel="Bob's accuracy (fraction)")
    ax2.set_title(f"Bob's closed-form accuracy, {scenario}, k = {k}", fontsize=10)
    ax2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    fig.tight_layout()
    return fig
