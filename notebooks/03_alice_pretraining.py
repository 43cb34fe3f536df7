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

# %% [markdown]
# **What you will learn**
#
# * how Alice is trained — on her label only, to convergence: early stopping on a validation split
#   of her own pairs, with an epoch cap — and how to read how each run stopped (`stopped_by`);
# * how the two architectures (weight-sharing `cnn`, panel-blind `mlp`) and five optimizers compare
#   on her task, as a mean over seeds with a 95% confidence interval;
# * how panel-randomised test pairs tell which panel a model reads: in the zero-correlation world
#   Alice should depend on her own panel only;
# * where the checkpoints notebooks 04–06 reuse come from (the cache).
#
# **Prerequisites**: notebook 02 (the two-panel inputs, the dials $t$ and $\alpha$, panel-randomised
# copies). Concepts: training / validation / test splits, early stopping, SGD with momentum, Adam
# and weight decay, a convolution's weight sharing.
#
# **Time** (measured in full runs of all notebooks in order, on 2 CPU cores): about 40 s at smoke
# (over 2 min on a busy machine), about 4 min at quick; at paper about 2 min on one H100 GPU (not
# measured on CPU). Re-running reads every Alice from the cache and trains nothing.

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
pd.DataFrame(ru.ALICE_OPTIMIZERS).T

# %% [markdown]
# ## Training every Alice
#
# The Alices of one architecture × optimizer train together, one loop for all their seeds (each equal
# to her own run); the bar counts the epochs of the group in training. Alices already in the cache are
# read, not retrained. Each Alice holds out the last 10% of her pairs for validation and stops after
# `alice_patience` epochs without a 1% lower validation loss, or at the cap of `alice_epochs`.

# %%
recipes = [(arch, opt) for arch in ("cnn", "mlp") for opt in ru.ALICE_OPTIMIZERS]
trained = s.alices([{"arch": arch, "optimizer": opt, "seed": seed} for arch, opt in recipes for seed in s.seeds],
                   progress=True)
print(f"{trained} Alices trained, {len(recipes) * len(s.seeds) - trained} read from the cache "
      f"(patience {P.alice_patience} epochs, cap {P.alice_epochs} epochs)")

# %%
curves, panels, runs = [], [], []
for arch, opt, seed in tqdm([(a, o, x) for a, o in recipes for x in s.seeds], desc="Alices tested, each panel randomised"):
    model, meta, world = s.alice(0.0, 0.0, seed, arch=arch, optimizer=opt)
    curves += [{"arch": arch, "optimizer": opt, "seed": seed, **h} for h in model.record.history]
    rel = ru.attribution.randomised_reliance(model, world.test, "alice", seed)
    panels.append({"arch": arch, "optimizer": opt, "seed": seed, **rel})
    runs.append({"arch": arch, "optimizer": opt, "seed": seed, **meta})
curves, panels, runs = pd.DataFrame(curves), pd.DataFrame(panels), pd.DataFrame(runs)
chance = 1 / world.test.num_classes_alice
runs.groupby(["arch", "optimizer"]).agg(test_acc=("alice_test_acc", "mean"), epochs_run=("epochs_run", "mean"),
                                        stopped_early=("stopped_by", lambda v: int((v == "patience").sum()))).round(3)

# %% [markdown]
# ## Training curves
#
# Alice's test accuracy after each epoch (mean and 95% CI over seeds). A curve that ends early is
# one whose seeds stopped early; later epochs average only the seeds still training.

# %%
g = sns.relplot(data=curves, x="epoch", y="test_acc", hue="optimizer", col="arch", kind="line",
                errorbar=ru.plots.t_ci, err_kws={"alpha": 0.12}, marker="o", height=3.6, aspect=1.2,
                facet_kws={"ylim": (0, 1)})
g.set_titles(col_template="Alice's {col_name}")
g.set_axis_labels("epoch (passes over Alice's training pairs)", "Alice's test accuracy (fraction)")
for ax in g.axes.flat:
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ru.plots.legend_outside(g, reference_y=chance, reference_label=f"chance ({chance:.2f})",
                        title=f"optimizer (mean, 95% t-CI\nover {len(s.seeds)} seeds)")
s.save(g.figure, "03_alice_training_curves")

