
import numpy as np
import pytest
import torch
from scipy.stats import chi2_contingency
from scipy.stats.contingency import crosstab

from reuse_utils.datasets import ImageDataset
from reuse_utils.generator import (
    ALPHA_MAX,
    cramers_v,
    make_pairs,
    measure_correlations,
    normalise_images,
)

GRID = [(0.0, 0.0), (0.0, 0.5), (0.6, 0.0), (1.0, 0.4), (0.3, -0.5), (0.5, 0.7), (1.0, -0.7), (0.25, 0.2)]


@pytest.mark.parametrize("t,alpha", GRID)
def test_measured_dials_match(mnist5k_train, t, alpha):
    p = make_pairs(mnist5k_train, 20_000, task_corr=t, feature_corr=alpha, seed=3)
    m = measure_correlations(p)
    assert abs(m["task_corr"] - t) <= 0.03, m
    assert abs(m["feature_corr"] - alpha) <= 0.05, m
    assert abs(m["linked_fraction"] - t) <= 0.015, m
    assert m["task_corr_dial"] == t and m["feature_corr_dial"] == alpha and m["shared_fraction"] == 0.0


@pytest.mark.parametrize("t", [0.0, 0.2, 0.6, 1.0])
def test_no_feature_correlation_from_the_task_dial(mnist5k_train, t):
    m = measure_correlations(make_pairs(mnist5k_train, 20_000, task_corr=t, feature_corr=0.0, seed=5))
    assert abs(m["feature_corr"]) <= 0.02, m
    if t > 0:  # the raw pixel correlation is contaminated by linked labels: why it is not the measure
        assert m["pixel_corr"] > 0.02


@pytest.mark.parametrize("alpha", [-0.7, -0.3, 0.3, 0.7])
def test_no_task_correlation_from_the_feature_dial(mnist5k_train, alpha):
    m = measure_correlations(make_pairs(mnist5k_train, 20_000, task_corr=0.0, feature_corr=alpha, seed=6))
    assert abs(m["task_corr"]) <= 0.03, m
    assert m["linked_fraction"] == 0.0


def test_zero_zero_is_independent(mnist5k_train):
    p = make_pairs(mnist5k_train, 20_000, 0.0, 0.0, seed=11)
    table = crosstab(p.y_alice.numpy(), p.y_bob.numpy()).count
    assert chi2_contingency(table)[1] > 0.01
    m = measure_correlations(p)
    assert abs(m["feature_corr"]) < 0.02 and abs(m["pixel_corr"]) < 0.02
    assert m["shared_fraction"] == 0.0 and not p.linked.any()
    assert m["mutual_information"] < 0.01
    # Bob's base image is drawn independently of Alice's: it coincides only by chance
    per_class = float(mnist5k_train.class_counts().float().mean())
    expected = 0.1 / per_class
    assert float((p.alice_index == p.bob_index).float().mean()) == pytest.approx(expected, abs=4 * (expected / 20_000) ** 0.5)


def test_feature_corr_rises_with_dial(mnist5k_train):
    vals = [measure_correlations(make_pairs(mnist5k_train, 5000, 0.0, a, seed=0))["feature_corr"]
            for a in (-0.6, -0.3, 0.0, 0.3, 0.6)]
    assert vals == sorted(vals)


@pytest.mark.parametrize("alpha", [-ALPHA_MAX, -0.4, 0.0, 0.4, ALPHA_MAX])
def test_overlay_is_the_stated_formula_in_range(mnist5k_train, alpha):
    p = make_pairs(mnist5k_train, 500, 0.5, alpha, seed=2)
    xa = normalise_images(mnist5k_train.images[p.alice_index])
    xb = normalise_images(mnist5k_train.images[p.bob_index])
    s = (1 - alpha**2) ** 0.5
    assert torch.allclose(p.panel("alice"), xa)
    assert torch.allclose(p.panel("bob"), (alpha * xa + s * xb) / (abs(alpha) + s), atol=1e-6)
    assert p.x.min() >= -1.0 and p.x.max() <= 1.0
    assert s / (abs(alpha) + s) > 0.5  # Bob's own image keeps the larger weight up to ALPHA_MAX


