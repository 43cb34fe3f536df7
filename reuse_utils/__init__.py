"""reuse_utils: the tested engine behind the notebooks of the task/feature-correlation reuse study.

Modules (one job each):

- :mod:`reuse_utils.device`   device choice, seeding, mixed precision
- :mod:`reuse_utils.data`     base image datasets (offline-capable, cached)
- :mod:`reuse_utils.pairs`    the controllable two-panel data generator
- :mod:`reuse_utils.models`   architectures and their retrainable "layers"
- :mod:`reuse_utils.transfer` Alice's pre-training and Bob's top-k retraining
- :mod:`reuse_utils.sweep`    cached, resumable experiment grids
- :mod:`reuse_utils.stats`    confidence intervals and tests over seeds
- :mod:`reuse_utils.presets`  smoke / quick / paper sizes
"""

__version__ = "0.1.0"
