# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 — The controllable data generator
#
# Every input is **one composite image made of two panels**: Alice's panel (left) and Bob's panel
# (right). Alice's label is the class of her panel, Bob's the class of his. Two dials:
#
# * **task correlation** $t$: the probability that Bob's class is tied to Alice's ($b = \pi(a)$);
# * **feature correlation** $f \le t$: the probability that Bob's panel *is* Alice's image (same
#   instance) — shared input features.
#
# Process per sample: draw Alice's class and image; with probability $f$ Bob gets the same image;
# else with probability $(t-f)/(1-f)$ a *different* image of the tied class; else a different image of
# a uniformly drawn class. At $t = f = 0$ Bob's label and panel are independent of Alice's
# (provably uncorrelated tasks and input features). With a bijective $\pi$ and uniform classes
# Cramér's V of the two labels equals $t$ exactly (proof in `reuse_utils.generator`).
#
# We report the **measured** values, not just the dials: bias-corrected Cramér's V between the
# labels, the mean per-pixel Pearson correlation between the two panels, the fraction of shared
# instances and the labels' mutual information.

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

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
train = ru.base_data(s.dataset, "train")
print(train, "| test split:", ru.base_data(s.dataset, "test"))

# %% [markdown]
# ## Samples at four settings of the dials
#
# Orange dashes mark the panel boundary; titles give Alice's (A) and Bob's (B) labels.

# %%
for t, f in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 0.2)]:
    fig = ru.plots.show_pairs(ru.make_pairs(train, 12, t, f, seed=s.seeds[0]), n=12, ncols=6)
    s.save(fig, f"02_samples_t{t:g}_f{f:g}")
    plt.show()

# %% [markdown]
# ## Dialled against measured correlation

# %%
dials = [(t, f) for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) for f in (0.0, 0.3, 0.6, 1.0) if f <= t]
n_cal = s.preset.calibration_n
table = ru.calibration_table(train, dials, s.seeds, n_cal)
cols = ["task_corr_dial", "feature_corr_dial", "task_corr", "feature_corr", "shared_fraction",
        "mutual_information", "task_corr_p_value"]
table.groupby(["task_corr_dial", "feature_corr_dial"])[cols[2:]].mean().round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
sns.lineplot(data=table, x="task_corr_dial", y="task_corr", hue="feature_corr_dial", marker="o",
             errorbar=("ci", 95), ax=axes[0], palette="viridis")
axes[0].plot([0, 1], [0, 1], "k:", lw=1)
axes[0].set(xlabel="task-correlation dial t", ylabel="measured Cramér's V (bias-corrected)",
            title="task correlation")
sns.lineplot(data=table, x="feature_corr_dial", y="feature_corr", hue="task_corr_dial", marker="o",
             errorbar=("ci", 95), ax=axes[1], palette="magma")
axes[1].plot([0, 1], [0, 1], "k:", lw=1)
axes[1].set(xlabel="feature-correlation dial f", ylabel="mean per-pixel Pearson r between panels",
            title="feature correlation")
s.save(fig, "02_dialled_vs_measured");

# %% [markdown]
# The measured label correlation sits on the diagonal. The pixel correlation exceeds $f$ when $t > f$:
# images of the same class look alike, so tied classes alone correlate the panels' pixels — which is
# why we report the measured value next to the dial.

# %%
s.record("C0_generator_calibrated", ru.evaluators.claim_generator(table), "02_data_generation.ipynb");

# %% [markdown]
# ## Panel-randomised copies
#
# `randomize_panel(which, seed)` replaces one panel by images drawn independently of every label.
# A model's accuracy on such copies tells which panel it relies on (notebooks 03 and 06).

# %%
p = ru.make_pairs(train, 2000, 1.0, 0.0, seed=s.seeds[0])
r = p.randomize_panel("bob", seed=1)
print("pixel r between panels: intact", round(ru.measure_correlations(p)["feature_corr"], 3),
      "| Bob's panel randomised", round(ru.measure_correlations(r)["feature_corr"], 3))
s.save(ru.plots.show_pairs(r, n=12, ncols=6, title="Bob's panel randomised (labels unchanged)"), "02_randomised_bob_panel");

# %% [markdown]
# ## Explore the dials
#
# With `interactive = True`, sliders redraw samples and measured values; the static figure uses the same function.

# %%
if interactive:
    import ipywidgets as w
    w.interact(lambda task_corr, feature_corr: ru.plots.pairs_explorer(train, task_corr, min(feature_corr, task_corr)) and None,
               task_corr=w.FloatSlider(value=0.5, min=0, max=1, step=0.05),
               feature_corr=w.FloatSlider(value=0.2, min=0, max=1, step=0.05))
else:
    s.save(ru.plots.pairs_explorer(train, 0.5, 0.2), "02_explorer_t0.5_f0.2");
