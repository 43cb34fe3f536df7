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
#     - D3_protocol_health_cases
#     - C7_semantic_transfer
#     data:
#     - case
#     needs:
#     - 07_case_study_dog_vs_cat
# ---

# %% [markdown]
# # 08 — Case study: Open Images tasks of decreasing relatedness
#
# Same protocol as notebook 07 for every Bob task, from the same task in a new domain through
# related and other animals to an unrelated pair (stand-in: footwear → garments → trouser vs bag).
# For each task: accuracy against $k$; the best run that reuses Alice, **chosen on Bob's validation
# split** (never on test); its **relative error reduction** over scratch ($k = L$ reinit),
# $(\mathrm{err}_{scratch} - \mathrm{err}_{best}) / \mathrm{err}_{scratch}$ — no ceiling, unlike a raw
# accuracy gain; the optimal $k$; and the measured task correlation with Alice's task.
#
# **Claim C7**, as the claims spec fixed it: for the related tasks, Bob's accuracy at his
# validation-chosen configuration beats scratch (an exact sign-flip test over related task × seed),
# and that gain rises with relatedness over tasks (unrelated < other < related; an exact permutation
# test over tasks). It is **not tested** when the instrument cannot test it: when scratch already
# exceeds 0.85 on some task (no headroom), or when the measured task correlation is not higher on
# related than on unrelated tasks (the labels are not what the data measure) — on the offline
# stand-in this is the expected outcome. The error reduction against the measured task correlation
# is a secondary finding; **D3** checks that every model was trained to convergence.

# %% tags=["parameters"]
preset = "quick"          # smoke | quick | paper
dataset = None            # None → real data if on disk, else the offline stand-in; "real" | "standin" force
device = "auto"           # auto | cpu | cuda | mps
seeds = None              # None → the preset's seeds
interactive = False       # True builds the sliders (JupyterLab); papermill runs keep False
results_dir = "../results"

# %%
import matplotlib.pyplot as plt
import seaborn as sns

import reuse_utils as ru

s = ru.setup(preset, None, device, seeds, results_dir)
data = ru.resolve_case_data(s.preset.case_size, prefer=ru.datasets.prefer_from(dataset))
label, sfx = data.label, data.suffix()
df = s.case_study(data)
print("data:", label or "real", f"| {len(df)} Bob runs, {int(df.from_cache.sum())} from cache")

# %%
df["condition"] = df.source.map({"alice": "Alice / ", "random": "random-init / "}) + df["mode"]
g = sns.relplot(data=df, x="k", y="bob_test_acc", hue="condition", col="task", col_wrap=2, kind="line",
                marker="o", errorbar=ru.plots.t_ci, height=3.2, aspect=1.3)
for ax in g.axes.flat:
    ax.axhline(df.chance.mean(), color="grey", ls=":")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
g.set_axis_labels("retrained layers k", "Bob's test accuracy (fraction)")
s.save(g.figure, "08_tasks_by_depth" + sfx, label);

# %%
gains = ru.case_gains(df)
fig, ax = plt.subplots(figsize=(6.4, 4.2))
sns.scatterplot(data=gains, x="measured_corr", y="error_reduction", hue="task", style="group", s=70, ax=ax)
ax.axhline(0, color="grey", ls=":")
ax.set(xlabel="measured task correlation with Alice (Cramér's V)",
       ylabel="relative error reduction over scratch", title="Does Bob gain when his task is related?")
s.save(fig, "08_gain_vs_measured_corr" + sfx, label)
gains.groupby(["task", "group"])[["measured_corr", "scratch_acc", "best_acc", "error_reduction", "best_k"]].mean().round(3)

# %%
nb, where = "08_case_study_open_images.ipynb", "Fashion-MNIST stand-in" if label else "Oxford-IIIT Pet → Open Images"
alices = df[df.source == "alice"].drop_duplicates("seed")  # one Alice per seed
s.record("D3_protocol_health_cases", ru.evaluators.claim_protocol_health("D3_protocol_health_cases", df, alices), nb,
         data_label=label, dataset=where)
s.record("C7_semantic_transfer", ru.evaluators.claim_semantic(gains), nb, data_label=label, dataset=where);
