"""Transferability estimators and representation similarity, from their published formulas.

Each function takes numpy arrays or torch tensors (features ``n × d``; an ``n × …`` array is
flattened to ``n × d``, nothing else is done to it), computes in float64 and returns a float.
Labels are class indices of any integer values (they are only compared for equality, so a
permutation of the label names leaves every score unchanged).

* :func:`logme` — You et al. (2021), *LogME: Practical Assessment of Pre-trained Models for
  Transfer Learning*: per class, the log marginal evidence of a Bayesian linear regression of the
  one-hot label column on the features, maximised over the prior precision α and noise precision β
  (the paper uses MacKay's fixed point; here the maximum is found exactly); the mean over classes,
  divided by n. For d > n the official code (thuml/LogME) has a known error (its issue #23), so its
  numbers for wide cuts differ from these. Nats per sample, higher is better,
  unbounded; the features are used as given (not centred, not standardised).
* :func:`leep` — Nguyen et al. (2020), *LEEP*: the mean log-likelihood of Bob's labels under the
  empirical predictor ``P̂(y | x) = Σ_z P̂(y | z) θ_z(x)`` built from the source model's class
  probabilities θ. Nats, ≤ 0, higher is better. It scores a source *model* (its output layer), not
  a cut.
* :func:`nce` — Tran et al. (2019), *Transferability and Hardness of Supervised Classification
  Tasks*: negative conditional entropy ``−H(Y | Z)`` of Bob's labels given the source model's hard
  labels, from their empirical joint. Nats, ≤ 0, higher is better; a model-level score.
* :func:`hscore` — Bao et al. (2019), *An Information-Theoretic Approach to Transferability in Task
  Transfer Learning*: ``tr(cov(f)⁻¹ cov(E[f | y]))`` with population (1/n) covariances; a
  pseudo-inverse where cov(f) is singular (then, once d ≥ n − 1, it equals C − 1 whatever the
  features: the published score cannot rank such cuts). ``shrinkage="ledoit-wolf"`` is the
  regularised H-score of Ibrahim, Ponomareva & Mazumder (2022): cov(f) replaced by its Ledoit–Wolf
  shrinkage ``(1 − ρ) S + ρ (tr S / d) I`` and the between-class covariance scaled by (1 − ρ). In
  [0, C − 1], higher is better.
* :func:`linear_cka` — Kornblith et al. (2019), linear centred kernel alignment
  ``‖Yᶜᵀ Xᶜ‖²_F / (‖Xᶜᵀ Xᶜ‖_F ‖Yᶜᵀ Yᶜ‖_F)`` (columns centred); with ``batch_size`` the minibatch
  estimator of Nguyen, Raghu & Kornblith (2021): unbiased HSIC summed over minibatches, so the
  estimate does not drift with the batch size. The full-batch estimator is in [0, 1]; the unbiased
  one can dip slightly below 0 for unrelated representations. Both are invariant to orthogonal
  transforms and isotropic scaling of either input.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["logme", "leep", "nce", "hscore", "linear_cka", "hsic_unbiased", "cut_scores", "SCORES", "CUT_SCORES", "MODEL_SCORES"]

#: Scores of the features at a cut (they rank depths) and scores of the source model's output (they do not)
CUT_SCORES = ("logme", "hscore", "hscore_lw")
MODEL_SCORES = ("leep", "nce")
SCORES = CUT_SCORES + MODEL_SCORES


def _array(x, name: str, ndim: int | None = None) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    a = np.asarray(x)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"{name} must be a numeric array or tensor; got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-d; got shape {a.shape}")
    return a


def _features(x, name: str = "features") -> np.ndarray:
    a = _array(x, name)
    if a.ndim < 2:
        raise ValueError(f"{name} must be n × d (or n × …, flattened); got shape {a.shape}")
    a = a.reshape(len(a), -1).astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or ±inf)")
    return a


def _labels(y, n: int | None = None, name: str = "labels") -> tuple[np.ndarray, int]:
    a = _array(y, name, ndim=1)
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ValueError(f"{name} must be integer class indices")
        a = a.astype(np.int64)
    if n is not None and len(a) != n:
        raise ValueError(f"{name} must have one entry per sample ({n}); got {len(a)}")
    _, codes = np.unique(a, return_inverse=True)
    k = int(codes.max()) + 1 if len(codes) else 0
    if k < 2:
        raise ValueError(f"{name} must hold at least 2 classes; got {k}")
    return codes.ravel(), k


class _Decomposition:
    """Thin SVD of an n × d matrix x (float64), through its n × n or d × d Gram matrix, whichever is
    smaller: ``u`` (n × r) the left singular vectors and ``s`` the singular values with s² above 1e-12
    of the largest; ``frob`` = ‖xᵀx‖²_F and ``row_sq`` the squared row norms (for Ledoit–Wolf).
    ``centred``: of x minus its column means, its Gram matrix derived from the uncentred one's."""

    def __init__(self, x: np.ndarray, gram: torch.Tensor | None = None, centred: bool = False):
        n, d = x.shape
        t = torch.from_numpy(x)
        wide = d >= n
        if gram is None:
            gram = t @ t.T if wide else t.T @ t
        if centred:
            mean = t.mean(0)
            if wide:  # H K H with H = I − 11ᵀ/n
                rows = gram.mean(1, keepdim=True)
                gram = gram - rows - rows.T + gram.mean()
            else:  # XᵀX − n μμᵀ
                gram = gram - n * torch.outer(mean, mean)
            t = t - mean
        w, vecs = torch.linalg.eigh(gram)
        keep = w > w.max().clamp_min(0) * 1e-12
        s = w[keep].sqrt()
        u = vecs[:, keep] if wide else t @ vecs[:, keep] / s
        self.u, self.s, self.n, self.d = u.numpy(), s.numpy(), n, d
        self.frob = float((gram * gram).sum())
        self.row_sq = (torch.diagonal(gram) if wide else (t * t).sum(1)).numpy().copy()
        self.gram = gram


