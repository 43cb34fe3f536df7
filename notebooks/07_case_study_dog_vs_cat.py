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
#     - case
#     needs: []
# ---

# %% [markdown]
# # 07 — Case study: dog vs cat
#
# Alice learns **dog vs cat** on Oxford-IIIT Pet (0 = cat, 1 = dog). Bob's first task is the *same*
# task in a new domain: Dog vs Cat images from Open Images, with little data. He retrains the top $k$
# layers (reinit and finetune) and is compared with **scratch** and the **random-init control**
# over seeds (mean and 95% CI).
#
# **Measured task correlation**: bias-corrected Cramér's V (= |phi|) between Alice's predicted label
# and Bob's true label on Bob's test images — the real-data counterpart of the generator's dial.
#
# **Data.** When the real datasets are on disk (README, "Real case studies") they are used.
# Otherwise the notebooks run the same code path on an **offline stand-in** with genuine semantic
# structure: Fashion-MNIST sneakers ("cat") vs ankle boots ("dog") written in the Oxford-IIIT Pet
# layout, and Bob's tasks (the same pair recoloured and flipped as the "new domain", sandal vs ankle
# boot, pullover vs coat, trouser vs bag) in the Open Images export layout. Every figure and claim
# from the stand-in says so, and its results are stored apart from real ones.

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
print("data:", data.label or "real", "| Bob's tasks:", data.tasks)

# %%
size, label, sfx = s.preset.case_size, data.label, data.suffix()
pets = ru.load_dataset(f"pets@{size}", "train", root=data.root)
a, b, _ = data.tasks["same task, new domain"]
bob_imgs = ru.load_dataset(f"open_images:{a},{b}@{size}", "train", root=data.root)
s.save(ru.plots.show_images(pets, 8, f"Alice: {pets.name} ({len(pets)} training images)"), "07_alice_samples" + sfx, label)
s.save(ru.plots.show_images(bob_imgs, 8, f"Bob: {a} vs {b} ({len(bob_imgs)} images)"), "07_bob_samples" + sfx, label);

# %%
df = s.case_study(data, tasks=["same task, new domain"])
print(f"Alice's test accuracy: {df.alice_test_acc.mean():.3f} | measured task correlation "
      f"(Cramér's V): {df.measured_corr.mean():.3f} | Bob's training images: {df.n_bob_train.iloc[0]}")
df["condition"] = df.source.map({"alice": "Alice / ", "random": "random-init / "}) + df["mode"]

# %%
fig, ax = plt.subplots(figsize=(6.6, 4.2))
sns.lineplot(data=df, x="k", y="bob_test_acc", hue="condition", marker="o", errorbar=ru.plots.t_ci, ax=ax)
L = int(df.n_layers.max())
scratch = df[(df.source == "alice") & (df.k == L) & (df["mode"] == "reinit")].bob_test_acc.mean()
ax.axhline(scratch, color="k", ls="--", lw=1, label="scratch (k = L, reinit)")
ax.axhline(df.chance.mean(), color="grey", ls=":", label="chance")
ax.set(xlabel="retrained layers k", ylabel="Bob's test accuracy (fraction)", title=f"Bob: {a} vs {b}")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.legend(fontsize=8)
s.save(fig, "07_dog_vs_cat_by_depth" + sfx, label);

# %%
df.groupby(["condition", "k"]).bob_test_acc.agg(["mean", "std", "count"]).round(3)
