"""``results/report.html``, one self-contained file: the run's state, commit and resolved dataset,
the claims (findings apart from identities, then the claims of notebooks that did not finish, with
the reason), every figure embedded (grouped by notebook, captioned), each notebook's state, seconds
and reason, package versions and wall time. At ``smoke`` a banner says that its verdicts mean
nothing. The only relative links are to the executed notebooks' HTML copies that exist beside it
(``notebooks/NN_name.html``); the rest needs no other file.

Captions say what each figure shows (:data:`FIGURE_CAPTIONS`, by the figure's name), followed by
the run's own one-line caption where that adds something (the dials of a sample grid, a stand-in
label) — never a plotting library's raw facet titles such as ``arch = cnn; arch = mlp``. Every
effect is shown with its unit (the claim's ``effect_unit``, else the claims spec's)."""

from __future__ import annotations

import base64
import html
import platform
import re
import time
from pathlib import Path

from reuse_utils.analysis.claims_spec import SPEC
from reuse_utils.analysis.ledger import SMOKE_NOTE, claims_table, claims_view, not_run_text
from reuse_utils.core.io import atomic_write_text
from reuse_utils.experiments.presets import get_preset

__all__ = ["write_report", "figure_caption_text", "FIGURE_CAPTIONS"]


#: What each figure shows, by figure name: a figure named ``NAME`` or ``NAME_<anything>`` (dials,
#: ``_standin``) takes the longest matching entry. The report adds the run's own caption after it.
FIGURE_CAPTIONS: dict[str, str] = {
    "01_alice_weights": "Shallow linear model: Alice's optimal unit-norm weights on her own feature and on Bob's "
                        "(closed form and a logistic fit) against the feature correlation α",
    "01_bob_accuracy_vs_alpha": "Shallow linear model: Bob's test accuracy against the label–feature correlation, "
                                "with Alice's model unchanged and with its last layer refit, for pairwise and "
                                "for global covariance",
    "01_deep_glm_vs_closed_form": "GLM world: deep Bobs' test accuracy (head only, k = 1, and scratch) against α, "
                                  "beside the linear model's closed forms (Alice's model unchanged and refit)",
    "01_explorer": "Explorer (static view of the slider): Alice's optimal weights and Bob's accuracy at one α",
    "02_samples": "Composite inputs (Alice's panel left, Bob's right) at one setting of the task dial t and the "
                  "feature dial α, each titled with both labels",
    "02_dialled_vs_measured": "Generator calibration: the measured task correlation (Cramér's V) and feature "
                              "correlation against their dials",
    "02_randomised_bob_panel": "Composite inputs with Bob's panel randomised and the labels kept: the input of "
                               "the panel-randomised controls",
    "02_explorer": "Explorer (static view of the slider): samples at one (t, α) with their dialled and measured "
                   "correlations",
    "03_alice_training_curves": "Alice's learning curves: her accuracy over training epochs, per architecture and "
                                "optimizer",
    "03_alice_panel_randomised": "Alice's test accuracy with intact inputs and with either panel randomised, per "
                                 "architecture and optimizer",
    "04_bob_acc_vs_task_corr": "Bob's test accuracy (reinit) against the task correlation t, one line per number "
                               "k of retrained layers: mean and 95% CI over seeds, with chance",
    "04_heatmap_task_corr_by_k": "Bob's mean test accuracy (reinit) for each task correlation t and retrained "
                                 "depth k",
    "04_optimal_k": "The optimal number of retrained layers k*, chosen on validation data, against the task "
                    "correlation t, with the depths tied with it",
    "04_reinit_finetune_control": "Reinit, finetune and the random-init control by retrained depth k, at the "
                                  "lowest and the highest task correlation",
    "04_feature_axis_gains": "Bob's accuracy gain over scratch and over the random-init control against the "
                             "feature correlation α, at two task correlations",
    "04_glm_feature_axis": "GLM world: Bob's test accuracy against α, with t following α and at t = 0",
    "04_explorer": "Explorer (static view of the slider): Bob's accuracy by retrained depth k at one task "
                   "correlation",
    "05_zero_corr_by_depth": "Zero task and feature correlation: Bob's test accuracy by retrained depth k for "
                             "each of Alice's optimizers and the random-init control, per architecture, "
                             "against chance",
    "05_domain_control": "Zero correlation: Bob's accuracy with his panel from the same domain or from another "
                         "dataset, on Alice's network and on a random-init one",
    "05_panel_weight_norms": "What Alice's training did to the weights on Bob's panel (which her task never "
                             "needs), relative to their initial size, per optimizer and architecture",
    "05_explorer": "Explorer (static view of the slider) at zero correlation",
    "06_panel_share_vs_feature_corr": "Share of the Integrated-Gradients attribution on Bob's panel against the "
                                      "feature correlation α at t = 0, for Alice and for Bob (head only)",
    "06_layer_conductance": "Share of layer conductance on Bob's side, layer by layer, for Alice and for Bob "
                            "(head only), per α",
    "06_example_heatmaps": "Integrated-Gradients heatmaps of example inputs, for Alice and for Bob (head only)",
    "06_ig_vs_randomised": "Does attribution agree with reliance? Each model's attribution share on Bob's "
                           "panel against its accuracy drop when that panel is randomised",
    "06_explorer": "Explorer (static view of the slider): attribution along α",
    "07_alice_samples": "Case study: example training images of Alice's task",
    "07_bob_samples": "Case study: example images of Bob's task",
    "07_dog_vs_cat_by_depth": "Case study: Bob's test accuracy by retrained depth k (reinit and finetune) "
                              "against scratch, the random-init control and chance",
    "07_explorer": "Explorer (static view of the slider): the case study by depth",
    "08_tasks_by_depth": "Case study: Bob's test accuracy by retrained depth for each of his tasks, from "
                         "related to unrelated",
    "08_gain_vs_measured_corr": "Case study: Bob's error reduction over scratch against the measured task "
                                "correlation with Alice's task (Cramér's V), one point per task",
    "08_explorer": "Explorer (static view of the slider): the case-study tasks",
    "09_delta_val_vs_t": "Δ_val, Bob's validation accuracy at k = 2 minus at k = 1, against the task "
                         "correlation t, per n_bob",
    "09_recovered_t": "The task correlation read back from Bob's validation curve on a held-out seed against "
                      "the true t, with the constant guess",
    "09_scores_vs_bob_by_depth": "Transferability estimators computed per cut (LogME, H-scores) beside Bob's "
                                 "validated accuracy by depth",
    "09_model_scores_vs_best_accuracy": "Per-model estimators (LEEP, NCE) against Bob's best validation "
                                        "accuracy: they rank worlds, not depths",
    "09_cka_by_layer_along_t": "Linear CKA layer by layer (Alice vs Bob, Bob vs scratch, Alice vs random init) "
                               "along the task correlation t",
    "09_cka_by_layer_along_alpha": "Linear CKA between Alice and Bob (finetune) layer by layer along α",
    "09_explorer": "Explorer (static view of the slider): estimator scores and Bob's accuracy by depth in "
                   "one world",
}

