# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,reuse_utils
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   reuse_utils:
#     claims:
#     - C4b_depth_reveals_correlation
#     - C8_estimators_predict_depth
#     data:
#     - base
#     needs:
#     - 04_bob_transfer_by_depth
# ---

# %% [markdown]
# # 09 — What the depth reveals (beyond the paper)
#
# The paper *hypothesises the converse* of its depth finding: that the number of layers Bob should
# retrain tells how related his task is to Alice's. Notebook 04 tested the forward direction (C4).
# Here the companion asks three questions of its own — **companion findings**, labelled as such in
# the report:
#
# 1. **The converse (C4b).** From Bob's *validation* accuracies over k alone, can we read off the task
#    correlation t of a world we have not seen? A monotone map, fitted on the other seeds, against a
#    constant guess.
# 2. **Predicting the depth before training (C8).** Transferability estimators — LogME (You et al.
#    2021), H-score (Bao et al. 2019) and its regularised form (Ibrahim et al. 2022) — score Alice's
#    frozen features at every cut in a second. Do they rank the depths as Bob's trained accuracy does?
#    LEEP and NCE score Alice's output layer, so they can only rank worlds, not cuts.
# 3. **Where transfer happens.** Linear CKA (Kornblith et al. 2019) per layer between Alice and Bob,
#    Bob and scratch, Alice and an untrained network: the layer where Bob's network departs from
#    Alice's, against his best depth k*.
#
# **Prerequisites**: notebook 04 (its cached sweep is reused — nothing here retrains it) and the
# idea of validation-only selection. **Time** on 2 CPU cores: smoke ≈ 1 min, quick ≈ 3–4 min.

# %% tags=["parameters"]
preset = "quick"          # smoke | quick | paper
dataset = None            # None → the preset's dataset
device = "auto"           # auto | cpu | cuda | mps
seeds = None              # None → the preset's seeds
interactive = False       # True builds the slider (JupyterLab); papermill runs keep False
results_dir = "../results"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
P = s.preset

# %% [markdown]
# ## Bob's depth curves (from notebook 04's cache)
#
# Every world of the main sweep (α = 0, every t and n_bob, every depth and mode) and of the feature
# axis (overlay α at t ∈ `P.feature_task_corrs`, k ∈ {1, 2, L}).

# %%
depth = pd.concat([s.sweep(task_corr=list(P.task_corrs), k=["all"], mode=list(P.modes), n_bob=[n])
                   for n in sorted(set(P.n_bobs) | {P.n_bob})], ignore_index=True)
feat = s.sweep(k=[1, 2, "L"], task_corr=list(P.feature_task_corrs), feature_corr=list(P.feature_corrs),
               mode=["reinit"])
runs = pd.concat([depth, feat], ignore_index=True)
print(f"{len(runs)} Bob runs ({runs.from_cache.sum()} from cache) over "
      f"{runs.drop_duplicates(ru.evaluators.WORLD_KEYS).shape[0]} worlds")

# %% [markdown]
# ## 1. The converse: reading t from Bob's validation curve
#
# The signal is $\Delta_\text{val}$ = Bob's validation accuracy retraining two layers (reinit) minus
# retraining only the head. When the tasks are related, Alice's top layer is worth keeping and
# $\Delta_\text{val} < 0$; when they are not, retraining it pays.

# %%
sig = ru.evaluators.depth_signals(depth[depth.feature_corr == 0])
fig = ru.plots.plot_mean_ci(sig, "task_corr", "delta_val", hue="n_bob", xlabel="task correlation t (dial)",
                            ylabel="Δ_val = val. acc(k=2) − val. acc(k=1) (fraction)",
                            title="What Bob's validation curve says about t")
fig.axes[0].axhline(0, color="grey", ls=":", lw=1)
s.save(fig, "09_delta_val_vs_t");

# %% [markdown]
# For each held-out seed, an isotonic map from $\Delta_\text{val}$ to $t$ is fitted on the other
# seeds' worlds (per architecture and n_bob) and predicts the held-out seed's t; the baseline is the
# best constant guess (the other seeds' median t).

# %%
loso = pd.concat([ru.stats.loso_monotone_map(g, "delta_val", "task_corr") for _, g in sig.groupby("n_bob")])
fig = ru.plots.plot_mean_ci(loso, "task_corr", "pred", hue="n_bob", xlabel="true task correlation t",
                            ylabel="t recovered from Δ_val (held-out seed)", title="Leave-one-seed-out recovery")
