import numpy as np
import pytest

from reuse_utils.analysis import linear


@pytest.mark.parametrize("scenario", linear.SCENARIOS)
@pytest.mark.parametrize("alpha", [1.0, -1.0, 1.5, float("nan")])
def test_invalid_alpha_is_clear_error(scenario, alpha):
    with pytest.raises(ValueError, match=r"alpha must be"):
        linear.covariance(alpha, k=3, scenario=scenario)


def test_covariances():
    p = linear.covariance(0.4, 2, "pairwise")
    assert p.shape == (4, 4) and p[0, 2] == 0.4 and p[0, 3] == 0 and p[0, 1] == 0
    g = linear.covariance(0.5, 2, "global")
    assert g[0, 3] == pytest.approx(0.125) and g[1, 2] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="scenario must be"):
        linear.covariance(0.1, 2, "banded")
    with pytest.raises(ValueError, match="k must be"):
        linear.covariance(0.1, 0)


def test_closed_form_weights_k1():
    s2 = 0.25
    for a in (-0.7, 0.0, 0.3):
        w = linear.alice_optimal_weights(a, 1, noise=0.5)
        expected = np.array([1 + s2 - a * a, a * s2])
        assert linear.cosine(w, expected) == pytest.approx(1.0)
    assert linear.cosine(linear.alice_optimal_weights(0.0), [1, 0]) == pytest.approx(1.0)
    assert linear.cosine(linear.alice_optimal_weights(0.999), [1, 1]) > 0.99
    assert linear.cosine(linear.alice_optimal_weights(-0.999), [1, -1]) > 0.99


def test_noiseless_alice_ignores_bob():
    w = linear.alice_optimal_weights(0.8, 1, noise=0.0)
    assert abs(w[1]) < 1e-9


def test_fitted_weights_match_closed_form():
    for a in (-0.6, 0.0, 0.9):
        fit = linear.fit_alice_weights(a, 1, noise=0.5, n=20_000, seed=1)
        assert linear.cosine(fit, linear.alice_optimal_weights(a, 1, noise=0.5)) > 0.99


def test_bob_accuracy_closed_form_vs_simulation_and_sign_flip():
    for scen in linear.SCENARIOS:
        for a in (-0.8, 0.0, 0.6):
            sim = linear.simulate_bob_accuracy(a, 4, scen, 0.5, n_test=20_000, seed=2)
            for mode in ("unchanged", "refit"):
                assert sim[mode] == pytest.approx(linear.closed_form_bob_accuracy(a, 4, scen, 0.5, mode), abs=0.02)
    assert linear.closed_form_bob_accuracy(-0.8, 4) < 0.5 < linear.closed_form_bob_accuracy(-0.8, 4, mode="refit")
    assert linear.closed_form_bob_accuracy(0.0, 4) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="mode must be"):
        linear.closed_form_bob_accuracy(0.1, mode="retrain")


def test_alpha_sweep_table():
    df = linear.alpha_sweep([-0.5, 0.5], [0], k=2, n_alice=500, n_bob=100, n_test=500)
    assert set(df.columns) >= {"scenario", "alpha", "seed", "mode", "accuracy", "closed_form"}
    assert len(df) == 2 * 2 * 2


def test_label_corr_is_the_common_axis():
    from reuse_utils.analysis.linear import label_corr

    assert label_corr(0.5, 4, "pairwise") == pytest.approx(0.5)
    assert label_corr(0.5, 4, "global") == pytest.approx(0.213, abs=1e-3)
    assert label_corr(-0.9, 4, "global") == pytest.approx(-0.077, abs=1e-3)
    assert label_corr(0.3, 1, "global") == pytest.approx(0.3)  # k = 1: the scenarios coincide


def test_w_star_limit_needs_observation_noise():
    from reuse_utils.analysis.linear import alice_optimal_weights

    for a in (-0.9, 0.0, 0.5, 0.99):
        assert alice_optimal_weights(a, 1, "pairwise", 0.0) == pytest.approx([1.0, 0.0], abs=1e-9)
    assert alice_optimal_weights(0.99, 1, "pairwise", 0.5)[1] > 0.6
