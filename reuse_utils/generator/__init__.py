"""Floor 3 — ``generator``: the controllable data generator and its measurements.

Two-panel pairs with dialled task correlation and feature correlation (an overlay) (:mod:`.pairs`),
the GLM world of Gaussian feature blocks (:mod:`.glm`), measured relatedness (:mod:`.measures`),
and *worlds* — the reproducible train/test pair sets of one dial setting (:mod:`.worlds`).
Imports ``core`` and ``datasets``.
"""

from reuse_utils.generator.glm import glm_task_corr, glm_theta, make_glm_pairs
from reuse_utils.generator.measures import (
    calibration_table,
    chance_accuracy,
    cramers_v,
    measure_correlations,
    measured_task_correlation,
    residual_correlation,
)
from reuse_utils.generator.pairs import (
    ALPHA_MAX,
    LAYOUTS,
    PANELS,
    Pairs,
    check_finite,
    check_pairs,
    make_pairs,
    normalise_images,
    overlay,
    task_pairs,
)
from reuse_utils.generator.worlds import World, base_data, input_shape, is_glm, make_world

__all__ = ["chance_accuracy", "glm_task_corr", "glm_theta", "make_glm_pairs", "calibration_table", "cramers_v", "measure_correlations",
           "measured_task_correlation", "residual_correlation", "ALPHA_MAX", "LAYOUTS", "PANELS", "Pairs", "check_finite", "check_pairs",
           "make_pairs", "normalise_images", "overlay", "task_pairs", "World", "base_data", "input_shape", "is_glm",
           "make_world"]
