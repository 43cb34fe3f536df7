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

# %% [markdown]
# **What you will learn**
#
# * how Integrated Gradients attributes a prediction to input pixels, relative to a baseline input,
#   and how to summarise it as a share per panel;
# * how LayerConductance follows that attribution into the network, layer by layer;
# * why an attribution must be checked against behaviour — here the accuracy lost when a panel is
#   randomised — before it is read as "what the model uses";
# * the difference between a manipulation check (M1: the overlay moves Alice's attribution) and a
#   finding (C5: attribution agrees with reliance).
#
# **Prerequisites**: notebook 04 (Bob with $k$ layers retrained, reinit; the feature dial $\alpha$,
# Alice's checkpoints in the cache) and 02 (the two panels and the overlay). Concepts: gradients
# with respect to the input, a rank correlation (Spearman's ρ), permutation tests.
#
# **Time** (measured in full runs of all notebooks in order, on 2 CPU cores): about 10 s at smoke,
# about 50 s at quick; not measured at paper.

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
import seaborn as sns
from captum.attr import visualization as viz

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
interactive = ru.teaching.resolve_interactive(interactive)  # "auto" → True in a front end
N = s.preset.attribution_n  # test samples attributed per model
SMOKE = " *(smoke: a tiny run — these numbers mean nothing)*" if s.preset.name == "smoke" else ""

# %% [markdown]
# Bob is trained afresh for each world (α × seed) and then every model is attributed: a progress
# bar counts the worlds.

