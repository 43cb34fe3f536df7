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

# %% [markdown]
# **What you will learn**
#
# * how to test a *converse*: read the task correlation back from Bob's validation curve with a
#   monotone map fitted on other seeds (leave-one-seed-out), and judge it against a constant guess;
# * what a transferability estimator (LogME, H-score, LEEP, NCE) computes from frozen features
#   before any training, and how to score it as a *ranking* of depths (Kendall's τ_b) and by the
#   accuracy its chosen cut costs;
# * why a rule of thumb from earlier runs (a featureless prior) is the bar an estimator must clear;
# * how linear CKA compares two networks layer by layer, and where Bob's network departs from Alice's.
#
# **Prerequisites**: notebook 04 (its cached sweep is reused — nothing here retrains it; k, reinit
# and finetune, choosing k* on validation data). Concepts: isotonic (monotone) regression, Kendall's
# rank correlation, permutation tests; the estimators are introduced here.
#
# **Time** (measured in full runs of all notebooks in order, on 2 CPU cores): about 1 min at smoke,
# about 3 min at quick; not measured at paper.

# %% tags=["parameters"]
preset = "quick"          # smoke | quick | paper
dataset = None            # None → the preset's dataset
device = "auto"           # auto | cpu | cuda | mps
seeds = None              # None → the preset's seeds
interactive = "auto"      # "auto": sliders in JupyterLab or Colab, never under papermill; True | False
results_dir = "../results"

# %% [markdown]
# *On Colab?* Run the next cell first: it installs this companion (elsewhere `make lab` has done it).

# %%
import importlib.util
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("reuse_utils") is None:
    REPO = "https://github.com/OWNER/REPO"  # this repository's public address
    # !git clone -q --depth 1 {REPO} /content/companion && pip install -q -e /content/companion
    sys.path.insert(0, "/content/companion")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
interactive = ru.teaching.resolve_interactive(interactive)  # "auto" → True in a front end
P = s.preset
SMOKE = " *(smoke: a tiny run — these numbers mean nothing)*" if P.name == "smoke" else ""
OUTSIDE = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=8, title_fontsize=8)

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
fig = ru.plots.plot_mean_ci(sig.assign(pairs=sig.n_bob), "task_corr", "delta_val", hue="pairs", xlabel="task correlation t (dial)",
                            ylabel="Δ_val = val. acc(k=2) − val. acc(k=1) (fraction)",
                            title="What Bob's validation curve says about t")
ax = fig.axes[0]
ax.axhline(0, color="grey", ls=":", lw=1, label="no difference (0)")
ax.legend(title=f"mean, 95% t-CI over n = {sig.seed.nunique()} seeds\n(pairs: Bob's training pairs)", **OUTSIDE)
fig.tight_layout()
s.save(fig, "09_delta_val_vs_t");

# %%
dv = sig[sig.n_bob == P.n_bob].groupby("task_corr").delta_val.mean()
ru.teaching.say(
    f"With {P.n_bob} training pairs, Δ_val averages {dv.iloc[0]:+.3f} at t = {dv.index[0]:g} and {dv.iloc[-1]:+.3f} at "
    f"t = {dv.index[-1]:g}: it {'falls' if dv.iloc[-1] < dv.iloc[0] else 'does not fall'} as the tasks agree more. "
    "Above 0, retraining Alice's top hidden layer too paid off on validation; below 0, keeping it did. "
    f"A signal that moves with t is what a map back to t needs; the bands show how much seeds disagree.{SMOKE}")

# %% [markdown]
# For each held-out seed, an isotonic map from $\Delta_\text{val}$ to $t$ is fitted on the other
# seeds' worlds (per architecture and n_bob) and predicts the held-out seed's t; the baseline is the
# best constant guess (the other seeds' median t).

# %%
loso = pd.concat([ru.stats.loso_monotone_map(g, "delta_val", "task_corr") for _, g in sig.groupby("n_bob")])
fig = ru.plots.plot_mean_ci(loso.assign(pairs=loso.n_bob), "task_corr", "pred", hue="pairs", xlabel="true task correlation t",
                            ylabel="t recovered from Δ_val (held-out seed)", title="Leave-one-seed-out recovery")
ax = fig.axes[0]
ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--", label="perfect recovery")
ax.axhline(loso.const.median(), color="grey", ls=":", label="constant guess")
ax.set(ylim=(-0.05, 1.05), xlim=(-0.05, 1.05))
ax.legend(title=f"mean, 95% t-CI over n = {loso.seed.nunique()} held-out seeds\n(pairs: Bob's training pairs)", **OUTSIDE)
fig.tight_layout()
s.save(fig, "09_recovered_t");

