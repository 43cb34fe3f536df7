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
#
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
interactive = False       # True builds the sliders (JupyterLab); papermill runs keep False
results_dir = "../results"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
P = s.preset

# %%
main = pd.concat([s.sweep(task_corr=list(P.task_corrs), k=["all"], mode=list(P.modes)),
                  s.sweep(task_corr=list(P.task_corrs), k=[1, 2], mode=["reinit"], source=["random"])],
                 ignore_index=True)
L = int(main.n_layers.max())
print(f"{len(main)} Bob runs ({main.from_cache.sum()} from cache), L = {L} layers")
main.groupby("task_corr")[["task_corr_measured", "feature_corr_measured", "alice_test_acc"]].mean().round(3)

# %% [markdown]
# ## Accuracy against task correlation, one line per k (reinit)

# %%
alice_runs = main[(main.source == "alice") & (main["mode"] == "reinit")]
fig = ru.plots.plot_mean_ci(alice_runs, "task_corr", "bob_test_acc", hue="k", chance=float(main.chance.mean()),
                   xlabel="task correlation t (dial)", ylabel="Bob's test accuracy (fraction)",
                   title="Bob retrains the top k layers (reinit)")
s.save(fig, "04_bob_acc_vs_task_corr");

# %%
table = alice_runs.groupby(["task_corr", "k"]).bob_test_acc.mean().unstack("k")
fig = ru.plots.heatmap(table, xlabel="retrained layers k", ylabel="task correlation t",
              title="Bob's mean test accuracy (reinit)", cbar_label="accuracy (fraction)")
s.save(fig, "04_heatmap_task_corr_by_k");

# %% [markdown]
# ## The optimal number of retrained layers
#
# For each correlation: the best $k$ by **validation** accuracy (seed mean) and the set of $k$
# statistically tied with it (Welch t-test on validation accuracy, p ≥ 0.05).

# %%
best = ru.stats.optimal_depth(main[(main.source == "alice") & (main.feature_corr == 0)], ["mode", "task_corr"],
                              value="bob_val_acc")
fig, ax = plt.subplots(figsize=(6.4, 4))
for mode, grp in best.groupby("mode"):
    ax.plot(grp.task_corr, grp.best_k, marker="o", label=f"best k ({mode})")
    ax.fill_between(grp.task_corr, grp.min_tied_k, grp.max_tied_k, alpha=0.15,
                    label=f"k tied with the best ({mode}; Welch p ≥ 0.05)")
ax.set(xlabel="task correlation t", ylabel="optimal retrained layers k* (validation)", title="k* with its tied range")
ax.set_yticks(range(1, L + 1))
ax.legend()
s.save(fig, "04_optimal_k");
best.round(3)

# %% [markdown]
# ## reinit vs finetune, and Alice vs the random-init control

# %%
levels = sorted(main.task_corr.unique())
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, t in zip(axes, (levels[0], levels[-1]), strict=True):
    ru.plots.acc_vs_k(main, t, ax=ax)
s.save(fig, "04_reinit_finetune_control");
ru.stats.summarize(main, ["task_corr", "source", "mode", "k"]).pivot_table(index=["task_corr", "source", "mode"], columns="k", values="mean").round(3)

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
g = sns.relplot(data=long, x="feature_corr", y="gain", hue="retrained layers", col="task_corr", row="reference",
                kind="line", marker="o", errorbar=ru.plots.t_ci, height=3, aspect=1.3)
g.refline(y=0, color="grey", ls=":")
g.set_axis_labels("feature correlation α (dial)", "Bob's accuracy gain (fraction)")
s.save(g.figure, "04_feature_axis_gains")

# %%
cols = ["feature_corr_measured", "bob_test_acc", "scratch_acc", "random_acc", "gain_vs_scratch", "gain_vs_random"]
gains.groupby(["task_corr", "feature_corr", "k"])[cols].mean().round(3)

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
                errorbar=ru.plots.t_ci, height=3.2, aspect=1.3, label="Bob, k = 1 (mean, 95% CI)")
g.set_axis_labels("feature correlation α (GLM world)", "Bob's test accuracy (fraction)")
s.save(g.figure, "04_glm_feature_axis");

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
# secondary. **D1** checks that every Bob and Alice above was trained to convergence inside its grid.

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
s.record("D1_protocol_health_depth", ru.evaluators.claim_protocol_health("D1_protocol_health_depth", runs, alices), nb)
s.record("C1_monotonic_task", ru.evaluators.claim_monotonic_task(main), nb)
s.record("C1b_monotonic_feature", ru.evaluators.claim_monotonic_feature(glm, glm_t0, feat), nb)
s.record("C4_optimal_depth_tracks_correlation", ru.evaluators.claim_optimal_depth(depth), nb);

# %% [markdown]
# ## Explore
#
# A slider over task correlation redraws Bob's accuracy-vs-k curve from the cached sweep instantly.

# %%
if interactive:
    import ipywidgets as w
    w.interact(lambda task_corr: ru.plots.acc_vs_k(main, task_corr) and None,
               task_corr=w.SelectionSlider(options=levels, value=levels[len(levels) // 2]))
else:
    s.save(ru.plots.acc_vs_k(main, levels[len(levels) // 2]), "04_explorer_acc_vs_k");
