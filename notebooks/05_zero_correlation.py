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
#     - D2_protocol_health_zero
#     - C2_zero_corr_above_chance
#     - C3_luck_from_architecture_optimizer
#     data:
#     - base
#     data_optional:
#     - other_domain
#     needs:
#     - 04_bob_transfer_by_depth
# ---

# %% [markdown]
# # 05 — Lucky at zero correlation
#
# At $t = f = 0$ Bob's task and input panel are independent of Alice's. Any advantage Bob still has
# must come from **how** Alice's network was built and trained. We compare, for every Alice
# architecture × optimizer, Bob against **chance** (per seed, his accuracy minus chance; an exact
# sign-flip test over seeds), the **random-init control** (an untrained network of the same
# architecture, paired over seeds) and **scratch** ($k = L$, reinit). Bob's head ($k = 1$) is a
# converged logistic regression on Alice's frozen features; deeper Bobs and Alice train until their
# validation loss stops improving (notebook 04).

# %% [markdown]
# **What you will learn**
#
# * why Bob can gain from Alice's network even when their tasks and inputs are independent — and
#   why that gain, if any, is "luck" of her architecture and optimizer, not shared knowledge;
# * how to judge such a gain against three references — chance, the random-init control and
#   scratch — and why the seed, not the test image, is the unit of replication;
# * how convolutional weight sharing and weight decay act on the weights that read only Bob's panel,
#   measured directly on those weights;
# * how claims C2 and C3 are tested, and what a failed intersection of two tests tells you.
#
# **Prerequisites**: notebook 04 (transfer by depth, $k$, reinit, scratch and the random-init
# control; its cached sweeps and Alices). Concepts: chance accuracy, paired comparisons over seeds,
# weight decay, weight sharing in convolutions.
#
# **Time** (measured in full runs of all notebooks in order, on 2 CPU cores): about 1 min at smoke,
# about 7 min at quick; at paper about 1 min 20 s on one H100 GPU (not measured on CPU).

# %% [markdown]
# Mechanism to measure: weights that read only Bob's panel get no consistent gradient from Alice's
# task. Convolutions share weights across panels, so Bob's panel is filtered by features learned on
# Alice's; weight decay shrinks the panel-specific weights she never uses, while Adam without decay
# keeps (or grows) them.

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
from IPython.display import display

import reuse_utils as ru

s = ru.setup(preset, dataset, device, seeds, results_dir)
interactive = ru.teaching.resolve_interactive(interactive)  # "auto" → True in a front end
SMOKE = " *(smoke: a tiny run — these numbers mean nothing)*" if s.preset.name == "smoke" else ""

# %%
zero = s.sweep(task_corr=[0.0], feature_corr=[0.0], arch=["cnn", "mlp"], alice_optimizer=list(ru.ALICE_OPTIMIZERS),
               k=[1, 2, 3, "L"], mode=["reinit"], source=["alice", "random"])
chance = float(zero.chance.mean())
print(f"{len(zero)} Bob runs ({zero.from_cache.sum()} from cache); chance = {chance:.3f}")
zero["condition"] = zero.source.map({"alice": "Alice: ", "random": ""}) + zero.alice_optimizer.where(
    zero.source == "alice", "random-init control")
# the control ignores Alice's optimizer: the sweep holds it once per optimizer — keep one per seed
control = zero[zero.source == "random"].drop_duplicates(["arch", "k", "seed"])

# %% [markdown]
# ## Bob's accuracy by depth, per Alice
#
# One row per architecture; Alice's Adam-family optimizers on the left, SGD with rising weight decay
# on the right, each against the same random-init control and chance.

# %%
FAMILIES = {"Adam or AdamW": ["adam", "adamw"], "SGD, weight decay 0 → 1e-4 → 1e-3": ["sgd", "sgd_wd1e-4", "sgd_wd1e-3"]}
STYLE = {"adam": ("#0173b2", "o"), "adamw": ("#de8f05", "s"), "sgd": ("#029e73", "^"), "sgd_wd1e-4": ("#cc78bc", "D"),
         "sgd_wd1e-3": ("#56b4e9", "v")}
line = dict(x="k", y="bob_test_acc", errorbar=ru.plots.t_ci)

