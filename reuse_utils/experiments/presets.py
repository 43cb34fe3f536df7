"""Experiment sizes: ``smoke`` (CI, seconds per notebook), ``quick`` (laptop CPU: the whole story on
mnist5k), ``paper`` (GPU scale: the full Fashion-MNIST — 60,000 training images for Alice, the
10,000 test images — 5 seeds, all depths, n_bob 250–2000, the case studies with the small cnn at
32 px on the stand-in). Every preset trains to convergence: Alice and deeper Bobs until their
validation loss stops improving (the epoch caps are limits, rarely reached), the head-only Bob as
a convex problem.

Every number a notebook or sweep uses comes from here, so ``PRESET=paper`` scales the whole
study without code changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from reuse_utils.core.checks import is_integer, is_real
from reuse_utils.core.ids import check_seed

__all__ = ["Preset", "PRESETS", "get_preset"]


_POSITIVE_INTS = ("n_alice", "n_bob", "n_test", "alice_epochs", "bob_epochs", "batch_size", "cnn_width", "mlp_width",
                  "case_size", "case_alice_per_class", "case_bob_per_class", "case_alice_epochs", "case_bob_epochs",
                  "case_n_seeds", "bob_head_epochs", "bob_patience", "alice_patience", "linear_n_fit", "linear_n_alphas", "linear_n_test",
                  "calibration_n", "attribution_n", "attribution_steps", "glm_dim", "cka_seeds", "cka_n")


@dataclass(frozen=True)
class Preset:
    """Sizes and defaults of one scale of the study.

    n_alice / n_bob: training pairs for Alice / Bob; n_test: test pairs (each from the base
    test split). Epochs are passes over those pairs. ``cnn_width``: channels of the first conv block
    (then ×2, ×4). ``ks=None`` means every depth 1..L. ``case_*``: the real case studies (image
    size in px, architecture, images per class for Alice's dog-vs-cat and Bob's tasks, epochs). The
    feature-correlation (overlay) axis is swept over ``feature_corrs`` (α) at each task correlation of
    ``feature_task_corrs``. ``glm_*``: the GLM world of notebook 01's deep overlay (block dimension,
    observation noise σ, the α values, at θ = 0 as in the linear model). ``linear_*``: the shallow linear model of notebook 01; ``calibration_n``: the
    generator's calibration (02); ``attribution_*``: Integrated Gradients (06); ``cka_*``: the layer-similarity study
    (09: its seeds, the test inputs per CKA). Bob is trained and
    selected by :class:`reuse_utils.training.selection.BobProtocol`: the head-only Bob (k = 1) as a
    convex logistic head with its L2 strength chosen from ``bob_l2s`` (widened while the choice is at
    an end), deeper Bobs with Adam over ``bob_lrs`` (widened likewise) and early stopping after
    ``bob_patience`` epochs (``bob_epochs``: the cap), ``bob_val_fraction`` of his pairs held out for
    validation. Alice stops after ``alice_patience`` epochs without a lower validation loss on the
    last 10% of her pairs (``alice_epochs``: the cap).

    Validated on construction (also by :meth:`with_`): counts and epochs are integers ≥ 1, ``seeds``
    a non-empty sequence of seeds, learning rates finite and > 0, ``bob_val_fraction`` in (0, 1),
    dial tuples non-empty with values in [-1, 1], ``ks`` None or integers ≥ 1; a ``ValueError``
    names the field.
    """

    name: str
    dataset: str
    n_alice: int
    n_bob: int
    n_test: int
    alice_epochs: int
    bob_epochs: int
    batch_size: int
    seeds: tuple[int, ...]
    task_corrs: tuple[float, ...]
    feature_corrs: tuple[float, ...]
    ks: tuple[int, ...] | None = None
    modes: tuple[str, ...] = ("reinit", "finetune")
    feature_task_corrs: tuple[float, ...] = (0.0, 0.6)
    cnn_width: int = 8
    mlp_width: int = 128
    case_size: int = 32
    case_arch: str = "cnn"
    case_alice_per_class: int = 1800
    case_bob_per_class: int = 300
    case_alice_epochs: int = 30  # the cap: Alice stops early (alice_patience)
    case_bob_epochs: int = 60  # the cap: Bob stops early (bob_patience)
    case_n_seeds: int = 3  # seeds per case-study task (the task is the unit of replication)
    other_domain: str = "fashion_mnist"  # Bob's panel from another dataset (notebook 05's domain control)
    alice_lr: float = 1e-3  # Adam lr of the case studies' Alice (the synthetic study uses ALICE_OPTIMIZERS)
    bob_lrs: tuple[float, ...] = (1e-3, 3e-3)  # Bob's starting learning-rate grid (it widens: BobProtocol)
    bob_l2s: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)  # starting L2 grid of the convex head (k = 1)
    bob_head_epochs: int = 24  # epochs for an SGD-trained head (BobProtocol(head="sgd")); the default head is convex
    alice_patience: int = 2  # Alice stops after this many epochs without a 1% lower validation loss (alice_epochs: the cap)
    bob_patience: int = 3  # early stopping: epochs without a better validation loss
    bob_val_fraction: float = 0.2  # of Bob's training pairs held out for validation
    n_bobs: tuple[int, ...] = ()  # the n_bob axis of the optimal-depth claim (C4); () = n_bob only
    linear_noise: float = 0.5  # observation-noise standard deviation σ of the linear model (01)
    linear_n_fit: int = 50_000  # samples per logistic fit of Alice's weights (01)
    linear_n_alphas: int = 13  # α values of the linear model's Bob curves (01)
    linear_n_test: int = 5000  # test samples per simulated Bob accuracy (01)
    calibration_n: int = 20_000  # pairs per dial setting in the generator's calibration (02)
    attribution_n: int = 500  # test samples attributed per model (06); layer conductance uses half
    attribution_steps: int = 32  # Integrated-Gradients steps (06)
    glm_dim: int = 4  # features per task block of the GLM world (01), = the linear model's k
    glm_alphas: tuple[float, ...] = (-0.9, -0.6, -0.3, 0.0, 0.3, 0.6, 0.9)
    cka_seeds: int = 2  # seeds of notebook 09's layer-similarity study (Bobs retrained at every layer)
    cka_n: int = 1000  # test inputs each linear CKA is computed on (09)

    def __post_init__(self) -> None:
        def sequence(v) -> bool:
            return isinstance(v, (tuple, list))

        for name in ("name", "dataset", "case_arch", "other_domain"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"Preset.{name} must be a non-empty string; got {getattr(self, name)!r}")
        for name in _POSITIVE_INTS:
            v = getattr(self, name)
            if not is_integer(v) or v < 1:
                raise ValueError(f"Preset.{name} must be an integer ≥ 1; got {v!r}")
        if not sequence(self.seeds) or not self.seeds:
            raise ValueError(f"Preset.seeds must be a non-empty tuple of seeds; got {self.seeds!r}")
        for v in self.seeds:
            check_seed(v, "Preset.seeds values")
        if self.ks is not None and (not sequence(self.ks) or not self.ks or not all(is_integer(k) and k >= 1 for k in self.ks)):
            raise ValueError(f"Preset.ks must be None (every depth) or a non-empty tuple of integers ≥ 1; got {self.ks!r}")
        if not sequence(self.n_bobs) or not all(is_integer(v) and v >= 1 for v in self.n_bobs):
            raise ValueError(f"Preset.n_bobs must be a tuple of integers ≥ 1 (empty: n_bob only); got {self.n_bobs!r}")
        if not is_real(self.alice_lr) or self.alice_lr <= 0:
            raise ValueError(f"Preset.alice_lr must be a finite number > 0; got {self.alice_lr!r}")
        for name in ("bob_lrs", "bob_l2s"):
            v = getattr(self, name)
            if not sequence(v) or not v or not all(is_real(x) and x > 0 for x in v):
                raise ValueError(f"Preset.{name} must be a non-empty tuple of finite numbers > 0; got {v!r}")
        if not is_real(self.bob_val_fraction) or not 0 < self.bob_val_fraction < 1:
            raise ValueError(f"Preset.bob_val_fraction must be a fraction in (0, 1); got {self.bob_val_fraction!r}")
        if not is_real(self.linear_noise) or self.linear_noise < 0:
            raise ValueError(f"Preset.linear_noise must be a finite number ≥ 0; got {self.linear_noise!r}")
        for name in ("task_corrs", "feature_corrs", "feature_task_corrs", "glm_alphas"):
            vals = getattr(self, name)
            if not sequence(vals) or not vals or not all(is_real(x) and -1 <= x <= 1 for x in vals):
                raise ValueError(f"Preset.{name} must be a non-empty tuple of numbers in [-1, 1]; got {vals!r}")
        if not sequence(self.modes) or not self.modes or not set(self.modes) <= {"reinit", "finetune"}:
            raise ValueError(f"Preset.modes must be a non-empty tuple of 'reinit' / 'finetune'; got {self.modes!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> Preset:
        return replace(self, **changes)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        name="smoke", dataset="mnist5k", n_alice=1000, n_bob=300, n_test=300,
        alice_epochs=4, bob_epochs=12, batch_size=32, seeds=(0, 1, 2), bob_lrs=(1e-3,), bob_head_epochs=8,
        bob_patience=2, alice_patience=1,
        task_corrs=(0.0, 0.5, 1.0), feature_corrs=(0.0, 0.3, 0.6), feature_task_corrs=(0.0, 0.6),
        glm_alphas=(-0.6, 0.0, 0.6),
        ks=None, cnn_width=8, mlp_width=32, case_alice_per_class=300, case_bob_per_class=100,
        case_alice_epochs=3, case_bob_epochs=8, linear_n_fit=4000, linear_n_alphas=7, linear_n_test=2000,
        calibration_n=4000, attribution_n=48, attribution_steps=8, cka_seeds=1, cka_n=200,
    ),
    "quick": Preset(
        name="quick", dataset="mnist5k", n_alice=4000, n_bob=1000, n_test=2000,
        alice_epochs=30, bob_epochs=60, batch_size=64, seeds=(0, 1, 2, 3, 4), n_bobs=(250, 1000),
        task_corrs=(0.0, 0.25, 0.5, 0.75, 1.0), feature_corrs=(0.0, 0.3, 0.6), case_n_seeds=2, cka_seeds=1,
        cnn_width=8, linear_n_fit=20_000, attribution_n=100, calibration_n=8000,
    ),
    "paper": Preset(
        name="paper", dataset="fashion_mnist", other_domain="mnist5k", n_alice=60_000, n_bob=2000, n_test=10_000,
        alice_epochs=30, bob_epochs=60, batch_size=128, seeds=(0, 1, 2, 3, 4), n_bobs=(250, 1000, 2000),
        task_corrs=(0.0, 0.25, 0.5, 0.75, 1.0), feature_corrs=(0.0, 0.3, 0.6), cnn_width=16,
        mlp_width=256, case_size=32, case_arch="cnn", case_alice_per_class=1800,
        case_bob_per_class=500, case_alice_epochs=30, case_bob_epochs=60, case_n_seeds=3, cka_seeds=3, cka_n=2000,
    ),
}


def get_preset(name: str | Preset) -> Preset:
    """The preset named ``name`` (or ``name`` itself when it is a :class:`Preset`)."""
    if isinstance(name, Preset):
        return name
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}; got {name!r}")
    return PRESETS[name]
