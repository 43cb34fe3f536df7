"""Write notebooks/NN_*.ipynb (without outputs) from the cell lists below.

The notebooks are the product; this script is how they are kept consistent (one parameters cell
first, short code cells, prose). Edit here or in JupyterLab; if you edit here, rerun:
``python scripts/build_notebooks.py``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "notebooks"

PARAMS = '''preset = "quick"          # smoke | quick | paper
dataset = None            # None → the preset's dataset (mnist5k at quick, fashion_mnist at paper)
device = "auto"           # auto | cpu | cuda | mps
seeds = None              # None → the preset's seeds
interactive = False       # True builds the sliders (JupyterLab); papermill runs keep False
results_dir = "../results"'''


def nb(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    out = []
    for kind, text in cells:
        text = text.strip("\n")
        if kind == "md":
            out.append(new_markdown_cell(text))
        elif kind == "params":
            out.append(new_code_cell(text, metadata={"tags": ["parameters"]}))
        else:
            out.append(new_code_cell(text))
    book = new_notebook(cells=out)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    return book


NB01 = [
    ("md", r"""
# 01 — The mechanism in a shallow linear model

Before any deep network: a model small enough to solve by hand shows *why* Bob can profit from
Alice's model even though her label ignores his features.

**Model.** Features $x = [x_A, x_B]$ are Gaussian with unit variances and a **feature
correlation** $\alpha$ between Alice's and Bob's features. Alice's label is
$y_A = \mathrm{sign}(\beta^\top x_A)$, Bob's $y_B = \mathrm{sign}(\beta^\top x_B)$. Both see noisy
observations $\tilde x = x + \varepsilon$, $\varepsilon \sim \mathcal N(0, \sigma^2 I)$.

**Why the noise.** With noiseless labels and no regularisation, Alice's best weights ignore
$x_B$ for every $\alpha$ — she already knows her label exactly. With noisy observations, $x_B$
carries information about $x_A$ whenever $\alpha \neq 0$, and she uses it:

$$w^* = (\Sigma + \sigma^2 I)^{-1}\,\Sigma\,[\beta;\,0], \qquad
k=1:\ \ w^* \propto [\,1 + \sigma^2 - \alpha^2,\ \alpha\sigma^2\,].$$

So $w^* \propto [1, 0]$ at $\alpha = 0$ and $w^* \to [1, \pm 1]$ as $\alpha \to \pm 1$.
Bob either uses Alice's model **unchanged** or **refits only its last layer** (scale, sign and bias
of her score $s = w^{*\top}\tilde x$). With $\rho = \mathrm{corr}(s, \beta^\top x_B)$, his accuracy
is $\tfrac12 + \arcsin(\rho)/\pi$ unchanged and $\tfrac12 + |\arcsin\rho|/\pi$ refit.
Full statement: `reuse_utils.linear`.
"""),
    ("params", PARAMS),
    ("code", '''
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import seaborn as sns
from reuse_utils import linear
from reuse_utils.analysis import claim_linear_limits
from reuse_utils.experiments import setup

s = setup(preset, dataset, device, seeds, results_dir)
NOISE = 0.5  # observation-noise standard deviation σ
N_FIT = {"smoke": 4000, "quick": 20000}.get(s.preset.name, 50000)  # samples per logistic fit
'''),
    ("md", """
## Valid correlations

Both covariance scenarios are positive definite only for $-1 < \\alpha < 1$; anything else is refused
with an error naming the allowed range (never silently clipped).
"""),
    ("code", '''
for bad in (1.2, -1.0):
    try:
        linear.covariance(bad, k=4, scenario="global")
    except ValueError as err:
        print("ValueError:", err)
print(linear.covariance(0.5, k=2, scenario="pairwise"))
'''),
    ("md", """
## Alice's optimal weights $w^*(\\alpha)$

Closed form (lines) against logistic regression fitted on simulated data (points), for $k = 1$.
"""),
    ("code", '''
alphas = np.round(np.linspace(-0.99, 0.99, 23), 3)
rows = []
for a in alphas:
    closed = linear.alice_optimal_weights(a, 1, "pairwise", NOISE)
    fitted = linear.fit_alice_weights(a, 1, "pairwise", NOISE, n=N_FIT, seed=s.seeds[0])
    rows.append({"alpha": a, "w_A": closed[0], "w_B": closed[1], "fit_w_A": fitted[0], "fit_w_B": fitted[1],
                 "cosine_fit_vs_closed": linear.cosine(closed, fitted)})
weights = pd.DataFrame(rows)
weights.iloc[::4].round(3)
'''),
    ("code", '''
fig, ax = plt.subplots(figsize=(6.4, 4))
for col, color in (("w_A", "tab:blue"), ("w_B", "tab:orange")):
    ax.plot(weights.alpha, weights[col], color=color, label=f"{col} closed form")
    ax.scatter(weights.alpha, weights["fit_" + col], color=color, s=14, label=f"{col} logistic fit")
ax.set_xlabel("feature correlation α")
ax.set_ylabel("unit-norm weight of Alice's model")
ax.set_title(f"Alice's weights w*(α), σ = {NOISE}")
ax.legend(fontsize=8)
s.save(fig, "01_alice_weights");
'''),
    ("md", """
