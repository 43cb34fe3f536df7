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
#     - D1_protocol_health_depth
#     - C1_monotonic_task
#     - C1b_monotonic_feature
#     - C4_optimal_depth_tracks_correlation
#     data:
#     - base
#     needs:
#     - 03_alice_pretraining
# ---

# %% [markdown]
# # 04 — Bob's transfer by depth
#
# Bob keeps the bottom $L - k$ layers of Alice's network frozen and retrains the top $k$ on his own
# (small) training set. **reinit** (Yosinski's AnB) re-initialises those $k$ layers; **finetune**
# (AnB+) starts them from Alice's weights (the output layer is always new; at $k = 1$ the two
# coincide). $k = L$ with reinit is training from **scratch**. The **random-init control** replaces
# Alice by an untrained network of the same architecture.

# %% [markdown]
# **What you will learn**
#
# * how *transfer by depth* is set up — freeze Alice's bottom $L - k$ layers, retrain the top $k$
#   (reinit or finetune) — and why scratch and the random-init control are the two baselines;
# * how Bob's accuracy depends on the task correlation $t$ and on $k$, read as a mean over seeds
#   with its 95% confidence interval (the seed is the unit of replication);
# * how to choose $k^*$ on validation data (never on test data) and which depths are tied with it;
# * why transfer along the feature dial $\alpha$ is measured as a *gain* over scratch and over
#   random init, not as raw accuracy;
# * how claims C1, C1b and C4 are tested, and what the protocol-health diagnostic D1 guards against.
#
# **Prerequisites**: notebook 03 (Alice's pretrained checkpoints, read from the cache), and through
# it 02 (the two-panel worlds and their dials $t$, $\alpha$) and 01 (the linear model behind the GLM
# world). Concepts: training / validation / test splits, freezing layers, a confidence interval, a
# rank correlation (Kendall's τ).
#
# **Time** (measured in full runs of all notebooks in order, on 2 CPU cores): about 2 min at smoke,
# about 15 min at quick; at paper about 2 min on one H100 GPU (not measured on CPU).

# %% [markdown]
# Alice lives in the same world as Bob (same dials). **Every model is trained to convergence and
# Bob is tuned on validation data only**: 20% of his training pairs are held out. The head-only Bob
# ($k = 1$) is a convex problem and is solved as one (logistic regression on Alice's frozen features,
# its L2 strength chosen on validation); deeper Bobs train with Adam until the validation loss stops
# improving, over a learning-rate grid that widens while the best rate sits at its end (finetune
# trains the pretrained layers at the same tuned rate, as in Yosinski et al.). Every record says how training stopped
# (`stopped_by`) and whether a choice was at the end of its grid (`selection_edge`); the
# protocol-health check below counts both. The choice of learning rate, epoch — and below, of
# $k^*$ — uses validation data, never test data. Every number below is a mean
# over seeds with a 95% confidence interval; the seed is the unit of replication. Results come from
# the cached sweep (`<results_dir>/cache/bob/`): re-running trains nothing.

# %% tags=["parameters"]
preset = "quick"          # smoke | quick | paper
dataset = None            # None → the preset's dataset (mnist5k at quick, fashion_mnist at paper)
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
import seaborn as sns

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
interactive = ru.teaching.resolve_interactive(interactive)  # "auto" → True in a front end
P = s.preset
SMOKE = " *(smoke: a tiny run — these numbers mean nothing)*" if P.name == "smoke" else ""

# %%
main = pd.concat([s.sweep(task_corr=list(P.task_corrs), k=["all"], mode=list(P.modes)),
                  s.sweep(task_corr=list(P.task_corrs), k=[1, 2], mode=["reinit"], source=["random"])],
                 ignore_index=True)
L = int(main.n_layers.max())
levels = sorted(main.task_corr.unique())
t0, t1, chance = levels[0], levels[-1], float(main.chance.mean())
print(f"{len(main)} Bob runs ({main.from_cache.sum()} from cache), L = {L} layers")
main.groupby("task_corr")[["task_corr_measured", "feature_corr_measured", "alice_test_acc"]].mean().round(3)

# %% [markdown]
# ## Accuracy against task correlation, one line per k (reinit)

