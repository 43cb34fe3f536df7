"""The README and docs/ for users: short, no commit ids in the README, every relative link alive,
and every generated part (results tables, measurement tables, figures) equal to what the committed
files give now. Fast: nothing here runs a notebook."""

import json
import re
import shutil
from pathlib import Path

import pytest

from reuse_utils.companion import docs_tables as dt
from reuse_utils.companion import results_table as rt

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MEASURED = ROOT / "benchmarks" / "measured"
PAGES = ("running", "engine", "results", "troubleshooting", "performance")

_FENCE = re.compile(r"```.*?```", re.S)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def commit_ids(text: str) -> list[str]:
    """Strings that look like commit ids: 7–40 hex digits with at least one letter a–f and one digit
    (so 1515, 2026 or a word such as "decade" never match)."""
    return dt.COMMIT_ID.findall(text)


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text())
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def broken_links(path: Path) -> list[str]:
    """The relative links (and images) of a Markdown file whose file, or heading, does not exist.
    Links inside code are not links."""
    text = _CODE.sub("", _FENCE.sub("", path.read_text()))
    bad = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            bad.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(target)
    return bad


def _docs() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_readme_is_short():
    n = len(README.read_text())
    assert n <= 10_000, f"README.md has {n} characters (at most 10,000): move material into docs/"


def test_readme_has_no_commit_ids():
    found = commit_ids(README.read_text())
    assert not found, f"README.md carries commit-like ids {found}: history goes to CHANGELOG.md"


def test_commit_id_pattern_finds_ids_and_leaves_numbers():
    assert commit_ids("measured at ad1b132, then at 2178cba and d4c3f4e") == ["ad1b132", "2178cba", "d4c3f4e"]
    assert commit_ids("1515 s in 2026.12-2, p 4.1e-07, a decade, 0x1f, 1234567, deadbeef") == []
    assert commit_ids("ad1b132c32ff9cb5c0b4b48d2d2153ac9808b4dd") == ["ad1b132c32ff9cb5c0b4b48d2d2153ac9808b4dd"]


def test_readme_names_no_history():
    text = README.read_text().lower()
    for phrase in ("this round", "previous round", "tried and not kept", "issue 13", "issue 26", "issue 28"):
        assert phrase not in text, f"README.md says {phrase!r}: history goes to CHANGELOG.md"


@pytest.mark.parametrize("page", PAGES)
def test_docs_pages_exist(page):
    assert (DOCS / f"{page}.md").is_file(), f"docs/{page}.md is missing"


