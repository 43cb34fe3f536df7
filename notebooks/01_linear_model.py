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
#     - C6_linear_model_limits
#     data: []
#     needs: []
# ---

# %% [markdown]
# # 01 — The mechanism in a shallow linear model
#
# Before any deep network: a model small enough to solve by hand shows *why* Bob can profit from
# Alice's model even though her label ignores his features.
#
# **Model.** Features $x = [x_A, x_B]$ are Gaussian with unit variances and a **feature
# correlation** $\alpha$ between Alice's and Bob's features. Alice's label is
# $y_A = \mathrm{sign}(\beta^\top x_A)$, Bob's $y_B = \mathrm{sign}(\beta^\top x_B)$. Both see noisy
# observations $\tilde x = x + \varepsilon$, $\varepsilon \sim \mathcal N(0, \sigma^2 I)$.
#
# **Why the noise.** With noiseless labels and no regularisation, Alice's best weights ignore
# $x_B$ for every $\alpha$ — she already knows her label exactly. With noisy observations, $x_B$
# carries information about $x_A$ whenever $\alpha \neq 0$, and she uses it:
#
# $$w^* = (\Sigma + \sigma^2 I)^{-1}\,\Sigma\,[\beta;\,0], \qquad
# k=1:\ \ w^* \propto [\,1 + \sigma^2 - \alpha^2,\ \alpha\sigma^2\,].$$
#
# So $w^* \propto [1, 0]$ at $\alpha = 0$ and $w^* \to [1, \pm 1]$ as $\alpha \to \pm 1$.
# That limit comes **only from the observation noise** $\sigma$: with $\sigma = 0$,
# $w^* = [\beta; 0]$ for every $\alpha$.
# Bob either uses Alice's model **unchanged** or **refits only its last layer** (scale, sign and bias
# of her score $s = w^{*\top}\tilde x$). With $\rho = \mathrm{corr}(s, \beta^\top x_B)$, his accuracy
# is $\tfrac12 + \arcsin(\rho)/\pi$ unchanged and $\tfrac12 + |\arcsin\rho|/\pi$ refit.
# Full statement: `reuse_utils.analysis.linear`.

# %% [markdown]
# **What you will learn**
#
# * why Alice's optimal weights $w^*$ put weight on Bob's features when her observations are noisy,
#   and why they do not without noise;
# * how Bob's accuracy follows from the correlation $\rho$ between Alice's score and his label
#   feature — $\tfrac12 + \arcsin(\rho)/\pi$ with her model unchanged, $\tfrac12 + |\arcsin\rho|/\pi$
#   when he refits its last layer — and why a negative correlation hurts only the unchanged model;
# * why two covariance scenarios are compared on the label-feature correlation $\rho_{AB}$, not on $\alpha$;
# * how a deep Bob in the GLM world compares with the linear model's closed forms (the bridge to 04);
# * what claim C6 checks (the limits of $w^*$ and the fits against the closed form).
#
# **Prerequisites**: none among the notebooks — this is the first. Concepts: the multivariate
# normal distribution and its covariance, logistic regression, a correlation coefficient, a 95%
# confidence interval over seeds.
#
# **Time** (measured in full runs of all notebooks in order, on 2 CPU cores): about 25 s at smoke,
# about 50 s at quick; at paper about 1 min 15 s on one H100 GPU (not measured on CPU).

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
NOISE = P.linear_noise  # observation-noise standard deviation σ
N_FIT = P.linear_n_fit  # samples per logistic fit
SMOKE = " *(smoke: a tiny run — these numbers mean nothing)*" if P.name == "smoke" else ""

# %% [markdown]
# ## Valid correlations
#
# Both covariance scenarios are positive definite only for $-1 < \alpha < 1$; anything else is refused
# with an error naming the allowed range (never silently clipped).

# %%
for bad in (1.2, -1.0):
    try:
        ru.linear.covariance(bad, k=4, scenario="global")
    except ValueError as err:
        print("ValueError:", err)
print(ru.linear.covariance(0.5, k=2, scenario="pairwise"))

# %% [markdown]
# ## Alice's optimal weights $w^*(\alpha)$
#
# Closed form (lines) against logistic regression fitted on simulated data (points), for $k = 1$.

# %%
alphas = np.round(np.linspace(-0.99, 0.99, 23), 3)
rows = []
for a in alphas:
    closed = ru.linear.alice_optimal_weights(a, 1, "pairwise", NOISE)
    fitted = ru.linear.fit_alice_weights(a, 1, "pairwise", NOISE, n=N_FIT, seed=s.seeds[0])
    rows.append({"alpha": a, "w_A": closed[0], "w_B": closed[1], "fit_w_A": fitted[0], "fit_w_B": fitted[1],
                 "cosine_fit_vs_closed": ru.linear.cosine(closed, fitted)})