def _profile_evidence(lam: np.ndarray, s2: np.ndarray, z2: np.ndarray, rest: np.ndarray, n: int) -> np.ndarray:
    """Log evidence per sample with the noise precision β at its optimum, as a function of λ = α/β
    (``lam`` broadcasting against the classes' columns ``z2`` = (uᵀy)², ``rest`` = ‖y‖² − ‖uᵀy‖²):
    ``E(λ) = n/2 log(n / (res + λ‖m‖²)) − n/2 − n/2 log 2π + r/2 log λ − ½ Σ log(λ + s²)`` with
    m = s·uᵀy / (λ + s²) and res = ‖Fm − y‖²."""
    r = s2.shape[-2]
    shrink = lam / (lam + s2)  # (λ + s²)⁻¹ λ: the residual's share of each direction
    res = (shrink ** 2 * z2).sum(-2) + rest
    mm = (s2 * z2 / (lam + s2) ** 2).sum(-2)
    lam_1 = lam[..., 0, :]
    fit = res + lam_1 * mm
    return (n / 2 * np.log(n / fit) - n / 2 - n / 2 * np.log(2 * np.pi) + r / 2 * np.log(lam_1)
            - 0.5 * np.log(lam + s2).sum(-2)) / n


def _logme(dec: _Decomposition, y: np.ndarray, k: int) -> float:
    from scipy.optimize import minimize_scalar

    n, s2 = dec.n, dec.s[:, None] ** 2
    onehot = np.eye(k)[y]  # n × C: one regression per class column
    z2 = (dec.u.T @ onehot) ** 2
    rest = np.maximum(onehot.sum(0) - z2.sum(0), 0.0)  # the part of each column outside the features' span
    scale = float(s2.max())
    grid = scale * np.logspace(-12, 8, 81)  # λ = α/β over 20 decades around the largest eigenvalue
    values = _profile_evidence(grid[:, None, None] * np.ones((1, 1, k)), s2[None], z2[None], rest[None], n)
    best = np.empty(k)
    for c in range(k):
        i = int(np.argmax(values[:, c]))
        lo, hi = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, len(grid) - 1)])
        one = minimize_scalar(lambda t, c=c: -float(_profile_evidence(np.full((1, 1), np.exp(t)), s2, z2[:, [c]],
                                                                      rest[[c]], n)[0]),
                              bounds=(lo, hi), method="bounded", options={"xatol": 1e-7})
        best[c] = max(-one.fun, values[i, c])
    return float(best.mean())


