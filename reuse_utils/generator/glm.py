r"""The GLM world: Gaussian feature blocks instead of images, where the shallow analysis has closed forms.

Latent blocks :math:`z_A, z_B \in \mathbb R^d` are jointly Gaussian,

.. math:: \begin{bmatrix} z_A \\ z_B \end{bmatrix} \sim \mathcal N\!\left(0,
          \begin{bmatrix} I & \alpha I \\ \alpha I & I \end{bmatrix}\right),
          \qquad z_B = \alpha z_A + \sqrt{1-\alpha^2}\,\varepsilon,

so :math:`\alpha` (``alpha``) is the **feature correlation** of every coordinate pair. Labels are
:math:`y_A = \mathbb 1[\beta_A^\top z_A > 0]` and :math:`y_B = \mathbb 1[\beta_B^\top z_B > 0]` with
unit vectors :math:`\beta_A = \mathbf 1/\sqrt d` and
:math:`\beta_B = \cos\theta\,\beta_A + \sin\theta\,u` (:math:`u \perp \beta_A`, unit). The two scores
are standard normal with correlation :math:`\rho = \alpha\cos\theta`, so by Sheppard's formula
:math:`P(y_A = y_B = 1) = \tfrac14 + \arcsin(\rho)/(2\pi)` and the **task correlation** (phi) is

.. math:: \phi(y_A, y_B) = \tfrac{2}{\pi}\arcsin(\alpha\cos\theta).

``(α, θ)`` therefore set feature and task correlation separately; a task correlation :math:`t` is
reachable at feature correlation :math:`\alpha` iff :math:`|\sin(\pi t/2)| \le |\alpha|`
(:func:`glm_theta`). The observed input is :math:`x = [z_A, z_B] + \sigma\,\xi` (``noise`` σ,
observation noise as in :mod:`reuse_utils.analysis.linear`; labels use the clean z). With
:math:`d = k`, θ = 0 and the same σ this is the linear model's "pairwise" scenario.
"""

from __future__ import annotations

import math
import numbers

import torch

from reuse_utils.core.ids import canonical_dial, check_seed
from reuse_utils.generator.pairs import Pairs

__all__ = ["make_glm_pairs", "glm_task_corr", "glm_theta", "GLM_PREFIX", "parse_glm_name"]

GLM_PREFIX = "glm"


def _check_alpha(alpha) -> float:
    """``alpha`` in canonical form (:func:`~reuse_utils.core.ids.canonical_dial`), in (-1, 1)."""
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or not -1.0 < canonical_dial(alpha) < 1.0:
        raise ValueError(f"alpha must be a number in (-1, 1); got {alpha!r}")
    return canonical_dial(alpha)


def _check_theta(theta) -> float:
    if not isinstance(theta, numbers.Real) or isinstance(theta, bool) or not 0.0 <= float(theta) <= math.pi:
        raise ValueError(f"theta must be a number in [0, π]; got {theta!r}")
    return float(theta)


def glm_task_corr(alpha: float, theta: float) -> float:
    """Closed-form task correlation (phi of the two labels): ``(2/π)·arcsin(α·cos θ)``."""
    return 2.0 / math.pi * math.asin(_check_alpha(alpha) * math.cos(_check_theta(theta)))


def glm_theta(task_corr: float, alpha: float) -> float:
    """The θ ∈ [0, π] at which feature correlation ``alpha`` gives task correlation ``task_corr``.

    ``ValueError`` when the pair is unreachable: |sin(π t/2)| must not exceed |α| (and at α = 0
    only t = 0 is reachable, with θ = π/2 by convention).
    """
    alpha = _check_alpha(alpha)
    if not isinstance(task_corr, numbers.Real) or isinstance(task_corr, bool) or not -1 <= float(task_corr) <= 1:
        raise ValueError(f"task_corr must be a number in [-1, 1]; got {task_corr!r}")
    task_corr = canonical_dial(task_corr)
    target = math.sin(math.pi * task_corr / 2)
    if abs(target) > abs(alpha) + 1e-12:
        raise ValueError(f"(task_corr={task_corr}, alpha={alpha}) is not reachable in the GLM world: "
                         f"|sin(π·task_corr/2)| = {abs(target):.3f} must be ≤ |alpha| = {abs(alpha):.3f}")
    if alpha == 0:
        return math.pi / 2
    return math.acos(max(-1.0, min(1.0, target / alpha)))