# %%
alice_runs = main[(main.source == "alice") & (main["mode"] == "reinit")]
fig, ax = plt.subplots(figsize=(7.8, 4.2))
sns.lineplot(data=alice_runs, x="task_corr", y="bob_test_acc", hue="k", palette=sns.color_palette("viridis", L + 1)[:L],
             legend="full", errorbar=ru.plots.t_ci, err_kws={"alpha": 0.1}, marker="o", ax=ax)
ax.axhline(chance, color="grey", ls=":", label="chance")
ax.set(xlabel="task correlation t (Cramér's V)", ylabel="Bob's test accuracy (fraction)", ylim=(0, 1),
       title="Bob retrains the top k layers (reinit)")
ax.legend(title=f"retrained layers k\n(mean, 95% t-CI over\n{alice_runs.seed.nunique()} seeds)", loc="upper left",
          bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=9, title_fontsize=9)
fig.tight_layout()
s.save(fig, "04_bob_acc_vs_task_corr");

# %%
acc = alice_runs.groupby(["task_corr", "k"]).bob_test_acc.mean()
gap0 = acc[t0, 1] - acc[t0, L]
ru.teaching.say(
    f"At t = {t0:g} Bob reaches {acc[t0, 1]:.3f} with k = 1 (only the head retrained) and {acc[t0, L]:.3f} "
    f"from scratch (k = L); at t = {t1:g}, {acc[t1, 1]:.3f} and {acc[t1, L]:.3f} (chance {chance:.2f}). "
    f"Raw accuracy {'rises' if acc[t1].mean() > acc[t0].mean() else 'does not rise'} with t on average over k, "
    "but even scratch can gain with t — Alice's panel, which Bob also sees, predicts his label when the "
    f"tasks are linked. What reuse adds is the gap between k = 1 and scratch: {gap0:+.3f} at t = {t0:g} "
    f"(Exercise 04.2 asks for it at t = {t1:g}).{SMOKE}")

# %%
table = alice_runs.groupby(["task_corr", "k"]).bob_test_acc.mean().unstack("k")
fig = ru.plots.heatmap(table, xlabel="retrained layers k", ylabel="task correlation t (Cramér's V)",
                       title="Bob's mean test accuracy (reinit)", cbar_label="accuracy (fraction)")
s.save(fig, "04_heatmap_task_corr_by_k");

# %%
ru.teaching.say(
    f"Read a row to compare depths at one correlation: the highest mean *test* accuracy is at "
    f"k = {table.loc[t0].idxmax()} for t = {t0:g} and at k = {table.loc[t1].idxmax()} for t = {t1:g} "
    f"(the rows span {table.loc[t0].max() - table.loc[t0].min():.3f} and {table.loc[t1].max() - table.loc[t1].min():.3f}). "
    "This read-out uses test data, so it only describes: a Bob who must *choose* k can use his validation "
    f"data alone, which is what the next section does.{SMOKE}")

# %% [markdown]
# ## The optimal number of retrained layers
#
# For each correlation: the best $k$ by **validation** accuracy (seed mean) and the set of $k$
# statistically tied with it (Welch t-test on validation accuracy, p ≥ 0.05).

# %%
best = ru.stats.optimal_depth(main[(main.source == "alice") & (main.feature_corr == 0)], ["mode", "task_corr"],
                              value="bob_val_acc")
fig, ax = plt.subplots(figsize=(8.4, 4))
for i, (mode, grp) in enumerate(best.groupby("mode")):
    dx = (i - 0.5) * 0.02 * (t1 - t0)  # the modes side by side
    (line,) = ax.plot(grp.task_corr + dx, grp.best_k, marker="os"[i % 2], label=f"best k ({mode})")
    tied = grp.explode("tied_ks")
    ax.scatter(tied.task_corr + dx, tied.tied_ks.astype(int), s=110, marker="os"[i % 2], facecolors="none",
               edgecolors=line.get_color(), label=f"k tied with the best ({mode}; Welch p ≥ 0.05)")
ax.set(xlabel="task correlation t (Cramér's V)", ylabel="optimal retrained layers k* (validation)",
       title="k* (filled) and the k tied with it (hollow)", yticks=range(1, L + 1), ylim=(0.7, L + 0.3))
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=9)
fig.tight_layout()
s.save(fig, "04_optimal_k");
best.round(3)