## Bob's accuracy against $\\alpha$

Four features per task ($k = 4$), two covariance scenarios: **pairwise** (Alice's feature $i$
correlated with Bob's feature $i$) and **global** (pixel-like: all $2k$ features on a line with
correlation $\\alpha^{|i-j|}$). Lines: closed form; points: simulation, mean and 95% CI over seeds
(Alice fits on 5,000 samples, Bob refits her output layer on 500).
"""),
    ("code", '''
alpha_grid = np.round(np.linspace(-0.9, 0.9, 13 if s.preset.name != "smoke" else 7), 3)
n_test = {"smoke": 2000}.get(s.preset.name, 5000)
bob = linear.alpha_sweep(alpha_grid, s.seeds, k=4, noise=NOISE, n_test=n_test)
g = sns.relplot(data=bob, x="alpha", y="accuracy", hue="mode", col="scenario", kind="line",
                errorbar=("ci", 95), marker="o", linestyle="", height=3.6, aspect=1.2)
for ax, scen in zip(g.axes.flat, g.col_names):
    for mode, ls in (("unchanged", "-"), ("refit", "--")):
        cf = bob[(bob.scenario == scen) & (bob["mode"] == mode)].groupby("alpha").closed_form.first()
        ax.plot(cf.index, cf.values, ls=ls, color="k", lw=1)
    ax.axhline(0.5, color="grey", ls=":")
g.set_axis_labels("feature correlation α", "Bob's test accuracy (fraction)")
s.save(g.figure, "01_bob_accuracy_vs_alpha");
'''),
    ("md", """
Reading the figure: accuracy rises with $|\\alpha|$; at $\\alpha = 0$ Bob is at chance (Alice gives his
features zero weight); for $\\alpha < 0$ the **unchanged** model is *worse* than chance, while refitting
the last layer flips the sign and recovers the mirror image.

## Claim C6 — the limits of $w^*$
"""),
    ("code", '''
fit_cos = dict(zip(weights.alpha.astype(str), weights.cosine_fit_vs_closed))
neg = bob[(bob.alpha < 0) & (bob["mode"] == "unchanged")].accuracy.mean()
neg_refit = bob[(bob.alpha < 0) & (bob["mode"] == "refit")].accuracy.mean()
print(f"mean accuracy for α < 0: unchanged {neg:.3f}, last layer refit {neg_refit:.3f}")
result = claim_linear_limits(NOISE, fit_cos, N_FIT)
s.record("C6_linear_model_limits", result, "01_linear_model.ipynb");
'''),
    ("md", """
## Explore

With `interactive = True` (JupyterLab) the sliders redraw this figure; below is the static version
at α = 0.5, drawn by the same function.
"""),
    ("code", '''
if interactive:
    import ipywidgets as w
    w.interact(lambda alpha, noise: linear.explorer_figure(alpha, noise) and None,
               alpha=w.FloatSlider(value=0.5, min=-0.98, max=0.98, step=0.02),
               noise=w.FloatSlider(value=NOISE, min=0.05, max=2.0, step=0.05))
else:
    s.save(linear.explorer_figure(0.5, NOISE), "01_explorer_alpha0.5");
'''),
]

NB02 = [
    ("md", r"""
# 02 — The controllable data generator

Every input is **one composite image made of two panels**: Alice's panel (left) and Bob's panel
(right). Alice's label is the class of her panel, Bob's the class of his. Two dials:

* **task correlation** $t$: the probability that Bob's class is tied to Alice's ($b = \pi(a)$);
* **feature correlation** $f \le t$: the probability that Bob's panel *is* Alice's image (same
  instance) — shared input features.

Process per sample: draw Alice's class and image; with probability $f$ Bob gets the same image;
else with probability $(t-f)/(1-f)$ a *different* image of the tied class; else a different image of
a uniformly drawn class. At $t = f = 0$ Bob's label and panel are independent of Alice's
(provably uncorrelated tasks and input features). With a bijective $\pi$ and uniform classes
Cramér's V of the two labels equals $t$ exactly (proof in `reuse_utils.pairs`).

