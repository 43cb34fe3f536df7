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

# %% [markdown]
# **What you will learn**
#
# * how one composite input carries two tasks — Alice's panel and Bob's — and how the two dials
#   set how related they are: the task correlation $t$ (labels) and the feature correlation
#   $\alpha$ (an overlay of Alice's image on Bob's panel);
# * why the dials are checked against *measured* values (Cramér's V, the residual feature
#   correlation), and why the raw pixel correlation is not a feature measure;
# * what claim C0 checks: each dial delivers what it promises and leaves the other alone;
# * how panel-randomised copies tell which panel a model relies on (used in 03 and 06).
#
# **Prerequisites**: notebook 01 (the linear model's feature correlation, whose image analogue the
# overlay is). Concepts: a contingency table and Cramér's V, Pearson correlation, mutual
# information, a chi-square test of independence.
#
# **Time** (measured in full runs of all notebooks in order, on 2 CPU cores): about 40 s at smoke,
# about 1 min at quick; at paper about 1 min 15 s on one H100 GPU (not measured on CPU).

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
import pandas as pd
import seaborn as sns
from tqdm.auto import tqdm

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
interactive = ru.teaching.resolve_interactive(interactive)  # "auto" → True in a front end
P = s.preset
SMOKE = " *(smoke: a tiny run — these numbers mean nothing)*" if P.name == "smoke" else ""
train = ru.base_data(s.dataset, "train")
print(train, "| test split:", ru.base_data(s.dataset, "test"))

# %% [markdown]
# ## Samples at five settings of the dials
#
# Orange dashes mark the panel boundary; titles give Alice's (A) and Bob's (B) labels, "(linked)"
# where the task dial tied them.

# %%
shown = {}
for t, a in [(0.0, 0.0), (1.0, 0.0), (0.0, 0.6), (0.0, -0.6), (0.5, 0.3)]:
    shown[t, a] = ru.make_pairs(train, 12, t, a, seed=s.seeds[0])
    fig = ru.plots.show_pairs(shown[t, a], n=12, ncols=6)
    s.save(fig, f"02_samples_t{t:g}_alpha{a:g}")
    plt.show()

# %%
def linked(t, a):
    return int(shown[t, a].linked.sum())
same = int((shown[0.0, 0.0].y_alice == shown[0.0, 0.0].y_bob).sum())
K = train.num_classes
ru.teaching.say(
    f"Of the 12 samples shown, {linked(1.0, 0.0)} are linked at t = 1, {linked(0.5, 0.3)} at t = 0.5 and "
    f"{linked(0.0, 0.0)} at t = 0 (expected 12, 6 and 0). At t = α = 0 Bob's class equals Alice's in {same} of "
    f"the 12 by chance alone (expected 12/K = {12 / K:.1f} with K = {K} classes). At α = ±0.6 Alice's digit shows "
    "faintly in Bob's panel — as a negative at α = −0.6 — while Bob's label stays the class of his own image.")

# %% [markdown]
# ## Dialled against measured correlation
#
# Thirty settings of the two dials, each measured on `calibration_n` pairs per seed (one task dial
# at a time; the bar counts them).

# %%
task_dials, feature_dials = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0), (-0.6, -0.3, 0.0, 0.3, 0.6)
n_cal = P.calibration_n
table = pd.concat([ru.calibration_table(train, [(t, a) for a in feature_dials], s.seeds, n_cal)
                   for t in tqdm(task_dials, desc="calibration, one task dial at a time")], ignore_index=True)
cols = ["task_corr_dial", "feature_corr_dial", "task_corr", "feature_corr", "pixel_corr", "linked_fraction",
        "mutual_information", "task_corr_p_value"]
table.groupby(["task_corr_dial", "feature_corr_dial"])[cols[2:]].mean().round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
for ax, (x, y, hue, lim) in zip(axes, [("task_corr_dial", "task_corr", "feature_corr_dial", (-0.05, 1.05)),
                                       ("feature_corr_dial", "feature_corr", "task_corr_dial", (-0.7, 0.7))], strict=True):
    sns.lineplot(data=table, x=x, y=y, hue=hue, marker="o", errorbar=ru.plots.t_ci, ax=ax, palette="crest")
    ax.plot(lim, lim, "k:", lw=1, label="measured = dialled")
    ax.set(xlim=lim, ylim=lim)