# %%
k_of = best.set_index(["mode", "task_corr"])
def k_text(mode, t):
    r = k_of.loc[(mode, t)]
    return f"k* = {r.best_k} (tied: {', '.join(map(str, r.tied_ks))})"
def moves(mode):
    a, b = k_of.loc[(mode, t0)].best_k, k_of.loc[(mode, t1)].best_k
    return f"{'falls' if b < a else 'rises' if b > a else 'stays put'} for {mode}"
ru.teaching.say(
    "; ".join(f"{mode}: {k_text(mode, t0)} at t = {t0:g}, {k_text(mode, t1)} at t = {t1:g}" for mode in P.modes)
    + ". C4's hypothesis is that k* falls as t rises (the more the tasks agree, the less Bob must retrain); "
    f"from the lowest to the highest t here, k* {', '.join(moves(mode) for mode in P.modes)} (k* from seed-mean "
    "validation accuracy; C4 below averages each seed's own choice). Where the tied ks cover most of "
    f"1…{L}, the validation data cannot tell the depths apart.{SMOKE}")

# %% [markdown]
# ## reinit vs finetune, and Alice vs the random-init control

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
for ax, t in zip(axes, (t0, t1), strict=True):
    ru.plots.acc_vs_k(main, t, ax=ax, legend=ax is axes[-1])
s.save(fig, "04_reinit_finetune_control");
ru.stats.summarize(main, ["task_corr", "source", "mode", "k"]).pivot_table(index=["task_corr", "source", "mode"], columns="k", values="mean").round(3)

# %%
mean_acc = main[main.feature_corr == 0].groupby(["task_corr", "source", "mode", "k"]).bob_test_acc.mean()
m = mean_acc  # a short name for the reading below
def ft_minus_re(t):
    return float((m[t, "alice", "finetune"] - m[t, "alice", "reinit"]).loc[2:].mean())
ru.teaching.say(
    f"At k = 1 (head only) Alice's frozen features give Bob {m[t0, 'alice', 'reinit', 1]:.3f} at t = {t0:g}, "
    f"against {m[t0, 'random', 'reinit', 1]:.3f} from an untrained network of the same shape "
    f"({m[t1, 'alice', 'reinit', 1]:.3f} against {m[t1, 'random', 'reinit', 1]:.3f} at t = {t1:g}): the "
    "difference is what Alice's *training* contributes, beyond the architecture. Averaged over k ≥ 2, "
    f"finetune minus reinit is {ft_minus_re(t0):+.3f} at t = {t0:g} and {ft_minus_re(t1):+.3f} at t = {t1:g} "
    f"— starting the retrained layers from Alice's weights {'helps' if ft_minus_re(t1) > 0 else 'does not help'} "
    f"at the highest correlation here.{SMOKE}")

# %% [markdown]
# ## The feature-correlation axis
#
# Now the other dial: feature correlation $\alpha$ (Alice's image overlaid on Bob's panel, notebook 02)
# at task correlation $t = 0$ — where only features can carry transfer — and at $t = 0.6$
# (`P.feature_task_corrs`). An overlay makes Bob's own task harder, so raw accuracy would mislead:
# we report Bob's **gain** over training from scratch ($k = L$, same world and seed) and over the
# random-init control at the same $k$ (`ru.transfer_gains`).

# %%
axes = dict(task_corr=list(P.feature_task_corrs), feature_corr=list(P.feature_corrs), mode=["reinit"])
feat = pd.concat([s.sweep(k=[1, 2, "L"], **axes), s.sweep(k=[1, 2], source=["random"], **axes)],
                 ignore_index=True)
gains = ru.transfer_gains(feat)
long = gains.melt(id_vars=["task_corr", "feature_corr", "seed", "k"], value_vars=["gain_vs_scratch", "gain_vs_random"],
                  var_name="reference", value_name="gain")
long["reference"] = long.reference.map({"gain_vs_scratch": "over scratch", "gain_vs_random": "over random init"})
long["retrained layers"] = "k = " + long.k.astype(str)
long["t"] = long.task_corr.map("{:g}".format)

# %%
g = sns.relplot(data=long, x="feature_corr", y="gain", hue="retrained layers", col="t", row="reference",
                kind="line", marker="o", errorbar=ru.plots.t_ci, height=3, aspect=1.4, facet_kws={"ylim": (-1, 1)})
