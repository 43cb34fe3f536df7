"""Readings, sliders and when to build them."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from reuse_utils.companion import teaching  # noqa: E402

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture
def no_front_end(monkeypatch):
    for name in (*teaching.FRONT_END_ENV, "REUSE_NO_WIDGETS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_auto_builds_sliders_only_in_a_front_end(no_front_end):
    assert teaching.resolve_interactive("auto") is False  # papermill / nbclient: no front-end variables
    no_front_end.setenv("JPY_SESSION_NAME", "/home/me/04.ipynb")  # set by jupyter_server in its kernels
    assert teaching.resolve_interactive("auto") is True
    assert teaching.resolve_interactive(None) is True
    assert teaching.resolve_interactive(False) is False
    no_front_end.setenv("REUSE_NO_WIDGETS", "1")
    assert teaching.resolve_interactive("auto") is False
    assert teaching.resolve_interactive(True) is True


@pytest.mark.parametrize("bad", ["yes", 1, 0.5])
def test_interactive_rejects_other_values(bad):
    with pytest.raises(ValueError, match="interactive must be True, False or 'auto'"):
        teaching.resolve_interactive(bad)


def test_dials_update_on_release_with_readable_labels():
    pytest.importorskip("ipywidgets")
    sel = teaching.Dial("task correlation t (Cramér's V)", 0.33, options=[0.0, 0.3, 0.6]).widget()
    rng = teaching.Dial("feature correlation α", 0.3, low=-0.7, high=0.7, step=0.05).widget()
    for widget in (sel, rng):
        assert widget.continuous_update is False
    assert sel.description == "task correlation t (Cramér's V)" and sel.value == 0.3  # nearest option
    assert rng.min == -0.7 and rng.max == 0.7
    with pytest.raises(ValueError, match="options, or low, high and step"):
        teaching.Dial("t", 0.1)
    with pytest.raises(ValueError, match="must not be empty"):
        teaching.Dial("t", 0.1, options=[])


def test_explore_draws_the_starting_figure_and_says_what_to_look_for():
    pytest.importorskip("ipywidgets")
    seen = []

    def draw(t):
        seen.append(t)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [t, t])
        return fig

    box = teaching.explore(draw, "the line rises with t", t=teaching.Dial("t", 0.5, options=[0.0, 0.5, 1.0]))
    assert seen == [0.5]
    assert "the line rises with t" in box.children[0].value
    slider = box.children[1]
    slider.value = 1.0
    assert seen == [0.5, 1.0]
    with pytest.raises(ValueError, match="at least one Dial"):
        teaching.explore(draw, "x")
    plt.close("all")


@pytest.mark.parametrize("path", sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py")), ids=lambda p: p.name)
def test_every_slider_updates_on_release(path):
    """Sliders go through ``ru.teaching.Dial`` (continuous_update=False) or say so themselves."""
    for call in re.findall(r"w\.\w*Slider\([^)]*\)", path.read_text(), flags=re.S):
        assert "continuous_update=False" in call, f"{path.name}: {call}"


def test_a_test_is_read_with_why_it_fails():
    from reuse_utils.companion.teaching import test_reading

    assert test_reading({"effect": 0.2, "p_value": 0.01, "passed": True}).endswith("— holds")
    assert test_reading({"effect": 0.2, "p_value": 0.01, "passed": True}, would=True).endswith("— would hold")
    assert "wrong way" in test_reading({"effect": -0.2, "p_value": 0.01, "direction_ok": False, "passed": False})
    few = test_reading({"effect": 0.2, "p_value": 0.125, "p_min": 0.125, "passed": False})
    assert "0.125 is the smallest p these units allow" in few and "wrong way" not in few
    assert "Holm-adjusted p = 0.08" in test_reading({"effect": 0.1, "p_value": 0.02, "p_holm": 0.08})
    assert test_reading({"effect": 0.1, "p_value": float("nan")}).endswith("not testable with these data")
    assert test_reading({"effect": 0.1, "p_value": 0.01, "verdict": "not tested"}).endswith("not testable with these data")


def test_protocol_health_is_read_with_its_failing_cells():
    from reuse_utils.companion.teaching import health_reading

    bad = {"passed": False, "effect": 0.4, "details": {"bound": 0.1, "failing_cells": ["a", "b", "c", "d"],
                                                        "cells": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1},
                                                        "alice_capped_fraction": 0.5}}
    text = health_reading("D1", bad, "C1")
    assert text.startswith("**D1 does not hold**") and "4 of 5 cells exceed it, e.g. a, b, c;" in text
    assert "50% of the Alices" in text and "Where D1 fails, some models behind C1" in text
    good = {"passed": True, "effect": 0.0, "details": {"bound": 0.1, "failing_cells": [], "cells": {"a": 1}}}
    assert health_reading("D2", good, "C2").endswith("At most 10% of the models in any cell behind C2 stopped at a cap "
                                                     "or at a grid's end: the rest stopped on their own, with choices "
                                                     "inside their grids.")


def test_claim_word_says_not_tested_apart_from_not_supported():
    from reuse_utils.companion.teaching import claim_word

    assert claim_word({"passed": True, "verdict": "pass"}) == "supported"
    assert claim_word({"passed": False, "verdict": "fail"}) == "not supported"
    assert claim_word({"passed": False, "verdict": "not tested"}) == "not tested"
    assert claim_word({"passed": True}) == "supported"  # a record from before verdicts