weights = pd.DataFrame(rows)
weights.iloc[::4].round(3)

# %%
fig, ax = plt.subplots(figsize=(8.6, 4))
for col, color, name in (("w_A", "tab:blue", "on x_A (Alice's)"), ("w_B", "tab:orange", "on x_B (Bob's)")):
    ax.plot(weights.alpha, weights[col], color=color, label=f"weight {name}, closed form")
    ax.scatter(weights.alpha, weights["fit_" + col], color=color, s=14, label=f"weight {name}, logistic fit")
ax.axhline(0, color="grey", ls=":", lw=1, label="no weight (0)")
ax.set(xlabel="feature correlation α", ylabel="unit-norm weight of Alice's model", xlim=(-1, 1), ylim=(-1, 1),
       title=f"Alice's optimal weights w*(α), k = 1, σ = {NOISE:g}")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
fig.tight_layout()
s.save(fig, "01_alice_weights");

# %%
w = weights.set_index("alpha")
a_hi, a_lo = w.index.max(), w.index.min()
ru.teaching.say(
    f"At α = 0 Alice's weights are [{w.w_A[0.0]:.3f}, {w.w_B[0.0]:+.3f}]: she ignores Bob's feature. At α = {a_hi:g} "
    f"they are [{w.w_A[a_hi]:.3f}, {w.w_B[a_hi]:+.3f}] and at α = {a_lo:g} [{w.w_A[a_lo]:.3f}, {w.w_B[a_lo]:+.3f}]: "
    "with noisy observations x_B tells her something about x_A, with the sign of α. The logistic fits "
    f"({N_FIT:,} samples each) agree with the closed form to a cosine of at least "
    f"{weights.cosine_fit_vs_closed.min():.4f}.{SMOKE}")

# %% [markdown]
# ## Bob's accuracy against $\alpha$
#
# Four features per task ($k = 4$), two covariance scenarios: **pairwise** (Alice's feature $i$
# correlated with Bob's feature $i$) and **global** (pixel-like: all $2k$ features on a line with
# correlation $\alpha^{|i-j|}$). The two scenarios' $\alpha$ are different quantities, so both are
# plotted against the one that drives Bob: the correlation $\rho_{AB}$ of the two **label
# features** $\beta^\top x_A$ and $\beta^\top x_B$ (`ru.linear.label_corr`). Pairwise,
# $\rho_{AB} = \alpha$; globally it is much smaller (at $k = 4$: 0.21 at $\alpha = 0.5$, −0.08 at
# $\alpha = -0.9$). Lines: closed form; points: simulation, mean and 95% CI over seeds (Alice fits
# on 5,000 samples, Bob refits her output layer on 500).

# %%
alpha_grid = np.round(np.linspace(-0.9, 0.9, P.linear_n_alphas), 3)
n_test = P.linear_n_test
bob = ru.linear.alpha_sweep(alpha_grid, s.seeds, k=4, noise=NOISE, n_test=n_test)
palette = dict(zip(("unchanged", "refit"), sns.color_palette("colorblind", 2), strict=True))
g = sns.relplot(data=bob, x="label_corr", y="accuracy", hue="mode", palette=palette, col="scenario", kind="line",
                errorbar=ru.plots.t_ci, marker="o", linestyle="", height=3.6, aspect=1.2, legend=False,
                facet_kws={"xlim": (-1, 1), "ylim": (0, 1)})
for ax, scen in zip(g.axes.flat, g.col_names, strict=True):
    for mode, ls in (("unchanged", "-"), ("refit", "--")):
        cf = bob[(bob.scenario == scen) & (bob["mode"] == mode)].groupby("label_corr").closed_form.first()
        ax.plot(cf.index, cf.values, ls=ls, color="k", lw=1, label=f"closed form, {mode}")
    ax.axhline(0.5, color="grey", ls=":", label="chance (0.5)")
    ax.set_xticks([-1, -0.5, 0, 0.5, 1])
g.set_titles(col_template="{col_name} scenario, k = 4")
g.set_axis_labels("label-feature correlation ρ_AB", "Bob's test accuracy (fraction)")

# %%
sim = [plt.Line2D([], [], color=c, marker="o", ls="", label=f"simulated, {m}") for m, c in palette.items()]
lines, names = g.axes.flat[0].get_legend_handles_labels()
g.figure.tight_layout()
g.figure.legend([*sim, *lines], [h.get_label() for h in sim] + names, loc="center left", bbox_to_anchor=(1.0, 0.5),
                title=f"simulated: mean, 95% t-CI\nover {len(s.seeds)} seeds", fontsize=9, title_fontsize=9)