# %%
err = loso.assign(map_err=(loso.pred - loso.task_corr).abs(), const_err=(loso.const - loso.task_corr).abs())
e = err.groupby("n_bob")[["map_err", "const_err"]].mean()
ru.teaching.say(
    "Mean |t̂ − t| over the held-out seeds' worlds: "
    + "; ".join(f"{r.map_err:.3f} from Δ_val against {r.const_err:.3f} from the constant guess with {n} training pairs"
                for n, r in e.iterrows())
    + ". A map closer to the diagonal than the dotted line has learned something about t that transfers to an "
    f"unseen seed; C4b below tests whether it beats the constant by more than chance.{SMOKE}")

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
# **How to read this.** The lines above are this run's numbers, one condition per line: how far the
# map's t̂ lands from the truth when it reads Δ_val, a single accuracy (k = 1, or scratch: no Alice
# at all), or k* — the paper's converse read literally, a coarse signal with one of L values —
# against the constant guess. Bob's accuracy rises with t whatever he retrains (his input holds
# Alice's panel), so a single accuracy already carries t: the secondary *beyond task difficulty*
# asks whether the depth curve tells more than scratch accuracy does. The secondaries *across n_bob*
# and *across α* carry the map to another condition; a map that works within its condition and fails
# across them is what "α and the architecture confound Δ_val" means.

# %%
ru.teaching.say(
    f"**C4b is {ru.teaching.claim_word(c4b)}** — the constant guess's mean |t̂ − t| minus the "
    f"map's, per held-out seed: {ru.teaching.test_reading(c4b)}, over {c4b['n']} seeds. Secondaries: "
    + "; ".join(f"*{x['name']}* {ru.teaching.test_reading(x)}" for x in c4b["secondary"])
    + f". 'Not tested' means these units cannot reach p < 0.05 after Holm's correction at all.{SMOKE}")

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
axes[0].get_legend().remove()  # one legend, outside the right panel
fig.tight_layout()
s.save(fig, "09_scores_vs_bob_by_depth");

# %%
main_worlds = table[table.feature_corr == 0]
tau_t = main_worlds.groupby(["score", "task_corr"]).tau.mean().unstack()
best = tau_t.mean(axis=1).idxmax()
ru.teaching.say(
    f"Mean Kendall τ_b between a score's ranking of the cuts and Bob's trained validation accuracy, at t = {levels[0]:g} "
    f"and t = {levels[-1]:g}: " + "; ".join(f"{name} {r[levels[0]]:+.2f} and {r[levels[-1]]:+.2f}" for name, r in tau_t.iterrows())
    + f". Averaged over t, {best} orders the depths most like Bob's training does. τ_b = 1 would mean the score "
    "ranks every depth as training would, 0 no better than chance; a score that is flat across cuts (ties) "
    f"cannot rank them at all.{SMOKE}")

# %%
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
# **How to read this.** τ_b > 0 means the score orders the depths as Bob's trained accuracy does;
# "accuracy lost" is Bob's test accuracy at his validation-chosen k* minus at the cut the rule picks
# (0 = as good as training every depth; below 0: the rule's cut did better on test than the
# validation choice, a sign of how noisy k* is). The last line is the bar a score must clear to be
# worth computing: a rule of thumb from other runs, no features at all. The published H-score ties at
# C − 1 at every cut whose width reaches the number of pairs, so it cannot rank those.

# %%
ru.teaching.say(
    f"**C8 is {ru.teaching.claim_word(c8)}** — LogME's mean τ_b with Bob's trained depths: "
    f"{ru.teaching.test_reading(c8)}, over {c8['n']} seeds; the featureless prior reaches τ_b {prior['tau']:+.2f}. Secondaries: "
    + "; ".join(f"*{x['name']}* {ru.teaching.test_reading(x)}" for x in c8["secondary"])
    + f". An estimator is worth its second of compute only where it beats that prior.{SMOKE}")

# %% [markdown]
# Along the overlay dial, the mean τ_b per score, t and α:

# %%
table[table.task_corr.isin(P.feature_task_corrs)].groupby(["score", "task_corr", "feature_corr"]).tau.mean().unstack().round(3)

# %% [markdown]
# LEEP and NCE score Alice's *output layer* — the same for every cut — so they can only say which
# *worlds* transfer well. Here each world's score against Bob's best validation accuracy:

# %%
worlds = table[table.score == "logme"]
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4))
for ax, m in zip(axes, ("leep", "nce"), strict=True):
    for t, g in worlds.groupby("task_corr"):
        ax.scatter(g[m], g.best_val_acc, s=18, label=f"t = {t:g}")
    ax.set(xlabel=f"{m.upper()} of Alice's output on Bob's pairs (nats)", ylim=(0, 1),
           ylabel="Bob's best validation accuracy (fraction)", title=f"{m.upper()} ranks worlds, not depths")
    ax.xaxis.set_major_locator(plt.MaxNLocator(5))