We report the **measured** values, not just the dials: bias-corrected Cramér's V between the
labels, the mean per-pixel Pearson correlation between the two panels, the fraction of shared
instances and the labels' mutual information.
"""),
    ("params", PARAMS),
    ("code", '''
import matplotlib.pyplot as plt
import seaborn as sns
from reuse_utils.analysis import claim_generator
from reuse_utils.experiments import setup
from reuse_utils.pairs import calibration_table, make_pairs, measure_correlations
from reuse_utils.plots import pairs_explorer, show_pairs
from reuse_utils.worlds import base_data

s = setup(preset, dataset, device, seeds, results_dir)
train = base_data(s.dataset, "train")
print(train, "| test split:", base_data(s.dataset, "test"))
'''),
    ("md", "## Samples at four settings of the dials\n\nOrange dashes mark the panel boundary; titles give Alice's (A) and Bob's (B) labels."),
    ("code", '''
for t, f in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 0.2)]:
    fig = show_pairs(make_pairs(train, 12, t, f, seed=s.seeds[0]), n=12, ncols=6)
    s.save(fig, f"02_samples_t{t:g}_f{f:g}")
    plt.show()
'''),
    ("md", "## Dialled against measured correlation"),
    ("code", '''
dials = [(t, f) for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) for f in (0.0, 0.3, 0.6, 1.0) if f <= t]
n_cal = {"smoke": 4000}.get(s.preset.name, 20000)
table = calibration_table(train, dials, s.seeds, n_cal)
cols = ["task_corr_dial", "feature_corr_dial", "task_corr", "feature_corr", "shared_fraction",
        "mutual_information", "task_corr_p_value"]
table.groupby(["task_corr_dial", "feature_corr_dial"])[cols[2:]].mean().round(3)
'''),
    ("code", '''
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
'''),
    ("md", """
The measured label correlation sits on the diagonal. The pixel correlation exceeds $f$ when $t > f$:
images of the same class look alike, so tied classes alone correlate the panels' pixels — which is
why we report the measured value next to the dial.
"""),
    ("code", '''
s.record("C0_generator_calibrated", claim_generator(table), "02_data_generation.ipynb");
'''),
    ("md", """
## Panel-randomised copies

`randomize_panel(which, seed)` replaces one panel by images drawn independently of every label.
A model's accuracy on such copies tells which panel it relies on (notebooks 03 and 06).
"""),
    ("code", '''
p = make_pairs(train, 2000, 1.0, 0.0, seed=s.seeds[0])
r = p.randomize_panel("bob", seed=1)
print("pixel r between panels: intact", round(measure_correlations(p)["feature_corr"], 3),
      "| Bob's panel randomised", round(measure_correlations(r)["feature_corr"], 3))
s.save(show_pairs(r, n=12, ncols=6, title="Bob's panel randomised (labels unchanged)"), "02_randomised_bob_panel");
'''),
    ("md", "## Explore the dials\n\nWith `interactive = True`, sliders redraw samples and measured values; the static figure uses the same function."),
    ("code", '''
if interactive:
    import ipywidgets as w
    w.interact(lambda task_corr, feature_corr: pairs_explorer(train, task_corr, min(feature_corr, task_corr)) and None,
               task_corr=w.FloatSlider(value=0.5, min=0, max=1, step=0.05),
               feature_corr=w.FloatSlider(value=0.2, min=0, max=1, step=0.05))
else:
    s.save(pairs_explorer(train, 0.5, 0.2), "02_explorer_t0.5_f0.2");
'''),
]

NB03 = [
    ("md", """
# 03 — Alice's pre-training

Alice trains on her label only, on composite images of the world she lives in. Here she lives in
the **zero-correlation world** ($t = f = 0$): Bob's panel is pure distraction for her. We train
each architecture with each optimizer and seed, and store every network as a checkpoint
(`<results_dir>/cache/alice/`, state dict + config JSON) that notebooks 04–06 reuse.

* `cnn`: small VGG-style network (3 conv blocks + 2 linear layers); convolution shares weights
  across the two panels.
* `mlp`: 3 hidden layers + output; no weight sharing across panels.

Optimizers (`reuse_utils.sweep.ALICE_OPTIMIZERS`): SGD with momentum, SGD + weight decay, Adam,
AdamW (decoupled weight decay).
"""),
    ("params", PARAMS),
    ("code", '''
import pandas as pd
import matplotlib.pyplot as plt
import seaborn as sns
from reuse_utils.attribution import randomised_reliance
from reuse_utils.experiments import setup
from reuse_utils.stats import summarize
from reuse_utils.sweep import ALICE_OPTIMIZERS

s = setup(preset, dataset, device, seeds, results_dir)
pd.DataFrame(ALICE_OPTIMIZERS).T
'''),
    ("code", '''
curves, panels = [], []
for arch in ("cnn", "mlp"):
    for opt in ALICE_OPTIMIZERS:
        for seed in s.seeds:
            model, meta, world = s.alice(0.0, 0.0, seed, arch=arch, optimizer=opt)
            curves += [{"arch": arch, "optimizer": opt, "seed": seed, **h} for h in model.train_history]
            rel = randomised_reliance(model, world.test, "alice", seed)
            panels.append({"arch": arch, "optimizer": opt, "seed": seed, **rel})
curves, panels = pd.DataFrame(curves), pd.DataFrame(panels)
'''),
    ("md", "## Training curves\n\nAlice's test accuracy after each epoch (mean and 95% CI over seeds)."),
    ("code", '''
g = sns.relplot(data=curves, x="epoch", y="test_acc", hue="optimizer", col="arch", kind="line",
                errorbar=("ci", 95), marker="o", height=3.6, aspect=1.2)
g.set_axis_labels("epoch (passes over Alice's training pairs)", "Alice's test accuracy (fraction)")
s.save(g.figure, "03_alice_training_curves")
summarize(curves[curves.epoch == curves.epoch.max()], ["arch", "optimizer"], "test_acc").round(3)
'''),
    ("md", """
