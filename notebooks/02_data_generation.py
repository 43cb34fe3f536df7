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
#     - C0_generator_calibrated
#     data:
#     - base
#     needs: []
# ---

# %% [markdown]
# # 02 — The controllable data generator
#
# Every input is **one composite image made of two panels**: Alice's panel (left) and Bob's panel
# (right). Alice's label is the class of her panel, Bob's the class of his. Two dials, independent
# of each other:
#
# * **task correlation** $t$: the probability that Bob's class is *linked* to Alice's
#   ($b = \pi(a)$); otherwise $b$ is uniform. Bob's base image $x_b$ is then drawn from class $b$,
#   independently of Alice's image.
# * **feature correlation** $\alpha$: how much of Alice's image is in Bob's panel — an overlay, the
#   image analogue of the linear model's $x_B = \alpha x_A + \sqrt{1-\alpha^2}\,\varepsilon$:
#   $$x_B = \frac{\alpha\,x_A + \sqrt{1-\alpha^2}\,x_b}{|\alpha| + \sqrt{1-\alpha^2}}$$
#   in pixel space $[-1, 1]$. The denominator keeps every pixel in range (a convex combination of
#   $x_b$ and $x_A$, or of $x_A$'s negative when $\alpha < 0$) and changes no correlation. Bob's
#   label stays $b$; up to $|\alpha| = 0.7$ his own image keeps the larger weight.
#
# At $t = \alpha = 0$ Bob's label and panel are independent of Alice's (provably uncorrelated
# tasks and input features). With a bijective $\pi$ and uniform classes Cramér's V of the two labels
# equals $t$ exactly, whatever $\alpha$ (proof in `reuse_utils.generator.pairs`).
#
# We report the **measured** values, not just the dials: bias-corrected Cramér's V between the
# labels; the **feature correlation** — the pooled correlation of the two panels after removing the
# mean image of each (Alice class, Bob class) cell, which is zero at $\alpha = 0$ for every $t$ and
# $\alpha$ otherwise; the raw per-pixel correlation for contrast; the linked fraction and the labels'
# mutual information.

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
# ## Samples at five settings of the dials
#
# Orange dashes mark the panel boundary; titles give Alice's (A) and Bob's (B) labels, "(linked)"
# where the task dial tied them.

# %%
for t, a in [(0.0, 0.0), (1.0, 0.0), (0.0, 0.6), (0.0, -0.6), (0.5, 0.3)]:
    fig = ru.plots.show_pairs(ru.make_pairs(train, 12, t, a, seed=s.seeds[0]), n=12, ncols=6)
    s.save(fig, f"02_samples_t{t:g}_alpha{a:g}")
    plt.show()

# %% [markdown]
# ## Dialled against measured correlation

# %%
dials = [(t, a) for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) for a in (-0.6, -0.3, 0.0, 0.3, 0.6)]
n_cal = s.preset.calibration_n
table = ru.calibration_table(train, dials, s.seeds, n_cal)
cols = ["task_corr_dial", "feature_corr_dial", "task_corr", "feature_corr", "pixel_corr", "linked_fraction",
        "mutual_information", "task_corr_p_value"]
table.groupby(["task_corr_dial", "feature_corr_dial"])[cols[2:]].mean().round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
sns.lineplot(data=table, x="task_corr_dial", y="task_corr", hue="feature_corr_dial", marker="o",
             errorbar=ru.plots.t_ci, ax=axes[0], palette="crest")
axes[0].plot([0, 1], [0, 1], "k:", lw=1)
axes[0].set(xlabel="task-correlation dial t", ylabel="measured Cramér's V (bias-corrected)",
            title="task correlation, one line per α")
sns.lineplot(data=table, x="feature_corr_dial", y="feature_corr", hue="task_corr_dial", marker="o",
             errorbar=ru.plots.t_ci, ax=axes[1], palette="crest")
axes[1].plot([-0.6, 0.6], [-0.6, 0.6], "k:", lw=1)
axes[1].set(xlabel="feature-correlation dial α", ylabel="measured residual correlation between panels",
            title="feature correlation, one line per t")
s.save(fig, "02_dialled_vs_measured");

# %% [markdown]
# Both measured correlations sit on their diagonals, and each dial leaves the other measure alone:
# the task line does not move with $\alpha$, the feature line does not move with $t$. The raw pixel
# correlation would not do: images of the same class look alike, so linked labels alone correlate
# the panels' pixels (below, at $\alpha = 0$) — which is why the feature measure removes the label
# cells' mean images first.

# %%
table[table.feature_corr_dial == 0].groupby("task_corr_dial")[["feature_corr", "pixel_corr"]].mean().round(3)

# %%
s.record("C0_generator_calibrated", ru.evaluators.claim_generator(table), "02_data_generation.ipynb");

# %% [markdown]
# ## Panel-randomised copies
#
# `randomize_panel(which, seed)` replaces one panel by images drawn independently of every label.
# A model's accuracy on such copies tells which panel it relies on (notebooks 03 and 06).

# %%
p = ru.make_pairs(train, 2000, 1.0, 0.5, seed=s.seeds[0])
r = p.randomize_panel("bob", seed=1)
print("feature r between panels: intact", round(ru.measure_correlations(p)["feature_corr"], 3),
      "| Bob's panel randomised", round(ru.measure_correlations(r)["feature_corr"], 3))
s.save(ru.plots.show_pairs(r, n=12, ncols=6, title="Bob's panel randomised (labels unchanged)"), "02_randomised_bob_panel");

# %% [markdown]
# ## Explore the dials
#
# With `interactive = True`, sliders redraw samples and measured values; the static figure uses the same function.

# %%
if interactive:
    import ipywidgets as w
    w.interact(lambda task_corr, feature_corr: ru.plots.pairs_explorer(train, task_corr, feature_corr) and None,
               task_corr=w.FloatSlider(value=0.5, min=0, max=1, step=0.05),
               feature_corr=w.FloatSlider(value=0.3, min=-0.7, max=0.7, step=0.05))
else:
    s.save(ru.plots.pairs_explorer(train, 0.5, 0.3), "02_explorer_t0.5_alpha0.3");
