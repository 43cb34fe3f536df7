"""Floor 3 — ``generator``: the controllable data generator and its measurements.

Two-panel pairs with dialled task and feature correlation (:mod:`.pairs`), measured relatedness
(:mod:`.measures`), and *worlds* — the reproducible train/test pair sets of one dial setting
(:mod:`.worlds`). Imports ``core`` and ``datasets``.
"""

from reuse_utils.generator.measures import (
    calibration_table,
    cramers_v,
    measure_correlations,
    measured_task_correlation,
)
from reuse_utils.generator.pairs import (
    LAYOUTS,
    PANELS,
    Pairs,
    make_pairs,
    normalise_images,
    task_pairs,
)
from reuse_utils.generator.worlds import World, base_data, make_world

__all__ = ["calibration_table", "cramers_v", "measure_correlations", "measured_task_correlation", "LAYOUTS",
           "PANELS", "Pairs", "make_pairs", "normalise_images", "task_pairs", "World", "base_data", "make_world"]
