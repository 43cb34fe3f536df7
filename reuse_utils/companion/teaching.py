"""What the notebooks use to teach: readings of this run's numbers, sliders that update on release,
and when to build them.

A *reading* is a short Markdown paragraph formatted from the results just computed (never typed
in), shown under the figure it reads. An *explorer* is a figure redrawn from cached results by
sliders that fire once, when released (``continuous_update=False``), with a line saying what to
look for. Sliders are built by default when a person runs the notebook in a Jupyter front end and
never in papermill runs (papermill#723: a widget's output is not captured there).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reuse_utils.analysis.ledger import verdict_text

__all__ = ["Dial", "claim_word", "explore", "health_reading", "in_front_end", "resolve_interactive", "say", "test_reading"]

#: Environment variables a Jupyter front end sets in the kernels it starts (jupyter_server ≥ 2 sets
#: ``JPY_SESSION_NAME``; VS Code's Jupyter extension sets ``VSCODE_PID``); nbclient and papermill set none.
FRONT_END_ENV = ("JPY_SESSION_NAME", "VSCODE_PID")


def in_front_end() -> bool:
    """True when this kernel serves a person's front end (JupyterLab, Notebook ≥ 7, VS Code, Colab)."""
    if os.environ.get("REUSE_NO_WIDGETS"):
        return False
    return "google.colab" in sys.modules or any(os.environ.get(name) for name in FRONT_END_ENV)


def resolve_interactive(interactive: bool | str | None) -> bool:
    """The parameters cell's ``interactive``: ``True``/``False`` as given; ``"auto"`` (or ``None``)
    → build the sliders only in a front end (:func:`in_front_end`), never under papermill."""
    if interactive is None or interactive == "auto":
        return in_front_end()
    if isinstance(interactive, bool):
        return interactive
    raise ValueError(f"interactive must be True, False or 'auto'; got {interactive!r}")


def say(text: str) -> None:
    """Show ``text`` (Markdown) under the cell: rendered in a notebook, plain on a terminal."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython comes with jupyterlab
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display(Markdown(text))


def claim_word(claim: dict) -> str:
    """A recorded claim's verdict (:func:`~reuse_utils.analysis.ledger.verdict_text`) as the notebooks say
    it: "supported", "not supported" or "not tested"."""
    return {"PASS": "supported", "FAIL": "not supported"}.get(verdict_text(claim), "not tested")


def test_reading(r: dict, *, would: bool = False) -> str:
    """One recorded test ``r`` (a claim or a secondary) in words: its effect, p-value (and Holm-adjusted
    p), and why it fails when it does — the wrong direction, p ≥ 0.05 (and the smallest p its units
    allow, when that is ≥ 0.05 too) — or "holds" ("would hold" with ``would``: for a test whose claim
    is not tested); "not testable" without a p-value."""
    p, eff = r.get("p_value"), r.get("effect")
    p = None if p is None or p != p else p
    q = r.get("p_holm", p)
    text = ("no effect" if eff is None else f"effect {eff:+.3f}") + ("" if p is None else f", p = {p:.3g}")
    text += f", Holm-adjusted p = {q:.3g}" if r.get("p_holm") is not None else ""
    if r.get("verdict") == "not tested" or p is None or q is None:
        return text + " — not testable with these data"
    reasons = ["the effect points the wrong way"] if r.get("direction_ok") is False else []
    if q >= 0.05:
        floor = r.get("p_min")
        reasons.append(f"p ≥ 0.05, and {floor:.3g} is the smallest p these units allow" if floor and floor >= 0.05
                       else "p ≥ 0.05")
    if not reasons and not r.get("passed", True):
        reasons.append("the effect points the wrong way")
    return text + " — " + (" and ".join(reasons) if reasons else "would hold" if would else "holds")


def health_reading(name: str, result: dict, behind: str) -> str:
    """A protocol-health diagnostic ``result`` (:func:`~reuse_utils.analysis.evaluators.claim_protocol_health`)
    in words: the worst cell's fraction of runs stopped by a cap or tuned at a grid's end against the
    bound, the cells beyond it, the Alices stopped by the cap, and what that means for ``behind`` (the
    findings resting on these models)."""
    d = result["details"]
    bad = d["failing_cells"]
    text = (f"**{name} {'holds' if result['passed'] else 'does not hold'}**: the worst fraction of runs stopped by a "
            f"cap or tuned at a grid's end is {result['effect']:.2f} (bound {d['bound']:g}); {len(bad)} of "
            f"{len(d['cells'])} cells exceed it" + (f", e.g. {', '.join(bad[:3])}" if bad else ""))
    if d.get("alice_capped_fraction") is not None:
        text += f"; {d['alice_capped_fraction']:.0%} of the Alices stopped at the epoch cap"
    return text + ". " + (f"At most {d['bound']:.0%} of the models in any cell behind {behind} stopped at a cap or at "
                          "a grid's end: the rest stopped on their own, with choices inside their grids."
                          if result["passed"] else
                          f"Where {name} fails, some models behind {behind} may not have converged: read them "
                          "with that in mind.")


@dataclass(frozen=True)
class Dial:
    """One slider: ``label`` (with its unit) over ``options`` (a list of values) or a float range
    ``(low, high, step)``, starting at ``value``."""

    label: str
    value: float
    options: Sequence[float] | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = None

    def __post_init__(self):
        if self.options is None and None in (self.low, self.high, self.step):
            raise ValueError(f"Dial {self.label!r}: give options, or low, high and step")
        if self.options is not None and len(self.options) == 0:
            raise ValueError(f"Dial {self.label!r}: options must not be empty")

    def widget(self):
        """An ipywidgets slider that fires on release, labelled in full."""
        import ipywidgets as w

        common = dict(description=self.label, continuous_update=False, style={"description_width": "initial"},
                      layout=w.Layout(width="480px"))
        if self.options is not None:
            opts = [float(x) for x in self.options]
            value = min(opts, key=lambda x: abs(x - float(self.value)))
            return w.SelectionSlider(options=[(f"{x:g}", x) for x in opts], value=value, **common)
        return w.FloatSlider(value=self.value, min=self.low, max=self.high, step=self.step,
                             readout_format=".2f", **common)


def explore(draw: Callable[..., object], look_for: str, **dials: Dial):
    """Sliders for ``dials`` (keyword = ``draw``'s argument) above a figure ``draw(**values)`` redrawn
    when a slider is released; ``look_for`` is printed above them. Returns the widget box (displayed)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    if not dials:
        raise ValueError("explore needs at least one Dial")
    sliders = {name: dial.widget() for name, dial in dials.items()}

    def redraw(**values):
        fig = draw(**values)
        if fig is not None:
            plt.show()

    out = w.interactive_output(redraw, sliders)
    box = w.VBox([w.HTML(f"<b>What to look for:</b> {look_for}"), *sliders.values(), out])
    display(box)
    return box
