"""Run every notebook with papermill, then write the reproduction report.

``python -m reuse_utils.companion.runner --notebooks notebooks --results results --preset quick
[--dataset mnist5k] [--device auto]`` executes ``<notebooks>/NN_*.ipynb`` in order, writing
executed copies to ``<results>/notebooks/`` and figures to ``<results>/figures/`` (each notebook
saves its own), then builds ``<results>/report.html`` and prints the claims table. Both folders
are arguments (default: ``notebooks`` and ``results`` in the working directory); nothing is found
through the package's install location.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from reuse_utils.analysis.ledger import reset_claims
from reuse_utils.companion.report import write_report
from reuse_utils.experiments.presets import PRESETS


def list_notebooks(directory: Path) -> list[Path]:
    """Numbered notebooks (``NN_name.ipynb``) in execution order."""
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))


def notebook_parameters(preset: str, dataset: str | None, device: str, results: Path) -> dict:
    params = {"preset": preset, "device": device, "results_dir": str(results.resolve()),
              "interactive": False}
    if dataset:
        params["dataset"] = dataset
    return params


def execute_notebook(path: Path, out_dir: Path, parameters: dict, *, timeout: int | None = None):
    """Execute one notebook with papermill (kernel ``python3``), output to ``out_dir``."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    return pm.execute_notebook(
        str(path), str(out_dir / path.name), parameters=parameters, kernel_name="python3",
        language="python", cwd=str(path.parent), progress_bar=False, execution_timeout=timeout,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    ap.add_argument("--dataset", default=None, help="base dataset (default: the preset's)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--notebooks", default="notebooks", type=Path, help="folder of NN_*.ipynb notebooks")
    ap.add_argument("--results", default="results", type=Path)
    ap.add_argument("--only", default=None, help="run only notebooks whose name contains this")
    args = ap.parse_args(argv)

    if not args.notebooks.is_dir():
        ap.error(f"--notebooks: {args.notebooks} is not a folder")
    notebooks = list_notebooks(args.notebooks)
    if args.only:
        notebooks = [p for p in notebooks if args.only in p.name]
    results: Path = args.results
    (results / "figures").mkdir(parents=True, exist_ok=True)
    if not notebooks:
        print(f"Nothing to execute: no numbered notebooks in {args.notebooks}.")
        return 0
    reset_claims(results)
    params = notebook_parameters(args.preset, args.dataset, args.device, results)
    t0 = time.time()
    timings = {}
    for nb in notebooks:
        t = time.time()
        print(f"[reproduce] {nb.name} (preset={args.preset}) ...", flush=True)
        execute_notebook(nb, results / "notebooks", params)
        timings[nb.name] = time.time() - t
        print(f"[reproduce] {nb.name} done in {timings[nb.name]:.0f} s", flush=True)
    path = write_report(results, preset=args.preset, dataset=args.dataset, device=args.device,
                        timings=timings, wall_seconds=time.time() - t0)
    print(f"[reproduce] report: {path}")
    print(f"[reproduce] all notebooks done in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