axes[1].legend(title="one point per world", **OUTSIDE)
fig.tight_layout()
s.save(fig, "09_model_scores_vs_best_accuracy");

# %%
tau = worlds[["leep", "nce", "best_val_acc", "task_corr"]].corr("kendall")
rank, with_t = tau.best_val_acc, tau.task_corr
ru.teaching.say(
    f"Over the {len(worlds)} worlds, Kendall's τ_b with Bob's best validation accuracy is {rank['leep']:+.2f} for LEEP "
    f"and {rank['nce']:+.2f} for NCE, and with t {with_t['leep']:+.2f} and {with_t['nce']:+.2f}. "
    + ("Worlds with a higher t sit further right: Alice's output already predicts Bob's labels there. "
       if min(with_t["leep"], with_t["nce"]) > 0 else "Here the scores do not order the worlds by t. ")
    + f"Whatever they rank, they rank worlds: one score per network, not per depth.{SMOKE}")

# %% [markdown]
# ## 3. Where transfer happens: layer-wise similarity
#
# For worlds along t (α = 0) and along α (t = 0): Bob retrained at every layer from Alice's weights
# (k = L, finetune), Bob from scratch, and the untrained control. Linear CKA of each layer's output on
# the same test inputs (1 = the same representation up to rotation and scale).

# %%
dials = [(t, 0.0) for t in P.task_corrs] + [(0.0, a) for a in P.feature_corrs if a]
cka = s.cka_study(dials, n=P.cka_n)
fig, axes = plt.subplots(1, 3, figsize=(17, 4))
for ax, pair in zip(axes, cka.pair.unique(), strict=True):
    ru.plots.cka_by_layer(cka[cka.feature_corr == 0], pair, ax=ax)
title = axes[-1].get_legend().get_title().get_text()
for ax in axes[:-1]:
    ax.get_legend().remove()
axes[-1].legend(title=title, **OUTSIDE)
fig.tight_layout()
s.save(fig, "09_cka_by_layer_along_t");

# %%
last = cka[cka.layer == cka.layer.max() - 1]  # Alice's last hidden layer
ab = last[(last.pair == "Alice vs Bob (finetune)") & (last.feature_corr == 0)].groupby("task_corr").cka.mean()
ctrl = cka[(cka.pair == "Alice vs random init") & (cka.layer == 1) & (cka.feature_corr == 0)].cka.mean()
ru.teaching.say(
    f"At the last hidden layer ({last.layer_name.iloc[0]}), Bob's network after finetuning keeps CKA "
    f"{ab.iloc[0]:.2f} with Alice's at t = {ab.index[0]:g} and {ab.iloc[-1]:.2f} at t = {ab.index[-1]:g}: he keeps "
    f"{'more' if ab.iloc[-1] > ab.iloc[0] else 'no more'} of her representation when the tasks agree. Near 1 he has "
    "kept it; a drop means he rebuilt that layer for his task. The untrained control (right) shows what the "
    f"shape alone gives: CKA {ctrl:.2f} at the first layer, with no training at all.{SMOKE}")

# %%
fig = ru.plots.cka_by_layer(cka[(cka.task_corr == 0)], "Alice vs Bob (finetune)", hue="feature_corr")
ax = fig.axes[0]
ax.legend(title=ax.get_legend().get_title().get_text(), **OUTSIDE)
fig.tight_layout()
s.save(fig, "09_cka_by_layer_along_alpha");

# %%
aa = last[(last.pair == "Alice vs Bob (finetune)") & (last.task_corr == 0)].groupby("feature_corr").cka.mean()
rise = ("a rise with α means Bob keeps what the overlay makes shared: features, not her decision"
        if aa.iloc[-1] > aa.iloc[0] else "no rise with α means the shared features did not make Bob keep more of it")
ru.teaching.say(
    f"At t = 0, along the overlay dial, the last hidden layer's CKA between Alice and Bob is {aa.iloc[0]:.2f} at "
    f"α = {aa.index[0]:g} and {aa.iloc[-1]:.2f} at α = {aa.index[-1]:g}. The labels are unrelated here, so "
    f"{rise}.{SMOKE}")

# %%
brk = cka[cka.layer == 1].drop_duplicates(["task_corr", "feature_corr", "seed"])[["task_corr", "feature_corr", "seed", "k_break"]]
star = ru.evaluators.depth_signals(runs[runs.n_bob == P.n_bob])[["task_corr", "feature_corr", "seed", "k_star"]]
vs = brk.merge(star, on=["task_corr", "feature_corr", "seed"])
tau = vs[["k_break", "k_star"]].corr("kendall").iloc[0, 1] if vs.k_break.nunique() > 1 and vs.k_star.nunique() > 1 else np.nan
print(f"Kendall τ between the break depth (first layer with CKA < {ru.depth_reveal.CKA_THRESHOLD}) and k*: {tau:+.2f} "
      f"over {len(vs)} worlds; CKA Bobs stopped by the epoch cap: {cka.capped.mean():.0%}, "
      f"choice at a grid end: {cka.edge.mean():.0%}")
