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

__all__ = ["Dial", "explore", "in_front_end", "resolve_interactive", "say"]

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
