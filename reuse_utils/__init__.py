"""reuse_utils: the tested engine behind the notebooks of the task/feature-correlation reuse study.

``import reuse_utils as ru`` gives the user-facing names directly (``ru.make_pairs``,
``ru.run_sweep``, …). Inside, the package is built in floors; each imports only the floors below
it (an import-linter ``layers`` contract in ``pyproject.toml`` enforces this in ``make test``):

1. :mod:`~reuse_utils.core` — device, seeding, atomic writes, config identities, a small LRU.
2. :mod:`~reuse_utils.datasets` — base image datasets behind one registry, the case-study photos
   and their labelled offline stand-in.
3. :mod:`~reuse_utils.generator` — the two-panel pair generator, correlation measures, worlds.
4. :mod:`~reuse_utils.training` — models, Alice's and Bob's training, vmap batching, prefix cache.
5. :mod:`~reuse_utils.experiments` — presets, the sweep grid, the record store, sweeps, case studies.
6. :mod:`~reuse_utils.analysis` — statistics, the linear model, attribution, claim evaluators, the
   claims ledger.
7. :mod:`~reuse_utils.companion` — notebook set-up, plots, readings, sliders, exercises, report, the
   reproduce runner.
"""

from reuse_utils.analysis import (
    attribution,
    depth_reveal,
    evaluators,
    linear,
    stats,
    transferability,
)
from reuse_utils.analysis.gains import transfer_gains
from reuse_utils.analysis.ledger import load_claims, record_claim
from reuse_utils.analysis.panel_weights import panel_weight_norms
from reuse_utils.companion import exercises, plots, teaching
from reuse_utils.companion.notebook import setup
from reuse_utils.core.device import get_device, seed_everything
from reuse_utils.datasets import (
    DatasetCorrupt,
    DatasetUnavailable,
    ImageDataset,
    available_datasets,
    build_standin,
    fetch_open_images,
    load_dataset,
    resolve_case_data,
)
from reuse_utils.experiments import (
    ALICE_OPTIMIZERS,
    PRESETS,
    Preset,
    SweepOptions,
    case_gains,
    default_grid,
    expand_grid,
    get_preset,
    run_case_study,
    run_sweep,
)
from reuse_utils.generator import (
    Pairs,
    base_data,
    calibration_table,
    cramers_v,
    glm_theta,
    make_glm_pairs,
    make_pairs,
    make_world,
    measure_correlations,
)
from reuse_utils.training import (
    BobProtocol,
    TrainConfig,
    build_model,
    evaluate,
    make_bob,
    random_source,
    train_alice,
    train_bob,
    train_bob_selected,
)

__version__ = "0.2.0"

__all__ = [
    "attribution", "depth_reveal", "evaluators", "linear", "stats", "transferability", "panel_weight_norms", "transfer_gains", "plots", "exercises", "teaching", "ALICE_OPTIMIZERS",
    "base_data", "load_claims", "record_claim", "setup", "get_device", "seed_everything", "DatasetCorrupt",
    "DatasetUnavailable", "ImageDataset", "available_datasets", "build_standin", "fetch_open_images",
    "load_dataset", "resolve_case_data", "PRESETS", "Preset", "case_gains", "default_grid", "expand_grid",
    "get_preset", "run_case_study", "run_sweep", "SweepOptions", "Pairs", "calibration_table", "cramers_v", "make_pairs",
    "make_world", "measure_correlations", "make_glm_pairs", "glm_theta", "TrainConfig", "build_model", "evaluate", "make_bob",
    "random_source", "train_alice", "train_bob", "BobProtocol", "train_bob_selected",
]
