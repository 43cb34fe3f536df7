"""Run the benchmarks: ``python -m benchmarks [NAME] [options]`` (what ``make bench`` calls).

    python -m benchmarks --list                   # the benchmarks, and which run by default
    python -m benchmarks                          # the default CPU set, one after the other
    python -m benchmarks sweep --preset quick     # one benchmark; its options: ... sweep --help

Without a name the default set runs with the options given (those every benchmark takes:
``--preset``, ``--device``, ``--out``); each writes its record into ``benchmarks/measured/`` (or
``--out``). The exit status is the largest of theirs.
"""

from __future__ import annotations

import importlib
import sys
from typing import NamedTuple


class Benchmark(NamedTuple):
    module: str
    what: str
    default: bool  #: in the set that runs when no name is given (CPU, nothing needed beforehand)


BENCHMARKS = {
    "sweep": Benchmark("benchmarks.bench_sweep", "engine vs the plain PyTorch loop: Bob runs on a grid, and Alices", True),
    "memory_format": Benchmark("benchmarks.bench_memory_format",
                               "NCHW vs channels-last, stacked vs side-by-side members (Alice epoch, inference, Bobs)", True),
    "profile": Benchmark("benchmarks.profile_engine", "torch.profiler per phase: stacked Alices and Bobs", True),
    "head_check": Benchmark("benchmarks.head_check",
                            "head-only Bob against an independent scikit-learn logistic head (held-out worlds)", True),
    "cut_scores": Benchmark("benchmarks.bench_cut_scores",
                            "transferability scores of every cut vs training Bob at every depth "
                            "(reads make reproduce's results/cache)", False),
}


def listing() -> str:
    width = max(map(len, BENCHMARKS))
    lines = [f"  {name:<{width}}  {'*' if b.default else ' '} {b.what}" for name, b in BENCHMARKS.items()]
    return ("benchmarks (* = in the default set, run when no name is given):\n" + "\n".join(lines)
            + "\nusage: python -m benchmarks [NAME] [options]; python -m benchmarks NAME --help for its options")


def run(name: str, argv: list[str]) -> int:
    """One benchmark's ``main(argv)``; its exit status."""
    if name not in BENCHMARKS:
        print(f"no benchmark {name!r}\n{listing()}", file=sys.stderr)
        return 2
    print(f"[bench] {name}: {BENCHMARKS[name].what}", flush=True)
    rc = importlib.import_module(BENCHMARKS[name].module).main(argv)
    return int(rc or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--list"], ["-l"]) or (argv[:1] in (["-h"], ["--help"])):
        print(__doc__ if argv[0] in ("-h", "--help") else "", end="")
        print(listing())
        return 0
    if argv and not argv[0].startswith("-"):
        return run(argv[0], argv[1:])
    rcs = [run(name, argv) for name, b in BENCHMARKS.items() if b.default]
    return max(rcs, default=0)


if __name__ == "__main__":
    raise SystemExit(main())
