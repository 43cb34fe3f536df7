r"""The controllable data generator: two-panel composite images with two independent dials.

Each sample concatenates **Alice's panel** and **Bob's panel** (side by side, or stacked). Alice's
label comes from her panel, Bob's from his. Generative process, for ``n`` samples independently:

1. Draw Alice's class :math:`a` uniformly from her :math:`K` classes and an instance
   :math:`x_A` of class :math:`a` uniformly (with replacement) from the base data.
2. **Task dial** :math:`t` (``task_corr``): with probability :math:`t` the sample is *linked* and
   Bob's class is :math:`b = \pi(a)` (``label_map``, identity by default); otherwise :math:`b` is
   uniform over Bob's classes. Then an instance :math:`x_b` of class :math:`b` is drawn uniformly
   and **independently of** :math:`x_A` (it may, by chance, be the same base image).
3. **Feature dial** :math:`\alpha` (``feature_corr``): Bob's panel is the overlay

   .. math:: x_B = \frac{\alpha\,x_A + \sqrt{1-\alpha^2}\,x_b}{|\alpha| + \sqrt{1-\alpha^2}}

   in normalised pixel space ([-1, 1], see below) — the image analogue of the linear model's
   :math:`x_B = \alpha x_A + \sqrt{1-\alpha^2}\,\varepsilon`. The denominator brings the panel back
   to the valid range: :math:`x_B` is a convex combination of :math:`x_b` and :math:`x_A` (for
   :math:`\alpha < 0`, of :math:`x_A`'s photographic negative :math:`-x_A`), so every pixel stays
   in [-1, 1], and a common positive scale changes no correlation. Bob's label stays :math:`b`.
   :math:`|\alpha| \le` :data:`ALPHA_MAX` = 0.7, where Bob's image keeps the larger weight
   (:math:`\sqrt{1-\alpha^2} > |\alpha|` iff :math:`|\alpha| < 1/\sqrt2`): his digit dominates
   his panel.

The dials are independent: :math:`t` sets only the label law, :math:`\alpha` only how much of
Alice's image is in Bob's panel; every :math:`(t, \alpha) \in [0, 1] \times [-0.7, 0.7]` is
reachable. At :math:`t = \alpha = 0`, Bob's label and panel are drawn independently of Alice's
label and panel: provably uncorrelated tasks and input features.

**Feature correlation, measured.** Given both labels, :math:`x_A` and :math:`x_b` are independent,
so the panels' residuals after removing the mean image of their (Alice class, Bob class) cell are
correlated only through the overlay; pooled over pixels, that correlation is exactly :math:`\alpha`
in expectation when both panels come from the same base data (see
:func:`reuse_utils.generator.measures.measure_correlations`). Raw pixel correlation is not a
feature measure: linked labels alone make panels correlate.

**Claim: with a bijective** :math:`\pi` **and uniform marginals, Cramér's V of (a, b) equals t.**
Proof. :math:`P(a, b) = \frac1K\left[t\,\mathbb 1[b=\pi(a)] + \frac{1-t}{K}\right]`, so both
marginals are :math:`1/K` and :math:`P(a,b) - P(a)P(b) = \frac tK(\mathbb 1[b=\pi(a)] - \frac1K)`.
Then :math:`\phi^2 = \sum_{a,b} \frac{(P(a,b)-P(a)P(b))^2}{P(a)P(b)}
= t^2\left[K(1-\tfrac1K)^2 + (K^2-K)\tfrac1{K^2}\right] = t^2 (K-1)`, and
:math:`V = \sqrt{\phi^2/(K-1)} = |t|`. The overlay does not touch the labels, so this holds for
every :math:`\alpha`. For binary tasks the signed phi coefficient equals :math:`t`, including
negative :math:`t` where step 2 uses :math:`b = 1 - \pi(a)` with probability :math:`|t|`. ∎

**Control (not a dial): instance sharing.** ``instance_share`` = :math:`s \le t` makes Bob's base
image *the same instance* as Alice's (:math:`x_b = x_A`, :math:`b = a`) on a fraction :math:`s`
of the samples (all of them linked); the old "feature correlation" of this project, kept to show
that sharing an image at fixed :math:`t` carries less evidence than an independent one.

Conventions:

* **Splits.** Build training pairs from a train split and test pairs from the test split, so a test
  image never appears in a training pair. Instances are drawn **with replacement**, so ``n`` may
  exceed the base set size.
* **Normalisation.** ``x = (pixel/255 - 0.5) / 0.5``, i.e. float32 in [-1, 1], every channel.
* **Cross-domain** (``bob_data``): Bob's images are resized (bilinear, antialiased) to Alice's
  height × width; the channel count is the larger of the two, a grey image being replicated to
  three channels. ``instance_share`` must then be 0; the overlay still applies.
* **Layout.** ``"horizontal"``: Alice left, Bob right (C×H×2W); ``"vertical"``: Alice top, Bob
  bottom (C×2H×W). ``Pairs.regions[name] = (row0, row1, col0, col1)``, half-open pixel ranges.
  Flat feature pairs (the GLM world, x of shape N×2d) use ``(0, 1, col0, col1)`` column ranges.
* **Dials** are stored in canonical form (:func:`reuse_utils.core.ids.canonical_dial`: 12 decimal
  places, −0.0 as 0.0).
* **Finite inputs.** Consumers of pairs (measures, training, evaluation) refuse pairs whose ``x``
  holds NaN or ±inf (:func:`check_pairs`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch.utils.data import Dataset

from reuse_utils.core.ids import canonical_dial, check_seed
from reuse_utils.datasets.base import ImageDataset

__all__ = ["Pairs", "check_pairs", "check_finite", "make_pairs", "task_pairs", "normalise_images", "overlay", "LAYOUTS", "PANELS", "ALPHA_MAX"]

LAYOUTS = ("horizontal", "vertical")
PANELS = ("alice", "bob")
ALPHA_MAX = 0.7  #: largest |feature_corr|: Bob's own image keeps the larger weight in his panel


def normalise_images(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 pixels → float32 in [-1, 1]: ``(pixel/255 − 0.5) / 0.5``."""
    return images_u8.float().div_(127.5).sub_(1.0)


