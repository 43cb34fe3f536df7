"""Floor 5 — ``experiments``: sizes, grids, caches and the two protocols that produce results.

Presets ``smoke``/``quick``/``paper`` (:mod:`.presets`); the sweep grid and run identities
(:mod:`.grid`); one record store for finished runs (:mod:`.records`); Alice checkpoints
(:mod:`.alices`); the cached, resumable sweep (:mod:`.sweep`, built from :mod:`.sweep_plan`,
:mod:`.sweep_context`, :mod:`.sweep_train`, :mod:`.sweep_ray`); the real case studies
(:mod:`.casestudy`); the zero-correlation domain control (:mod:`.domain`). Imports ``core`` … ``training``.
"""

from reuse_utils.experiments.alices import AliceStore
from reuse_utils.experiments.casestudy import RELATEDNESS, case_gains, run_case_study
from reuse_utils.experiments.domain import run_domain_control
from reuse_utils.experiments.grid import (
    ALICE_OPTIMIZERS,
    AXES,
    CODE_VERSION,
    WORLD_AXES,
    alice_config,
    arch_width,
    bob_config,
    bob_protocol,
    default_grid,
    expand_grid,
    world_key,
)
from reuse_utils.experiments.presets import PRESETS, Preset, get_preset
from reuse_utils.experiments.records import RecordStore
from reuse_utils.experiments.sweep import SweepOptions, run_sweep

__all__ = ["AliceStore", "RELATEDNESS", "case_gains", "run_case_study", "ALICE_OPTIMIZERS", "AXES",
           "CODE_VERSION", "WORLD_AXES", "world_key", "alice_config", "arch_width", "bob_config", "bob_protocol", "default_grid",
           "expand_grid", "PRESETS", "Preset", "get_preset", "RecordStore", "SweepOptions", "run_sweep", "run_domain_control"]