s.save(g.figure, "01_bob_accuracy_vs_alpha");

# %%
m = bob.groupby(["scenario", "mode", "alpha"])[["label_corr", "accuracy", "closed_form"]].mean()
lo, hi = alpha_grid.min(), alpha_grid.max()
pw, gl = m.loc["pairwise"], m.loc["global"]
ru.teaching.say(
    f"Pairwise at α = {lo:g} (ρ_AB = {pw.label_corr['unchanged', lo]:.2f}) Alice's model used unchanged gives Bob "
    f"{pw.accuracy['unchanged', lo]:.3f} (closed form {pw.closed_form['unchanged', lo]:.3f}), and with its last layer "
    f"refit {pw.accuracy['refit', lo]:.3f} (closed form {pw.closed_form['refit', lo]:.3f}); at α = {hi:g} both reach "
    f"about {pw.accuracy.xs(hi, level='alpha').mean():.3f}. In the global scenario ρ_AB spans only "
    f"{gl.label_corr.min():.2f} to {gl.label_corr.max():.2f}. The largest gap between a simulated mean and its "
    f"closed form is {(m.accuracy - m.closed_form).abs().max():.3f} ({len(s.seeds)} seeds, {n_test:,} test "
    f"samples each).{SMOKE}")

# %% [markdown]
# How to read it: on the common axis, accuracy rises with $|\rho_{AB}|$ in both scenarios; at
# $\rho_{AB} = 0$ Bob is at chance (Alice gives his features zero weight); for $\rho_{AB} < 0$ the
# **unchanged** model is *worse* than chance, while refitting the last layer flips the sign and
# recovers the mirror image (in closed form exactly: refit accuracy is $\tfrac12 + |\arcsin\rho|/\pi$,
# so for $\rho < 0$ it is one minus the unchanged accuracy). The global scenario never reaches a
# large $|\rho_{AB}|$ for negative $\alpha$: its alternating signs cancel.
#
# ## The bridge: deep networks in the GLM world
#
# The same question with Alice's and Bob's deep protocol: a **GLM world** (`ru.make_glm_pairs`) draws
# $z_A, z_B \in \mathbb R^d$ with cross-covariance $\alpha I$, labels $y_A = 1[\beta_A^\top z_A > 0]$,
# $y_B = 1[\beta_B^\top z_B > 0]$ with $\cos\theta = \beta_A^\top\beta_B$, so the task correlation is
# $\phi = \tfrac2\pi\arcsin(\alpha\cos\theta)$ in closed form. With $d = k = 4$, $\theta = 0$ and
# the same observation noise σ it *is* the pairwise scenario. Alice (an MLP) trains on $y_A$, Bob
# retrains her top layer ($k = 1$) or the whole network from scratch ($k = L$) on $y_B$: points are
# the deep runs (mean and 95% CI over seeds), lines the linear model's closed forms.

# %%
glm = f"glm:d={P.glm_dim},noise={NOISE}"
deep = pd.concat([s.sweep(dataset=[glm], arch=["mlp"], feature_corr=[a], k=[1, "L"], mode=["reinit"],
                          task_corr=[2 / np.pi * np.arcsin(a)]) for a in P.glm_alphas], ignore_index=True)
deep["who"] = np.where(deep.k == 1, "deep Bob, k = 1", "deep Bob, scratch (k = L)")
print(f"{len(deep)} deep Bob runs ({deep.from_cache.sum()} from cache)")

# %%
fig, ax = plt.subplots(figsize=(6.4, 4))
sns.pointplot(data=deep, x="feature_corr", y="bob_test_acc", hue="who", native_scale=True,
              errorbar=ru.plots.t_ci, linestyle="none", ax=ax)
grid = np.linspace(-0.95, 0.95, 77)
for mode, ls in (("unchanged", "-"), ("refit", "--")):
    ax.plot(grid, [ru.linear.closed_form_bob_accuracy(a, P.glm_dim, "pairwise", NOISE, mode) for a in grid], ls=ls,
            color="k", lw=1, label=f"linear model, {mode} (closed form)")
ax.axhline(float(deep.chance.mean()), color="grey", ls=":", label=f"chance ({deep.chance.mean():.2f})")
ax.set(xlabel="feature correlation α (GLM world, θ = 0)", ylabel="Bob's test accuracy (fraction)", xlim=(-1, 1),
       ylim=(0, 1), xticks=[-1, -0.5, 0, 0.5, 1])
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0,
          title=f"deep runs: mean, 95% t-CI\nover {deep.seed.nunique()} seeds", title_fontsize=8)