@dataclass
class _Source:
    """A base dataset indexed by class for vectorised sampling."""

    images: torch.Tensor  # uint8 N×C×H×W (already brought to the common shape)
    labels: torch.Tensor
    order: torch.Tensor  # indices sorted by class
    starts: torch.Tensor  # first position of each class in ``order``
    counts: torch.Tensor
    name: str

    @classmethod
    def build(cls, images: torch.Tensor, labels: torch.Tensor, num_classes: int, name: str) -> _Source:
        order = torch.argsort(labels, stable=True)
        counts = torch.bincount(labels, minlength=num_classes)
        starts = torch.cumsum(counts, 0) - counts
        return cls(images, labels, order, starts, counts, name)

    def draw(self, cls_ids: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """One instance index per entry of ``cls_ids``, uniform within the class and independent of
        everything else (so it may coincide with another panel's instance)."""
        counts = self.counts[cls_ids]
        u = torch.rand(len(cls_ids), generator=gen, dtype=torch.float64)
        j = torch.clamp((u * counts).long(), max=counts - 1)
        return self.order[self.starts[cls_ids] + j]


@dataclass
class Pairs(Dataset):
    """Composite two-panel samples (a ``torch.utils.data.Dataset`` of ``(x, y_alice, y_bob)``).

    Attributes:
        x: float32 N×C×H×W images in [-1, 1] (see module docstring).
        y_alice, y_bob: int64 labels.
        linked: bool mask, True where the task dial linked Bob's class to Alice's (b = π(a)).
        shared: bool mask, True where Bob's base image is Alice's instance (``instance_share``).
        regions: panel name → (row0, row1, col0, col1) pixel region.
        task_corr, feature_corr: the dials used (t and α); instance_share: the control;
        seed: the generator seed.
        alice_index, bob_index: base-set indices of each panel (provenance).
    """

    x: torch.Tensor
    y_alice: torch.Tensor
    y_bob: torch.Tensor
    linked: torch.Tensor
    shared: torch.Tensor
    regions: dict[str, tuple[int, int, int, int]]
    task_corr: float
    feature_corr: float
    seed: int
    layout: str
    num_classes_alice: int
    num_classes_bob: int
    alice_index: torch.Tensor
    bob_index: torch.Tensor
    alice_classes: list[str] = field(default_factory=list)
    bob_classes: list[str] = field(default_factory=list)
    randomized: tuple[str, ...] = ()
    instance_share: float = 0.0
    sources: dict[str, _Source] = field(default_factory=dict, repr=False)
    #: ``(x, x._version)`` when :func:`check_pairs` last found ``x`` finite: consumers check once, not per call
    _finite: tuple[torch.Tensor, int] | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.y_alice)

    def __getitem__(self, i):
        return self.x[i], self.y_alice[i], self.y_bob[i]

    @property
    def device(self) -> torch.device:
        return self.x.device

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x.shape[1:])  # type: ignore[return-value]

    def labels(self, target: str) -> torch.Tensor:
        """``y_alice`` or ``y_bob`` by name (``target`` ∈ {"alice", "bob"})."""
        if target not in PANELS:
            raise ValueError(f"target must be one of {list(PANELS)}; got {target!r}")
        return self.y_alice if target == "alice" else self.y_bob

    def num_classes(self, target: str) -> int:
        if target not in PANELS:
            raise ValueError(f"target must be one of {list(PANELS)}; got {target!r}")
        return self.num_classes_alice if target == "alice" else self.num_classes_bob

    def subset(self, index: slice | torch.Tensor) -> Pairs:
        """The pairs at ``index`` (a slice or an index tensor), with their labels, masks and provenance."""
        return replace(self, x=self.x[index], y_alice=self.y_alice[index], y_bob=self.y_bob[index],
                       linked=self.linked[index], shared=self.shared[index], alice_index=self.alice_index[index],
                       bob_index=self.bob_index[index])

    def to(self, device: torch.device | str) -> Pairs:
        """A copy whose tensors live on ``device`` (sources for re-drawing stay on the CPU)."""
        return replace(self, x=self.x.to(device), y_alice=self.y_alice.to(device),
                       y_bob=self.y_bob.to(device), linked=self.linked.to(device), shared=self.shared.to(device))

    def panel(self, which: str) -> torch.Tensor:
        """View of one panel's pixels, N×C×h×w."""
        if which not in self.regions:
            raise ValueError(f"which must be one of {list(self.regions)}; got {which!r}")
        r0, r1, c0, c1 = self.regions[which]
        if self.x.ndim == 2:  # flat feature blocks
            return self.x[:, c0:c1]
        return self.x[:, :, r0:r1, c0:c1]

    def randomize_panel(self, which: str, seed: int) -> Pairs:
        """Copy with panel ``which`` replaced by panels drawn independently of all labels.

        Each replacement draws a class uniformly, then an instance of it, from the same base data
        that panel came from. Labels are unchanged, so accuracy on the copy measures how much a
        model relies on that panel (Shah et al.'s randomised-half test).
        """
        if which not in PANELS:
            raise ValueError(f"which must be one of {list(PANELS)}; got {which!r}")
        src = self.sources.get(which)
        if src is None:
            raise ValueError("these Pairs carry no base data to redraw panels from")
        gen = torch.Generator().manual_seed(check_seed(seed))
        k = len(src.counts)
        cls_ids = torch.randint(k, (len(self),), generator=gen)
        idx = src.draw(cls_ids, gen)
        x = self.x.clone()
        r0, r1, c0, c1 = self.regions[which]
        x[:, :, r0:r1, c0:c1] = normalise_images(src.images[idx]).to(x.device)
        return replace(self, x=x, randomized=tuple(sorted(set(self.randomized) | {which})),
                       shared=torch.zeros_like(self.shared))