@pytest.mark.parametrize("path", _docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(path):
    assert broken_links(path) == [], f"{path.relative_to(ROOT)} links to what does not exist"


def test_link_check_catches_a_broken_link(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md) [ok](there.md#a-heading) [web](https://example.org/x) `[code](nowhere.md)`\n"
                    "[gone](nowhere.md) ![img](figures/none.png) [bad anchor](there.md#no-such)\n")
    assert broken_links(page) == ["nowhere.md", "figures/none.png", "there.md#no-such"]


@pytest.mark.parametrize("doc", ["README.md", "docs/results.md"])
def test_results_tables_are_generated_from_the_committed_claims(doc):
    assert rt.update_readme(ROOT / doc, ROOT / "results_quick", ROOT / "results_paper", check=True), (
        f"{doc}'s results table differs from results_quick/ and results_paper/ claims.json: run make docs")


def test_a_stale_results_table_is_caught(tmp_path):
    copy = tmp_path / "README.md"
    text = README.read_text()
    block = text[text.index(rt.BEGIN):text.index(rt.END)]
    edited = block.replace("PASS", "FAIL", 1) if "PASS" in block else block + "| an extra row |\n"
    copy.write_text(text.replace(block, edited))
    assert not rt.update_readme(copy, ROOT / "results_quick", ROOT / "results_paper", check=True)


def test_performance_tables_are_generated_from_the_measurements():
    assert dt.update_performance(DOCS / "performance.md", MEASURED, check=True), (
        "docs/performance.md's tables differ from benchmarks/measured/*.json: run make docs")


def test_every_measurement_file_appears_in_performance():
    text = (DOCS / "performance.md").read_text()
    missing = [f.name for f in sorted(MEASURED.glob("*.json")) if f.name not in text]
    assert not missing, f"docs/performance.md does not show {missing}: run make docs"


def test_stale_performance_tables_are_caught(tmp_path):
    # the page edited by hand
    page = tmp_path / "performance.md"
    page.write_text((DOCS / "performance.md").read_text().replace("| `speedup` |", "| `speedup` | 99 |", 1))
    assert not dt.update_performance(page, MEASURED, check=True)
    # a measurement changed, or a new one added, under an unchanged page
    measured = tmp_path / "measured"
    shutil.copytree(MEASURED, measured)
    first = sorted(measured.glob("*.json"))[0]
    doc = json.loads(first.read_text())
    doc["added_by_the_test"] = 12345
    first.write_text(json.dumps(doc))
    assert not dt.update_performance(DOCS / "performance.md", measured, check=True)
    shutil.copy(MEASURED / first.name, first)
    assert dt.update_performance(DOCS / "performance.md", measured, check=True)
    (measured / "zz_new_quick_cpu2.json").write_text(json.dumps({"wall_seconds": 1.0}))
    assert not dt.update_performance(DOCS / "performance.md", measured, check=True)
    # regenerating makes it current again
    page.write_text((DOCS / "performance.md").read_text())
    dt.update_performance(page, measured)
    assert dt.update_performance(page, measured, check=True) and "zz_new_quick_cpu2.json" in page.read_text()


def test_renderer_shows_every_number_and_no_commit_id(tmp_path):
    f = tmp_path / "x_quick_cpu2.json"
    f.write_text(json.dumps({
        "what": "a measurement described at length, long enough to be a paragraph rather than a cell of the table",
        "commit": "ad1b132c32ff9cb5c0b4b48d2d2153ac9808b4dd", "wall_seconds": 1515.04, "speedup": 3.157530634,
        "met": False, "seed_std": float("nan"), "seconds": {"01.ipynb": 49, "04.ipynb": 893.25},
        "cpu_seconds": {"01.ipynb": 40, "04.ipynb": 1411}, "rows": [{"t": 0.0, "acc": 0.7555}, {"t": 0.5, "acc": 0.8}],
        "claims": {"C1": {"passed": True, "effect": -0.96}}}))
    md = dt.render_measured_file(f)
    assert md.startswith("### x_quick_cpu2\n\n[`x_quick_cpu2.json`](../benchmarks/measured/x_quick_cpu2.json)")
    assert "*what*: a measurement described" in md and "ad1b132" not in md and "(recorded in the file)" in md
    for cell in ("| `wall_seconds` | 1515 |", "| `speedup` | 3.158 |", "| `met` | no |", "| `seed_std` | NaN |",
                 "| `04.ipynb` | 893.2 | 1411 |", "| 0.5 | 0.8 |", "| `C1` | yes | -0.96 |"):
        assert cell in md, cell
    assert not commit_ids(dt.render_measured(MEASURED))


def test_docs_figures_are_the_committed_runs():
    assert dt.update_figures(ROOT / "results_quick" / "report.html", DOCS / "figures", check=True), (
        "docs/figures/ differs from the figures embedded in results_quick/report.html: run make docs")


def test_make_docs_check_passes_on_the_repository():
    assert dt.update_docs(ROOT, check=True) == []


# --- the report's captions and effect units -------------------------------------------------------

def _figure_names() -> set[str]:
    """Names (or name prefixes, for names built from values) of the figures the notebooks save."""
    stems = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")}
    names = set()
    for nb in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"):
        names.update(re.findall(r"""f?["'](\d\d_[a-z][A-Za-z0-9_]*)""", nb.read_text()))
    return {n.rstrip("_") for n in names} - stems


def test_every_figure_has_a_caption_that_says_what_it_shows():
    from reuse_utils.companion.report import FIGURE_CAPTIONS, figure_caption_text

    names = _figure_names()
    assert len(names) >= 20
    bare = [n for n in names if figure_caption_text(n, None) == n.replace("_", " ")]
    assert not bare, f"no description for figures {bare}: add them to FIGURE_CAPTIONS in report.py"
    # no description is itself a raw facet title (it would be rewritten as one)
    assert [figure_caption_text("99_unknown", text) for text in FIGURE_CAPTIONS.values()] == list(FIGURE_CAPTIONS.values())


def test_raw_facet_titles_never_become_captions():
    from reuse_utils.companion.report import figure_caption_text

    for saved in ("arch = cnn; arch = mlp", "scenario = pairwise; scenario = global",
                  "reference = over scratch | task_corr = 0.0; reference = over random init | task_corr = 0.6"):
        text = figure_caption_text("05_zero_corr_by_depth", saved)
        assert "arch =" not in text and "scenario =" not in text and "task_corr" not in text
        assert text.startswith("Zero task and feature correlation")
    assert figure_caption_text("99_new_figure", "arch = cnn; arch = mlp") == "by architecture: cnn, mlp"
    assert figure_caption_text("99_new_figure", None) == "99 new figure"
    dials = figure_caption_text("02_samples_t0.5_alpha0.3", "task correlation t = 0.5, feature correlation α = 0.3")
    assert dials.startswith("Composite inputs") and dials.endswith("t = 0.5, feature correlation α = 0.3")
    standin = figure_caption_text("08_tasks_by_depth_standin", "task = same task; task = unrelated [stand-in data]")
    assert standin.endswith("unrelated [stand-in data]") and "task =" not in standin
    assert figure_caption_text("03_explorer_x", "").startswith("Explorer")


def test_report_captions_and_effect_units(tmp_path):
    from reuse_utils.analysis.claims_spec import SPEC_VERSION, spec_hash
    from reuse_utils.analysis.ledger import record_claim
    from reuse_utils.companion.report import write_report

    figs = tmp_path / "figures"
    figs.mkdir()
    (figs / "03_alice_training_curves.png").write_bytes(b"png")
    (figs / "03_alice_training_curves.caption.txt").write_text("arch = cnn; arch = mlp")
    result = {"statement": "s", "operationalisation": "o", "test": "t", "unit": "seed", "n": 5, "effect": 0.1,
              "ci": [0.05, 0.15], "p_value": 0.01, "passed": True, "details": {},
              "spec_version": SPEC_VERSION, "spec_hash": spec_hash()}  # no effect_unit: the spec's is shown
    record_claim(tmp_path, "C2_zero_corr_above_chance", result, preset="smoke", dataset="mnist5k",
                 notebook="05.ipynb")
    record_claim(tmp_path, "C1_monotonic_task", {**result, "effect_unit": "Kendall τ_a"}, preset="smoke",
                 dataset="mnist5k", notebook="04.ipynb")
    html = write_report(tmp_path, preset="smoke", dataset=None, device="cpu", timings={}, wall_seconds=1).read_text()
    assert "arch = cnn" not in html and "Alice&#x27;s learning curves" in html
    assert "<td class='effect'>0.1 accuracy (fraction)</td>" in html
    assert "<td class='effect'>0.1 Kendall τ_a</td>" in html and "[0.05, 0.15] Kendall τ_a" in html
    assert "effect (with its unit)" in html
