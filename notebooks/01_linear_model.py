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
NOISE = s.preset.linear_noise  # observation-noise standard deviation σ
N_FIT = s.preset.linear_n_fit  # samples per logistic fit

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
fig, ax = plt.subplots(figsize=(6.4, 4))
for col, color in (("w_A", "tab:blue"), ("w_B", "tab:orange")):
    ax.plot(weights.alpha, weights[col], color=color, label=f"{col} closed form")
    ax.scatter(weights.alpha, weights["fit_" + col], color=color, s=14, label=f"{col} logistic fit")
ax.set_xlabel("feature correlation α")
ax.set_ylabel("unit-norm weight of Alice's model")
ax.set_title(f"Alice's weights w*(α), σ = {NOISE}")
ax.legend(fontsize=8)
s.save(fig, "01_alice_weights");

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
alpha_grid = np.round(np.linspace(-0.9, 0.9, s.preset.linear_n_alphas), 3)
n_test = s.preset.linear_n_test
bob = ru.linear.alpha_sweep(alpha_grid, s.seeds, k=4, noise=NOISE, n_test=n_test)
g = sns.relplot(data=bob, x="label_corr", y="accuracy", hue="mode", col="scenario", kind="line",
                errorbar=ru.plots.t_ci, marker="o", linestyle="", height=3.6, aspect=1.2)
for ax, scen in zip(g.axes.flat, g.col_names, strict=True):
    for mode, ls in (("unchanged", "-"), ("refit", "--")):
        cf = bob[(bob.scenario == scen) & (bob["mode"] == mode)].groupby("label_corr").closed_form.first()
        ax.plot(cf.index, cf.values, ls=ls, color="k", lw=1)
    ax.axhline(0.5, color="grey", ls=":")
g.set_axis_labels("label-feature correlation ρ_AB", "Bob's test accuracy (fraction)")
s.save(g.figure, "01_bob_accuracy_vs_alpha");

# %% [markdown]
# Reading the figure: on the common axis, accuracy rises with $|\rho_{AB}|$ in both scenarios; at
# $\rho_{AB} = 0$ Bob is at chance (Alice gives his features zero weight); for $\rho_{AB} < 0$ the
# **unchanged** model is *worse* than chance, while refitting the last layer flips the sign and
# recovers the mirror image (in closed form exactly: refit accuracy is $\tfrac12 + |\arcsin\rho|/\pi$).
# The global scenario never reaches a large $|\rho_{AB}|$ for negative $\alpha$: its alternating signs
# cancel.
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
P = s.preset
glm = f"glm:d={P.glm_dim},noise={NOISE}"
deep = pd.concat([s.sweep(dataset=[glm], arch=["mlp"], feature_corr=[a], k=[1, "L"], mode=["reinit"],
                          task_corr=[2 / np.pi * np.arcsin(a)]) for a in P.glm_alphas], ignore_index=True)
deep["who"] = np.where(deep.k == 1, "deep Bob, k = 1", "deep Bob, scratch (k = L)")
fig, ax = plt.subplots(figsize=(6.4, 4))
sns.pointplot(data=deep, x="feature_corr", y="bob_test_acc", hue="who", native_scale=True,
              errorbar=ru.plots.t_ci, linestyle="none", ax=ax)
grid = np.linspace(-0.95, 0.95, 77)
for mode, ls in (("unchanged", "-"), ("refit", "--")):
    ax.plot(grid, [ru.linear.bob_accuracy(a, P.glm_dim, "pairwise", NOISE, mode) for a in grid], ls=ls,
            color="k", lw=1, label=f"linear model, {mode} (closed form)")
ax.set(xlabel="feature correlation α (GLM world, θ = 0)", ylabel="Bob's test accuracy (fraction)")
ax.legend(fontsize=7)
s.save(fig, "01_deep_glm_vs_closed_form");

# %%
deep.groupby(["who", "feature_corr"])[["task_corr_measured", "feature_corr_measured", "bob_test_acc"]].mean().round(3)

# %% [markdown]
# Reading it: the deep Bob who keeps Alice's features follows the linear model's **refit** curve —
# he gains with $|\alpha|$ and is indifferent to its sign, because retraining the top layer flips it —
# while training from scratch on his own samples does not depend on $\alpha$. The deep head sees
# Alice's whole hidden layer, not a single score, so it may sit above the one-dimensional refit.
#
# ## Claim C6 — the limits of $w^*$

# %%
fit_cos = dict(zip(weights.alpha.astype(str), weights.cosine_fit_vs_closed, strict=True))
neg = bob[(bob.alpha < 0) & (bob["mode"] == "unchanged")].accuracy.mean()
neg_refit = bob[(bob.alpha < 0) & (bob["mode"] == "refit")].accuracy.mean()
print(f"mean accuracy for α < 0: unchanged {neg:.3f}, last layer refit {neg_refit:.3f}")
result = ru.evaluators.claim_linear_limits(NOISE, fit_cos, N_FIT)
s.record("C6_linear_model_limits", result, "01_linear_model.ipynb");

# %% [markdown]
# ## Explore
#
# With `interactive = True` (JupyterLab) the sliders redraw this figure; below is the static version
# at α = 0.5, drawn by the same function.

# %%
if interactive:
    import ipywidgets as w
    w.interact(lambda alpha, noise: ru.linear.explorer_figure(alpha, noise) and None,
               alpha=w.FloatSlider(value=0.5, min=-0.98, max=0.98, step=0.02),
               noise=w.FloatSlider(value=NOISE, min=0.05, max=2.0, step=0.05))
else:
    s.save(ru.linear.explorer_figure(0.5, NOISE), "01_explorer_alpha0.5");