# %%
def depth_panel(ax, arch, optimizers):
    d = zero[(zero.arch == arch) & (zero.source == "alice")]
    for opt in optimizers:
        colour, marker = STYLE[opt]
        sns.lineplot(data=d[d.alice_optimizer == opt], color=colour, marker=marker, label=f"Alice: {opt}",
                     err_kws={"alpha": 0.12}, ax=ax, **line)
    sns.lineplot(data=control[control.arch == arch], color="black", ls="--", marker="X", label="random-init control",
                 err_kws={"alpha": 0.05}, ax=ax, **line)
    ax.axhline(chance, color="grey", ls=":", label="chance")
    ax.set(xticks=sorted(d.k.unique()), ylim=(0, 1), xlabel="retrained layers k (k = L: scratch)",
           ylabel="Bob's test accuracy (fraction)")

# %%
fig, axes = plt.subplots(2, 2, figsize=(11.5, 7.4))
for i, arch in enumerate(["cnn", "mlp"]):
    for j, (family, optimizers) in enumerate(FAMILIES.items()):
        depth_panel(axes[i, j], arch, optimizers)
        axes[i, j].set_title(f"Alice's {arch}, trained with {family}", fontsize=10)
        if i == 0:
            axes[i, j].get_legend().remove()
        else:
            axes[i, j].legend(title="mean, 95% t-CI over seeds", fontsize=8, title_fontsize=8, ncol=2,
                              loc="upper center", bbox_to_anchor=(0.5, -0.2))
fig.tight_layout()
s.save(fig, "05_zero_corr_by_depth");

# %%
acc = zero[zero.source == "alice"].groupby(["arch", "k", "alice_optimizer"]).bob_test_acc.mean()
ctrl = control.groupby(["arch", "k"]).bob_test_acc.mean()
best = {a: acc[a, 1].idxmax() for a in ("cnn", "mlp")}
ru.teaching.say(
    f"Head-only Bob (k = 1) on Alice's cnn trained with Adam reaches {acc['cnn', 1, 'adam']:.3f}, against "
    f"{ctrl['cnn', 1]:.3f} on an untrained cnn and chance {chance:.2f}; on her mlp, {acc['mlp', 1, 'adam']:.3f} "
    f"against {ctrl['mlp', 1]:.3f}. The best of her optimizers for Bob's head is {best['cnn']} on the cnn "
    f"({acc['cnn', 1, best['cnn']]:.3f}) and {best['mlp']} on the mlp ({acc['mlp', 1, best['mlp']]:.3f}). "
    "Every curve ends at the same point: at k = L Bob retrains everything — scratch — whatever Alice did, "
    f"so what matters is how far the curves at small k sit above the dashed control.{SMOKE}")

# %% [markdown]
# ## Above chance, seed by seed (head-only Bob, k = 1)
#
# The seed is the unit: per seed, Bob's accuracy minus chance; mean and Student-t 95% CI over seeds
# (test items are not independent replicates — the test pairs reuse the same base images).

# %%
k1 = pd.concat([zero[(zero.k == 1) & (zero.source == "alice")], control[control.k == 1]])
k1 = k1.assign(above_chance=lambda d: d.bob_test_acc - d.chance)
ru.stats.summarize(k1, ["arch", "condition"], "above_chance").round(4)

# %% [markdown]
# ## Same-domain feature reuse or luck?
#
# At $t = \alpha = 0$ and $k = 2$: Bob reusing Alice against the random-init control, when his
# panel comes from Alice's dataset and when it comes from another one (`P.other_domain`).

# %%
dom = s.domain_control(k=2)  # None (with the reason) when the other dataset cannot be had here
if dom is not None:
    names = {"alice": "Alice's layers", "random": "random-init control"}
    dom["condition"] = dom.domain + ", " + dom.source.map(names).fillna(dom.source)
    fig, ax = plt.subplots(figsize=(7.4, 3.6))
    sns.pointplot(data=dom, y="condition", x="bob_test_acc", errorbar=ru.plots.t_ci, linestyle="none", ax=ax)
    ax.axvline(float(dom.chance.mean()) if "chance" in dom else chance, color="grey", ls=":", label="chance")
    ax.set(xlabel="Bob's test accuracy (fraction), k = 2; mean, 95% t-CI over seeds", ylabel="", xlim=(0, 1))
    ax.legend(loc="lower right", fontsize=8)
    s.save(fig, "05_domain_control")
    wide = dom.pivot_table(index=["domain", "seed"], columns="source", values="bob_test_acc")
    diff = (wide.alice - wide.random).groupby("domain").agg(["mean", "std", "count"])
    display(diff.round(4))

# %%
if dom is None:
    ru.teaching.say("The domain control was skipped here (the reason is printed above), so this run cannot "
                    "tell same-domain feature reuse from luck.")
