"""The study's claims, recorded as checked statements in ``<results>/claims.json``.

Each notebook evaluates its claims with a stated statistical test and calls :func:`record_claim`;
a claim that does not hold is recorded with ``passed: false`` and its numbers — never tuned until
it passes. Each claim is also kept as ``<results>/claims/<id>.json`` so notebooks can run in any
order; ``claims.json`` is rebuilt from those files after every record.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from reuse_utils.core.io import atomic_write_json

__all__ = ["record_claim", "load_claims", "claims_table", "CLAIM_IDS", "reset_claims"]

CLAIM_IDS = ("C0_generator_calibrated", "C1_monotonic_task", "C1b_monotonic_feature",
             "C2_zero_corr_above_chance", "C3_luck_from_architecture_optimizer",
             "C4_optimal_depth_tracks_correlation", "C5_attribution_shift", "C6_linear_model_limits",
             "C7_semantic_transfer")


def _clean(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def record_claim(results_dir: str | Path, id: str, statement: str, passed: bool, statistic,
                 p_value_or_ci, *, preset: str, dataset: str, notebook: str,
                 details: dict | None = None, data_label: str | None = None) -> dict:
    """Write one claim (``passed`` must be a real bool computed from the numbers)."""
    if not isinstance(id, str) or not id:
        raise ValueError(f"id must be a non-empty string; got {id!r}")
    claim = _clean({"id": id, "statement": statement, "passed": bool(passed), "statistic": statistic,
                    "p_value_or_ci": p_value_or_ci, "preset": preset, "dataset": dataset,
                    "notebook": notebook, "details": details or {}, "data_label": data_label})
    root = Path(results_dir)
    atomic_write_json(root / "claims" / f"{id}.json", claim)
    atomic_write_json(root / "claims.json", load_claims(root))
    return claim


def load_claims(results_dir: str | Path) -> list[dict]:
    """All recorded claims, in :data:`CLAIM_IDS` order (others after, by id)."""
    folder = Path(results_dir) / "claims"
    claims = []
    for p in sorted(folder.glob("*.json")):
        try:
            claims.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            continue
    order = {cid: i for i, cid in enumerate(CLAIM_IDS)}
    return sorted(claims, key=lambda c: (order.get(c.get("id"), len(order)), c.get("id", "")))


def reset_claims(results_dir: str | Path) -> None:
    """Forget previously recorded claims (start of a reproduction run)."""
    folder = Path(results_dir) / "claims"
    for p in folder.glob("*.json"):
        p.unlink()
    (Path(results_dir) / "claims.json").unlink(missing_ok=True)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def claims_table(claims: list[dict]) -> str:
    """Plain-text table of the claims (id, PASS/FAIL, statistic, p-value or CI)."""
    lines = [f"{'claim':40s} {'result':6s} {'statistic':34s} p-value / CI"]
    for c in claims:
        label = " [" + c["data_label"] + "]" if c.get("data_label") else ""
        lines.append(f"{c['id'] + label:40s} {'PASS' if c['passed'] else 'FAIL':6s} "
                     f"{_fmt(c['statistic'])[:34]:34s} {_fmt(c['p_value_or_ci'])}")
    return "\n".join(lines)