axes[0].set(xlabel="task-correlation dial t", ylabel="measured Cramér's V (bias-corrected)",
            title="task correlation, one line per α")
axes[1].set(xlabel="feature-correlation dial α", ylabel="measured residual correlation between panels",
            title="feature correlation, one line per t")
for ax, name in zip(axes, ("feature dial α", "task dial t"), strict=True):
    ax.legend(title=f"{name} (mean, 95% t-CI over {len(s.seeds)} seeds)", fontsize=8, title_fontsize=8, ncol=4,
              loc="upper center", bbox_to_anchor=(0.5, -0.16))
fig.tight_layout()
s.save(fig, "02_dialled_vs_measured");

# %%
by = table.groupby(["task_corr_dial", "feature_corr_dial"])[["task_corr", "feature_corr"]].mean()
task_err = (by.task_corr - by.index.get_level_values("task_corr_dial")).abs()
feat_err = (by.feature_corr - by.index.get_level_values("feature_corr_dial")).abs()
task_spread = by.task_corr.groupby(level="task_corr_dial").agg(lambda v: v.max() - v.min()).max()
feat_spread = by.feature_corr.groupby(level="feature_corr_dial").agg(lambda v: v.max() - v.min()).max()
ru.teaching.say(
    f"Averaged over {len(s.seeds)} seeds of {n_cal:,} pairs, the measured Cramér's V is at most {task_err.max():.3f} "
    f"from its dial and the measured feature correlation at most {feat_err.max():.3f} from its own. Moving the "
    f"*other* dial moves them by at most {task_spread:.3f} (V across α at one t) and {feat_spread:.3f} (feature r "
    f"across t at one α): " + ("each dial leaves the other measure alone (both within 0.05)."
                              if max(task_spread, feat_spread) <= 0.05 else
                              "more than 0.05 — look in the table below for the dial that moves the other measure.")
    + SMOKE)

# %% [markdown]
# Both measured correlations should sit on their diagonals, and each dial should leave the other
# measure alone: the task line does not move with $\alpha$, the feature line does not move with $t$.
# The raw pixel correlation would not do: images of the same class look alike, so linked labels alone
# correlate the panels' pixels (below, at $\alpha = 0$) — which is why the feature measure removes the
# label cells' mean images first.

# %%
at_zero = table[table.feature_corr_dial == 0].groupby("task_corr_dial")[["feature_corr", "pixel_corr"]].mean()
ru.teaching.say(
    f"At α = 0 the raw pixel correlation is {at_zero.pixel_corr.iloc[0]:+.3f} at t = 0 and "
    f"{at_zero.pixel_corr.iloc[-1]:+.3f} at t = 1 — any rise comes from linked labels alone — while the residual feature correlation "
    f"stays between {at_zero.feature_corr.min():+.3f} and {at_zero.feature_corr.max():+.3f}.{SMOKE}")
at_zero.round(3)

# %% [markdown]
# **Claim C0** (an identity check): over every dial setting and seed the measured Cramér's V is within
# 0.03 of $t$, the measured feature correlation within 0.05 of $\alpha$, and at $t = \alpha = 0$ at least
# half of the chi-square tests of independence keep $p \ge 0.05$.

# %%
c0 = s.record("C0_generator_calibrated", ru.evaluators.claim_generator(table), "02_data_generation.ipynb")

# %%
d0 = c0["details"]
ru.teaching.say(
    f"**C0 {'holds' if c0['passed'] else 'does not hold'}**: the worst task error over single runs is "
    f"{d0['max_abs_task_error']:.3f} (bound 0.03), the worst feature error {d0['max_abs_feature_error']:.3f} "
    f"(bound 0.05), and at t = α = 0 {d0['fraction_chi2_p_ge_0.05_at_zero']:.0%} of the seeds' chi-square tests "
    "find no dependence (at least 50% needed)."
    + ("" if c0["passed"] else f" Single runs scatter around their dials more with fewer pairs per setting ({n_cal:,} "
       "here): rerun at a larger preset before reading a failure as the generator's.") + SMOKE)

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

