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
#     - M1_attribution_shift
#     - C5_attribution_matches_reliance
#     data:
#     - base
#     needs:
#     - 04_bob_transfer_by_depth
# ---

# %% [markdown]
# # 06 — Attribution: where does transfer come from?
#
# For Alice and for Bob (retraining the top $k$ layer) along the **feature dial** $\alpha$ at task
# correlation $t = 0$ — where only shared features can make Bob's panel useful to Alice — we measure:
#
# * **Integrated Gradients** (captum; baseline = blank panels, pixel value −1, true label): the
#   share of |attribution| on Alice's and on Bob's panel;
# * **LayerConductance** of each convolutional layer: the share of |conductance| on Bob's side of the
#   feature map — *which layers* carry Bob's panel;
# * **panel-randomised accuracy**: the accuracy drop when each panel is replaced by an independent
#   draw; `bob_reliance` = drop(Bob's panel) / (sum of drops), the behavioural counterpart.

# %% tags=["parameters"]
preset = "quick"          # smoke | quick | paper
dataset = None            # None → the preset's dataset (mnist5k at quick, fashion_mnist at paper)
device = "auto"           # auto | cpu | cuda | mps
seeds = None              # None → the preset's seeds
interactive = False       # True builds the sliders (JupyterLab); papermill runs keep False
results_dir = "../results"

# %%
import matplotlib.pyplot as plt
import seaborn as sns
from captum.attr import visualization as viz

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
N = s.preset.attribution_n  # test samples attributed per model

# %%
alphas = sorted(s.preset.feature_corrs)
dials = [(0.0, a) for a in alphas]
table = s.attribution_study(dials, [1], n=N, n_steps=s.preset.attribution_steps, n_layer=N // 2)
table.groupby(["model", "feature_corr"])[["bob_share", "acc", "bob_reliance"]].mean().round(3)

# %%
fig = plt.figure(figsize=(6.4, 4.2))
ax = sns.lineplot(data=table, x="feature_corr", y="bob_share", hue="model", marker="o", errorbar=ru.plots.t_ci)
ax.axhline(0.5, color="grey", ls=":")
ax.set(xlabel="feature correlation α (t = 0)", ylabel="share of |IG| on Bob's panel",
       title="Which panel drives the prediction")
s.save(fig, "06_panel_share_vs_feature_corr");

# %% [markdown]
# ## Which layers carry Bob's panel (LayerConductance)

# %%
layer_cols = [c for c in table.columns if c.startswith("layer:")]
long = table.melt(id_vars=["model", "feature_corr", "seed"], value_vars=layer_cols, var_name="layer",
                 value_name="bob_side_share")
long["layer"] = long.layer.str.removeprefix("layer:")
g = sns.relplot(data=long, x="layer", y="bob_side_share", hue="feature_corr", col="model", kind="line", marker="o",
                errorbar=ru.plots.t_ci, height=3.2, aspect=0.9, palette="crest")
g.set_axis_labels("layer", "share of |conductance| on Bob's side")
s.save(g.figure, "06_layer_conductance");

# %% [markdown]
# ## Example attribution maps (largest α, first seed)

# %%
alice, _, world = s.alice(0.0, alphas[-1], s.seeds[0])
bob = s.bob(alice, world, 1, "reinit", s.seeds[0])
fig, axes = plt.subplots(2, 3, figsize=(11, 5))
for row, (name, model, target) in enumerate((("Alice", alice, "alice"), ("Bob k=1", bob, "bob"))):
    attr = ru.attribution.attribution_maps(model, world.test, target, n=3, n_steps=32)
    for j in range(3):
        img = ((world.test.x[j] + 1) / 2).permute(1, 2, 0).numpy()
        viz.visualize_image_attr(attr[j].permute(1, 2, 0).numpy(), img, method="blended_heat_map", sign="absolute_value",
                                 plt_fig_axis=(fig, axes[row, j]), use_pyplot=False, title=f"{name}: sample {j}")
s.save(fig, "06_example_heatmaps");

# %% [markdown]
# ## Attribution against behaviour
#
# That Alice's IG share on Bob's panel rises with α is a **manipulation check** (M1): the overlay
# puts her signal there. The finding (C5) is whether attribution agrees with behaviour: across Bob's
# models, Spearman's ρ between the IG share on his panel and the accuracy he loses when that panel is
# randomised (a permutation test within seeds).

# %%
fig = plt.figure(figsize=(5.5, 4.2))
ax = sns.scatterplot(data=table, x="bob_share", y="bob_reliance", hue="model", style="feature_corr")
ax.set(xlabel="share of |IG| on Bob's panel", ylabel="reliance on Bob's panel (randomised-panel drops)",
       title="Does attribution agree with behaviour?")
s.save(fig, "06_ig_vs_randomised");
s.record("M1_attribution_shift", ru.evaluators.claim_attribution_shift(table, task_corr=0.0), "06_attribution.ipynb")
s.record("C5_attribution_matches_reliance", ru.evaluators.claim_attribution_reliance(table), "06_attribution.ipynb");