# %%
acc = runs.groupby("arch").alice_test_acc.mean()
best = runs.groupby(["arch", "optimizer"]).alice_test_acc.mean()
stops = runs.stopped_by.value_counts()
ru.teaching.say(
    f"At her kept weights (the epoch of lowest validation loss) Alice's mean test accuracy is {acc.get('cnn', float('nan')):.3f} "
    f"with the cnn and {acc.get('mlp', float('nan')):.3f} with the mlp (chance {chance:.2f}); the best recipe is "
    f"{'/'.join(best.idxmax())} ({best.max():.3f}), the worst {'/'.join(best.idxmin())} ({best.min():.3f}). "
    f"{stops.get('patience', 0)} of {len(runs)} Alices stopped early (validation loss no longer falling), "
    f"{stops.get('cap', 0)} at the cap of {P.alice_epochs} epochs; a run lasted {runs.epochs_run.mean():.1f} epochs on average. "
    + ("Every run stopped by the stopping rule, not by the cap." if stops.get("cap", 0) == 0 else
       "A run stopped by the cap may not have converged: its patience had not run out.") + SMOKE)
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

# %%
g = sns.catplot(data=long, x="optimizer", y="accuracy", hue="test set", col="arch", kind="bar",
                errorbar=ru.plots.t_ci, height=3.6, aspect=1.4, facet_kws={"ylim": (0, 1)})
g.set_titles(col_template="Alice's {col_name}")
g.set_axis_labels("Alice's optimizer", "Alice's test accuracy (fraction)")
g.tick_params(axis="x", rotation=20)
ru.plots.legend_outside(g, reference_y=chance, reference_label=f"chance ({chance:.2f})",
                        title=f"test set (mean, 95% t-CI\nover {len(s.seeds)} seeds)")
s.save(g.figure, "03_alice_panel_randomised")

# %%
pm = panels.groupby("arch")[["acc", "acc_alice_randomised", "acc_bob_randomised"]].mean()
def drop(arch, col):
    return pm.acc[arch] - pm[col][arch]
ru.teaching.say(
    "; ".join(f"{arch}: {pm.acc[arch]:.3f} intact, {pm.acc_alice_randomised[arch]:.3f} with her own panel randomised "
              f"(a drop of {drop(arch, 'acc_alice_randomised'):+.3f}) and {pm.acc_bob_randomised[arch]:.3f} with Bob's "
              f"(a drop of {drop(arch, 'acc_bob_randomised'):+.3f})" for arch in pm.index)
    + f". Randomising her own panel should take her to chance ({chance:.2f}) and randomising Bob's should cost "
    "nothing, since in this world Bob's panel carries nothing about her label; a drop there would mean she "
    f"leans on a panel that is pure distraction.{SMOKE}")
panels.groupby(["arch", "optimizer"])[["acc", "acc_alice_randomised", "acc_bob_randomised"]].mean().round(3)

# %% [markdown]
# ## Summary
#
# * Alice trains on her own label only; every run holds out a validation split and stops when its
#   validation loss stops improving (`stopped_by = "patience"`) or at the epoch cap (`"cap"`), and
#   keeps the weights of its lowest validation loss. A run stopped by the cap may not have converged.
# * Architectures and optimizers are compared as means over seeds with 95% confidence intervals;
#   the seed is the unit of replication.
# * Panel-randomised test pairs show which panel a model reads: in the zero-correlation world Alice
#   should fall to chance without her own panel and lose nothing without Bob's.
# * Every Alice is stored as a checkpoint in the cache; notebooks 04–06 start from them.

# %% [markdown]
# ## Exercises
#
# Each exercise is checked against this run's data: replace `None` by your answer and run the cell.
# The names you need — `runs` (one row per Alice: her test accuracy and how training stopped) and
# `panels` (accuracies with each panel randomised) — are defined above.

# %% [markdown]
# **Exercise 03.1** — What is Alice's mean test accuracy (over seeds) with the `cnn` trained with
# Adam (`"adam"`)? Give it to 3 decimals.

# %%
answer = None  # your answer: an accuracy between 0 and 1
ru.exercises.check("03.1", answer, runs=runs)

# %% [markdown]
# **Exercise 03.2** — How many of the Alices in `runs` stopped by early stopping (validation loss no
# longer improving) rather than at the epoch cap?

# %%
answer = None  # your answer: a whole number between 0 and len(runs)
ru.exercises.check("03.2", answer, runs=runs)

# %% [markdown]
# **Exercise 03.3** — How much accuracy does the `cnn` Alice trained with Adam lose, on average over
# seeds, when **her own** panel is randomised? Give intact minus randomised, to 3 decimals.

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("03.3", answer, panels=panels)