def logme(features, labels) -> float:
    """LogME of ``features`` (n × d) for class ``labels`` (module docstring): mean over classes of
    the maximised log evidence of ridge regression on each one-hot column, per sample (nats). The
    evidence is maximised exactly: β in closed form given λ = α/β, λ by a log grid over 20 decades
    and a bounded scalar search (:func:`_profile_evidence`) — the maximum MacKay's fixed point seeks."""
    f = _features(features)
    y, k = _labels(labels, len(f))
    return _logme(_Decomposition(f), y, k)


def leep(source_probs, labels) -> float:
    """LEEP of the source model's class probabilities ``source_probs`` (n × Z, rows summing to 1)
    for Bob's ``labels`` (module docstring); nats, ≤ 0."""
    theta = _array(source_probs, "source_probs", ndim=2).astype(np.float64)
    if not np.isfinite(theta).all() or (theta < 0).any() or not np.allclose(theta.sum(1), 1.0, atol=1e-4):
        raise ValueError("source_probs must be finite probabilities ≥ 0 whose rows sum to 1 (softmax outputs)")
    y, k = _labels(labels, len(theta))
    n = len(theta)
    joint = np.zeros((k, theta.shape[1]))
    np.add.at(joint, y, theta)
    joint /= n  # P̂(y, z)
    pz = joint.sum(0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0)  # P̂(y | z)
    lik = np.einsum("nz,nz->n", theta, cond[y])
    return float(np.mean(np.log(lik)))


def nce(source_labels, labels) -> float:
    """Negative conditional entropy −H(Y | Z) of Bob's ``labels`` given the source model's hard
    ``source_labels`` (module docstring); nats, ≤ 0."""
    z = _array(source_labels, "source_labels", ndim=1)
    if not np.issubdtype(z.dtype, np.integer):
        raise ValueError("source_labels must be integer class indices (the source model's argmax)")
    z = np.unique(z, return_inverse=True)[1].ravel()
    y, k = _labels(labels, len(z))
    joint = np.zeros((k, int(z.max()) + 1))
    np.add.at(joint, (y, z), 1.0)
    joint /= len(z)
    pz = joint.sum(0)
    nz = joint > 0
    cond = np.divide(joint, pz[None, :], out=np.ones_like(joint), where=nz)
    return float(np.sum(joint[nz] * np.log(cond[nz])))


def _ledoit_wolf(dec: _Decomposition) -> tuple[float, float]:
    """Ledoit–Wolf shrinkage ρ of the covariance of centred data (scikit-learn's formula) and μ = tr(S)/d."""
    n, d = dec.n, dec.d
    mu = float(dec.row_sq.sum() / n / d)
    frob = dec.frob / n ** 2  # ‖S‖²_F
    beta = (float(np.sum(dec.row_sq ** 2)) / n - frob) / (d * n)
    delta = (frob - 2 * mu * float(dec.row_sq.sum()) / n + d * mu ** 2) / d
    beta = min(beta, delta)
    return (0.0 if beta <= 0 else beta / delta), mu


def _hscore(dec: _Decomposition, y: np.ndarray, k: int, shrinkage: str | None) -> float:
    counts = np.bincount(y, minlength=k).astype(np.float64)
    means = (np.eye(k)[y].T @ dec.u) / counts[:, None]
    between = counts @ means ** 2  # ‖P u_i‖²: the class-mean part of each singular direction
    if shrinkage is None:
        return float(between.sum())
    rho, mu = _ledoit_wolf(dec)
    s2 = (1 - rho) * dec.s ** 2 / dec.n
    return float(np.sum(s2 * between / (s2 + rho * mu)))