vs.groupby(["task_corr", "feature_corr"])[["k_break", "k_star"]].mean()

# %%
ru.teaching.say(
    f"The break depth counts, like k, layers from the top: 1 when Bob's network stays within CKA "
    f"{ru.depth_reveal.CKA_THRESHOLD} of Alice's everywhere below his output layer. Over these {len(vs)} worlds its "
    f"Kendall τ with k* is {tau:+.2f}" + (" (undefined: one of them does not vary)" if tau != tau else "")
    + " — positive when the layers Bob rebuilds are the ones his validation curve says to retrain. For α > 0, k* is "
    f"chosen among k ∈ {{1, 2, L}}, the depths the feature axis trains.{SMOKE}")

# %% [markdown]
# ## Explore
#
# Move the dials: the estimators' curves over k next to Bob's trained accuracy in that world
# (nearest world of the sweep; the figure updates when you release the slider). The axes stay put.

# %%
ts, als = sorted(curves.task_corr.unique()), sorted(curves.feature_corr.unique())
tm = levels[len(levels) // 2]  # the middle of the main sweep's t
def draw(task_corr, feature_corr):
    return ru.plots.depth_scores(scores, curves, task_corr, feature_corr, P.n_bob)

if interactive:
    ru.teaching.explore(draw, look_for="whether each score's peak sits where Bob's trained accuracy peaks, and how "
                        "that changes with t (α > 0 worlds exist at the feature axis's t only; the nearest is shown)",
                        task_corr=ru.teaching.Dial("task correlation t (Cramér's V)", tm, options=ts),
                        feature_corr=ru.teaching.Dial("feature correlation α (overlay)", 0.0, options=als))
else:
    s.save(draw(tm, 0.0), "09_explorer_depth_scores");

# %%
mid = main_worlds[(main_worlds.task_corr == tm) & (main_worlds.n_bob == P.n_bob)].groupby("score").tau.mean()
ru.teaching.say(
    f"At t = {tm:g} (α = 0, {P.n_bob} pairs), the mean τ_b per score is "
    + ", ".join(f"{k} {v:+.2f}" for k, v in mid.items())
    + ". Move the dials (in JupyterLab) to see in which worlds a score's ranking of the cuts follows Bob's "
    f"training.{SMOKE}")

# %% [markdown]
# ## Summary
#
# * The converse of C4 — reading $t$ from Bob's validation curve — is tested as a *prediction* for a
#   seed the map never saw, against the best constant guess; a single accuracy already carries $t$,
#   so the depth curve must also beat scratch accuracy to say something about depth.
# * Transferability estimators rank Alice's cuts in seconds; they are judged by Kendall's τ_b with
#   Bob's *trained* accuracy per depth and by the accuracy their chosen cut costs — and must beat a
#   featureless prior from earlier runs to be worth computing.
# * LEEP and NCE score Alice's output layer: they rank worlds (which network to reuse), not depths.
# * Linear CKA shows where Bob's network departs from Alice's; the break depth can be set beside k*.
# * These are **companion findings**, beyond the paper, and labelled so in the report.

# %% [markdown]
# ## Exercises
#
# Each exercise is checked against this run's data: replace `None` by your answer and run the cell.
# The names you need — `sig`, `loso`, `table` and `P` — are defined above.

# %% [markdown]
# **Exercise 09.1** — For the seed `sig.seed.min()` held out, at the highest task correlation and
# with `P.n_bob` training pairs, which $t$ does the map fitted on the other seeds recover from that
# seed's $\Delta_\text{val}$? To 3 decimals (the truth is `sig.task_corr.max()`).

# %%
answer = None  # your answer: a number between 0 and 1
ru.exercises.check("09.1", answer, sig=sig, P=P)

# %% [markdown]
# **Exercise 09.2** — With `P.n_bob` training pairs, by how much does the map beat the constant
# guess? Give the mean $|\hat t_\text{const} - t|$ minus the mean $|\hat t - t|$ over the held-out
# seeds' worlds, to 3 decimals (positive: the map is better).

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("09.2", answer, sig=sig, P=P)

# %% [markdown]
# **Exercise 09.3** — Which estimator ranks the depths most like Bob's trained accuracy: the score
# (`"logme"`, `"hscore"` or `"hscore_lw"`) with the highest mean Kendall τ_b over the worlds of the
# main sweep (α = 0)?

# %%
answer = None  # your answer: one of the names in table.score
ru.exercises.check("09.3", answer, table=table)
