"""Transferability estimators and linear CKA against independent implementations of the published
formulas (dense matrices, loops, a generic optimiser), hand-derived values and invariances."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from sklearn.covariance import LedoitWolf

from reuse_utils.analysis import transferability as T


def _data(n=120, d=15, k=4, seed=0, signal=1.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    f = rng.normal(size=(n, d)) + signal * np.eye(k, d)[y] * 2
    return f, y


# ---- independent references -------------------------------------------------------------------

def ref_logme(f, y):
    """Log evidence of ridge regression per one-hot column, written densely (d × d) and maximised over
    (log α, log β) with Nelder–Mead from several starts."""
    n, d = f.shape
    out = []
    for c in np.unique(y):
        t = (y == c).astype(float)

        def neg(p, t=t):
            a, b = np.exp(p)
            A = a * np.eye(d) + b * f.T @ f
            m = b * np.linalg.solve(A, f.T @ t)
            ev = (n / 2 * np.log(b) + d / 2 * np.log(a) - n / 2 * np.log(2 * np.pi) - b / 2 * np.sum((f @ m - t) ** 2)
                  - a / 2 * m @ m - np.linalg.slogdet(A)[1] / 2)
            return -ev

        best = min((minimize(neg, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
                    for x0 in ([0.0, 0.0], [3.0, 1.0], [-3.0, 2.0])), key=lambda r: r.fun)
        out.append(-best.fun / n)
    return float(np.mean(out))


def ref_logme_fixed_point(f, y, iters=20000):
    """LogME by MacKay's fixed point as in You et al. (2021), Algorithm 1, dense."""
    n, d = f.shape
    sig = np.linalg.eigvalsh(f.T @ f)
    out = []
    for c in np.unique(y):
        t = (y == c).astype(float)
        a = b = 1.0
        for _ in range(iters):
            A = a * np.eye(d) + b * f.T @ f
            m = b * np.linalg.solve(A, f.T @ t)
            g = np.sum(b * sig / (a + b * sig))
            a, b = g / (m @ m), (n - g) / np.sum((f @ m - t) ** 2)
        A = a * np.eye(d) + b * f.T @ f
        m = b * np.linalg.solve(A, f.T @ t)
        ev = (n / 2 * np.log(b) + d / 2 * np.log(a) - n / 2 * np.log(2 * np.pi) - b / 2 * np.sum((f @ m - t) ** 2)
              - a / 2 * m @ m - np.linalg.slogdet(A)[1] / 2)
        out.append(ev / n)
    return float(np.mean(out))


def ref_leep(theta, y):
    n, z = theta.shape
    labels = np.unique(y)
    joint = np.array([[theta[y == c, j].sum() / n for j in range(z)] for c in labels])
    cond = joint / joint.sum(0)
    total = 0.0
    for i in range(n):
        c = np.searchsorted(labels, y[i])
        total += np.log(sum(cond[c, j] * theta[i, j] for j in range(z)))
    return total / n


def ref_nce(zs, y):
    n = len(y)
    h = 0.0
    for zv in np.unique(zs):
        pz = np.mean(zs == zv)
        for c in np.unique(y):
            pyz = np.mean((zs == zv) & (y == c))
            if pyz > 0:
                h -= pyz * np.log(pyz / pz)
    return -h if n else np.nan


def ref_hscore(f, y, shrink=False):
    fc = f - f.mean(0)
    cov_f = fc.T @ fc / len(f)
    g = np.zeros_like(f)
    for c in np.unique(y):
        g[y == c] = f[y == c].mean(0)
    gc = g - g.mean(0)
    cov_g = gc.T @ gc / len(f)
    if shrink:
        lw = LedoitWolf(assume_centered=False).fit(f)
        return float(np.trace(np.linalg.pinv(lw.covariance_) @ ((1 - lw.shrinkage_) * cov_g)))
    return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-12, hermitian=True) @ cov_g))


def ref_cka(x, y):
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    k, m = x @ x.T, y @ y.T
    hsic = np.trace(k @ h @ m @ h)
    return hsic / np.sqrt(np.trace(k @ h @ k @ h) * np.trace(m @ h @ m @ h))


# ---- agreement ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n,d,signal", [(120, 15, 1.0), (60, 90, 0.5), (200, 4, 0.0)])
def test_logme_matches_dense_evidence_maximum(n, d, signal):
    f, y = _data(n, d, signal=signal)
    assert T.logme(f, y) == pytest.approx(ref_logme(f, y), rel=1e-3)


