import numpy as np
import pandas as pd
import pytest

from reuse_utils.analysis.stats import (
    above_chance,
    mean_ci,
    optimal_depth,
    paired_difference,
    summarize,
    trend,
)


def test_mean_ci_matches_t_interval():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == pytest.approx(2 - 4.302653 * 1 / np.sqrt(3), rel=1e-5)
    assert np.isnan(mean_ci([1.0])[1])


def test_summarize_groups():
    df = pd.DataFrame({"t": [0, 0, 1, 1], "acc": [0.1, 0.3, 0.8, 0.8]})
    s = summarize(df, "t", "acc")
    assert list(s["mean"]) == pytest.approx([0.2, 0.8])
    assert list(s["n"]) == [2, 2]
    assert s.loc[1, "ci_low"] == s.loc[1, "ci_high"] == pytest.approx(0.8)
    with pytest.raises(ValueError, match="columns"):
        summarize(df, "missing", "acc")


def test_above_chance_exact_binomial():
    r = above_chance(0.6, 100, 0.5)
    assert r["successes"] == 60 and r["p_value"] == pytest.approx(0.028443966820490392)
    assert r["ci_low"] < 0.6 < r["ci_high"]
    assert above_chance(0.5, 100, 0.5)["p_value"] > 0.4
    with pytest.raises(ValueError, match="chance must be"):
        above_chance(0.5, 10, 1.0)
    with pytest.raises(ValueError, match="n_test must be"):
        above_chance(0.5, 0, 0.1)


def test_trend():
    up = trend([0, 1, 2, 3, 4, 5], [0.1, 0.2, 0.3, 0.35, 0.5, 0.9])
    assert up["statistic"] == 1.0 and up["p_value"] < 0.01
    flat = trend([0, 1, 2, 3, 4, 5], [0.5, 0.1, 0.4, 0.2, 0.3, 0.2])
    assert flat["p_value"] > 0.05
    assert trend([0, 1, 2], [3, 2, 1], method="kendall")["statistic"] == -1.0
    with pytest.raises(ValueError, match="method must be"):
        trend([0, 1, 2], [0, 1, 2], method="pearson")


def test_optimal_depth_and_ties():
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(5):
        for k, mu in {1: 0.5, 2: 0.9, 3: 0.895, 4: 0.7}.items():
            rows.append({"cond": "a", "k": k, "seed": seed, "acc": mu + rng.normal(0, 0.01)})
    out = optimal_depth(pd.DataFrame(rows), "cond", "acc")
    row = out.iloc[0]
    assert row.best_k in (2, 3) and set(row.tied_ks) == {2, 3}
    assert row.min_tied_k == 2 and row.max_tied_k == 3


def test_paired_difference():
    r = paired_difference([0.9, 0.8, 0.85], [0.5, 0.45, 0.5])
    assert r["mean_diff"] == pytest.approx(0.3667, abs=1e-3) and r["p_value"] < 0.01
    with pytest.raises(ValueError):
        paired_difference([1.0], [0.5])