# ----------------------------------------------------------------------------- validation


def check_finite(x, name: str) -> torch.Tensor:
    """``x`` itself; a ``ValueError`` naming ``name`` unless it is a tensor without NaN or ±inf
    (one ``torch.isfinite(x).all()``; integer tensors are finite by type)."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if (x.is_floating_point() or x.is_complex()) and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} holds {bad} non-finite value(s) (NaN or ±inf); inputs must be finite")
    return x


def check_pairs(pairs, name: str = "pairs", *, finite: bool = True) -> Pairs:
    """``pairs`` itself; a ``ValueError`` naming ``name`` unless it is a :class:`Pairs` whose inputs
    ``x`` are all finite (``finite=False``: the type only). The scan runs once per ``x``: again only
    after ``x`` is replaced or changed in place (its version counter moves)."""
    if not isinstance(pairs, Pairs):
        raise ValueError(f"{name} must be a Pairs (e.g. from make_pairs or make_world); got {type(pairs).__name__}")
    if finite:
        seen = pairs._finite
        if seen is None or seen[0] is not pairs.x or seen[1] != pairs.x._version:
            check_finite(pairs.x, f"{name}.x")
            pairs._finite = (pairs.x, pairs.x._version)
    return pairs


def _check_dial(name: str, value, lo: float, hi: float) -> float:
    """``value`` in canonical form (:func:`~reuse_utils.core.ids.canonical_dial`); a ``ValueError``
    naming ``name`` unless it is a number in [lo, hi]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(float(value)):
        raise ValueError(f"{name} must be a number in [{lo}, {hi}]; got {value!r}")
    v = canonical_dial(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}]; got {v}")
    return v