def test_logme_matches_the_papers_fixed_point():
    f, y = _data(100, 12)
    assert T.logme(f, y) == pytest.approx(ref_logme_fixed_point(f, y), rel=1e-3)


def test_logme_by_hand_one_feature():
    # n = 2, d = 1, f = (1, -1), labels (0, 1): by symmetry both columns give the same evidence;
    # t = (1, 0): z = uᵀt = 1/√2 (u = f/√2, s = √2), rest = 1/2. Profile E(λ) maximised by a 1-d grid.
    f = np.array([[1.0], [-1.0]])
    y = np.array([0, 1])
    lam = np.logspace(-8, 8, 200001)
    s2, z2, rest, n = 2.0, 0.5, 0.5, 2
    res = (lam / (lam + s2)) ** 2 * z2 + rest
    mm = s2 * z2 / (lam + s2) ** 2
    e = (n / 2 * np.log(n / (res + lam * mm)) - n / 2 - n / 2 * np.log(2 * np.pi) + 0.5 * np.log(lam)
         - 0.5 * np.log(lam + s2)) / n
    assert T.logme(f, y) == pytest.approx(e.max(), rel=1e-6)


def test_leep_and_nce_match_loops():
    rng = np.random.default_rng(3)
    theta = rng.dirichlet(np.ones(6), 80)
    y = rng.integers(0, 3, 80)
    assert T.leep(theta, y) == pytest.approx(ref_leep(theta, y), rel=1e-9)
    zs = theta.argmax(1)
    assert T.nce(zs, y) == pytest.approx(ref_nce(zs, y), rel=1e-9)


def test_leep_nce_by_hand():
    # a source that names Bob's class with certainty: P̂(y|z) is a permutation, LEEP = NCE = 0
    y = np.array([0, 1, 2, 0, 1, 2])
    theta = np.eye(3)[(y + 1) % 3]
    assert T.leep(theta, y) == pytest.approx(0.0, abs=1e-12)
    assert T.nce((y + 1) % 3, y) == pytest.approx(0.0, abs=1e-12)
    # a constant source: NCE = −H(Y) = −log 3; LEEP with uniform θ = log of the label frequencies
    assert T.nce(np.zeros(6, int), y) == pytest.approx(-np.log(3))
    assert T.leep(np.full((6, 4), 0.25), y) == pytest.approx(-np.log(3))


@pytest.mark.parametrize("n,d", [(150, 10), (40, 60)])
def test_hscore_matches_dense_formula(n, d):
    f, y = _data(n, d)
    assert T.hscore(f, y) == pytest.approx(ref_hscore(f, y), rel=1e-3)
    assert T.hscore(f, y, shrinkage="ledoit-wolf") == pytest.approx(ref_hscore(f, y, shrink=True), rel=1e-3)


def test_hscore_is_c_minus_one_once_d_reaches_n():
    # the published score cannot rank cuts with d ≥ n − 1: any features give C − 1
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 30)
    assert T.hscore(rng.normal(size=(30, 40)), y) == pytest.approx(4.0, rel=1e-9)
    assert T.hscore(rng.normal(size=(30, 40)), y, shrinkage="ledoit-wolf") < 4.0


def test_cut_scores_equal_the_single_scores():
    f, y = _data(90, 20)
    both = T.cut_scores(f, y)
    assert both["logme"] == pytest.approx(T.logme(f, y), rel=1e-12)
    assert both["hscore"] == pytest.approx(T.hscore(f, y), rel=1e-12)
    assert both["hscore_lw"] == pytest.approx(T.hscore(f, y, shrinkage="ledoit-wolf"), rel=1e-12)


@pytest.mark.parametrize("n,d1,d2", [(50, 8, 5), (40, 70, 90)])
def test_linear_cka_matches_hsic_form(n, d1, d2):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(n, d1))
    y = x[:, :min(d1, d2)] @ rng.normal(size=(min(d1, d2), d2)) + rng.normal(size=(n, d2))
    assert T.linear_cka(x, y) == pytest.approx(ref_cka(x, y), rel=1e-9)


# ---- invariances --------------------------------------------------------------------------------