g.set_titles(template="Bob's gain {row_name}, t = {col_name}")
g.set_axis_labels("feature correlation α (dial)", "accuracy gain (fraction)")
ru.plots.legend_outside(g, reference_y=0, reference_label="no gain (0)", title="mean, 95% t-CI over seeds")
s.save(g.figure, "04_feature_axis_gains")

# %%
cols = ["feature_corr_measured", "bob_test_acc", "scratch_acc", "random_acc", "gain_vs_scratch", "gain_vs_random"]
gm = gains.groupby(["task_corr", "feature_corr", "k"])[cols].mean()
a0, a1 = min(P.feature_corrs), max(P.feature_corrs)
ft0 = min(P.feature_task_corrs)
ru.teaching.say(
    f"At t = {ft0:g}, where only features can carry transfer, Bob's head-only (k = 1) gain over scratch is "
    f"{gm.gain_vs_scratch[ft0, a0, 1]:+.3f} at α = {a0:g} and {gm.gain_vs_scratch[ft0, a1, 1]:+.3f} at α = {a1:g}; "
    f"over random init {gm.gain_vs_random[ft0, a0, 1]:+.3f} and {gm.gain_vs_random[ft0, a1, 1]:+.3f}. "
    "A gain that grows with α means the overlay made Alice's features useful to Bob; the gain over random "
    "init separates what her training learned from what any network of her shape offers. The bands are "
    f"wide when the seeds disagree: read the sign only where the band clears zero.{SMOKE}")
gm.round(3)

# %% [markdown]
# ## The feature dial where the paper's linear model lives: the GLM world
#
# In the GLM world (notebook 01) α drives Bob's features *and*, through them, his labels — as in
# the paper's shallow model ($\theta = 0$, so $t = \tfrac{2}{\pi}\arcsin\alpha$); the second sweep
# holds the label correlation at $t = 0$ (the world's θ is chosen for it). Bob retrains the top
# layer of Alice's MLP ($k = 1$) or trains from scratch ($k = L$).

# %%
glm_world = f"glm:d={P.glm_dim},noise={P.linear_noise}"
glm = pd.concat([s.sweep(dataset=[glm_world], arch=["mlp"], feature_corr=[a], k=[1, "L"], mode=["reinit"],
                         task_corr=[2 / np.pi * np.arcsin(a)]) for a in P.glm_alphas], ignore_index=True)
glm_t0 = s.sweep(dataset=[glm_world], arch=["mlp"], feature_corr=list(P.glm_alphas), k=[1, "L"], mode=["reinit"],
                 task_corr=[0.0])
both = pd.concat([glm.assign(world="θ = 0 (t follows α)"), glm_t0.assign(world="t = 0")], ignore_index=True)
g = sns.relplot(data=both[both.k == 1], x="feature_corr", y="bob_test_acc", col="world", kind="line", marker="o",
                errorbar=ru.plots.t_ci, height=3.2, aspect=1.3, label="Bob, k = 1 (mean, 95% t-CI)")
g.refline(y=float(both.chance.mean()), color="grey", ls=":", label="chance")
g.set_titles(col_template="GLM world, {col_name}")
g.set(ylim=(0, 1))
g.set_axis_labels("feature correlation α (GLM world)", "Bob's test accuracy (fraction)")
g.figure.legend(*g.axes.flat[0].get_legend_handles_labels(), loc="center left", bbox_to_anchor=(1.0, 0.5))
s.save(g.figure, "04_glm_feature_axis");

# %%
g1 = {w: d[d.k == 1].groupby(d.feature_corr.abs()).bob_test_acc.mean() for w, d in (("θ0", glm), ("t0", glm_t0))}
amax = max(abs(a) for a in P.glm_alphas)
ru.teaching.say(
    f"With θ = 0 (labels follow α) Bob's k = 1 accuracy is {g1['θ0'][0.0]:.3f} at α = 0 and {g1['θ0'][amax]:.3f} "
    f"at |α| = {amax:g} (mean of ±α); holding t = 0 it is {g1['t0'][0.0]:.3f} and {g1['t0'][amax]:.3f}. "
    "In the θ = 0 world a rise mixes feature and label transfer, as in the paper's linear model (C1b's "
    "primary test); the t = 0 world keeps only the features — a rise there is what features alone carry."
    f"{SMOKE}")

