"""Floor 1 — ``core``: what every other floor may use and which imports nothing of the package.

Device choice, seeding and mixed precision (:mod:`.device`), atomic file writes (:mod:`.io`),
seeds and config identities (:mod:`.ids`), a small LRU map (:mod:`.lru`), messages as one line (:mod:`.text`), number predicates (:mod:`.checks`), independent trainings
side by side on the CPU's cores (:mod:`.workers`).
"""

from reuse_utils.core.device import (
           Accel,
           autocast,
           describe_device,
           device_share,
           get_device,
           seed_everything,
)
from reuse_utils.core.ids import check_seed, derive_seed, stable_hash, tensors_digest
from reuse_utils.core.io import (
           atomic_torch_save,
           atomic_write_bytes,
           atomic_write_json,
           atomic_write_text,
)
from reuse_utils.core.lru import LRU
from reuse_utils.core.text import one_line
from reuse_utils.core.workers import cpu_workers, map_workers, seeded_rng

__all__ = ["Accel", "autocast", "describe_device", "device_share", "get_device", "seed_everything", "check_seed",
           "derive_seed", "stable_hash", "tensors_digest", "atomic_torch_save", "atomic_write_bytes", "atomic_write_json",
           "atomic_write_text", "LRU", "one_line", "cpu_workers", "map_workers", "seeded_rng"]