def _check_label_map(label_map, k_a: int, k_b: int) -> torch.Tensor:
    if isinstance(label_map, Mapping):
        if sorted(label_map) != list(range(k_a)):
            raise ValueError(f"label_map keys must be exactly Alice's classes 0..{k_a - 1}; got {sorted(label_map)}")
        values = [label_map[i] for i in range(k_a)]
    elif isinstance(label_map, (Sequence, np.ndarray, torch.Tensor)) and not isinstance(label_map, str):
        values = list(label_map.tolist() if hasattr(label_map, "tolist") else label_map)
    else:
        raise ValueError(f"label_map must be a sequence or mapping of Alice class → Bob class; got {type(label_map).__name__}")
    bad = [v for v in values if not isinstance(v, numbers.Integral) or isinstance(v, bool)]
    if bad:
        raise ValueError(f"label_map values must be integer class indices; got {bad}")
    values = [int(v) for v in values]
    if len(values) != k_a:
        raise ValueError(f"label_map must have one entry per Alice class ({k_a}); got {len(values)}")
    if k_a != k_b or sorted(values) != list(range(k_b)):
        raise ValueError(
            f"label_map must be a bijection from Alice's {k_a} classes onto Bob's {k_b} classes "
            f"(a permutation of 0..{k_b - 1}); got {values}"
        )
    return torch.tensor(values, dtype=torch.long)