# %% [markdown]
# ## Claims C1, C1b and C4, and the protocol's health
#
# Each claim is tested as the claims spec (`ru.analysis.claims_spec.SPEC`) fixed it before the runs,
# with the seed as the unit and exact tests (within-seed permutation of Mann–Kendall's S for trends,
# sign flips for paired differences). **C1**: Bob's raw test accuracy at the configuration he would
# deploy — the $(k, \text{mode})$ with the best *validation* accuracy — rises with $t$; beside it,
# as secondaries, his gain over scratch and his accuracy on the unlinked test samples. **C1b**: in the
# GLM world Bob's $k = 1$ accuracy rises with $|\alpha|$; the image overlay's gains are secondaries.
# **C4**: at $t = 0$ the validation-chosen $k^*$ beats $k = 1$ on test, and $k^*$ falls as $t$ rises
# (every seed, both modes, every `n_bob`); $\Delta(t) = \mathrm{acc}(k{=}2) - \mathrm{acc}(k{=}1)$ is a
# secondary. **D1** checks how the Bobs and Alices above stopped: in every cell at most 10% may stop at
# an epoch cap or choose a learning rate or regularisation at the end of its grid.

# %%
extra = [s.sweep(task_corr=list(P.task_corrs), k=["all"], mode=list(P.modes), n_bob=[n])
         for n in sorted(set(P.n_bobs) - {P.n_bob})]
depth = pd.concat([main, *extra], ignore_index=True)
kstar = pd.concat([ru.evaluators.chosen_config(g) for _, g in depth[depth.source == "alice"].groupby("mode")])
kstar.pivot_table(index="task_corr", columns=["mode", "n_bob"], values="k", aggfunc="mean").round(2)  # mean k*

# %%
nb = "04_bob_transfer_by_depth.ipynb"
runs = pd.concat([depth, feat, glm, glm_t0], ignore_index=True)
alices = runs[runs.source == "alice"].drop_duplicates(ru.evaluators.ALICE_KEYS)  # one row per Alice
d1 = s.record("D1_protocol_health_depth", ru.evaluators.claim_protocol_health("D1_protocol_health_depth", runs, alices), nb)
c1 = s.record("C1_monotonic_task", ru.evaluators.claim_monotonic_task(main), nb)
c1b = s.record("C1b_monotonic_feature", ru.evaluators.claim_monotonic_feature(glm, glm_t0, feat), nb)
c4 = s.record("C4_optimal_depth_tracks_correlation", ru.evaluators.claim_optimal_depth(depth), nb)

# %% [markdown]
# How to read a verdict: a test *holds* when its effect points the stated way **and** its p-value is
# below 0.05. With few seeds an exact test cannot reach a small p at all (a one-sided sign flip over
# $n$ seeds bottoms out at $p = 2^{-n}$), so a failure may mean "too few seeds", not "wrong".

# %%
ru.teaching.say(ru.teaching.health_reading("D1", d1, "every finding below") + SMOKE)

# %%
sec = {x["name"]: x for x in c1["secondary"]}
gs = sec.get("gain over scratch", {})
ru.teaching.say(
    f"**C1 is {ru.teaching.claim_word(c1)}** — Bob's accuracy at his validation-chosen "
    f"(k, mode) against t: {ru.teaching.test_reading(c1)} (mean Kendall τ over {c1['n']} seeds). "
    f"Its caveat — {c1['details'].get('caveat', '')}. That secondary, the gain over scratch against t, "
    f"{gs.get('verdict', 'was not computed')} ({ru.teaching.test_reading(gs) if gs else ''}).{SMOKE}")

# %%
secs = "; ".join(f"{x['name']}: {x['verdict']} ({ru.teaching.test_reading(x)})" for x in c1b["secondary"])
ru.teaching.say(
    f"**C1b is {ru.teaching.claim_word(c1b)}** — in the GLM world with θ = 0, Bob's k = 1 "
    f"accuracy against |α|: {ru.teaching.test_reading(c1b)}. Secondaries — {secs}.{SMOKE}")