#: Facet variables a plotting library writes as ``name = value``, in words.
_FACET_WORDS = {"arch": "architecture", "task_corr": "task correlation t", "feature_corr": "feature correlation α",
                "n_bob": "n_bob", "mode": "mode", "model": "model", "task": "task", "world": "world",
                "scenario": "scenario", "reference": "gain", "source": "source", "optimizer": "optimizer"}
_RAW_FACET = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]*|[A-Za-z]{2,}[A-Za-z0-9]*)\s*=\s*(.+?)\s*$")
_LABEL = re.compile(r"\s*(\[[^\]]+\])\s*$")


def _facets(text: str) -> dict[str, list[str]] | None:
    """``{variable: [values]}`` when ``text`` is nothing but raw facet titles (``arch = cnn; arch =
    mlp``, ``reference = over scratch | task_corr = 0.0``); else None."""
    out: dict[str, list[str]] = {}
    for part in (p for chunk in text.split(";") for p in chunk.split(" | ")):
        m = _RAW_FACET.match(part)
        if not m:
            return None
        out.setdefault(m.group(1), [])
        if m.group(2) not in out[m.group(1)]:
            out[m.group(1)].append(m.group(2))
    return out or None


def figure_caption_text(name: str, saved: str | None) -> str:
    """The report's caption of figure ``name``: what it shows (:data:`FIGURE_CAPTIONS`), then the
    run's own caption ``saved`` (from ``NAME.caption.txt``) where it adds something; raw facet
    titles become "by architecture: cnn, mlp" (and are dropped where the description says it)."""
    saved = (saved or "").strip()
    label = ""
    m = _LABEL.search(saved)
    if m:
        label, saved = m.group(1), saved[:m.start()].strip()
    keys = [k for k in FIGURE_CAPTIONS if name == k or name.startswith(k + "_")]
    described = FIGURE_CAPTIONS[max(keys, key=len)] if keys else ""
    if not described and "_explorer" in name:
        described = "Explorer (static view of the slider)"
    facets = _facets(saved) if saved else None
    if facets is not None:
        detail = "" if described else "; ".join(
            f"by {_FACET_WORDS.get(k, k.replace('_', ' '))}: {', '.join(v)}" for k, v in facets.items())
    elif saved.lower() in (name.replace("_", " ").lower(), described.lower()) or (described and saved.count("; ") >= 2):
        detail = ""  # the name itself, or a list of panel titles the description already sums up
    else:
        detail = saved
    text = " — ".join(p for p in (described, detail) if p) or name.replace("_", " ")
    return f"{text} {label}" if label else text


