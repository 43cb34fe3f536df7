import math

import pytest
import torch

import reuse_utils as ru
from reuse_utils.generator import glm_task_corr, glm_theta, make_glm_pairs, measure_correlations


@pytest.mark.parametrize("alpha,theta", [(0.0, 0.0), (0.5, 0.0), (0.9, 0.0), (0.9, math.pi / 3), (0.6, math.pi / 2),
                                         (-0.7, 0.0), (0.8, 2.5), (0.3, 1.0)])
def test_phi_matches_the_closed_form(alpha, theta):
    p = make_glm_pairs(20_000, alpha, theta, dim=6, seed=1)
    m = measure_correlations(p)
    closed = 2 / math.pi * math.asin(alpha * math.cos(theta))
    assert p.task_corr == pytest.approx(closed)
    assert m["task_corr"] == pytest.approx(closed, abs=0.03), m
    assert m["task_corr_dial"] == pytest.approx(closed) and m["feature_corr_dial"] == alpha


def test_blocks_are_correlated_by_alpha_only():
    p = make_glm_pairs(20_000, 0.6, math.pi / 2, dim=4, seed=2)
    assert p.x.shape == (20_000, 8) and p.x.dtype == torch.float32
    za, zb = p.panel("alice").double(), p.panel("bob").double()
    c = torch.corrcoef(torch.cat([za, zb], 1).T)
    assert torch.allclose(torch.diagonal(c[:4, 4:]), torch.full((4,), 0.6, dtype=torch.float64), atol=0.03)
    off = c[:4, 4:] - torch.diag(torch.diagonal(c[:4, 4:]))
    assert off.abs().max() < 0.03
    assert set(p.y_alice.unique().tolist()) == {0, 1} and abs(float(p.y_alice.float().mean()) - 0.5) < 0.02
    assert abs(measure_correlations(p)["task_corr"]) < 0.03  # θ = π/2: features correlate, tasks do not


def test_theta_for_a_task_correlation_and_reachability():
    for t, a in [(0.0, 0.5), (0.3, 0.6), (0.5, -0.8), (0.2, 0.9)]:
        assert glm_task_corr(a, glm_theta(t, a)) == pytest.approx(t, abs=1e-9)
    assert glm_theta(0.0, 0.0) == pytest.approx(math.pi / 2)
    with pytest.raises(ValueError, match="not reachable"):
        glm_theta(0.5, 0.3)
    with pytest.raises(ValueError, match="not reachable"):
        glm_theta(0.1, 0.0)


def test_deterministic_and_noise():
    a, b = make_glm_pairs(100, 0.5, 0.3, seed=4), make_glm_pairs(100, 0.5, 0.3, seed=4)
    assert torch.equal(a.x, b.x) and torch.equal(a.y_bob, b.y_bob)
    clean, noisy = make_glm_pairs(1000, 0.5, 0.0, seed=4), make_glm_pairs(1000, 0.5, 0.0, noise=0.5, seed=4)
    assert torch.equal(clean.y_alice, noisy.y_alice) and not torch.equal(clean.x, noisy.x)


@pytest.mark.parametrize("kwargs,match", [
    ({"alpha": 1.0}, r"alpha must be a number in \(-1, 1\)"),
    ({"alpha": True}, r"alpha must be a number in \(-1, 1\)"),
    ({"theta": -0.1}, r"theta must be a number in \[0, π\]"),
    ({"theta": 4.0}, r"theta must be a number in \[0, π\]"),
    ({"dim": 0}, r"dim must be an integer in \[1, 4096\]"),
    ({"dim": 1, "theta": 1.0}, "theta must be 0 or π when dim = 1"),
    ({"n": 0}, r"n must be an integer in \[1, 10\*\*8\]"),
    ({"noise": -1.0}, r"noise must be a number in \[0, 10\]"),
    ({"seed": -3}, "seed must be an integer"),
])
def test_bad_input(kwargs, match):
    args = {"n": 10, "alpha": 0.5, "theta": 0.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_glm_pairs(args.pop("n"), args.pop("alpha"), args.pop("theta"), **args)


def test_public_entry_point_and_mlp_on_flat_inputs():
    p = ru.make_glm_pairs(64, 0.5, 0.0, dim=3, seed=0)
    model = ru.build_model("mlp", p.input_shape, 2, width=16)
    assert p.input_shape == (6,) and model(p.x).shape == (64, 2)
    with pytest.raises(ValueError, match="input_shape"):
        ru.build_model("cnn", (6,), 2)