def hscore(features, labels, *, shrinkage: str | None = None) -> float:
    """H-score ``tr(cov(f)⁻¹ cov(E[f | y]))`` of ``features`` for ``labels`` (module docstring):
    ``shrinkage=None`` the published score (pseudo-inverse), ``"ledoit-wolf"`` the regularised
    ``tr(cov_ρ(f)⁻¹ (1 − ρ) cov(E[f | y]))``."""
    if shrinkage not in (None, "ledoit-wolf"):
        raise ValueError(f"shrinkage must be None (Bao et al.) or 'ledoit-wolf' (Ibrahim et al.); got {shrinkage!r}")
    f = _features(features)
    y, k = _labels(labels, len(f))
    return _hscore(_Decomposition(f, centred=True), y, k, shrinkage)


def cut_scores(features, labels) -> dict[str, float]:
    """:data:`CUT_SCORES` of one cut's ``features`` for ``labels``, sharing the decompositions: LogME
    (uncentred features), H-score and its Ledoit–Wolf form (centred, as their covariances define)."""
    f = _features(features)
    y, k = _labels(labels, len(f))
    plain = _Decomposition(f)
    centred = _Decomposition(f, plain.gram, centred=True)
    return {"logme": _logme(plain, y, k), "hscore": _hscore(centred, y, k, None),
            "hscore_lw": _hscore(centred, y, k, "ledoit-wolf")}


def hsic_unbiased(k: np.ndarray, m: np.ndarray) -> float:
    """Unbiased HSIC of two n × n Gram matrices (Song et al. 2012), n ≥ 4."""
    n = len(k)
    k, m = k.copy(), m.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(m, 0.0)
    one_k, one_m = k.sum(0), m.sum(0)
    return float((np.sum(k * m) + one_k.sum() * one_m.sum() / ((n - 1) * (n - 2)) - 2 / (n - 2) * one_k @ one_m)
                 / (n * (n - 3)))


def linear_cka(x, y, *, batch_size: int | None = None) -> float:
    """Linear CKA between representations ``x`` (n × d₁) and ``y`` (n × d₂) of the same n inputs
    (module docstring); ``batch_size`` (≥ 4) for the minibatch estimator (a last batch of fewer than
    4 samples is dropped). 0 when either representation is constant."""
    a, b = _features(x, "x"), _features(y, "y")
    if len(a) != len(b):
        raise ValueError(f"x and y must hold the same samples; got {len(a)} and {len(b)} rows")
    if batch_size is None:
        a, b = a - a.mean(0), b - b.mean(0)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        if a.shape[1] * b.shape[1] <= len(a) ** 2:
            cross = float((tb.T @ ta).pow(2).sum())
            na, nb = float((ta.T @ ta).pow(2).sum().sqrt()), float((tb.T @ tb).pow(2).sum().sqrt())
        else:
            ka, kb = ta @ ta.T, tb @ tb.T
            cross, na, nb = float((ka * kb).sum()), float(ka.pow(2).sum().sqrt()), float(kb.pow(2).sum().sqrt())
        return 0.0 if na == 0 or nb == 0 else cross / (na * nb)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 4:
        raise ValueError(f"batch_size must be None (all samples) or an integer ≥ 4; got {batch_size!r}")
    xy = xx = yy = 0.0
    for lo in range(0, len(a) - 3, batch_size):
        ba, bb = a[lo: lo + batch_size], b[lo: lo + batch_size]
        if len(ba) < 4:
            break
        ka, kb = ba @ ba.T, bb @ bb.T
        xy += hsic_unbiased(ka, kb)
        xx += hsic_unbiased(ka, ka)
        yy += hsic_unbiased(kb, kb)
    return 0.0 if xx <= 0 or yy <= 0 else float(xy / np.sqrt(xx * yy))