def test_linked_mask(mnist5k_train):
    p = make_pairs(mnist5k_train, 5000, 0.4, 0.3, seed=1)
    assert torch.equal(p.y_bob[p.linked], p.y_alice[p.linked])
    assert abs(float(p.linked.float().mean()) - 0.4) < 0.03
    assert torch.equal(p.to("cpu").linked, p.linked)


def test_instance_share_control(mnist5k_train):
    p = make_pairs(mnist5k_train, 3000, 0.8, 0.0, instance_share=0.4, seed=2)
    assert torch.equal(p.shared & p.linked, p.shared)
    assert torch.equal(p.alice_index[p.shared], p.bob_index[p.shared])
    same = (p.panel("alice") == p.panel("bob")).flatten(1).all(1)
    assert torch.equal(same & p.shared, p.shared)
    assert abs(float(p.shared.float().mean()) - 0.4) < 0.03
    assert measure_correlations(p)["shared_fraction"] == pytest.approx(float(p.shared.float().mean()))


def test_labels_follow_panels(mnist5k_train):
    p = make_pairs(mnist5k_train, 2000, 0.3, 0.1, seed=5)
    assert torch.equal(mnist5k_train.labels[p.alice_index], p.y_alice)
    assert torch.equal(mnist5k_train.labels[p.bob_index], p.y_bob)
    a = mnist5k_train.images[p.alice_index].float() / 127.5 - 1
    assert torch.allclose(p.panel("alice"), a)


def test_layouts_and_regions(mnist5k_train):
    h = make_pairs(mnist5k_train, 10, seed=0)
    v = make_pairs(mnist5k_train, 10, layout="vertical", seed=0)
    assert h.x.shape == (10, 1, 28, 56) and v.x.shape == (10, 1, 56, 28)
    assert h.regions == {"alice": (0, 28, 0, 28), "bob": (0, 28, 28, 56)}
    assert v.regions == {"alice": (0, 28, 0, 28), "bob": (28, 56, 0, 28)}
    assert torch.equal(h.panel("bob"), v.panel("bob"))
    assert h.x.dtype == torch.float32 and float(h.x.min()) >= -1 and float(h.x.max()) <= 1


def test_determinism(mnist5k_train):
    a = make_pairs(mnist5k_train, 1000, 0.5, 0.2, seed=9)
    b = make_pairs(mnist5k_train, 1000, 0.5, 0.2, seed=9)
    c = make_pairs(mnist5k_train, 1000, 0.5, 0.2, seed=10)
    assert torch.equal(a.x, b.x) and torch.equal(a.y_bob, b.y_bob) and torch.equal(a.shared, b.shared)
    assert not torch.equal(a.x, c.x)


def test_n_may_exceed_base_set(digits_train):
    p = make_pairs(digits_train, 5 * len(digits_train), 0.5, seed=0)
    assert len(p) == 5 * len(digits_train)


def test_test_pairs_use_only_test_images(mnist5k_train, mnist5k_test):
    p = make_pairs(mnist5k_test, 4000, 0.5, 0.2, seed=0)
    assert int(p.alice_index.max()) < len(mnist5k_test) and int(p.bob_index.max()) < len(mnist5k_test)
    train_bytes = {bytes(x.numpy()) for x in mnist5k_train.images}
    panels = ((p.panel("bob")[:300] + 1) * 127.5).round().to(torch.uint8)
    assert not any(bytes(x.numpy()) in train_bytes for x in panels)


def test_label_map_permutation(mnist5k_train):
    perm = [(i + 3) % 10 for i in range(10)]
    p = make_pairs(mnist5k_train, 20_000, 0.6, label_map=perm, seed=1)
    m = measure_correlations(p)
    assert abs(m["task_corr"] - 0.6) <= 0.03
    linked = p.y_bob == torch.tensor(perm)[p.y_alice]
    assert abs(float(linked.float().mean()) - (0.6 + 0.4 / 10)) < 0.02