else:
    same, other = [d for d in diff.index if d.startswith("same")], [d for d in diff.index if not d.startswith("same")]
    ru.teaching.say(
        f"Alice's layers minus the random-init control (k = 2, paired by seed): {diff['mean'][same[0]]:+.3f} when "
        f"Bob's panel comes from Alice's dataset, {diff['mean'][other[0]]:+.3f} when it comes from another "
        f"({other[0].split(': ')[-1]}). If Alice's advantage were luck of her weights alone, it would not care where Bob's images "
        "come from; a larger advantage in the same domain points to features that fit that kind of image "
        f"(with {int(diff['count'].min())} seeds, compare it with the spread in the table).{SMOKE}")

# %% [markdown]
# ## The mechanism, measured
#
# RMS of the weights that read only Bob's panel (cnn: `fc` weights on Bob's half of the last feature
# map; mlp: first-layer weights on Bob's pixels), relative to the same weights at initialisation
# (same seed). Below 1: erased; at or above 1: kept.

# %%
norms = []
for arch in ("cnn", "mlp"):
    for opt in ru.ALICE_OPTIMIZERS:
        for seed in s.seeds:
            model, meta, world = s.alice(0.0, 0.0, seed, arch=arch, optimizer=opt)
            init = ru.build_model(arch, model.input_shape, model.num_classes, width=model.width, seed=seed)
            norms.append({"arch": arch, "alice_optimizer": opt, "seed": seed,
                          **ru.panel_weight_norms(model.cpu(), init, world.test.regions)})
norms = pd.DataFrame(norms)
norms.groupby(["arch", "alice_optimizer"])[["bob_vs_init", "bob_vs_alice", "alice_rms", "bob_rms"]].mean().round(3)

# %%
fig, ax = plt.subplots(figsize=(10, 4.2))
sns.barplot(data=norms, x="alice_optimizer", y="bob_vs_init", hue="arch", errorbar=ru.plots.t_ci, ax=ax)
ax.axhline(1.0, color="grey", ls=":", label="unchanged from initialisation (1)")
ax.set(xlabel="Alice's optimizer", ylabel="Bob-panel weights: RMS / RMS at init",
       title="What Alice's training did to the weights her task never needed")
