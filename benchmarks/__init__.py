"""The project's benchmarks, run as ``python -m benchmarks [NAME] [options]`` (``make bench``).

Each module measures one thing and writes one record of the schema of :mod:`benchmarks.harness`
into ``benchmarks/measured/`` (``--out`` elsewhere); :mod:`benchmarks.__main__` lists them.
:mod:`benchmarks.reference_loop` is the plain PyTorch loop the sweep benchmark compares against.
"""
