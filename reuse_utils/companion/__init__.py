"""Floor 7 — ``companion``: what the notebooks and the command line use.

The notebook set-up object that resolves a notebook's parameters cell (:mod:`.notebook`), plots
(:mod:`.plots`), readings and sliders (:mod:`.teaching`), exercises with checks (:mod:`.exercises`), the reproduction report (:mod:`.report`) and the papermill runner behind
``make reproduce`` (:mod:`.runner`), which runs notebooks side by side in lanes (:mod:`.lanes`). The only floor that knows about notebooks; imports every other.
"""

from reuse_utils.companion import exercises, plots, teaching
from reuse_utils.companion.notebook import Setup, setup

__all__ = ["exercises", "plots", "teaching", "Setup", "setup"]