ax = fig.axes[0]
ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--", label="perfect recovery")
ax.axhline(loso.const.median(), color="grey", ls=":", label="constant guess")
ax.legend(fontsize=8, title=f"mean, 95% t-CI over n = {loso.seed.nunique()} held-out seeds", title_fontsize=8)
s.save(fig, "09_recovered_t");

# %%
nb = "09_depth_reveals.ipynb"
c4b = s.record("C4b_depth_reveals_correlation", ru.evaluators.claim_depth_reveals(depth, feat), nb)
d = c4b["details"]
for cond, m in d["map_by_condition"].items():
    print(f"{cond}: mean |t̂ − t| from Δ_val {m['mae_map']:.3f}, from k = 1 accuracy alone "
          f"{d['head_accuracy_map_by_condition'][cond]['mae_map']:.3f}, from scratch accuracy alone "
          f"{d['scratch_accuracy_map_by_condition'][cond]['mae_map']:.3f}, from k* alone "
          f"{d['k_star_map_by_condition'][cond]['mae_map']:.3f}; constant guess {m['mae_constant']:.3f}")

# %% [markdown]
# **Reading.** The lines above are this run's numbers, one condition per line: how far the map's
# t̂ lands from the truth when it reads Δ_val, a single accuracy (k = 1, or scratch: no Alice at all),
# or k* — the paper's converse read literally, a coarse signal with one of L values — against the
# constant guess. Bob's accuracy rises with t whatever he retrains (his input holds Alice's panel),
# so a single accuracy already carries t: the secondary *beyond task difficulty* asks whether the
# depth curve tells more than scratch accuracy does. The secondaries *across n_bob* and *across α*
# carry the map to another condition; a map that works within its condition and fails across them is
# what "α and the architecture confound Δ_val" means.

# %% [markdown]
# ## 2. Predicting the depth before Bob trains
#
# Each estimator scores Alice's frozen features at every cut on Bob's training pairs (the cut for
# k = L is the input itself). Below, each score and Bob's trained validation accuracy, rescaled within
# each world to [0, 1], at the lowest and the highest task correlation.

# %%
scores = ru.depth_reveal.score_sweep(runs, P, s.cache_dir, s.device, progress=s.progress)
curves = ru.depth_reveal.depth_curves(runs)
cuts = ru.depth_reveal.cut_table(scores, curves, ru.depth_reveal.depth_curves(runs, modes=("reinit",)))
table = ru.depth_reveal.estimator_table(cuts)
secs = table.drop_duplicates(ru.evaluators.WORLD_KEYS)
print(f"{len(secs)} worlds scored: median {secs.score_seconds.median():.2f} s for every cut of a world, against "
      f"{secs.bob_seconds.median():.1f} s to train Bob at every depth and mode")

# %%
levels = sorted(depth.task_corr.unique())
fig, axes = plt.subplots(1, 2, figsize=(15, 4.2))
for ax, t in zip(axes, (levels[0], levels[-1]), strict=True):
    ru.plots.depth_scores(scores, curves, t, 0.0, P.n_bob, ax=ax)
s.save(fig, "09_scores_vs_bob_by_depth");

# %%
main_worlds = table[table.feature_corr == 0]
summary = main_worlds.groupby(["score", "task_corr"])[["tau", "hit", "regret", "regret_k1"]].mean().round(3)
summary.columns = ["Kendall τ_b", "best cut = k*", "accuracy lost (score's cut)", "accuracy lost (k = 1)"]
summary

# %%
c8 = s.record("C8_estimators_predict_depth", ru.evaluators.claim_estimators_predict_depth(table, cuts), nb)
for name, r in c8["details"]["by_score"].items():
    print(f"{name}: τ_b {r['tau']:+.2f} (reinit curve {r['tau_reinit']:+.2f}), best cut tied with k* in {r['hit']:.0%} "
          f"of worlds, costs {r['regret']:+.3f} accuracy; {r['saturated_cuts']:.1f} cuts tie at its maximum")
prior = c8["details"]["featureless_prior"]
print(f"featureless prior (other seeds' mean curve): τ_b {prior['tau']:+.2f}; its best fixed k costs "
      f"{prior['regret_best_fixed_k']:+.3f}, always k = 1 costs {prior['regret_always_k1']:+.3f}")