def _common_images(alice: ImageDataset, bob: ImageDataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Bring both image sets to Alice's H×W and max(C_A, C_B) channels (grey replicated)."""
    from torchvision.transforms.functional import resize

    a_img, b_img = alice.images, bob.images
    h, w = a_img.shape[-2:]
    if tuple(b_img.shape[-2:]) != (h, w):
        b_img = resize(b_img, [h, w], antialias=True)
    c = max(a_img.shape[1], b_img.shape[1])
    for name, img in (("alice_data", a_img), ("bob_data", b_img)):
        if img.shape[1] not in (1, c):
            raise ValueError(f"{name} has {img.shape[1]} channels; only 1 or {c} can be combined")
    if a_img.shape[1] != c:
        a_img = a_img.expand(-1, c, -1, -1)
    if b_img.shape[1] != c:
        b_img = b_img.expand(-1, c, -1, -1)
    return a_img.contiguous(), b_img.contiguous()


# ----------------------------------------------------------------------------- generator


def overlay(x_alice: torch.Tensor, x_bob: torch.Tensor, alpha: float) -> torch.Tensor:
    """Bob's panel ``(α·x_A + sqrt(1 − α²)·x_b) / (|α| + sqrt(1 − α²))`` from normalised images
    (module docstring, step 3); every pixel stays in [-1, 1]. ``alpha = 0`` returns ``x_bob``."""
    if alpha == 0:
        return x_bob
    s = math.sqrt(1.0 - alpha * alpha)
    return (alpha * x_alice + s * x_bob) / (abs(alpha) + s)


def _checked_pair_arguments(alice_data, n, task_corr, feature_corr, bob_data, label_map, layout, instance_share,
                            seed):
    """:func:`make_pairs`'s arguments checked: ``(n, seed, t, α, s, π)`` with π the label map as a
    tensor (``None``: class counts differ at t = 0); a ``ValueError`` naming the argument and its
    range otherwise (also for a class without images, or more pairs than 16 GiB of pixels)."""
    if not isinstance(alice_data, ImageDataset):
        raise ValueError(f"alice_data must be an ImageDataset; got {type(alice_data).__name__}")
    if bob_data is not None and not isinstance(bob_data, ImageDataset):
        raise ValueError(f"bob_data must be an ImageDataset or None; got {type(bob_data).__name__}")
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= 10**8:
        raise ValueError(f"n must be an integer in [1, 10**8]; got {n!r}")
    n = int(n)
    seed = check_seed(seed)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}; got {layout!r}")
    bob_src_data = bob_data if bob_data is not None else alice_data
    k_a, k_b = alice_data.num_classes, bob_src_data.num_classes
    binary = k_a == 2 and k_b == 2
    t = _check_dial("task_corr", task_corr, -1.0 if binary else 0.0, 1.0)
    alpha = _check_dial("feature_corr", feature_corr, -ALPHA_MAX, ALPHA_MAX)
    share = _check_dial("instance_share", instance_share, 0.0, max(t, 0.0))
    if share > 0 and bob_data is not None:
        raise ValueError(f"instance_share must be 0 when bob_data is given (no shared instance possible); got {share}")
    if label_map is None:
        if k_a != k_b and t != 0:
            raise ValueError(
                f"alice_data has {k_a} classes and bob_data {k_b}: pass a bijective label_map, "
                f"or use task_corr=0 (got task_corr={t})"
            )
        pi = torch.arange(k_a) if k_a == k_b else None
    else:
        pi = _check_label_map(label_map, k_a, k_b)
        if share > 0 and not torch.equal(pi, torch.arange(k_a)):
            raise ValueError(f"instance_share must be 0 with a non-identity label_map (a shared instance keeps "
                             f"its class); got {share}")
    for name, ds in (("alice_data", alice_data), ("bob_data", bob_src_data)):
        counts = ds.class_counts()
        empty = [ds.classes[i] for i in torch.nonzero(counts == 0).flatten().tolist()]
        if empty:
            raise ValueError(f"{name} has no instance of class(es) {empty}: every class needs ≥ 1 image")
    c, h, w = alice_data.image_shape
    need = n * c * h * w * 2 * 4
    if need > 2**34:
        raise ValueError(f"n={n} pairs of {c}×{h}×{2 * w} float32 pixels need {need / 2**30:.0f} GiB; "
                         f"n must be at most {2**34 // (c * h * w * 8)} for this dataset")
    return n, seed, t, alpha, share, pi