# %%
first, falls = c4["details"]["k_star_gain_over_k1_at_lowest_t"], c4["details"]["k_star_trend"]
ru.teaching.say(
    f"**C4 is {ru.teaching.claim_word(c4)}**; both parts must hold. (i) At t = {t0:g} the "
    f"validation-chosen k* beats k = 1 on test: {ru.teaching.test_reading(first)}. (ii) k* falls as t rises: {ru.teaching.test_reading(falls)} "
    f"(Kendall τ; negative means falling). At t = {t0:g}, k* is scratch (k = L) in "
    f"{c4['details']['fraction_k_star_is_scratch_at_lowest_t']:.0%} of the choices.{SMOKE}")

# %% [markdown]
# ## Explore
#
# A slider over the task correlation redraws Bob's accuracy-vs-k curves from the cached sweep (no
# training: each redraw takes well under a second). The axes stay put as the slider moves.

# %%
def draw(task_corr):
    return ru.plots.acc_vs_k(main, task_corr)

if interactive:
    ru.teaching.explore(draw, look_for="where each curve peaks (the best k), and how far Alice's layers stay above "
                        "the random-init control, as t rises",
                        task_corr=ru.teaching.Dial("task correlation t (Cramér's V)", levels[len(levels) // 2],
                                                   options=levels))
else:
    s.save(draw(levels[len(levels) // 2]), "04_explorer_acc_vs_k");

# %%
tm = levels[len(levels) // 2]
cur = mean_acc[tm, "alice"]
ru.teaching.say(
    f"At t = {tm:g}, the middle of the dial, Bob's test accuracy peaks at k = {cur['reinit'].idxmax()} with reinit "
    f"({cur['reinit'].max():.3f}) and at k = {cur['finetune'].idxmax()} with finetune ({cur['finetune'].max():.3f}); "
    f"the random-init control reaches {mean_acc[tm, 'random', 'reinit'].max():.3f} at best (chance {chance:.2f}). "
    f"Move the slider (in JupyterLab) to see how these peaks shift with t.{SMOKE}")

# %% [markdown]
# ## Summary
#
# * Transfer by depth has two baselines: **scratch** (nothing of Alice kept) tells whether reuse
#   helps at all, the **random-init control** whether what helps is Alice's *training* or only her
#   architecture.
# * Raw accuracy rising with $t$ is nearly forced (Bob sees Alice's panel); the evidence for reuse is
#   the gap over scratch and over random init, and how it changes with $t$, $k$ and $\alpha$.
# * The depth Bob should retrain is chosen on **validation** data; depths whose validation accuracy
#   is statistically tied with the best are equally good choices, and a wide tied range means the data
#   cannot locate $k^*$.
# * Along the feature dial, gains (not raw accuracies) are the fair read-out, because the overlay
#   changes how hard Bob's own task is.
# * A claim holds only when its effect points the stated way and its exact test reaches p < 0.05;
#   with few seeds some tests cannot, and D1 says how many models behind a claim stopped at a cap or
#   at a grid's end.

# %% [markdown]
# ## Exercises
#
# Each exercise is checked against this run's data: replace `None` by your answer and run the cell.
# The names you need — `main`, `P`, `L`, `levels` — are defined above.

# %% [markdown]
# **Exercise 04.1** — Which number of retrained layers $k$ would Bob choose at the lowest task
# correlation (`levels[0]`) with **reinit** on Alice's network, using **validation** accuracy
# averaged over seeds? (If several $k$ tie, give the smallest.)

# %%
answer = None  # your answer: an integer k between 1 and L
ru.exercises.check("04.1", answer, main=main)

# %% [markdown]
# **Exercise 04.2** — At the highest task correlation (`levels[-1]`), what is Bob's mean gain (over
# seeds) of retraining only the head ($k = 1$, reinit, Alice's network) over training from scratch
# ($k = L$)? Give it as a fraction, to 3 decimals (negative if scratch wins).

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("04.2", answer, main=main)

# %% [markdown]
# **Exercise 04.3** — Does the $k^*$ you chose in 04.1 beat $k = 1$ on **test** data? Give Bob's
# mean test accuracy at that $k^*$ minus his mean test accuracy at $k = 1$ (lowest $t$, reinit,
# Alice's network), to 3 decimals. (This is part (i) of C4, for one mode and averaged over seeds.)

# %%
answer = None  # your answer: a number between -1 and 1 (0 if k* = 1)
ru.exercises.check("04.3", answer, main=main)