s.save(fig, "01_deep_glm_vs_closed_form");

# %%
dm = deep.groupby(["k", "feature_corr"]).bob_test_acc.mean()
head, scratch = dm[1], dm.drop(1, level="k")
a_top, a_mid = float(head.index.max()), float(head.index[np.abs(head.index).argmin()])
refit_top = ru.linear.closed_form_bob_accuracy(a_top, P.glm_dim, "pairwise", NOISE, "refit")
v_shaped = min(head.iloc[0], head.iloc[-1]) > head[a_mid]
alone = ("his own features carry his label whatever α, which makes scratch a strong baseline in this small world."
         if scratch.mean() >= head.mean() else "here Alice's features carry more of his label than he learns alone.")
ru.teaching.say(
    f"The deep Bob who keeps Alice's MLP and retrains its top layer reaches {head.iloc[0]:.3f} at α = {head.index.min():g}, "
    f"{head[a_mid]:.3f} at α = {a_mid:g} and {head.iloc[-1]:.3f} at α = {a_top:g}, where the linear model's refit "
    f"closed form gives {refit_top:.3f}: his curve {'is' if v_shaped else 'is not'} higher at both ends than in the "
    f"middle, as the refit closed form is (Exercise 01.3 asks how far from it he sits at α = {a_top:g}). "
    f"From scratch he reaches {scratch.min():.3f} to {scratch.max():.3f} across α, {scratch.mean() - head.mean():+.3f} "
    f"from the head-only Bob on average: {alone}{SMOKE}")
deep.groupby(["who", "feature_corr"])[["task_corr_measured", "feature_corr_measured", "bob_test_acc"]].mean().round(3)

# %% [markdown]
# Reading it: the deep Bob who keeps Alice's features should follow the linear model's **refit**
# curve — gain with $|\alpha|$ and be indifferent to its sign, because retraining the top layer flips
# it — while training from scratch on his own samples does not depend on $\alpha$ (his own features
# carry his label whatever $\alpha$). The deep head sees Alice's whole hidden layer, not a single
# score, so it may sit above the one-dimensional refit.
#
# ## Claim C6 — the limits of $w^*$
#
# C6 is an identity check, not a statistical test: $w^* \propto [1, 0]$ at $\alpha = 0$ and
# $w^* \to [1, \pm 1]$ as $\alpha \to \pm 1$ (cosines with those directions), and every logistic fit
# above points the way of the closed form. It holds when the worst of these cosines is at least 0.99.

# %%
fit_cos = dict(zip(weights.alpha.astype(str), weights.cosine_fit_vs_closed, strict=True))
neg = bob[(bob.alpha < 0) & (bob["mode"] == "unchanged")].accuracy.mean()
neg_refit = bob[(bob.alpha < 0) & (bob["mode"] == "refit")].accuracy.mean()
print(f"mean accuracy for α < 0: unchanged {neg:.3f}, last layer refit {neg_refit:.3f}")
result = ru.evaluators.claim_linear_limits(NOISE, fit_cos, N_FIT)
c6 = s.record("C6_linear_model_limits", result, "01_linear_model.ipynb")

# %%
d6 = c6["details"]
ru.teaching.say(
    f"**C6 {'holds' if c6['passed'] else 'does not hold'}**: the cosine of w* with [1, 0] at α = 0 is "
    f"{d6['cos_alpha0']:.4f}, with [1, 1] at α = 0.999 {d6['cos_alpha+0.999']:.4f} and with [1, −1] at α = −0.999 "
    f"{d6['cos_alpha-0.999']:.4f}; the worst fit's cosine with the closed form is {d6['min_fit_cos']:.4f} "
    f"({d6['samples_per_fit']:,} samples per fit). The smallest of these, {c6['effect']:.4f}, is C6's effect "
    "(bound 0.99). Averaged over the α < 0 half of the sweep, the unchanged model gives Bob "
    f"{neg:.3f} and the refit one {neg_refit:.3f}.{SMOKE}")

# %% [markdown]
# ## Explore
#
# Two sliders, the feature correlation $\alpha$ and the observation noise $\sigma$, redraw Alice's
# optimal weights ($k = 1$) and Bob's closed-form accuracy curves ($k = 4$, pairwise) — all closed
# forms, so each redraw is instant. The axes stay put as the sliders move; below is the static
# version at $\alpha = 0.5$ and the preset's σ, drawn by the same function.

