r"""The shallow model: why reuse works, in closed form.

**Model (our choice, stated).** Features :math:`x = [x_A, x_B] \in \mathbb R^{2k}` are Gaussian,
zero-mean, unit-variance, with covariance :math:`\Sigma(\alpha)`. Alice's label is
:math:`y_A = \operatorname{sign}(\beta_A^\top x_A)`, Bob's :math:`y_B = \operatorname{sign}(\beta_B^\top x_B)`
with :math:`\beta_A = \beta_B = \mathbf 1/\sqrt k` (paired coordinates). Both see **noisy
observations** :math:`\tilde x = x + \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, \sigma^2 I)`.
Without noise (and without regularisation) Alice's optimal weights ignore :math:`x_B` entirely,
whatever :math:`\alpha`; the noise is what makes Bob's features useful to her.

**Alice's optimal weights.** The Bayes classifier of :math:`y_A` from :math:`\tilde x` thresholds
:math:`E[\beta_A^\top x_A \mid \tilde x] = w^{*\top}\tilde x` with

.. math:: w^* = (\Sigma + \sigma^2 I)^{-1}\,\Sigma\,[\beta_A; 0].

(For Gaussian inputs logistic regression is consistent for this direction, which
:func:`fit_alice_weights` checks numerically.) For k = 1, :math:`\Sigma = [[1, \alpha], [\alpha, 1]]`:
:math:`w^* \propto [1 + \sigma^2 - \alpha^2,\ \alpha\sigma^2]`, so :math:`w^* \propto [1, 0]` at
:math:`\alpha = 0` and :math:`w^* \to \propto [1, \pm 1]` as :math:`\alpha \to \pm 1`.

**Bob.** Alice's model is a score :math:`s = w^{*\top}\tilde x` followed by an output layer
:math:`\operatorname{sign}(a s + b)`. *Unchanged*: Bob uses :math:`a = 1, b = 0`; *last-layer
refit*: Bob refits :math:`(a, b)` on his labels, which lets him flip the sign. With
:math:`\rho = \operatorname{corr}(s, \beta_B^\top x_B)` and the Gaussian orthant probability,
accuracy is :math:`\tfrac12 + \arcsin(\rho)/\pi` unchanged and :math:`\tfrac12 + |\arcsin\rho|/\pi`
refit: negative :math:`\alpha` hurts the unchanged model, and refitting inverts it.

**Scenarios.** ``"pairwise"``: :math:`\Sigma = [[I, \alpha I], [\alpha I, I]]` (Alice's feature i
correlated with Bob's feature i), positive definite iff :math:`|\alpha| < 1`. ``"global"``:
pixel-like structure over all 2k features on a line (Alice's k, then Bob's k),
:math:`\Sigma_{ij} = \alpha^{|i-j|}`, positive definite iff :math:`|\alpha| < 1`. At k = 1 the two
coincide. Any other α raises ``ValueError``.

**One axis for both.** The scenarios' α are not the same quantity: what drives Bob's accuracy is
the correlation between the two *label features* :math:`\beta_A^\top x_A` and
:math:`\beta_B^\top x_B`, :math:`\rho_{AB}` (:func:`label_corr`). Pairwise, :math:`\rho_{AB} = \alpha`; globally (AR(1) on a line)
it is much smaller and, for α < 0, alternates in sign (k = 4: 0.21 at α = 0.5, −0.08 at α = −0.9).
Curves of both scenarios are therefore compared against :math:`\rho_{AB}`.

**Where w* → [1, ±1] comes from.** Only from the observation noise σ: with σ = 0,
:math:`w^* = \Sigma^{-1}\Sigma[\beta_A; 0] = [\beta_A; 0]` for every α — Alice already knows her
label exactly and gives Bob's features no weight.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

__all__ = ["SCENARIOS", "covariance", "alice_optimal_weights", "fit_alice_weights", "closed_form_bob_accuracy",
           "simulate_bob_accuracy", "alpha_sweep", "cosine", "label_corr"]

SCENARIOS = ("pairwise", "global")


def _check(alpha, k, scenario, noise) -> tuple[float, int, float]:
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or math.isnan(float(alpha)):
        raise ValueError(f"alpha must be a number in (-1, 1); got {alpha!r}")
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an integer ≥ 1 (features per task); got {k!r}")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {list(SCENARIOS)}; got {scenario!r}")
    if not isinstance(noise, numbers.Real) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number ≥ 0 (observation noise std); got {noise!r}")
    return float(alpha), int(k), float(noise)


def covariance(alpha: float, k: int = 1, scenario: str = "pairwise") -> np.ndarray:
    """Σ(α), 2k×2k (see module docstring); ``ValueError`` unless positive definite."""
    alpha, k, _ = _check(alpha, k, scenario, 0.0)
    if scenario == "pairwise":
        eye = np.eye(k)
        sigma = np.block([[eye, alpha * eye], [alpha * eye, eye]])
    else:
        idx = np.arange(2 * k)
        dist = np.abs(idx[:, None] - idx[None, :])
        sigma = np.where(dist == 0, 1.0, np.sign(alpha) ** dist * np.abs(alpha) ** dist) if alpha != 0 else np.eye(2 * k)
    if np.linalg.eigvalsh(sigma).min() <= 1e-10:
        raise ValueError(f"alpha={alpha} makes the {scenario} covariance not positive definite; "
                         f"alpha must be in (-1, 1)")
    return sigma


def _betas(k: int) -> tuple[np.ndarray, np.ndarray]:
    b = np.ones(k) / math.sqrt(k)
    z = np.zeros(k)
    return np.concatenate([b, z]), np.concatenate([z, b])


def label_corr(alpha: float, k: int = 1, scenario: str = "pairwise") -> float:
    """Correlation of the two label features β_Aᵀx_A and β_Bᵀx_B: the common axis of both scenarios
    (module docstring), ``β_AᵀΣβ_B / sqrt(β_AᵀΣβ_A · β_BᵀΣβ_B)``."""
    alpha, k, _ = _check(alpha, k, scenario, 0.0)
    beta_a, beta_b = _betas(k)
    sigma = covariance(alpha, k, scenario)
    return float(beta_a @ sigma @ beta_b / math.sqrt((beta_a @ sigma @ beta_a) * (beta_b @ sigma @ beta_b)))


def alice_optimal_weights(alpha: float, k: int = 1, scenario: str = "pairwise", noise: float = 0.5) -> np.ndarray:
    """Unit-norm w* = (Σ + σ²I)⁻¹ Σ [β_A; 0] (sign: positive on Alice's features)."""
    alpha, k, noise = _check(alpha, k, scenario, noise)
    sigma = covariance(alpha, k, scenario)
    beta_a, _ = _betas(k)
    w = np.linalg.solve(sigma + noise**2 * np.eye(2 * k), sigma @ beta_a)
    return w / np.linalg.norm(w)


def _sample(alpha, k, scenario, noise, n, rng):
    sigma = covariance(alpha, k, scenario)
    x = rng.multivariate_normal(np.zeros(2 * k), sigma, size=n, method="cholesky")
    xt = x + noise * rng.standard_normal(x.shape)
    beta_a, beta_b = _betas(k)
    return xt, (x @ beta_a > 0).astype(int), (x @ beta_b > 0).astype(int)


def fit_alice_weights(alpha: float, k: int = 1, scenario: str = "pairwise", noise: float = 0.5,
                      n: int = 20_000, seed: int = 0) -> np.ndarray:
    """Alice's weights fitted by (nearly unregularised) logistic regression on n samples; unit norm."""
    from sklearn.linear_model import LogisticRegression

    alpha, k, noise = _check(alpha, k, scenario, noise)
    xt, ya, _ = _sample(alpha, k, scenario, noise, n, np.random.default_rng(seed))
    w = LogisticRegression(C=1e4, max_iter=2000).fit(xt, ya).coef_[0]
    return w / np.linalg.norm(w)


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


def closed_form_bob_accuracy(alpha: float, k: int = 1, scenario: str = "pairwise", noise: float = 0.5,
                             mode: str = "unchanged") -> float:
    """Bob's closed-form test accuracy (fraction) using Alice's score unchanged or with the last layer
    refit (the measured accuracy of a trained Bob network is ``training.bob_accuracy``)."""
    if mode not in ("unchanged", "refit"):
        raise ValueError(f"mode must be 'unchanged' or 'refit'; got {mode!r}")
    alpha, k, noise = _check(alpha, k, scenario, noise)
    sigma = covariance(alpha, k, scenario)
    w = alice_optimal_weights(alpha, k, scenario, noise)
    _, beta_b = _betas(k)
    cov = w @ sigma @ beta_b
    var_s = w @ (sigma + noise**2 * np.eye(2 * k)) @ w
    rho = float(np.clip(cov / math.sqrt(var_s * (beta_b @ sigma @ beta_b)), -1, 1))
    r = math.asin(rho) / math.pi
    return 0.5 + (r if mode == "unchanged" else abs(r))


def simulate_bob_accuracy(alpha: float, k: int = 1, scenario: str = "pairwise", noise: float = 0.5,
                          n_alice: int = 5000, n_bob: int = 500, n_test: int = 5000,
                          seed: int = 0) -> dict:
    """Monte Carlo: Alice fits logistic regression; Bob uses it unchanged or refits its output
    layer (a 1-D logistic regression on Alice's score) on his ``n_bob`` samples."""
    from sklearn.linear_model import LogisticRegression

    alpha, k, noise = _check(alpha, k, scenario, noise)
    rng = np.random.default_rng(seed)
    xa, ya, _ = _sample(alpha, k, scenario, noise, n_alice, rng)
    alice = LogisticRegression(C=1e4, max_iter=2000).fit(xa, ya)
    xb, _, yb = _sample(alpha, k, scenario, noise, n_bob, rng)
    xt, _, yt = _sample(alpha, k, scenario, noise, n_test, rng)
    unchanged = float((alice.predict(xt) == yt).mean())
    s_b, s_t = alice.decision_function(xb)[:, None], alice.decision_function(xt)[:, None]
    refit = float((LogisticRegression().fit(s_b, yb).predict(s_t) == yt).mean())
    return {"unchanged": unchanged, "refit": refit}


def alpha_sweep(alphas, seeds, *, k: int = 4, scenarios=SCENARIOS, noise: float = 0.5,
                n_alice: int = 5000, n_bob: int = 500, n_test: int = 5000) -> pd.DataFrame:
    """Long table of simulated and closed-form Bob accuracy per (scenario, α, seed, mode), with the
    label-feature correlation ``label_corr`` each (scenario, α) implies."""
    rows = []
    for scenario in scenarios:
        for a in alphas:
            exact = {m: closed_form_bob_accuracy(a, k, scenario, noise, m) for m in ("unchanged", "refit")}
            rho = label_corr(a, k, scenario)
            for seed in seeds:
                sim = simulate_bob_accuracy(a, k, scenario, noise, n_alice, n_bob, n_test, seed)
                for m in ("unchanged", "refit"):
                    rows.append({"scenario": scenario, "alpha": float(a), "label_corr": rho, "seed": seed,
                                 "mode": m, "accuracy": sim[m], "closed_form": exact[m]})
    return pd.DataFrame(rows)