def _binary(ds: ImageDataset) -> ImageDataset:
    return ds.select_classes([3, 8])


@pytest.mark.parametrize("t", [-1.0, -0.5, 0.5])
def test_binary_signed_phi(mnist5k_train, t):
    p = make_pairs(_binary(mnist5k_train), 20_000, t, seed=4)
    assert abs(measure_correlations(p)["task_corr"] - t) <= 0.03


def test_cross_domain_bob_data(mnist5k_train, digits_train):
    p = make_pairs(mnist5k_train, 500, 0.5, bob_data=digits_train, seed=0)
    assert p.x.shape == (500, 1, 28, 56)
    assert p.bob_classes == digits_train.classes
    assert torch.equal(digits_train.labels[p.bob_index], p.y_bob)


def test_cross_domain_channels(mnist5k_train):
    rgb = ImageDataset(torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8),
                       torch.arange(40) % 10, [str(i) for i in range(10)], "rgb")
    p = make_pairs(mnist5k_train, 50, bob_data=rgb, seed=0)
    assert p.x.shape == (50, 3, 28, 56)
    a = p.panel("alice")
    assert torch.equal(a[:, 0], a[:, 1]) and torch.equal(a[:, 1], a[:, 2])  # grey replicated


def test_randomize_panel(mnist5k_train):
    p = make_pairs(mnist5k_train, 20_000, 1.0, 0.5, seed=0)
    r = p.randomize_panel("bob", seed=1)
    assert torch.equal(r.panel("alice"), p.panel("alice"))
    assert not torch.equal(r.panel("bob"), p.panel("bob"))
    assert torch.equal(r.y_bob, p.y_bob) and r.randomized == ("bob",)
    assert torch.equal(p.randomize_panel("bob", seed=1).x, r.x)
    assert not p.randomized  # original untouched
    # the redrawn panel carries no information on either label or on Alice's panel
    assert measure_correlations(r)["pixel_corr"] < 0.02 and abs(measure_correlations(r)["feature_corr"]) < 0.02
    with pytest.raises(ValueError, match="which must be one of"):
        p.randomize_panel("carol", seed=0)


def test_dataset_protocol_and_to(mnist5k_train):
    p = make_pairs(mnist5k_train, 8, seed=0)
    x, ya, yb = p[3]
    assert x.shape == (1, 28, 56) and len(p) == 8
    q = p.to("cpu")
    assert q.device.type == "cpu" and torch.equal(q.x, p.x)
    loader = torch.utils.data.DataLoader(p, batch_size=4)
    assert next(iter(loader))[0].shape == (4, 1, 28, 56)


def test_a_large_draw_keeps_its_dials(mnist5k_train):
    """60,000 pairs (more than the base set: drawn with replacement) hit the dials they were asked for;
    how fast is a benchmark's question, not a test's."""
    m = measure_correlations(make_pairs(mnist5k_train, 60_000, 0.5, 0.2, seed=0))
    assert m["task_corr"] == pytest.approx(0.5, abs=0.02) and m["feature_corr"] == pytest.approx(0.2, abs=0.03)