# %%
alphas = sorted(s.preset.feature_corrs)
dials = [(0.0, a) for a in alphas]
table = s.attribution_study(dials, [1], n=N, n_steps=s.preset.attribution_steps, n_layer=N // 2, progress=s.progress)
NAMES = {"alice": "Alice", **{m: f"Bob (k = {m.split('=')[-1]})" for m in table.model.unique() if m != "alice"}}
shown = table.assign(model=table.model.map(NAMES),  # readable names for the figures
                     **{"feature correlation": table.feature_corr.map("α = {:g}".format)})
table.groupby(["model", "feature_corr"])[["bob_share", "acc", "bob_reliance"]].mean().round(3)

# %%
fig, ax = plt.subplots(figsize=(8, 4.2))
sns.lineplot(data=shown, x="feature_corr", y="bob_share", hue="model", marker="o", errorbar=ru.plots.t_ci, ax=ax)
ax.axhline(0.5, color="grey", ls=":", label="equal shares (0.5)")
ax.set(xlabel="feature correlation α (t = 0)", ylabel="share of |IG| on Bob's panel (fraction)", ylim=(0, 1),
       title="Which panel drives the prediction")
ax.legend(title="mean, 95% t-CI over seeds", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
fig.tight_layout()
s.save(fig, "06_panel_share_vs_feature_corr");

# %%
share = table.groupby(["model", "feature_corr"]).bob_share.mean()
a0, a1 = alphas[0], alphas[-1]
bob = next(m for m in NAMES if m != "alice")
ru.teaching.say(
    f"Alice puts {share['alice', a0]:.0%} of her |IG| on Bob's panel at α = {a0:g} and {share['alice', a1]:.0%} at "
    f"α = {a1:g}; {NAMES[bob]} puts {share[bob, a0]:.0%} and {share[bob, a1]:.0%} there. Alice's task lives on "
    "her own panel, so at α = 0 her share on Bob's should be small; the overlay copies her image onto Bob's "
    f"panel, so her share there should grow with α — it {'does' if share['alice', a1] > share['alice', a0] else 'does not'} "
    f"here (M1 tests it). Bob's label lives on his panel, so his share should stay high.{SMOKE}")

# %% [markdown]
# ## Which layers carry Bob's panel (LayerConductance)

# %%
layer_cols = [c for c in table.columns if c.startswith("layer:")]
long = shown.melt(id_vars=["model", "feature_corr", "seed"], value_vars=layer_cols, var_name="layer",
                  value_name="bob_side_share")
long["layer"] = long.layer.str.removeprefix("layer:")
g = sns.relplot(data=long, x="layer", y="bob_side_share", hue="feature_corr", col="model", kind="line", marker="o",
                errorbar=ru.plots.t_ci, height=3.4, aspect=1.0, palette="crest")
g.set_titles(col_template="{col_name}")
g.set(ylim=(0, 1))
g.set_axis_labels("layer (input side → output side)", "share of |conductance| on Bob's side")
sns.move_legend(g, "upper left", bbox_to_anchor=(g.figure.subplotpars.right + 0.01, 0.9), title="feature correlation α\n(mean, 95% t-CI)")
s.save(g.figure, "06_layer_conductance");

# %%
cond = table.groupby(["model", "feature_corr"])[layer_cols].mean().rename(columns=lambda c: c.removeprefix("layer:"))
top = {m: cond.loc[(m, a1)].idxmax() for m in NAMES}
ru.teaching.say(
    f"At α = {a1:g} Alice's conductance leans most on Bob's side in {top['alice']} "
    f"({cond.loc[('alice', a1), top['alice']]:.0%}; {cond.loc[('alice', a0), top['alice']]:.0%} at α = {a0:g}), "
    f"and {NAMES[bob]}'s in {top[bob]} ({cond.loc[(bob, a1), top[bob]]:.0%}). Reading along a line shows where in "
    "the network a panel's signal is carried: a share that grows towards the output means later layers "
    f"mix the panels, one that is flat means each layer keeps them apart as the input did.{SMOKE}")

# %% [markdown]
# ## Example attribution maps (largest α, first seed)

# %%
alice, _, world = s.alice(0.0, alphas[-1], s.seeds[0])
bob_model = s.bob(alice, world, 1, "reinit", s.seeds[0])
fig, axes = plt.subplots(2, 3, figsize=(11, 5))
maps = {}
for row, (name, model, target) in enumerate((("Alice", alice, "alice"), ("Bob, k = 1", bob_model, "bob"))):
    maps[name] = attr = ru.attribution.attribution_maps(model, world.test, target, n=3, n_steps=32)
    for j in range(3):
        img = ((world.test.x[j] + 1) / 2).permute(1, 2, 0).numpy()
        viz.visualize_image_attr(attr[j].permute(1, 2, 0).numpy(), img, method="blended_heat_map", sign="absolute_value",
                                 plt_fig_axis=(fig, axes[row, j]), use_pyplot=False, title=f"{name}: test pair {j}")
fig.suptitle(f"|Integrated Gradients| (blue, darker = larger) over the test pair, α = {alphas[-1]:g}, t = 0")
s.save(fig, "06_example_heatmaps");

# %%
r0, r1, c0, c1 = world.test.regions["bob"]
on_bob = {n: (a.abs()[:, :, r0:r1, c0:c1].flatten(1).sum(1) / a.abs().flatten(1).sum(1)).tolist() for n, a in maps.items()}
side = ("right" if c0 > 0 else "left") if world.test.layout == "horizontal" else ("bottom" if r0 > 0 else "top")
ru.teaching.say(
    f"Bob's panel is the {side} half of each pair. On these three pairs Alice puts "
    f"{', '.join(f'{v:.0%}' for v in on_bob['Alice'])} of her |IG| on it, Bob "
    f"{', '.join(f'{v:.0%}' for v in on_bob['Bob, k = 1'])}. Three pairs are an illustration, not evidence: "
    f"the shares in the first figure average {N} test pairs per model and seed.{SMOKE}")

# %% [markdown]
# ## Attribution against behaviour
#
# That Alice's IG share on Bob's panel rises with α is a **manipulation check** (M1): the overlay
# puts her signal there. The finding (C5) is whether attribution agrees with behaviour: across Bob's
# models, Spearman's ρ between the IG share on his panel and the accuracy he loses when that panel is
# randomised (a permutation test within seeds).

# %%
fig, ax = plt.subplots(figsize=(7.4, 4.4))
sns.scatterplot(data=shown, x="bob_share", y="bob_reliance", hue="model", style="feature correlation", s=60, ax=ax)
ax.set(xlabel="share of |IG| on Bob's panel (fraction)",
       ylabel="reliance on Bob's panel\n(its share of the randomised-panel drops)", title="Does attribution agree with behaviour?")
ax.legend(title="one point per model and seed", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0,
          fontsize=9, title_fontsize=9)
fig.tight_layout()
s.save(fig, "06_ig_vs_randomised");
m1 = s.record("M1_attribution_shift", ru.evaluators.claim_attribution_shift(table, task_corr=0.0), "06_attribution.ipynb")
c5 = s.record("C5_attribution_matches_reliance", ru.evaluators.claim_attribution_reliance(table), "06_attribution.ipynb")

# %%
ru.teaching.say(
    f"**M1 (manipulation check) {'holds' if m1['passed'] else 'does not hold'}** — Alice's IG share on Bob's panel "
    f"against α, Kendall τ over {m1['n']} seeds: {ru.teaching.test_reading(m1)}. "
    + ("The overlay did move her attribution, so the dial works as intended. " if m1["passed"] else
       "If the overlay does not move Alice's attribution, C5 below has little variation to work with. ")
    + f"**C5 is {ru.teaching.claim_word(c5)}** — across {c5['n']} Bob models, Spearman's ρ "
    f"between his IG share and his reliance on his panel: {ru.teaching.test_reading(c5)}. The test permutes reliance within each "
    f"α × model, so agreement only counts beyond the trend both share along the dial.{SMOKE}")

# %% [markdown]
# ## Summary
#
# * Integrated Gradients splits a prediction among input pixels relative to a baseline; summed per
#   panel it says which half of the pair the model's output depends on.
# * LayerConductance carries the same question into the network: in which layers Bob's half of the
#   feature map carries the signal.
# * An attribution is a hypothesis about what a model uses; randomising a panel and measuring the
#   accuracy lost is the behavioural test of it.
# * M1 checks that the overlay does what it should to Alice's attribution; only C5 — agreement
#   between attribution and reliance beyond their shared trend — is a finding.

# %% [markdown]
# ## Exercises
#
# Each exercise is checked against this run's data: replace `None` by your answer and run the cell.
# The attribution table is `table` (one row per model, α and seed; `model` is `"alice"` or
# `"bob k=1"`).

# %% [markdown]
# **Exercise 06.1** — By how much does Alice's mean IG share on Bob's panel (`bob_share`, averaged
# over seeds) grow from $\alpha = 0$ to the largest α of this run? Give it as a fraction, to 3 decimals.

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("06.1", answer, table=table)

# %% [markdown]
# **Exercise 06.2** — Across Bob's models (every α and seed), what is Spearman's rank correlation
# between `bob_share` and `bob_reliance`? Give it to 2 decimals. (It is C5's effect; C5's p-value
# asks whether it is larger than chance agreement would give.)

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("06.2", answer, table=table)

# %% [markdown]
# **Exercise 06.3** — At the largest α, in which layer does Alice's conductance lean most on Bob's side
# (the largest mean `layer:…` share over seeds)? Answer with the layer's name without the `layer:`
# prefix, e.g. `"conv1"`.

# %%
answer = None  # your answer: a layer name, a string
ru.exercises.check("06.3", answer, table=table)
