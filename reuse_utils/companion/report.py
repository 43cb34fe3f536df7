"""``results/report.html``, one self-contained file: the run's state, commit and resolved dataset,
the claims (findings apart from identities, then the claims of notebooks that did not finish, with
the reason), every figure embedded (grouped by notebook, captioned), each notebook's state, seconds
and reason, package versions and wall time. At ``smoke`` a banner says that its verdicts mean
nothing. The only relative links are to the executed notebooks' HTML copies that exist beside it
(``notebooks/NN_name.html``); the rest needs no other file."""

from __future__ import annotations

import base64
import html
import platform
import time
from pathlib import Path

from reuse_utils.analysis.ledger import SMOKE_NOTE, claims_table, claims_view, not_run_text
from reuse_utils.core.io import atomic_write_text
from reuse_utils.experiments.presets import get_preset

__all__ = ["write_report"]


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("torch", "torchvision", "numpy", "scipy", "pandas", "captum", "papermill", "reuse-utils"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "; ".join(f"{k} = {_fmt(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _resolved_dataset(preset: str, dataset: str | None) -> str:
    if dataset:
        return dataset
    try:
        return f"{get_preset(preset).dataset} (the preset's)"
    except ValueError:
        return "unknown"


def _figures_by_notebook(root: Path) -> str:
    """Every PNG under ``figures/``, embedded as a data URI, grouped by the notebook number that
    names it (``NN_...``), each with its one-line caption."""
    groups: dict[str, list[Path]] = {}
    for f in sorted((root / "figures").glob("*.png")):
        groups.setdefault(f.name[:2] if f.name[:2].isdigit() else "other", []).append(f)
    out = []
    for nb, files in groups.items():
        items = []
        for f in files:
            cap_file = f.with_suffix(".caption.txt")
            caption = cap_file.read_text().strip() if cap_file.exists() else f.stem.replace("_", " ")
            data = base64.b64encode(f.read_bytes()).decode()
            items.append(f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(caption)}'>"
                         f"<figcaption><b>{html.escape(f.stem)}</b>: {html.escape(caption)}</figcaption></figure>")
        out.append(f"<h3>Notebook {html.escape(nb)}</h3>" + "".join(items))
    return "".join(out)


def _verdict(c: dict) -> str:
    """The verdict as the report shows it: PASS / FAIL (identities, diagnostics) / FAILED FINDING / not tested."""
    if c.get("verdict") == "not tested":
        why = (c.get("details") or {}).get("not_tested_because")
        return "not tested" + (f" ({why})" if why else "")
    if c.get("passed"):
        return "PASS"
    return "FAILED FINDING" if c.get("kind") == "empirical" else "FAIL"


def _secondary_html(c: dict) -> str:
    """The claim's secondary findings, one line each (effect, p, Holm-adjusted p)."""
    items = "".join(
        f"<li>{html.escape(str(s.get('name')))}: {html.escape(s.get('verdict') or ('holds' if s.get('passed') else 'does not hold'))} — effect "
        f"{html.escape(_fmt(s.get('effect')))} {html.escape(str(s.get('effect_unit') or ''))}, p "
        f"{html.escape(_fmt(s.get('p_value')))} (Holm {html.escape(_fmt(s.get('p_holm')))})</li>"
        for s in c.get("secondary") or [])
    return f"<br><small>Secondary findings:</small><ul>{items}</ul>" if items else ""


def _notebook_item(root: Path, name: str, state: str, seconds: float | None, reason: str | None) -> str:
    """One notebook's line: name, state, seconds, reason, and a link to its HTML copy if it exists."""
    copy = root / "notebooks" / f"{Path(name).stem}.html"
    link = (f" — <a href='notebooks/{html.escape(copy.name)}'>executed notebook</a> (beside this report)"
            if copy.exists() else "")
    took = f", {seconds:.0f} s" if seconds is not None else ""
    why = f": {html.escape(reason)}" if reason else ""
    return f"<li>{html.escape(name)} — <b>{html.escape(state)}</b>{took}{why}{link}</li>"


def write_report(results: str | Path, *, preset: str, dataset: str | None, device: str,
                 timings: dict[str, float], wall_seconds: float) -> Path:
    """Write the HTML report and print the claims table; returns the report's path."""
    from reuse_utils.core.device import describe_device, get_device

    root = Path(results)
    view = claims_view(root, warn=True)
    claims, earlier, unreadable, missing = view["claims"], view["earlier"], view["unreadable"], view["not_run"]
    stale = view["stale"]
    run = view["run"] or {"state": "unknown (no run manifest)"}
    print(claims_table(claims, missing, earlier, unreadable, stale))
    state = html.escape(str(run.get("state")))
    states = dict(run.get("notebooks") or {})
    reasons = run.get("reasons") or {}
    warn = ("" if run.get("state") == "complete" else
            f"<p class='warn'>This run is <b>{state}</b>: "
            + html.escape(", ".join(f"{k}: {v}" for k, v in states.items() if v != "done") or "no notebook state recorded")
            + ". Claims of notebooks that did not finish are listed as not run, or come from an earlier run of "
              "the same preset.</p>")
    if preset == "smoke":
        warn = f"<p class='warn'><b>{html.escape(SMOKE_NOTE)}</b>.</p>" + warn
    try:
        dev = describe_device(get_device(device))
    except ValueError:
        dev = device

    def table(kind: str | None, rows_of: list[dict] | None = None, origin: str | None = None) -> str:
        chosen = rows_of if rows_of is not None else [
            c for c in claims if c.get("kind") == kind and origin in (None, c.get("origin", "paper"))]
        rows = "".join(
            f"<tr class='{'pass' if c.get('passed') else ('untested' if c.get('verdict') == 'not tested' else 'fail')}'>"
            f"<td>{html.escape(str(c.get('id')))}"
            f"{' <em>(' + html.escape(str(c['data_label'])) + ')</em>' if c.get('data_label') else ''}</td>"
            f"<td>{html.escape(str(c.get('preset')))}</td>"
            f"<td class='verdict'>{html.escape(_verdict(c))}</td>"
            f"<td>{html.escape(str(c.get('statement')))}<br><small>{html.escape(str(c.get('operationalisation', '')))}</small>"
            f"{_secondary_html(c)}</td>"
            f"<td>{html.escape(_fmt(c.get('effect')))}<br><small>{html.escape(str(c.get('effect_unit') or ''))}</small></td>"
            f"<td>{html.escape(_fmt(c.get('ci')))}</td>"
            f"<td>{html.escape(_fmt(c.get('p_value')))}</td><td>{html.escape(str(c.get('n')))} {html.escape(str(c.get('unit')))}</td>"
            f"<td><small>{html.escape(str(c.get('test', '')))}</small></td>"
            f"<td>{html.escape(str(c.get('dataset')))}</td><td>{html.escape(str(c.get('notebook')))}</td></tr>"
            for c in chosen)
        return ("<table><tr><th>claim</th><th>preset</th><th>result</th><th>statement / operationalisation</th><th>effect</th>"
                f"<th>95% CI</th><th>p</th><th>n</th><th>test</th><th>dataset</th><th>notebook</th></tr>{rows}</table>")

    apart = ("" if not stale else "<h3>Stale (computed under another claims spec; rerun their notebooks)</h3>"
             + table(None, stale))
    apart += ("" if not earlier else "<h3>From an earlier run (another preset or code version; not this run's)</h3>"
             + table(None, earlier))
    apart += ("" if not unreadable else "<h3>Claim files that could not be read</h3><ul>" + "".join(
        f"<li>{html.escape(b['file'])}: could not be read ({html.escape(b['error'])})</li>" for b in unreadable)
        + "</ul>")
    not_run = ("" if not missing else "<h3>Not run</h3><table><tr><th>claim</th><th>result</th><th>notebook</th></tr>"
               + "".join(f"<tr class='fail'><td>{html.escape(m['id'])}</td><td class='verdict'>{html.escape(not_run_text(m))}</td>"
                         f"<td>{html.escape(m['notebook'])}</td></tr>" for m in missing) + "</table>")

    jobs = run.get("jobs") or 1
    lanes = f" ({jobs} notebooks side by side at most)" if jobs > 1 else ""
    figs = _figures_by_notebook(root)
    nbs = "".join(_notebook_item(root, name, states.get(name, "done"), timings.get(name), reasons.get(name))
                  for name in sorted(set(states) | set(timings)))
    vers = "".join(f"<li>{html.escape(k)} {html.escape(v)}</li>" for k, v in _versions().items())
    body = f"""<!doctype html><html><head><meta charset='utf-8'>
<title>Reproduction report — task and feature correlations in model reuse</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:4px 6px;font-size:90%;vertical-align:top}}
tr.pass td.verdict{{color:#176b2c;font-weight:bold}}tr.untested td.verdict{{color:#8a6d00;font-weight:bold}}th{{text-align:left}}tr.fail td.verdict{{color:#b00020;font-weight:bold}}
figure{{display:inline-block;width:48%;margin:0.5%}}.warn{{background:#fff3cd;padding:6px;border:1px solid #e0c060}}img{{width:100%}}figcaption{{font-size:85%}}</style></head><body>
<h1>Reproduction report</h1>
<p>Mohamud &amp; Brink, <em>An empirical study of task and feature correlations in the reuse of
pre-trained models</em> (UniReps / PMLR 322, 2026) — runnable companion.</p>
{warn}<ul><li>run state: <b>{state}</b> (started {html.escape(str(run.get("started")))}, finished
{html.escape(str(run.get("finished")))}); commit {html.escape(str(run.get("commit", "unknown")))}; code version
{html.escape(str(run.get("code_version", "?")))}</li><li>preset: <b>{html.escape(preset)}</b></li><li>dataset: <b>{html.escape(_resolved_dataset(preset, dataset))}</b></li>
<li>device: {html.escape(dev)}</li><li>wall time: {wall_seconds / 60:.1f} min{lanes}</li>
<li>written: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}</li></ul>
<h2>Claims of the study as operationalised here</h2>
<p>Each claim of the paper is turned into a test stated below (the seed — in the case studies the task — is the
unit of replication; selections use validation data only). A finding that does not hold is reported as failed,
with its numbers.</p>
<p>Claims spec {html.escape(str(view["spec"]["version"]))} (hash {html.escape(str(view["spec"]["hash"])[:12])}):
each claim's primary test, fixed before the runs, decides its verdict; secondaries are the companion's own questions,
with Holm-adjusted p-values.</p>
<h3>Protocol health (is every model trained? diagnostics, not findings)</h3>{table("diagnostic")}
<h3>Findings (the paper's claims)</h3>{table("empirical", origin="paper")}
<h3>Companion findings (the companion's own questions, beyond the paper's tests)</h3>{table("empirical", origin="companion")}
<h3>Manipulation checks (the dials do what they manipulate)</h3>{table("manipulation check")}
<h3>Identities (checks that the generator and the closed forms are right)</h3>{table("identity")}
{not_run}{apart}
<h2>Executed notebooks</h2><ul>{nbs}</ul>
<h2>Figures</h2><p>PNG copies are embedded; PDF versions lie in <code>figures/</code> beside this report.</p>{figs}
<h2>Versions</h2><ul>{vers}</ul></body></html>"""
    return atomic_write_text(root / "report.html", body)