@pytest.mark.parametrize("kwargs,match", [
    ({"task_corr": 1.2}, r"task_corr must be in \[0.0, 1.0\]"),
    ({"task_corr": -0.2}, r"task_corr must be in \[0.0, 1.0\]"),
    ({"task_corr": float("nan")}, "task_corr must be a number"),
    ({"task_corr": 0.5, "feature_corr": -0.8}, r"feature_corr must be in \[-0.7, 0.7\]"),
    ({"task_corr": 0.3, "feature_corr": 0.75}, r"feature_corr must be in \[-0.7, 0.7\]"),
    ({"task_corr": 0.3, "instance_share": 0.5}, r"instance_share must be in \[0.0, 0.3\]"),
    ({"n": 0}, r"n must be an integer in \[1, 10\*\*8\]"),
    ({"n": 2.5}, r"n must be an integer in \[1, 10\*\*8\]"),
    ({"n": 10**12}, r"n must be an integer in \[1, 10\*\*8\]"),
    ({"layout": "diagonal"}, "layout must be one of"),
    ({"seed": -1}, "seed must be"),
    ({"task_corr": 0.5, "label_map": [0] * 10}, "label_map must be a bijection"),
    ({"task_corr": 0.5, "label_map": [1, 0]}, "label_map must have one entry per Alice class"),
    ({"task_corr": 0.5, "instance_share": 0.2, "label_map": [(i + 1) % 10 for i in range(10)]},
     "instance_share must be 0 with a non-identity label_map"),
])
def test_bad_input(mnist5k_train, kwargs, match):
    args = {"n": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_pairs(mnist5k_train, **args)


def test_bad_input_cross_domain(mnist5k_train):
    two = mnist5k_train.select_classes([0, 1])
    with pytest.raises(ValueError, match="instance_share must be 0 when bob_data"):
        make_pairs(mnist5k_train, 10, 0.5, 0.2, bob_data=mnist5k_train, instance_share=0.1)
    with pytest.raises(ValueError, match="pass a bijective label_map"):
        make_pairs(mnist5k_train, 10, 0.5, bob_data=two)
    make_pairs(mnist5k_train, 10, 0.0, bob_data=two)  # unrelated tasks need no map
    neg = make_pairs(two, 2000, -0.5, 0.3, seed=0)  # the dials are independent: any (t, α) is reachable
    assert measure_correlations(neg)["task_corr"] == pytest.approx(-0.5, abs=0.06)


def test_empty_or_singleton_class(mnist5k_train):
    ds = ImageDataset(mnist5k_train.images[:20], mnist5k_train.labels[:20].clamp(max=8),
                      [str(i) for i in range(10)], "holey")
    with pytest.raises(ValueError, match="no instance of class"):
        make_pairs(ds, 10)
    lone = ImageDataset(torch.zeros(3, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 0, 1]), ["a", "b"], "lone")
    assert len(make_pairs(lone, 10, 1.0)) == 10  # a single image per class is enough: instances may repeat


def test_cramers_v_known_values():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, 50_000)
    assert abs(cramers_v(x, x)) == pytest.approx(1.0, abs=1e-3)
    assert abs(cramers_v(x, rng.integers(0, 4, 50_000))) < 0.02
    assert cramers_v(np.zeros(10), np.arange(10) % 2) == 0.0
    b = rng.integers(0, 2, 50_000)
    assert cramers_v(b, 1 - b) == pytest.approx(-1.0, abs=1e-3)


def test_show_pairs(mnist5k_train):
    from reuse_utils.companion.plots import show_pairs

    fig = show_pairs(make_pairs(mnist5k_train, 12, 0.5, 0.5, instance_share=0.2, seed=0), n=8)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 8 and all(t.startswith("A: ") and "| B: " in t for t in titles)
    with pytest.raises(ValueError, match="n must be"):
        show_pairs(make_pairs(mnist5k_train, 4, seed=0), n=0)


@pytest.mark.parametrize("t", [0.0, 0.5])
def test_bob_labels_are_uniform_where_unlinked(mnist5k_train, t):
    """Bob's label of an unlinked pair is drawn uniformly from all K classes (at t = 0 every pair is
    unlinked): each class's count is binomial around n/K — a chi-square test at α = 1e-6 — and none
    is missing (a draw from K − 1 classes leaves class K − 1 empty)."""
    from scipy.stats import chisquare

    p = make_pairs(mnist5k_train, 20_000, t, 0.0, seed=11)
    free = p.y_bob[~p.linked]
    counts = torch.bincount(free, minlength=10)
    assert len(counts) == 10 and int(counts.min()) > 0
    assert chisquare(counts.numpy()).pvalue > 1e-6
    if t == 0:
        assert not bool(p.linked.any())