# %%
mp, mr = ru.measure_correlations(p), ru.measure_correlations(r)
ru.teaching.say(
    f"At t = 1, α = 0.5 the two panels' feature correlation is {mp['feature_corr']:+.3f}; with Bob's panel replaced it "
    f"drops to {mr['feature_corr']:+.3f}, while the labels — and so Cramér's V, {mp['task_corr']:.3f} before and "
    f"{mr['task_corr']:.3f} after — are untouched. In the figure Bob's image no longer matches his label: a model "
    "that still predicts B correctly on such copies must be reading Alice's panel.")

# %% [markdown]
# ## Explore the dials
#
# Two sliders redraw samples at any setting of the dials, titled with the values measured on 4,000
# fresh pairs (a redraw takes about two seconds; the layout stays put). Below is the static version
# at $t = 0.5$, $\alpha = 0.3$, drawn by the same function.

# %%
def draw(task_corr, feature_corr):
    return ru.plots.pairs_explorer(train, task_corr, feature_corr)

if interactive:
    ru.teaching.explore(draw, look_for="how the linked fraction and Cramér's V follow t, and how the overlay of "
                        "Alice's digit in Bob's panel — and the measured feature r — follow α, each leaving the other alone",
                        task_corr=ru.teaching.Dial("task correlation t (Cramér's V)", 0.5, low=0, high=1, step=0.05),
                        feature_corr=ru.teaching.Dial("feature correlation α (overlay)", 0.3, low=-0.7, high=0.7,
                                                      step=0.05))
else:
    s.save(draw(0.5, 0.3), "02_explorer_t0.5_alpha0.3");

# %%
me = ru.measure_correlations(ru.make_pairs(train, 4000, 0.5, 0.3, seed=0))
ru.teaching.say(
    f"At t = 0.5, α = 0.3 the 4,000 measured pairs give Cramér's V = {me['task_corr']:.3f}, feature r = "
    f"{me['feature_corr']:+.3f} and a linked fraction of {me['linked_fraction']:.3f}; the raw pixel correlation, "
    f"{me['pixel_corr']:+.3f}, is " + ("above the feature r: linked labels add to it, as at α = 0 above."
                                       if me["pixel_corr"] > me["feature_corr"] else
                                       "not above the feature r: in this sample the linked labels add nothing to it."))

# %% [markdown]
# ## Summary
#
# * One input, two panels, two tasks: Alice's label is the class of her panel, Bob's the class of his.
# * The **task dial** $t$ links Bob's class to Alice's with probability $t$; with a bijective map and
#   uniform classes Cramér's V of the labels equals $t$, whatever $\alpha$.
# * The **feature dial** $\alpha$ overlays Alice's image on Bob's panel; the residual correlation of
#   the panels (after removing each label cell's mean image) measures it, and is zero at $\alpha = 0$
#   for every $t$ — unlike the raw pixel correlation, which linked labels alone raise.
# * C0 checks that both dials deliver what they promise and leave each other alone.
# * Panel-randomised copies keep the labels and break one panel: the tool for asking which panel a
#   model reads.

# %% [markdown]
# ## Exercises
#
# Each exercise is checked against this run's data: replace `None` by your answer and run the cell.
# The names you need — `table`, `r`, `train` — are defined above.

# %% [markdown]
# **Exercise 02.1** — From the calibration table, what is the measured Cramér's V (mean over seeds)
# at the dial setting $t = 0.6$, $\alpha = 0.3$? Give it to 3 decimals.

# %%
answer = None  # your answer: a number between 0 and 1
ru.exercises.check("02.1", answer, table=table)

# %% [markdown]
# **Exercise 02.2** — After Bob's panel is randomised (the copy `r`), what is the measured feature
# correlation between the two panels? Give it to 3 decimals.

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("02.2", answer, r=r)

# %% [markdown]
# **Exercise 02.3** — Predict before you measure. A Bob who ignores his own panel and predicts
# Alice's class (the identity map $\pi$) is right on every linked sample and, on the others, only
# when the uniform draw happens to hit Alice's class. What is his expected accuracy at $t = 0.5$ with
# this dataset's number of classes (`train.num_classes`)? At $t = 0$ the same formula gives chance.

# %%
answer = None  # your answer: an accuracy between 0 and 1
ru.exercises.check("02.3", answer, train=train)