def _ci_html(c: dict) -> str:
    """The 95% interval with the effect's unit, or a dash when the claim has none."""
    ci = c.get("ci")
    if not ci or all(v is None for v in ci):
        return "—"
    return f"{html.escape(_fmt(ci))} {html.escape(_effect_unit(c))}".rstrip()


def _effect_unit(c: dict) -> str:
    """The unit of a claim's effect: the record's ``effect_unit``, else the claims spec's."""
    if c.get("effect_unit"):
        return str(c["effect_unit"])
    spec = SPEC.get(str(c.get("id")))
    return spec.primary.effect_unit if spec is not None else ""


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
            caption = figure_caption_text(f.stem, cap_file.read_text() if cap_file.exists() else None)
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


def _claims_html(claims: list[dict], kind: str | None, rows_of: list[dict] | None = None,
                 origin: str | None = None) -> str:
    """The HTML table of ``rows_of``, or of the ``claims`` of ``kind`` (and ``origin``: paper or companion)."""
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
        f"<td class='effect'>{html.escape(_fmt(c.get('effect')))} {html.escape(_effect_unit(c))}</td>"
        f"<td>{_ci_html(c)}</td>"
        f"<td>{html.escape(_fmt(c.get('p_value')))}</td><td>{html.escape(str(c.get('n')))} {html.escape(str(c.get('unit')))}</td>"
        f"<td><small>{html.escape(str(c.get('test', '')))}</small></td>"
        f"<td>{html.escape(str(c.get('dataset')))}</td><td>{html.escape(str(c.get('notebook')))}</td></tr>"
        for c in chosen)
    return ("<table><tr><th>claim</th><th>preset</th><th>result</th><th>statement / operationalisation</th><th>effect (with its unit)</th>"
            f"<th>95% CI</th><th>p</th><th>n</th><th>test</th><th>dataset</th><th>notebook</th></tr>{rows}</table>")


def _warning_html(run: dict, preset: str) -> str:
    """The report's warnings: a smoke run's numbers mean nothing; a run that is not complete."""
    state = html.escape(str(run.get("state")))
    states = dict(run.get("notebooks") or {})
    warn = ("" if run.get("state") == "complete" else
            f"<p class='warn'>This run is <b>{state}</b>: "
            + html.escape(", ".join(f"{k}: {v}" for k, v in states.items() if v != "done") or "no notebook state recorded")
            + ". Claims of notebooks that did not finish are listed as not run, or come from an earlier run of "
              "the same preset.</p>")
    if preset == "smoke":
        warn = f"<p class='warn'><b>{html.escape(SMOKE_NOTE)}</b>.</p>" + warn
    return warn


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
    warn = _warning_html(run, preset)
    try:
        dev = describe_device(get_device(device))
    except ValueError:
        dev = device

    def table(kind: str | None, rows_of: list[dict] | None = None, origin: str | None = None) -> str:
        return _claims_html(claims, kind, rows_of, origin)

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