## Which panel does Alice use?

Accuracy on test pairs with **her own** panel randomised, and with **the other** (Bob's) panel
randomised. In the zero-correlation world she should depend on her panel only.
"""),
    ("code", '''
long = panels.melt(id_vars=["arch", "optimizer", "seed"], value_vars=["acc", "acc_alice_randomised", "acc_bob_randomised"],
                   var_name="test set", value_name="accuracy")
long["test set"] = long["test set"].map({"acc": "intact", "acc_alice_randomised": "own panel randomised",
                                         "acc_bob_randomised": "other panel randomised"})
g = sns.catplot(data=long, x="optimizer", y="accuracy", hue="test set", col="arch", kind="bar",
                errorbar=("ci", 95), height=3.6, aspect=1.3)
g.set_axis_labels("Alice's optimizer", "Alice's test accuracy (fraction)")
s.save(g.figure, "03_alice_panel_randomised")
panels.groupby(["arch", "optimizer"])[["acc", "acc_alice_randomised", "acc_bob_randomised"]].mean().round(3)
'''),
]

NB04 = [
    ("md", """
# 04 — Bob's transfer by depth

Bob keeps the bottom $L - k$ layers of Alice's network frozen and retrains the top $k$ on his own
(small) training set. **reinit** (Yosinski's AnB) re-initialises those $k$ layers; **finetune**
(AnB+) starts them from Alice's weights (the output layer is always new; at $k = 1$ the two
coincide). $k = L$ with reinit is training from **scratch**. The **random-init control** replaces
Alice by an untrained network of the same architecture.

Alice lives in the same world as Bob (same dials). Every number below is a mean over seeds with a
95% confidence interval; the measured task correlation of the test pairs is reported next to the
dial. Results come from the cached sweep (`<results_dir>/cache/bob/`): re-running trains nothing.
"""),
    ("params", PARAMS),
    ("code", '''
import matplotlib.pyplot as plt
import pandas as pd
from reuse_utils import analysis
from reuse_utils.experiments import setup
from reuse_utils.plots import acc_vs_k, heatmap, plot_mean_ci
from reuse_utils.stats import optimal_depth, summarize

s = setup(preset, dataset, device, seeds, results_dir)
P = s.preset
'''),
    ("code", '''
main = pd.concat([s.sweep(task_corr=list(P.task_corrs), k=["all"], mode=list(P.modes)),
                  s.sweep(task_corr=list(P.task_corrs), k=["all"], mode=["reinit"], source=["random"])],
                 ignore_index=True)
L = int(main.n_layers.max())
print(f"{len(main)} Bob runs ({main.from_cache.sum()} from cache), L = {L} layers")
main.groupby("task_corr")[["task_corr_measured", "feature_corr_measured", "alice_test_acc"]].mean().round(3)
'''),
    ("md", "## Accuracy against task correlation, one line per k (reinit)"),
    ("code", '''
alice_runs = main[(main.source == "alice") & (main["mode"] == "reinit")]
fig = plot_mean_ci(alice_runs, "task_corr", "bob_test_acc", hue="k", chance=float(main.chance.mean()),
                   xlabel="task correlation t (dial)", ylabel="Bob's test accuracy (fraction)",
                   title="Bob retrains the top k layers (reinit)")
s.save(fig, "04_bob_acc_vs_task_corr");
'''),
    ("code", '''
table = alice_runs.groupby(["task_corr", "k"]).bob_test_acc.mean().unstack("k")
fig = heatmap(table, xlabel="retrained layers k", ylabel="task correlation t",
              title="Bob's mean test accuracy (reinit)", cbar_label="accuracy (fraction)")
s.save(fig, "04_heatmap_task_corr_by_k");
'''),
    ("md", """
## The optimal number of retrained layers

For each correlation: the best $k$ (highest seed-mean accuracy) and the set of $k$ statistically tied
with it (Welch t-test, p ≥ 0.05).
"""),
    ("code", '''
best = optimal_depth(main[(main.source == "alice") & (main.feature_corr == 0)], ["mode", "task_corr"])
fig, ax = plt.subplots(figsize=(6.4, 4))
for mode, grp in best.groupby("mode"):
    ax.plot(grp.task_corr, grp.best_k, marker="o", label=f"best k ({mode})")
    ax.fill_between(grp.task_corr, grp.min_tied_k, grp.max_tied_k, alpha=0.15)
ax.set(xlabel="task correlation t", ylabel="optimal retrained layers k*", title="k* with its tied range")
ax.set_yticks(range(1, L + 1)); ax.legend()
s.save(fig, "04_optimal_k");
best.round(3)
'''),
    ("md", "## reinit vs finetune, and Alice vs the random-init control"),
    ("code", '''
levels = sorted(main.task_corr.unique())
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, t in zip(axes, (levels[0], levels[-1])):
    acc_vs_k(main, t, ax=ax)
s.save(fig, "04_reinit_finetune_control");
summarize(main, ["task_corr", "source", "mode", "k"]).pivot_table(index=["task_corr", "source", "mode"], columns="k", values="mean").round(3)
'''),
    ("md", """
## The feature-correlation axis

Task correlation fixed at `P.feature_task_corr`; feature correlation (shared instances) raised
from 0 up to it. Bob retrains the head ($k = 1$) or the top two layers.
"""),
    ("code", '''
fcs = [f for f in P.feature_corrs if f <= P.feature_task_corr]
feat = s.sweep(task_corr=[P.feature_task_corr], feature_corr=fcs, k=[1, 2], mode=["reinit"])
fig = plot_mean_ci(feat, "feature_corr", "bob_test_acc", hue="k", chance=float(feat.chance.mean()),
                   xlabel="feature correlation f (dial)", ylabel="Bob's test accuracy (fraction)",
                   title=f"task correlation fixed at {P.feature_task_corr}")
s.save(fig, "04_bob_acc_vs_feature_corr")
feat.groupby("feature_corr")[["feature_corr_measured", "task_corr_measured", "bob_test_acc"]].mean().round(3)
'''),
    ("md", """
## Claims C1, C1b and C4

How to read a failure here. **C1b** holds the task correlation fixed: sharing the *same image*
then adds no label information Bob lacks (his label already equals Alice's on every tied sample),
so a flat curve is what the generator's definition predicts at fixed $t$; feature correlation
helps through the task link, not on top of it. **C4** needs enough spread in $k^*$: with few
Bob samples the head alone underfits and $k^* = 2$ (retrain `fc` + `out`) can win at every
correlation; the tied sets in the table above show how decisive each optimum is. Claims are
recorded as measured, never tuned.
"""),
    ("code", '''
s.record("C1_monotonic_task", analysis.claim_monotonic(main, "task_corr", k=1, label="task correlation"),
         "04_bob_transfer_by_depth.ipynb")
s.record("C1b_monotonic_feature", analysis.claim_monotonic(feat, "feature_corr", k=1, label="feature correlation"),
         "04_bob_transfer_by_depth.ipynb")
s.record("C4_optimal_depth_tracks_correlation", analysis.claim_optimal_depth(main, mode="reinit"),
         "04_bob_transfer_by_depth.ipynb");
'''),
    ("md", "## Explore\n\nA slider over task correlation redraws Bob's accuracy-vs-k curve from the cached sweep instantly."),
    ("code", '''
if interactive:
    import ipywidgets as w
    w.interact(lambda task_corr: acc_vs_k(main, task_corr) and None,
               task_corr=w.SelectionSlider(options=levels, value=levels[len(levels) // 2]))
else:
    s.save(acc_vs_k(main, levels[len(levels) // 2]), "04_explorer_acc_vs_k");
'''),
]

NB05 = [
    ("md", """
# 05 — Lucky at zero correlation

At $t = f = 0$ Bob's task and input panel are independent of Alice's. Any advantage Bob still has
must come from **how** Alice's network was built and trained. We compare, for every Alice
architecture × optimizer, Bob against **chance** (exact binomial test), the **random-init control**
(an untrained network of the same architecture, paired over seeds) and **scratch** ($k = L$, reinit).

Mechanism to measure: weights that read only Bob's panel get no consistent gradient from Alice's
task. Convolutions share weights across panels, so Bob's panel is filtered by features learned on
Alice's; weight decay shrinks the panel-specific weights she never uses, while Adam without decay
keeps (or grows) them.
"""),
    ("params", PARAMS),
    ("code", '''
import pandas as pd
import matplotlib.pyplot as plt
import seaborn as sns
from reuse_utils import analysis
from reuse_utils.experiments import setup
from reuse_utils.mechanism import panel_weight_norms
from reuse_utils.models import build_model
from reuse_utils.stats import above_chance, summarize
from reuse_utils.sweep import ALICE_OPTIMIZERS

s = setup(preset, dataset, device, seeds, results_dir)
'''),
    ("code", '''
zero = s.sweep(task_corr=[0.0], feature_corr=[0.0], arch=["cnn", "mlp"], alice_optimizer=list(ALICE_OPTIMIZERS),
               k=["all"], mode=["reinit"], source=["alice", "random"])
print(f"{len(zero)} Bob runs ({zero.from_cache.sum()} from cache); chance = {zero.chance.mean():.3f}")
zero["condition"] = zero.source.map({"alice": "Alice: ", "random": ""}) + zero.alice_optimizer.where(
    zero.source == "alice", "random-init control")
'''),
    ("code", '''
g = sns.relplot(data=zero, x="k", y="bob_test_acc", hue="condition", col="arch", kind="line", marker="o",
                errorbar=("ci", 95), height=3.8, aspect=1.2, facet_kws={"sharex": False})
for ax in g.axes.flat:
    ax.axhline(zero.chance.mean(), color="grey", ls=":", label="chance")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
g.set_axis_labels("retrained layers k (k = L: scratch)", "Bob's test accuracy (fraction)")
s.save(g.figure, "05_zero_corr_by_depth");
'''),
    ("md", "## Exact binomial tests (head-only Bob, k = 1, test items pooled over seeds)"),
    ("code", '''
rows = []
for (arch, cond), grp in zero[zero.k == 1].groupby(["arch", "condition"]):
    test = above_chance(float(grp.bob_test_acc.mean()), int(grp.n_test.iloc[0]) * len(grp), float(grp.chance.mean()))
    rows.append({"arch": arch, "condition": cond, **test})
pd.DataFrame(rows).round(4)
'''),
    ("md", """
## The mechanism, measured

RMS of the weights that read only Bob's panel (cnn: `fc` weights on Bob's half of the last feature
map; mlp: first-layer weights on Bob's pixels), relative to the same weights at initialisation
(same seed). Below 1: erased; at or above 1: kept.
"""),
    ("code", '''
norms = []
for arch in ("cnn", "mlp"):
    for opt in ALICE_OPTIMIZERS:
        for seed in s.seeds:
            model, meta, world = s.alice(0.0, 0.0, seed, arch=arch, optimizer=opt)
            init = build_model(arch, model.input_shape, model.num_classes, width=model.width, seed=seed)
            norms.append({"arch": arch, "alice_optimizer": opt, "seed": seed,
                          **panel_weight_norms(model.cpu(), init, world.test.regions)})
norms = pd.DataFrame(norms)
norms.groupby(["arch", "alice_optimizer"])[["bob_vs_init", "bob_vs_alice", "alice_rms", "bob_rms"]].mean().round(3)
'''),
    ("code", '''
fig, ax = plt.subplots(figsize=(7, 4))
sns.barplot(data=norms, x="alice_optimizer", y="bob_vs_init", hue="arch", errorbar=("ci", 95), ax=ax)
ax.axhline(1.0, color="grey", ls=":")
ax.set(xlabel="Alice's optimizer", ylabel="RMS of Bob-panel weights / at init",
       title="What Alice's training did to the weights her task never needed")
s.save(fig, "05_panel_weight_norms");
'''),
    ("md", "## Claims C2 and C3"),
    ("code", '''
s.record("C2_zero_corr_above_chance", analysis.claim_zero_corr(zero, arch="cnn", optimizer="adam", k=1),
         "05_zero_correlation.ipynb")
s.record("C3_luck_from_architecture_optimizer", analysis.claim_luck(zero, norms, k=1),
         "05_zero_correlation.ipynb");
'''),
]

NB06 = [
    ("md", """
# 06 — Attribution: where does transfer come from?

For Alice and for Bob (retraining the top $k$ layers) at several task correlations we measure:

* **Integrated Gradients** (captum; baseline = blank panels, pixel value −1, true label): the
  share of |attribution| on Alice's and on Bob's panel;
* **LayerConductance** of each convolutional layer: the share of |conductance| on Bob's side of the
  feature map — *which layers* carry Bob's panel;
* **panel-randomised accuracy**: the accuracy drop when each panel is replaced by an independent
  draw; `bob_reliance` = drop(Bob's panel) / (sum of drops), the behavioural counterpart.
"""),
    ("params", PARAMS),
    ("code", '''
import matplotlib.pyplot as plt
import seaborn as sns
from captum.attr import visualization as viz
from reuse_utils import analysis
from reuse_utils.attribution import attribution_maps, attribution_study
from reuse_utils.experiments import setup

s = setup(preset, dataset, device, seeds, results_dir)
N = {"smoke": 48, "quick": 200}.get(s.preset.name, 500)  # test samples attributed per model
'''),
    ("code", '''
levels = sorted(s.preset.task_corrs)
task_corrs = sorted({levels[0], levels[len(levels) // 2], levels[-1]})
alice0, _, _ = s.alice(task_corrs[0], 0.0, s.seeds[0])
L = alice0.n_layers
ks = sorted({1, (L + 1) // 2, L})
table = attribution_study(s, task_corrs, ks, n=N, n_steps=32 if s.preset.name != "smoke" else 8, n_layer=N // 2)
table.groupby(["model", "task_corr"])[["bob_share", "acc", "bob_reliance"]].mean().round(3)
'''),
    ("code", '''
fig = plt.figure(figsize=(6.4, 4.2))
ax = sns.lineplot(data=table, x="task_corr", y="bob_share", hue="model", marker="o", errorbar=("ci", 95))
ax.axhline(0.5, color="grey", ls=":")
ax.set(xlabel="task correlation t", ylabel="share of |IG| on Bob's panel",
       title="Which panel drives the prediction")
s.save(fig, "06_panel_share_vs_task_corr");
'''),
    ("md", "## Which layers carry Bob's panel (LayerConductance)"),
    ("code", '''
layer_cols = [c for c in table.columns if c.startswith("layer:")]
long = table.melt(id_vars=["model", "task_corr", "seed"], value_vars=layer_cols, var_name="layer", value_name="bob_side_share")
long["layer"] = long.layer.str.removeprefix("layer:")
g = sns.relplot(data=long, x="layer", y="bob_side_share", hue="task_corr", col="model", kind="line", marker="o",
                errorbar=("ci", 95), height=3.2, aspect=0.9, palette="viridis")
g.set_axis_labels("layer", "share of |conductance| on Bob's side")
s.save(g.figure, "06_layer_conductance");
'''),
    ("md", "## Example attribution maps (highest task correlation, first seed)"),
    ("code", '''
alice, _, world = s.alice(task_corrs[-1], 0.0, s.seeds[0])
bob = s.bob(alice, world, 1, "reinit", s.seeds[0])
fig, axes = plt.subplots(2, 3, figsize=(11, 5))
for row, (name, model, target) in enumerate((("Alice", alice, "alice"), ("Bob k=1", bob, "bob"))):
    attr = attribution_maps(model, world.test, target, n=3, n_steps=32)
    for j in range(3):
        img = ((world.test.x[j] + 1) / 2).permute(1, 2, 0).numpy()
        viz.visualize_image_attr(attr[j].permute(1, 2, 0).numpy(), img, method="blended_heat_map", sign="absolute_value",
                                 plt_fig_axis=(fig, axes[row, j]), use_pyplot=False, title=f"{name}: sample {j}")
s.save(fig, "06_example_heatmaps");
'''),
    ("md", "## Attribution against behaviour"),
    ("code", '''
fig = plt.figure(figsize=(5.5, 4.2))
ax = sns.scatterplot(data=table, x="bob_share", y="bob_reliance", hue="model", style="task_corr")
ax.set(xlabel="share of |IG| on Bob's panel", ylabel="reliance on Bob's panel (randomised-panel drops)",
       title="Attribution agrees with behaviour")
s.save(fig, "06_ig_vs_randomised");
s.record("C5_attribution_shift", analysis.claim_attribution_shift(table), "06_attribution.ipynb");
'''),
]

CASE_PARAMS = PARAMS.replace(
    'dataset = None            # None → the preset\'s dataset (mnist5k at quick, fashion_mnist at paper)',
    'dataset = None            # None → real data if on disk, else the offline stand-in; "real" | "standin" force')

NB07 = [
    ("md", """
# 07 — Case study: dog vs cat

Alice learns **dog vs cat** on Oxford-IIIT Pet (0 = cat, 1 = dog). Bob's first task is the *same*
task in a new domain: Dog vs Cat images from Open Images, with little data. He retrains the top $k$
layers (reinit and finetune) and is compared with **scratch** and the **random-init control**
over seeds (mean and 95% CI).

**Measured task correlation**: bias-corrected Cramér's V (= |phi|) between Alice's predicted label
and Bob's true label on Bob's test images — the real-data counterpart of the generator's dial.

**Data.** When the real datasets are on disk (README, "Real case studies") they are used.
Otherwise the notebooks run the same code path on an **offline stand-in** with genuine semantic
structure: Fashion-MNIST sneakers ("cat") vs ankle boots ("dog") written in the Oxford-IIIT Pet
layout, and Bob's tasks (the same pair recoloured and flipped as the "new domain", sandal vs ankle
boot, pullover vs coat, trouser vs bag) in the Open Images export layout. Every figure and claim
from the stand-in says so, and its results are stored apart from real ones.
"""),
    ("params", CASE_PARAMS),
    ("code", '''
import matplotlib.pyplot as plt
import seaborn as sns
from reuse_utils import casestudies as cs
from reuse_utils.data import load_dataset
from reuse_utils.experiments import setup
from reuse_utils.plots import show_images

s = setup(preset, None, device, seeds, results_dir)
data = cs.resolve_case_data(s.preset.case_size, prefer=cs.prefer_from(dataset))
print("data:", data.label or "real", "| Bob's tasks:", data.tasks)
'''),
    ("code", '''
size, label, sfx = s.preset.case_size, data.label, data.suffix()
pets = load_dataset(f"pets@{size}", "train", root=data.root)
a, b, _ = data.tasks["same task, new domain"]
bob_imgs = load_dataset(f"open_images:{a},{b}@{size}", "train", root=data.root)
s.save(show_images(pets, 8, f"Alice: {pets.name} ({len(pets)} training images)"), "07_alice_samples" + sfx, label)
s.save(show_images(bob_imgs, 8, f"Bob: {a} vs {b} ({len(bob_imgs)} images)"), "07_bob_samples" + sfx, label);
'''),
    ("code", '''
df = cs.run_case_study(s, data, tasks=["same task, new domain"])
print(f"Alice's test accuracy: {df.alice_test_acc.mean():.3f} | measured task correlation "
      f"(Cramér's V): {df.measured_corr.mean():.3f} | Bob's training images: {df.n_bob_train.iloc[0]}")
df["condition"] = df.source.map({"alice": "Alice / ", "random": "random-init / "}) + df["mode"]
'''),
    ("code", '''
fig, ax = plt.subplots(figsize=(6.6, 4.2))
sns.lineplot(data=df, x="k", y="bob_test_acc", hue="condition", marker="o", errorbar=("ci", 95), ax=ax)
L = int(df.n_layers.max())
scratch = df[(df.source == "alice") & (df.k == L) & (df["mode"] == "reinit")].bob_test_acc.mean()
ax.axhline(scratch, color="k", ls="--", lw=1, label="scratch (k = L, reinit)")
ax.axhline(df.chance.mean(), color="grey", ls=":", label="chance")
ax.set(xlabel="retrained layers k", ylabel="Bob's test accuracy (fraction)", title=f"Bob: {a} vs {b}")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True)); ax.legend(fontsize=8)
s.save(fig, "07_dog_vs_cat_by_depth" + sfx, label);
'''),
    ("code", '''
df.groupby(["condition", "k"]).bob_test_acc.agg(["mean", "std", "count"]).round(3)
'''),
]

NB08 = [
    ("md", """
# 08 — Case study: Open Images tasks of decreasing relatedness

Same protocol as notebook 07 for every Bob task, from the same task in a new domain through
related and other animals to an unrelated pair (stand-in: footwear → garments → trouser vs bag).
For each task: accuracy against $k$, Bob's **gain** over scratch (best run that reuses Alice minus
$k = L$ reinit), the optimal $k$, and the measured task correlation with Alice's task.

**Claim C7**: the gain is larger for related tasks — one-sided Kendall trend of per-seed gain
against relatedness (related > other > unrelated); the trend against the measured task
correlation is reported too.
"""),
    ("params", CASE_PARAMS),
    ("code", '''
import matplotlib.pyplot as plt
import seaborn as sns
from reuse_utils import casestudies as cs
from reuse_utils.experiments import setup

s = setup(preset, None, device, seeds, results_dir)
data = cs.resolve_case_data(s.preset.case_size, prefer=cs.prefer_from(dataset))
label, sfx = data.label, data.suffix()
df = cs.run_case_study(s, data)
print("data:", label or "real", f"| {len(df)} Bob runs, {int(df.from_cache.sum())} from cache")
'''),
    ("code", '''
df["condition"] = df.source.map({"alice": "Alice / ", "random": "random-init / "}) + df["mode"]
g = sns.relplot(data=df, x="k", y="bob_test_acc", hue="condition", col="task", col_wrap=2, kind="line",
                marker="o", errorbar=("ci", 95), height=3.2, aspect=1.3)
for ax in g.axes.flat:
    ax.axhline(df.chance.mean(), color="grey", ls=":")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
g.set_axis_labels("retrained layers k", "Bob's test accuracy (fraction)")
s.save(g.figure, "08_tasks_by_depth" + sfx, label);
'''),
    ("code", '''
gains = cs.case_gains(df)
fig, ax = plt.subplots(figsize=(6.4, 4.2))
sns.scatterplot(data=gains, x="measured_corr", y="gain", hue="task", style="group", s=70, ax=ax)
ax.axhline(0, color="grey", ls=":")
ax.set(xlabel="measured task correlation with Alice (Cramér's V)", ylabel="gain over scratch (accuracy)",
       title="Does Bob gain when his task is related?")
s.save(fig, "08_gain_vs_measured_corr" + sfx, label)
gains.groupby(["task", "group"])[["measured_corr", "scratch_acc", "best_acc", "gain", "best_k"]].mean().round(3)
'''),
    ("code", '''
s.record("C7_semantic_transfer", cs.claim_semantic(gains), "08_case_study_open_images.ipynb", data_label=label,
         dataset="Fashion-MNIST stand-in" if label else "Oxford-IIIT Pet → Open Images");
'''),
]

NOTEBOOKS = {
    "01_linear_model.ipynb": NB01,
    "02_data_generation.ipynb": NB02,
    "03_alice_pretraining.ipynb": NB03,
    "04_bob_transfer_by_depth.ipynb": NB04,
    "05_zero_correlation.ipynb": NB05,
    "06_attribution.ipynb": NB06,
    "07_case_study_dog_vs_cat.ipynb": NB07,
    "08_case_study_open_images.ipynb": NB08,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nbformat.write(nb(cells), OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