# %% [markdown]
# **Reading.** τ_b > 0 means the score orders the depths as Bob's trained accuracy does; "accuracy
# lost" is Bob's test accuracy at his validation-chosen k* minus at the cut the rule picks (0 = as good
# as training every depth; below 0: the rule's cut did better on test than the validation choice, a
# sign of how noisy k* is). The last line is the bar a score must clear to be worth computing: a
# rule of thumb from other runs, no features at all. The published H-score ties at C − 1 at every cut
# whose width reaches the number of pairs, so it cannot rank those. Along the overlay dial:

# %%
table[table.task_corr.isin(P.feature_task_corrs)].groupby(["score", "task_corr", "feature_corr"]).tau.mean().unstack().round(3)

# %% [markdown]
# LEEP and NCE score Alice's *output layer* — the same for every cut — so they can only say which
# *worlds* transfer well. Here each world's score against Bob's best validation accuracy:

# %%
worlds = table[table.score == "logme"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, m in zip(axes, ("leep", "nce"), strict=True):
    for t, g in worlds.groupby("task_corr"):
        ax.scatter(g[m], g.best_val_acc, s=18, label=f"t = {t:g}")
    ax.set(xlabel=f"{m.upper()} of Alice's output on Bob's pairs (nats)", ylabel="Bob's best validation accuracy",
           title=f"{m.upper()} ranks worlds, not depths")
axes[1].legend(fontsize=8, title="one point per world", title_fontsize=8)
s.save(fig, "09_model_scores_vs_best_accuracy");

# %% [markdown]
# ## 3. Where transfer happens: layer-wise similarity
#
# For worlds along t (α = 0) and along α (t = 0): Bob retrained at every layer from Alice's weights
# (k = L, finetune), Bob from scratch, and the untrained control. Linear CKA of each layer's output on
# the same test inputs (1 = the same representation up to rotation and scale).

# %%
dials = [(t, 0.0) for t in P.task_corrs] + [(0.0, a) for a in P.feature_corrs if a]
cka = s.cka_study(dials, n=P.cka_n)
fig, axes = plt.subplots(1, 3, figsize=(16, 4))
for ax, pair in zip(axes, cka.pair.unique(), strict=True):
    ru.plots.cka_by_layer(cka[cka.feature_corr == 0], pair, ax=ax)
s.save(fig, "09_cka_by_layer_along_t");

# %%
fig = ru.plots.cka_by_layer(cka[(cka.task_corr == 0)], "Alice vs Bob (finetune)", hue="feature_corr")
s.save(fig, "09_cka_by_layer_along_alpha");

# %%
brk = cka[cka.layer == 1].drop_duplicates(["task_corr", "feature_corr", "seed"])[["task_corr", "feature_corr", "seed", "k_break"]]
star = ru.evaluators.depth_signals(runs[runs.n_bob == P.n_bob])[["task_corr", "feature_corr", "seed", "k_star"]]
vs = brk.merge(star, on=["task_corr", "feature_corr", "seed"])
tau = vs[["k_break", "k_star"]].corr("kendall").iloc[0, 1] if vs.k_break.nunique() > 1 and vs.k_star.nunique() > 1 else np.nan
print(f"Kendall τ between the break depth (first layer with CKA < {ru.depth_reveal.CKA_THRESHOLD}) and k*: {tau:+.2f} "
      f"over {len(vs)} worlds; CKA Bobs stopped by the epoch cap: {cka.capped.mean():.0%}, "
      f"choice at a grid end: {cka.edge.mean():.0%}")
vs.groupby(["task_corr", "feature_corr"])[["k_break", "k_star"]].mean()

# %% [markdown]
# **Reading.** The break depth counts, like k, layers from the top: 1 when Bob's network stays within
# CKA 0.9 of Alice's everywhere below his output layer. The table gives its mean per world setting
# beside k* (for α > 0, k* is chosen among k ∈ {1, 2, L}: the depths the feature axis trains), and
# the τ printed above says how well one follows the other.

# %% [markdown]
# ## Explore
#
# Move the dials: the estimators' curves over k next to Bob's trained accuracy in that world
# (nearest world of the sweep; the figure updates when you release the slider).

# %%
ts, als = sorted(curves.task_corr.unique()), sorted(curves.feature_corr.unique())
if interactive:
    import ipywidgets as w
    w.interact(lambda t, a: ru.plots.depth_scores(scores, curves, t, a, P.n_bob) and None,
               t=w.SelectionSlider(options=ts, description="task corr. t", continuous_update=False),
               a=w.SelectionSlider(options=als, description="feature corr. α", continuous_update=False))
else:
    s.save(ru.plots.depth_scores(scores, curves, ts[len(ts) // 2], 0.0, P.n_bob), "09_explorer_depth_scores");