ax.legend(title="Alice's architecture (bars: mean, 95% t-CI)", fontsize=8, title_fontsize=8, loc="upper left",
          bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
fig.tight_layout()
s.save(fig, "05_panel_weight_norms");

# %%
ratio = norms.groupby(["arch", "alice_optimizer"]).bob_vs_init.mean()
def shrinks(arch):
    lo, hi = ratio[arch].idxmin(), ratio[arch].idxmax()
    return f"on the {arch}, from {ratio[arch, lo]:.2f} ({lo}) to {ratio[arch, hi]:.2f} ({hi})"
lower = [a for a in ("cnn", "mlp") if ratio[a, "sgd_wd1e-3"] < ratio[a, "sgd"]]
below = [a for a in ("cnn", "mlp") if ratio[a, "sgd_wd1e-3"] < 1]
ru.teaching.say(
    f"Bob-panel weights relative to their initial size range {shrinks('cnn')}, and {shrinks('mlp')}. "
    "The mechanism predicts that weight decay *erases* (ratio below 1) the weights Alice's task never needed, "
    f"leaving Bob's head less to read. Under SGD, decay 1e-3 gives {ratio['cnn', 'sgd_wd1e-3']:.2f} (cnn) and "
    f"{ratio['mlp', 'sgd_wd1e-3']:.2f} (mlp) against {ratio['cnn', 'sgd']:.2f} and {ratio['mlp', 'sgd']:.2f} "
    f"without: it lowers the ratio on {' and '.join(lower) or 'neither architecture'}, and takes it below 1 on "
    f"{' and '.join(below) or 'neither'}.{SMOKE}")

# %% [markdown]
# ## Claims C2 and C3, and the protocol's health
#
# As the claims spec fixed them: **C2**, Bob's head-only accuracy on Alice's cnn (Adam) above chance
# (the random-init control is a secondary); **C3**, directional: above-chance accuracy higher on
# Alice's cnn than on her mlp, and falling as her SGD weight decay rises — both must hold (the
# optimizer family and the benefit over random init are secondaries). **D2** checks the training.

# %%
nb = "05_zero_correlation.ipynb"
alices = zero[zero.source == "alice"].drop_duplicates(ru.evaluators.ALICE_KEYS)  # one row per Alice
d2 = s.record("D2_protocol_health_zero", ru.evaluators.claim_protocol_health("D2_protocol_health_zero", zero, alices), nb)
c2 = s.record("C2_zero_corr_above_chance", ru.evaluators.claim_zero_corr(zero, arch="cnn", optimizer="adam"), nb)
c3 = s.record("C3_luck_from_architecture_optimizer", ru.evaluators.claim_luck(zero, norms), nb)

# %% [markdown]
# A test *holds* when its effect points the stated way **and** its p-value is below 0.05; an exact
# sign flip over $n$ seeds cannot go below $p = 2^{-n}$, so with few seeds a failure can mean "too
# few seeds" rather than "wrong".

# %%
ru.teaching.say(ru.teaching.health_reading("D2", d2, "C2 and C3") + SMOKE)

# %%
d, ctrl2 = c2["details"], c2["secondary"][0] if c2["secondary"] else {}
p_floor = 0.5 ** c2["n"] if c2["n"] else float("nan")
ru.teaching.say(
    f"**C2 is {ru.teaching.claim_word(c2)}** — Bob's head on Alice's {d['arch']} "
    f"({d['optimizer']}) reaches {d['bob_acc']:.3f} against chance {d['chance']:.3f}: "
    f"{ru.teaching.test_reading({**c2, 'p_min': p_floor})} over {c2['n']} seeds. Its caveat — {d.get('caveat', '')}. That "
    f"secondary ({d['random_control_acc']:.3f} on an untrained network) {ctrl2.get('verdict', 'was not computed')}"
    f"{' (' + ru.teaching.test_reading({**ctrl2, 'p_min': p_floor}) + ')' if ctrl2 else ''}.{SMOKE}")

# %%
arch_test, wd_test = c3["details"]["architecture_cnn_minus_mlp"], c3["details"]["weight_decay_trend"]
secs = "; ".join(f"{x['name']}: {x['verdict']}" for x in c3["secondary"])
ru.teaching.say(
    f"**C3 is {ru.teaching.claim_word(c3)}**; both parts must hold. (i) Above-chance "
    f"accuracy higher on Alice's cnn than on her mlp: {ru.teaching.test_reading(arch_test)}. (ii) Lower as her SGD weight decay rises "
    f"(Kendall τ; negative means falling): {ru.teaching.test_reading(wd_test)}. Secondaries — {secs}.{SMOKE}")

# %% [markdown]
# ## Summary
#
# * At zero task and feature correlation nothing of Alice's *knowledge* can help Bob; an advantage
#   there is a property of how her network was built and trained.
# * Chance is not the right reference: a converged head on an untrained network's features is far
#   above chance too. The random-init control isolates what Alice's *training* adds; scratch what
#   reuse adds at all.
# * The seed is the unit of replication: differences are paired by seed, and exact sign-flip tests
#   over seeds decide — which with few seeds cannot reach small p-values.
# * The mechanism can be measured on the weights themselves: convolutions read Bob's panel with
#   filters learned on Alice's, and weight decay shrinks the weights her task never used.

# %% [markdown]
# ## Exercises
#
# Each exercise is checked against this run's data: replace `None` by your answer and run the cell.
# The names you need — `zero`, `control`, `norms` — are defined above.

# %% [markdown]
# **Exercise 05.1** — Does head-only Bob ($k = 1$) on Alice's **cnn trained with Adam** beat chance
# at $t = \alpha = 0$, and by how much? Give his mean (over seeds) test accuracy minus chance, as a
# fraction to 3 decimals.

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("05.1", answer, zero=zero)

# %% [markdown]
# **Exercise 05.2** — How much does that same Bob gain over the **random-init control** ($k = 1$, an
# untrained cnn)? Give the mean over seeds of his accuracy minus the control's (paired by seed), to 3
# decimals. Careful: the sweep holds the control once per Alice optimizer.

# %%
answer = None  # your answer: a number between -1 and 1
ru.exercises.check("05.2", answer, zero=zero)

# %% [markdown]
# **Exercise 05.3** — Which Alice (architecture and optimizer) shrinks the weights that read only Bob's
# panel the most, relative to initialisation (lowest mean `bob_vs_init` over seeds)? Answer as
# `"arch/optimizer"`, e.g. `"cnn/adam"`.

# %%
answer = None  # your answer: a string "arch/optimizer"
ru.exercises.check("05.3", answer, norms=norms)
