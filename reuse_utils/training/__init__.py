"""Floor 4 — ``training``: networks and how they are trained.

Architectures with countable retrainable layers (:mod:`.models`), Alice's pre-training and Bob's
top-k retraining (:mod:`.transfer`), their predictions and accuracy (:mod:`.inference`), Bob's learning-rate grid and early stopping selected on
validation, many members trained together with ``torch.func.vmap`` (:mod:`.selection`), many Alices
trained together on their own data (:mod:`.ensemble`), and the
shared frozen-prefix activation cache (:mod:`.prefix_cache`). Imports
``core``, ``datasets`` and ``generator``.
"""

from reuse_utils.training.ensemble import MAX_GROUP, alice_group_size, train_alices
from reuse_utils.training.inference import (
    bob_accuracy,
    bob_predictions,
    evaluate,
    frozen_features,
    predict,
    split_accuracy,
)
from reuse_utils.training.models import ARCHS, LayeredNet, TrainRecord, build_model
from reuse_utils.training.prefix_cache import PrefixCache
from reuse_utils.training.selection import (
    BobProtocol,
    BobTask,
    Members,
    Selection,
    fit_members,
    fit_selected,
    fit_selected_many,
    lr_factors,
    split_train_val,
    task_on_pairs,
    train_bob_selected,
)
from reuse_utils.training.transfer import (
    MODES,
    TrainConfig,
    make_bob,
    random_source,
    train_alice,
    train_bob,
)

__all__ = ["train_alices", "alice_group_size", "MAX_GROUP", "BobProtocol", "BobTask", "Members", "Selection", "fit_members", "lr_factors", "fit_selected", "fit_selected_many", "split_train_val", "task_on_pairs", "train_bob_selected", "ARCHS", "LayeredNet", "TrainRecord", "build_model", "PrefixCache", "MODES",
           "TrainConfig", "bob_accuracy", "bob_predictions", "split_accuracy", "evaluate", "frozen_features", "make_bob",
           "predict", "random_source", "train_alice", "train_bob"]