def make_glm_pairs(n: int, alpha: float, theta: float, *, dim: int = 8, noise: float = 0.0,
                   seed: int = 0) -> Pairs:
    """``n`` samples of the GLM world (module docstring) as :class:`Pairs`.

    ``x`` is float32 n × 2·dim, Alice's block first (``regions`` give the column ranges);
    ``y_alice``, ``y_bob`` are 0/1; ``task_corr`` is the closed-form phi, ``feature_corr`` = α.
    ``linked`` is all False (no label is copied: task correlation comes from the scores).
    ``alpha`` is taken in canonical form (:func:`~reuse_utils.core.ids.canonical_dial`).
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= 10**8:
        raise ValueError(f"n must be an integer in [1, 10**8]; got {n!r}")
    alpha, theta = _check_alpha(alpha), _check_theta(theta)
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool) or not 1 <= dim <= 4096:
        raise ValueError(f"dim must be an integer in [1, 4096]; got {dim!r}")
    if dim == 1 and not (math.isclose(theta, 0.0, abs_tol=1e-12) or math.isclose(theta, math.pi)):
        raise ValueError(f"theta must be 0 or π when dim = 1 (no direction orthogonal to β_A); got {theta}")
    if not isinstance(noise, numbers.Real) or isinstance(noise, bool) or not 0 <= float(noise) <= 10:
        raise ValueError(f"noise must be a number in [0, 10] (observation noise std); got {noise!r}")
    if n * dim * 2 * 4 > 2**34:
        raise ValueError(f"n={n} × 2·dim={2 * dim} float32 features exceed 16 GiB; lower n or dim")
    n, dim, seed = int(n), int(dim), check_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    z_a = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    eps = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    z_b = alpha * z_a + math.sqrt(1.0 - alpha * alpha) * eps
    beta_a = torch.full((dim,), 1.0 / math.sqrt(dim), dtype=torch.float64)
    u = torch.zeros(dim, dtype=torch.float64)
    if dim > 1:  # a unit vector orthogonal to β_A
        u[0], u[1] = 1.0 / math.sqrt(2), -1.0 / math.sqrt(2)
    beta_b = math.cos(theta) * beta_a + math.sin(theta) * u
    y_a = (z_a @ beta_a > 0).long()
    y_b = (z_b @ beta_b > 0).long()
    x = torch.cat([z_a, z_b], dim=1)
    if noise > 0:
        x = x + float(noise) * torch.randn(n, 2 * dim, generator=gen, dtype=torch.float64)
    none = torch.zeros(n, dtype=torch.bool)
    return Pairs(x=x.float(), y_alice=y_a, y_bob=y_b, linked=none, shared=none.clone(),
                 regions={"alice": (0, 1, 0, dim), "bob": (0, 1, dim, 2 * dim)},
                 task_corr=glm_task_corr(alpha, theta), feature_corr=alpha, seed=seed, layout="flat",
                 num_classes_alice=2, num_classes_bob=2, alice_index=torch.arange(n), bob_index=torch.arange(n),
                 alice_classes=["0", "1"], bob_classes=["0", "1"])


def parse_glm_name(name: str) -> tuple[int, float] | None:
    """``"glm"`` / ``"glm:d=16"`` / ``"glm:d=16,noise=0.5"`` → (dim, noise); None for other names.
    Defaults: d = 8, noise = 0.5 (the linear model's σ)."""
    if not isinstance(name, str) or not (name == GLM_PREFIX or name.startswith(GLM_PREFIX + ":")):
        return None
    dim, noise = 8, 0.5
    for part in filter(None, name[len(GLM_PREFIX) + 1:].split(",")):
        key, _, value = part.partition("=")
        try:
            if key.strip() == "d":
                dim = int(value)
            elif key.strip() == "noise":
                noise = float(value)
            else:
                raise ValueError(key)
        except ValueError:
            raise ValueError(f"dataset {name!r}: GLM options are d=<int> and noise=<float>, e.g. 'glm:d=8,noise=0.5'") from None
    if not 1 <= dim <= 4096 or not 0 <= noise <= 10:
        raise ValueError(f"dataset {name!r}: d must be in [1, 4096] and noise in [0, 10]")
    return dim, noise