# %%
def draw(alpha, noise):
    return ru.plots.linear_explorer_figure(alpha, noise)

if interactive:
    ru.teaching.explore(draw, look_for="how Bob's weight in w* grows with |α| only when σ > 0, and how the gap between "
                        "the unchanged and the refit curve opens for α < 0",
                        alpha=ru.teaching.Dial("feature correlation α", 0.5, low=-0.98, high=0.98, step=0.02),
                        noise=ru.teaching.Dial("observation noise σ (standard deviation)", NOISE, low=0.0, high=2.0,
                                               step=0.05))
else:
    s.save(draw(0.5, NOISE), "01_explorer_alpha0.5");

# %%
w5 = ru.linear.alice_optimal_weights(0.5, 1, "pairwise", NOISE)
acc = {(a, m): ru.linear.closed_form_bob_accuracy(a, 4, "pairwise", NOISE, m) for a in (0.5, -0.5) for m in ("unchanged", "refit")}
ru.teaching.say(
    f"At α = 0.5 and σ = {NOISE:g}, Alice's optimal weights are [{w5[0]:.3f}, {w5[1]:+.3f}] and Bob's closed-form "
    f"accuracy is {acc[0.5, 'unchanged']:.3f} unchanged and {acc[0.5, 'refit']:.3f} refit (the same: ρ > 0); at "
    f"α = −0.5 her unchanged model gives him {acc[-0.5, 'unchanged']:.3f} and a refit last layer "
    f"{acc[-0.5, 'refit']:.3f}. With σ = 0 (noise slider to the left) Bob's weight in w* is 0 for every α. "
    "These are closed forms: no seed, no smoke caveat.")

# %% [markdown]
# ## Summary
#
# * With noisy observations Alice's optimal weights $w^*$ lean on Bob's features in proportion to
#   the feature correlation $\alpha$ (and with its sign); without noise they do not, whatever $\alpha$.
# * Bob's accuracy is set by one number, the correlation $\rho$ between Alice's score and his label
#   feature: $\tfrac12 + \arcsin(\rho)/\pi$ with her model unchanged, $\tfrac12 + |\arcsin\rho|/\pi$ when he
#   refits the last layer — so a negative correlation hurts only the unchanged model.
# * Scenarios with different meanings of $\alpha$ are compared on the label-feature correlation
#   $\rho_{AB}$; the pixel-like global scenario reaches only small $|\rho_{AB}|$.
# * In the GLM world a deep Bob who retrains Alice's top layer should follow the refit closed form,
#   and may beat it, because he reads a whole hidden layer; scratch does not depend on $\alpha$.
# * C6 checks the limits of $w^*$ and that logistic fits recover the closed form.

# %% [markdown]
# ## Exercises
#
# Each exercise is checked against this notebook's closed forms and data: replace `None` by your
# answer and run the cell. The names you need — `NOISE`, `weights`, `bob`, `alpha_grid`, `deep`, `P` —
# are defined above.

# %% [markdown]
# **Exercise 01.1** — Predict a closed form. For $k = 1$, $w^* \propto [\,1 + \sigma^2 - \alpha^2,\
# \alpha\sigma^2\,]$. At $\alpha = 0.9$ and $\sigma$ = `NOISE`, what weight does Alice's **unit-norm**
# $w^*$ put on Bob's feature $x_B$? Compute it from the formula (then check it against the figure of
# Alice's weights, or the table `weights`).

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("01.1", answer, NOISE=NOISE)

# %% [markdown]
# **Exercise 01.2** — In the pairwise scenario ($k = 4$) at the most negative $\alpha$ of the sweep
# (`alpha_grid.min()`), the closed form says Alice's unchanged model leaves Bob below chance. What is
# Bob's closed-form accuracy when he **refits the last layer**? (You may read the unchanged value from
# `bob`'s `closed_form` column and use the two formulas above.)

# %%
answer = None  # your answer: an accuracy between 0 and 1
ru.exercises.check("01.2", answer, bob=bob, alpha_grid=alpha_grid, NOISE=NOISE)

# %% [markdown]
# **Exercise 01.3** — In the GLM world, at the largest $\alpha$ of the deep runs, by how much does the
# deep Bob who retrains only Alice's top layer ($k = 1$) beat the linear model's **refit** closed form
# (`ru.linear.closed_form_bob_accuracy(α, P.glm_dim, "pairwise", NOISE, "refit")`)? Give his mean test accuracy over
# seeds minus the closed form, to 3 decimals (negative if he trails it).

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("01.3", answer, deep=deep, P=P, NOISE=NOISE)
