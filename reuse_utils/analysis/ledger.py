"""The study's claims, recorded as checked statements in ``<results>/claims.json``.

Each notebook evaluates its claims with a stated statistical test and calls :func:`record_claim`;
a claim that does not hold is recorded with ``passed: false`` and its numbers — never tuned until
it passes. Each claim is also kept as ``<results>/claims/<id>.json`` so notebooks can run in any
order; ``claims.json`` (``{"run": <run manifest or null>, "claims": [...]}``) is rebuilt from
those files after every record; nothing is deleted but by :func:`reset_claims`. Claims belong to
a run: ``claims.json`` lists under ``claims`` only those of the run manifest's preset and code
version, under ``earlier`` the others (e.g. a ``quick`` claim kept beside a ``smoke --only`` rerun),
and under ``unreadable`` each claim file that cannot be read (never dropped in silence).

The run manifest ``<results>/run.json`` (:mod:`~reuse_utils.analysis.run_manifest`) says which run
produced the folder; :func:`save_run` writes it and refreshes ``claims.json``. A claim of a notebook
that did not finish, and that the folder does not hold, is listed in ``claims.json`` under
``not_run`` with that notebook's state and reason (:func:`not_run_claims`).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import warnings
from pathlib import Path

import numpy as np

from reuse_utils.analysis.claims_spec import SPEC, SPEC_VERSION, spec_hash
from reuse_utils.analysis.evaluators import VERDICTS
from reuse_utils.analysis.run_manifest import RUN_STATES, load_run
from reuse_utils.core.checks import is_integer, is_real
from reuse_utils.core.io import atomic_write_json
from reuse_utils.core.text import one_line
from reuse_utils.experiments import CODE_VERSION
from reuse_utils.experiments.presets import PRESETS

__all__ = ["record_claim", "load_claims", "claims_table", "CLAIM_IDS", "reset_claims", "save_run",
           "write_claims_file", "RESULT_FIELDS", "not_run_claims", "not_run_text", "describe_claim", "SMOKE_NOTE", "read_claims",
           "split_by_run", "claims_view", "verdict_text", "OPTIONAL_FIELDS"]

RESULT_FIELDS = ("statement", "operationalisation", "test", "unit", "n", "effect", "ci", "p_value", "passed")
#: Fields a record carries when the evaluator gives them (the claims spec's): the verdict ("pass", "fail",
#: "not tested"), the effect's unit, the secondary findings, and the spec the claim was computed under
OPTIONAL_FIELDS = ("verdict", "effect_unit", "secondary", "spec_version", "spec_hash")
#: What every smoke report and claim printout says first.
SMOKE_NOTE = "smoke: checks that everything runs; verdicts mean nothing at this size"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

CLAIM_IDS = tuple(SPEC)  #: every claim of the claims spec, in its order


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


def save_run(results_dir: str | Path, run: dict) -> None:
    """Write the run manifest (``run["state"]`` must be one of :data:`RUN_STATES`) and refresh
    ``claims.json`` so it shows the same state."""
    if run.get("state") not in RUN_STATES:
        raise ValueError(f"run state must be one of {list(RUN_STATES)}; got {run.get('state')!r}")
    atomic_write_json(Path(results_dir) / "run.json", run)
    write_claims_file(results_dir)


def claims_view(results_dir: str | Path, *, warn: bool = False) -> dict:
    """What ``claims.json`` holds, from the claim files and the run manifest: ``spec`` (the claims
    spec's version and hash), ``run`` (or None), ``claims`` (the run's, :func:`split_by_run`, computed
    under this spec), ``stale`` (the run's claims computed under another spec: recompute them),
    ``earlier``, ``unreadable`` and ``not_run`` (:func:`not_run_claims`). ``warn``: say so when the
    manifest cannot be read (else it is run: null)."""
    root = Path(results_dir)
    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore")
        run = load_run(root)
    claims, unreadable = read_claims(root)
    current, earlier = split_by_run(claims, run)
    here = spec_hash()

    def is_stale(c: dict) -> bool:  # another spec's claim, or a spec claim recorded before specs were named
        return c.get("spec_hash", here if c.get("id") not in SPEC else None) != here

    stale = [c for c in current if is_stale(c)]
    current = [c for c in current if not is_stale(c)]
    return {"spec": {"version": SPEC_VERSION, "hash": here}, "run": run, "claims": current, "stale": stale,
            "earlier": earlier, "unreadable": unreadable, "not_run": not_run_claims(run, current)}


def write_claims_file(results_dir: str | Path) -> Path:
    """Rebuild ``<results>/claims.json`` (:func:`claims_view`)."""
    return atomic_write_json(Path(results_dir) / "claims.json", claims_view(results_dir))


def split_by_run(claims: list[dict], run: dict | None) -> tuple[list[dict], list[dict]]:
    """``(claims of the run, claims from an earlier run)``: a claim is the run's when its preset and
    code version are the manifest's; with no manifest (notebooks run by hand), those of the most
    recently recorded claim."""
    if not run:
        if not claims:
            return [], []
        newest = max(claims, key=lambda c: c.get("recorded") or 0.0)
        run = {"preset": newest.get("preset"), "code_version": newest.get("code_version")}
    mine = [c for c in claims if c.get("preset") == run.get("preset")
            and c.get("code_version", run.get("code_version")) == run.get("code_version")]
    return mine, [c for c in claims if c not in mine]


def not_run_claims(run: dict | None, claims: list[dict]) -> list[dict]:
    """The claims the run manifest says a notebook records (``claims_of``) that ``claims`` lacks,
    because that notebook did not finish: ``{"id", "notebook", "state", "reason"}`` each."""
    if not run:
        return []
    have = {c.get("id") for c in claims}
    states, reasons = run.get("notebooks") or {}, run.get("reasons") or {}
    out = []
    for notebook, ids in (run.get("claims_of") or {}).items():
        state = states.get(notebook, "not run")
        if state == "done":
            continue
        out += [{"id": cid, "notebook": notebook, "state": state, "reason": reasons.get(notebook)}
                for cid in ids if cid not in have]
    order = {cid: i for i, cid in enumerate(CLAIM_IDS)}
    return sorted(out, key=lambda c: (order.get(c["id"], len(order)), c["id"]))


def not_run_text(entry: dict) -> str:
    """``not run (notebook skipped: reason)`` for a :func:`not_run_claims` entry."""
    reason = f": {entry['reason']}" if entry.get("reason") else ""
    return f"not run (notebook {entry['state']}{reason})"


def record_claim(results_dir: str | Path, id: str, result: dict, *, preset: str, dataset: str, notebook: str,
                 data_label: str | None = None) -> dict:
    """Write one claim from an evaluator's ``result`` (:mod:`reuse_utils.analysis.evaluators`).

    The record carries ``id``, ``kind`` (the claims spec's: ``empirical``, ``identity``,
    ``diagnostic`` or ``manipulation check``; ``empirical`` for an id the spec lacks),
    ``statement``, ``operationalisation``, ``test``, ``unit``, ``n``, ``effect``, ``ci``,
    ``p_value``, ``passed``, ``verdict`` (``pass``/``fail``/``not tested``), ``effect_unit``,
    ``secondary``, ``spec_version``, ``spec_hash``, ``preset``, ``dataset``, ``notebook``,
    ``details`` and ``data_label``. ``passed`` must be a real ``bool`` (or NumPy bool) computed from
    the numbers, and agree with ``verdict``; an empirical claim's p-value is never 0 (exact tests
    cannot give it); ``id`` letters, digits, ``_``, ``.`` and ``-`` only (it names a file)."""
    if not isinstance(id, str) or not _SAFE_ID.match(id):
        raise ValueError(f"id must be a non-empty string of letters, digits, '_', '.' or '-' (not starting with "
                         f"'.' or '-'); got {id!r}")
    if not isinstance(result, dict):
        raise ValueError(f"result must be an evaluator's dict; got {type(result).__name__}")
    missing = [f for f in RESULT_FIELDS if f not in result]
    if missing:
        raise ValueError(f"result lacks the claim field(s) {missing}")
    passed = result["passed"]
    if not isinstance(passed, (bool, np.bool_)):
        raise ValueError(f"passed must be a bool; got {passed!r} ({type(passed).__name__})")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}; got {preset!r}")
    for name, value in (("dataset", dataset), ("notebook", notebook)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string; got {value!r}")
    _check_numbers(_clean(result))
    verdict = result.get("verdict", "pass" if passed else "fail")
    if verdict not in VERDICTS or (verdict == "pass") != bool(passed):
        raise ValueError(f"verdict must be one of {list(VERDICTS)} and 'pass' exactly when passed; got {verdict!r} "
                         f"with passed={bool(passed)}")
    kind = SPEC[id].kind if id in SPEC else "empirical"
    origin = SPEC[id].origin if id in SPEC else "paper"
    if kind == "empirical" and result["p_value"] is not None and result["p_value"] <= 0:
        raise ValueError(f"p_value of the finding {id} is {result['p_value']!r}: an exact test never gives 0")
    claim = _clean({"id": id, "kind": kind, "origin": origin,
                    **{f: result[f] for f in RESULT_FIELDS}, "passed": bool(passed), "verdict": verdict,
                    **{f: result[f] for f in OPTIONAL_FIELDS if f in result and f != "verdict"}, "preset": preset,
                    "dataset": dataset, "notebook": notebook, "details": result.get("details") or {},
                    "data_label": data_label, "code_version": CODE_VERSION, "recorded": time.time()})
    root = Path(results_dir)
    atomic_write_json(root / "claims" / f"{id}.json", claim)
    write_claims_file(root)
    return claim


def _check_numbers(result: dict) -> None:
    """``ValueError`` naming the field unless ``p_value`` is None or in [0, 1], ``n`` an integer ≥ 1
    (≥ 0 when the claim failed with no p: the data could not test it),
    ``ci`` None or two bounds (None where undefined) with lower ≤ upper, and a numeric ``effect``
    within its CI."""
    p, n, ci, effect = result["p_value"], result["n"], result["ci"], result["effect"]
    if p is not None and not (is_real(p) and 0.0 <= p <= 1.0):
        raise ValueError(f"p_value must be None or a number in [0, 1]; got {p!r}")
    untested = p is None and not result["passed"]  # the data could not test it: n may be 0
    if not is_integer(n) or n < (0 if untested else 1):
        raise ValueError(f"n must be an integer ≥ 1 (≥ 0 for a claim that failed untested, p None); got {n!r}")
    if ci is None:
        return
    if not isinstance(ci, (list, tuple)) or len(ci) != 2 or any(v is not None and not is_real(v) for v in ci):
        raise ValueError(f"ci must be None or [lower, upper] (numbers, or None where undefined); got {ci!r}")
    lo, hi = ci
    if lo is not None and hi is not None:
        if lo > hi:
            raise ValueError(f"ci must have lower ≤ upper; got {ci!r}")
        if is_real(effect) and not lo - 1e-9 <= effect <= hi + 1e-9:
            raise ValueError(f"effect {effect!r} must lie within its ci {ci!r}")


def read_claims(results_dir: str | Path) -> tuple[list[dict], list[dict]]:
    """``(claims, unreadable)``: the readable claim files of ``results_dir`` in :data:`CLAIM_IDS`
    order (others after, by id), and ``{"file", "error"}`` for each that cannot be read. A folder
    without claims gives two empty lists."""
    folder = Path(results_dir) / "claims"
    claims, unreadable = [], []
    for p in sorted(folder.glob("*.json")):
        try:
            claim = json.loads(p.read_text())
            if not isinstance(claim, dict) or not isinstance(claim.get("id"), str):
                raise ValueError("not a claim record (an object with an id)")
            claims.append(claim)
        except (OSError, ValueError) as exc:
            unreadable.append({"file": p.name, "error": one_line(exc)})
    order = {cid: i for i, cid in enumerate(CLAIM_IDS)}
    return sorted(claims, key=lambda c: (order.get(c.get("id"), len(order)), c.get("id", ""))), unreadable


def load_claims(results_dir: str | Path) -> list[dict]:
    """All readable claims of the results folder ``results_dir`` (:func:`read_claims`), with a warning
    for each claim file that cannot be read; ``ValueError`` when ``results_dir`` is not a folder."""
    if not isinstance(results_dir, (str, os.PathLike)) or not Path(results_dir).is_dir():
        raise ValueError(f"results_dir must be an existing results folder; got {results_dir!r}")
    claims, unreadable = read_claims(results_dir)
    for bad in unreadable:
        warnings.warn(f"Claim file {Path(results_dir) / 'claims' / bad['file']} could not be read ({bad['error']}); "
                      "it is listed as unreadable, not dropped.", stacklevel=2)
    return claims


def reset_claims(results_dir: str | Path, notebooks: list[str] | None = None) -> None:
    """Forget previously recorded claims (start of a reproduction run): all of them, or only those
    recorded by ``notebooks`` (file names such as ``04_bob_transfer_by_depth.ipynb``)."""
    folder = Path(results_dir) / "claims"
    for p in folder.glob("*.json"):
        if notebooks is not None:
            try:
                if json.loads(p.read_text()).get("notebook") not in notebooks:
                    continue
            except (OSError, ValueError):
                pass
        p.unlink()
    if notebooks is None:
        (Path(results_dir) / "claims.json").unlink(missing_ok=True)
    elif folder.parent.exists():
        write_claims_file(results_dir)


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _num(v) -> str:
    return f"{v:+.3g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def describe_claim(c: dict) -> str:
    """A claim record as sentences for a reader: verdict, effect with its 95% CI, p and n — each only
    where the record has it — then how it was tested (and, at ``smoke``, :data:`SMOKE_NOTE` first)."""
    kind = {"identity": "identity", "diagnostic": "diagnostic", "manipulation check": "manipulation check"}.get(
        c.get("kind"), "finding")
    shown = "companion finding" if kind == "finding" and c.get("origin") == "companion" else kind
    if c.get("verdict") == "not tested":
        verdict = "not tested" + (f" ({c['details']['not_tested_because']})" if (c.get("details") or {}).get(
            "not_tested_because") else "")
    elif kind == "finding":
        verdict = "supported" if c.get("passed") else "not supported"
    else:
        verdict = "holds" if c.get("passed") else "does not hold"
    parts = []
    if c.get("effect") is not None and not isinstance(c.get("effect"), dict):
        ci = c.get("ci") or []
        ci_s = (f" (95% CI {_num(ci[0])} to {_num(ci[1])})" if len(ci) == 2 and None not in ci else "")
        unit = f" {c['effect_unit']}" if c.get("effect_unit") else ""
        parts.append(f"effect {_num(c['effect'])}{unit}{ci_s}")
    if c.get("p_value") is not None:
        parts.append(f"p = {c['p_value']:.3g}")
    if c.get("n") is not None:
        unit = str(c.get("unit") or "")
        plural = "s" if unit and c["n"] != 1 and unit.isalpha() and not unit.endswith("s") else ""
        parts.append(f"n = {c['n']} {unit}{plural}".rstrip())
    label = f" [{c['data_label']}]" if c.get("data_label") else ""
    head = f"{c['id']}{label} ({shown}, {verdict_text(c)}): {c.get('statement', '')} — {verdict}"
    text = head + (f"; {', '.join(parts)}." if parts else ".") + f"\n  Tested as: {c.get('operationalisation', '')}"
    for sec in c.get("secondary") or []:
        p = f", p = {sec['p_value']:.3g} (Holm {sec['p_holm']:.3g})" if sec.get("p_value") is not None else ""
        text += (f"\n  Secondary — {sec['name']}: {sec.get('verdict') or ('holds' if sec.get('passed') else 'does not hold')}; effect "
                 f"{_num(sec.get('effect'))} {sec.get('effect_unit', '')}{p}.")
    return (f"[{SMOKE_NOTE}]\n" if c.get("preset") == "smoke" else "") + text


def verdict_text(c: dict) -> str:
    """``PASS``, ``FAIL`` or ``not tested`` for a claim record."""
    v = c.get("verdict") or ("pass" if c.get("passed") else "fail")
    return {"pass": "PASS", "fail": "FAIL"}.get(v, v)


def claims_table(claims: list[dict], not_run: list[dict] | None = None, earlier: list[dict] | None = None,
                 unreadable: list[dict] | None = None, stale: list[dict] | None = None) -> str:
    """Plain-text table of the claims: identities first, then findings (preset, PASS/FAIL, effect, CI,
    p, n), then the claims of notebooks that did not finish (``not_run``: :func:`not_run_claims`),
    claims ``earlier`` runs left in the folder (:func:`split_by_run`) and claim files that could not
    be read; at ``smoke``, :data:`SMOKE_NOTE` above it."""
    smoke = any(c.get("preset") == "smoke" for c in claims)
    lines = [f"[{SMOKE_NOTE}]"] if smoke else []
    lines += [f"{'claim':40s} {'kind':9s} {'preset':6s} {'result':10s} {'effect':>8s} {'95% CI':>20s} {'p':>9s} "
              f"{'n':>3s} unit"]

    def row(c: dict) -> str:
        label = " [" + str(c["data_label"]) + "]" if c.get("data_label") else ""
        ci = c.get("ci") or [None, None]
        ci_s = f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci[0] is not None else "—"
        unit = c.get("unit", "")
        if c.get("effect_unit"):
            unit = f"{unit}; effect in {c['effect_unit']}"
        return (f"{str(c.get('id')) + label:40s} {str(c.get('kind'))[:9]:9s} {str(c.get('preset')):6s} "
                f"{verdict_text(c):10s} {_fmt(c.get('effect')):>8s} {ci_s:>20s} "
                f"{_fmt(c.get('p_value')):>9s} {c.get('n', ''):>3} {unit}")

    for kind in ("identity", "diagnostic", "manipulation check", "empirical"):
        lines += [row(c) for c in claims if c.get("kind") == kind]
    if stale:
        lines.append("stale (computed under another claims spec; rerun their notebooks):")
        lines += [row(c) for c in stale]
    for entry in not_run or []:
        lines.append(f"{entry['id']:40s} {'':9s} {'':6s} {not_run_text(entry)}")
    if earlier:
        lines.append("from an earlier run (another preset or code version; not this run's):")
        lines += [row(c) for c in earlier]
    for bad in unreadable or []:
        lines.append(f"{bad['file']:40s} could not be read: {bad['error']}")
    return "\n".join(lines)
