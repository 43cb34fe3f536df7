"""One-off scripts of a GPU session (run from the repository root): ``tools/run_paper_gpu.sh`` (the
``paper`` preset end to end, timed), ``tools/gpu_session.sh`` (that run and the sweep benchmark inside
one time budget), ``python -m tools.gpu_unit_costs`` and ``python -m tools.gpu_accel`` (records of the
benchmark schema, :mod:`benchmarks.harness`). The GPU correctness checks are ``tests/test_cuda.py``.
``python -m tools.compare_claims A B`` shows whether two runs' claims are the same, field by field."""
