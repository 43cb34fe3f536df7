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
#     claims: []
#     data:
#     - base
#     needs: []
# ---

# %% [markdown]
# # 03 — Alice's pre-training
#
# Alice trains on her label only, on composite images of the world she lives in. In this notebook
# she lives in the **zero-correlation world** ($t = \alpha = 0$): Bob's panel is pure distraction for
# her. (The sweeps of notebook 04 default to `alice_world="same"`: there Alice trains on pairs with
# Bob's dials, so at $\alpha \neq 0$ her own image also shows, faintly, in Bob's panel; notebook 05's
# zero-correlation Alices are exactly the ones trained here.) We train each architecture with each
# optimizer and seed, and store every network as a checkpoint (`<results_dir>/cache/alice/`, state
# dict + config JSON) that notebooks 04–06 reuse. Alices that share an architecture and an optimizer
# train together in one loop (`s.alices`, stacked with `torch.func`; on the CPU only the dense ones):
# each keeps her own data, initial weights and minibatch order, so each equals her own run.
#
# * `cnn`: small VGG-style network (3 conv blocks + 2 linear layers); convolution shares weights
#   across the two panels.
# * `mlp`: 3 hidden layers + output; no weight sharing across panels.
#
# Optimizers (`ru.ALICE_OPTIMIZERS`, five): SGD with momentum and no weight decay, the same with
# weight decay 1e-4 and 1e-3, Adam, and AdamW (decoupled weight decay 1e-2).

# %% tags=["parameters"]
preset = "quick"          # smoke | quick | paper
dataset = None            # None → the preset's dataset (mnist5k at quick, fashion_mnist at paper)
device = "auto"           # auto | cpu | cuda | mps
seeds = None              # None → the preset's seeds
interactive = False       # True builds the sliders (JupyterLab); papermill runs keep False
results_dir = "../results"

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
pd.DataFrame(ru.ALICE_OPTIMIZERS).T

# %%
s.alices([{"arch": a, "optimizer": o, "seed": seed} for a in ("cnn", "mlp") for o in ru.ALICE_OPTIMIZERS
          for seed in s.seeds])  # trained together, each equal to her own run
curves, panels = [], []
for arch in ("cnn", "mlp"):
    for opt in ru.ALICE_OPTIMIZERS:
        for seed in s.seeds:
            model, meta, world = s.alice(0.0, 0.0, seed, arch=arch, optimizer=opt)
            curves += [{"arch": arch, "optimizer": opt, "seed": seed, **h} for h in model.train_history]
            rel = ru.attribution.randomised_reliance(model, world.test, "alice", seed)
            panels.append({"arch": arch, "optimizer": opt, "seed": seed, **rel})
curves, panels = pd.DataFrame(curves), pd.DataFrame(panels)

# %% [markdown]
# ## Training curves
#
# Alice's test accuracy after each epoch (mean and 95% CI over seeds).

# %%
g = sns.relplot(data=curves, x="epoch", y="test_acc", hue="optimizer", col="arch", kind="line",
                errorbar=ru.plots.t_ci, marker="o", height=3.6, aspect=1.2)
g.set_axis_labels("epoch (passes over Alice's training pairs)", "Alice's test accuracy (fraction)")
for ax in g.axes.flat:
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
s.save(g.figure, "03_alice_training_curves")
ru.stats.summarize(curves[curves.epoch == curves.epoch.max()], ["arch", "optimizer"], "test_acc").round(3)

# %% [markdown]
# ## Which panel does Alice use?
#
# Accuracy on test pairs with **her own** panel randomised, and with **the other** (Bob's) panel
# randomised. In the zero-correlation world she should depend on her panel only.

# %%
long = panels.melt(id_vars=["arch", "optimizer", "seed"], value_vars=["acc", "acc_alice_randomised", "acc_bob_randomised"],
                   var_name="test set", value_name="accuracy")
long["test set"] = long["test set"].map({"acc": "intact", "acc_alice_randomised": "own panel randomised",
                                         "acc_bob_randomised": "other panel randomised"})
g = sns.catplot(data=long, x="optimizer", y="accuracy", hue="test set", col="arch", kind="bar",
                errorbar=ru.plots.t_ci, height=3.6, aspect=1.3)
g.set_axis_labels("Alice's optimizer", "Alice's test accuracy (fraction)")
s.save(g.figure, "03_alice_panel_randomised")
panels.groupby(["arch", "optimizer"])[["acc", "acc_alice_randomised", "acc_bob_randomised"]].mean().round(3)