def test_label_permutation_leaves_every_score():
    f, y = _data(100, 12)
    perm = np.array([2, 0, 3, 1])[y] * 7 + 5  # renamed classes, other integers
    theta = np.random.default_rng(0).dirichlet(np.ones(5), 100)
    for fn in (T.logme, T.hscore, lambda a, b: T.hscore(a, b, shrinkage="ledoit-wolf")):
        assert fn(f, perm) == pytest.approx(fn(f, y), rel=1e-10)
    assert T.leep(theta, perm) == pytest.approx(T.leep(theta, y), rel=1e-12)
    assert T.nce(theta.argmax(1), perm) == pytest.approx(T.nce(theta.argmax(1), y), rel=1e-12)


def test_hscore_invariant_to_invertible_linear_maps_and_logme_is_not_standardised():
    f, y = _data(150, 6)
    a = np.random.default_rng(2).normal(size=(6, 6)) + 3 * np.eye(6)
    assert T.hscore(f @ a + 4.0, y) == pytest.approx(T.hscore(f, y), rel=1e-8)
    # LogME scores the features as given: an affine map changes it (no standardisation inside)
    assert T.logme(f * 10 + 3, y) != pytest.approx(T.logme(f, y), rel=1e-3)


def test_cka_invariances_and_range():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 12))
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    assert T.linear_cka(x, x) == pytest.approx(1.0)
    assert T.linear_cka(x, 3.5 * x @ q + 1.0) == pytest.approx(1.0)
    v = T.linear_cka(x, rng.normal(size=(80, 7)))
    assert 0.0 <= v < 0.3
    assert T.linear_cka(x, np.zeros((80, 3))) == 0.0


def ref_hsic_u(k, m):
    """Unbiased HSIC as the U-statistic of Song et al. (2012), by brute force over ordered 4-tuples of
    distinct indices: h = (1/4!) Σ over the 24 orderings of k_ij (m_ij + m_kl − 2 m_ik)."""
    import itertools

    n = len(k)
    total, count = 0.0, 0
    for i, j, q, r in itertools.permutations(range(n), 4):
        total += k[i, j] * (m[i, j] + m[q, r] - 2 * m[i, q])
        count += 1
    return total / count


def test_unbiased_hsic_matches_the_u_statistic_on_offset_data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(9, 3)) + 5.0  # offsets: a dropped or sign-flipped term shows here
    y = x[:, :2] @ rng.normal(size=(2, 4)) + rng.normal(size=(9, 4)) - 3.0
    k, m = x @ x.T, y @ y.T
    assert T.hsic_unbiased(k, m) == pytest.approx(ref_hsic_u(k, m), rel=1e-9)
    assert T.hsic_unbiased(k, k) == pytest.approx(ref_hsic_u(k, k), rel=1e-9)


def test_minibatch_cka_is_stable_across_batch_sizes_on_offset_data():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2400, 20)) + 4.0
    y = x[:, :10] + 0.7 * rng.normal(size=(2400, 10)) - 2.0
    full = T.linear_cka(x, y)
    for b in (100, 300, 800):
        assert T.linear_cka(x, y, batch_size=b) == pytest.approx(full, abs=0.03)


def test_minibatch_cka_is_stable_across_batch_sizes():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2400, 20))
    y = x[:, :10] + 0.7 * rng.normal(size=(2400, 10))
    full = T.linear_cka(x, y)
    for b in (100, 300, 800):
        assert T.linear_cka(x, y, batch_size=b) == pytest.approx(full, abs=0.03)


def test_scores_accept_torch_and_flatten_trailing_dims():
    f, y = _data(60, 12)
    t = torch.from_numpy(f).float().reshape(60, 3, 4)
    assert T.logme(t, torch.from_numpy(y)) == pytest.approx(T.logme(f.astype(np.float32), y), rel=1e-6)


def test_bad_inputs_name_the_argument():
    f, y = _data(30, 5)
    with pytest.raises(ValueError, match="labels must have one entry per sample"):
        T.logme(f, y[:-1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        T.hscore(f, np.zeros(30, int))
    with pytest.raises(ValueError, match="features must be finite"):
        T.logme(np.full((30, 5), np.nan), y)
    with pytest.raises(ValueError, match="source_probs must be"):
        T.leep(np.ones((30, 3)), y)
    with pytest.raises(ValueError, match="shrinkage must be"):
        T.hscore(f, y, shrinkage="oas")
    with pytest.raises(ValueError, match="batch_size must be"):
        T.linear_cka(f, f, batch_size=2)
    with pytest.raises(ValueError, match="x and y must hold the same samples"):
        T.linear_cka(f, f[:10])