def make_pairs(
    alice_data: ImageDataset,
    n: int,
    task_corr: float = 0.0,
    feature_corr: float = 0.0,
    *,
    bob_data: ImageDataset | None = None,
    label_map: Sequence[int] | Mapping[int, int] | None = None,
    layout: str = "horizontal",
    instance_share: float = 0.0,
    seed: int = 0,
) -> Pairs:
    """Generate ``n`` two-panel samples with the given dials (process in the module docstring).

    Args:
        alice_data: base images for Alice's panel (and Bob's, unless ``bob_data``).
        n: number of samples, in [1, 10**8] (may exceed the base set: drawn with replacement).
        task_corr: t ∈ [0, 1] (∈ [-1, 1] for binary tasks): P(b = π(a)).
        feature_corr: α ∈ [-0.7, 0.7] (:data:`ALPHA_MAX`): weight of Alice's image in Bob's
            panel (overlay; negative: her photographic negative).
        bob_data: optional other base set for Bob's panel.
        label_map: bijection Alice class → Bob class (default identity; required when the class
            counts differ and ``task_corr`` ≠ 0).
        layout: ``"horizontal"`` or ``"vertical"``.
        instance_share: control, s ∈ [0, max(t, 0)]: fraction of samples whose Bob base image is
            Alice's own instance (identity ``label_map``, no ``bob_data``).
        seed: generator seed; the same seed gives identical tensors.
    """
    n, seed, t, alpha, share, pi = _checked_pair_arguments(alice_data, n, task_corr, feature_corr, bob_data,
                                                           label_map, layout, instance_share, seed)
    bob_src_data = bob_data if bob_data is not None else alice_data
    k_a, k_b = alice_data.num_classes, bob_src_data.num_classes

    same_source = bob_data is None
    if same_source:
        a_imgs = b_imgs = alice_data.images
    else:
        a_imgs, b_imgs = _common_images(alice_data, bob_src_data)
    src_a = _Source.build(a_imgs, alice_data.labels, k_a, alice_data.name)
    src_b = src_a if same_source else _Source.build(b_imgs, bob_src_data.labels, k_b, bob_src_data.name)

    gen = torch.Generator().manual_seed(seed)
    a = torch.randint(k_a, (n,), generator=gen)
    ia = src_a.draw(a, gen)
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    b_uniform = torch.randint(k_b, (n,), generator=gen)
    linked = u < abs(t)
    shared = u < share  # a subset of the linked samples
    if pi is None:
        b = b_uniform
    else:
        b = torch.where(linked, pi[a] if t >= 0 else 1 - pi[a], b_uniform)
    ib = torch.where(shared, ia, src_b.draw(b, gen))

    xa, xb = normalise_images(src_a.images[ia]), normalise_images(src_b.images[ib])
    xb = overlay(xa, xb, alpha)
    c, h, w = xa.shape[1:]
    if layout == "horizontal":
        x = torch.cat([xa, xb], dim=3)
        regions = {"alice": (0, h, 0, w), "bob": (0, h, w, 2 * w)}
    else:
        x = torch.cat([xa, xb], dim=2)
        regions = {"alice": (0, h, 0, w), "bob": (h, 2 * h, 0, w)}
    return Pairs(x=x, y_alice=a, y_bob=b, linked=linked, shared=shared, regions=regions, task_corr=t,
                 feature_corr=alpha, seed=seed, layout=layout, num_classes_alice=k_a,
                 num_classes_bob=k_b, alice_index=ia, bob_index=ib,
                 alice_classes=list(alice_data.classes), bob_classes=list(bob_src_data.classes),
                 sources={"alice": src_a, "bob": src_b}, instance_share=share)


def task_pairs(ds: ImageDataset):
    """A single-image task as :class:`reuse_utils.pairs.Pairs` (one panel covering the whole image;
    ``y_alice`` and ``y_bob`` both the dataset's labels) so the transfer engine runs unchanged."""
    c, h, w = ds.image_shape
    full = (0, h, 0, w)
    n = len(ds)
    return Pairs(x=normalise_images(ds.images), y_alice=ds.labels.clone(), y_bob=ds.labels.clone(),
                 linked=torch.ones(n, dtype=torch.bool), shared=torch.zeros(n, dtype=torch.bool), regions={"alice": full, "bob": full},
                 task_corr=float("nan"), feature_corr=float("nan"), seed=0, layout="horizontal",
                 num_classes_alice=ds.num_classes, num_classes_bob=ds.num_classes,
                 alice_index=torch.arange(n), bob_index=torch.arange(n),
                 alice_classes=list(ds.classes), bob_classes=list(ds.classes))
