"""The sliders, tested as a person uses them: JupyterLab in a real (headless) Chromium.

Notebook 02 is parameterised for ``smoke`` with ``interactive=True`` (the same injection papermill
does), opened in JupyterLab, run with "Run All Cells"; then the task-correlation slider is dragged
with the mouse: while the button is held the figure must stay as it was (sliders update on release,
``continuous_update=False``), and once released it must be redrawn. Skips, with the reason, only where no
browser can be had (Debian's ``chromium`` and the ``playwright`` package; ``.ci/run`` installs both).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from reuse_utils.companion.exercises import exercises_of

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_data_generation.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    import papermill as pm

    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "02.ipynb"), prepare_only=True, kernel_name="python3",
                        language="python", parameters={"preset": "smoke", "device": "cpu", "interactive": True,
                                                       "results_dir": str(tmp_path / "results")})
    port, token = _free_port(), "reuse-test-token"
    jupyter = Path(sys.executable).parent / "jupyter"
    proc = subprocess.Popen([str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
                             "--allow-root"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if json.load(r):
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield f"{base}/lab/tree/02.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _figure_src(page) -> str:
    img = page.locator(".widget-output img, .jp-OutputArea-output img").last
    return img.get_attribute("src") or ""


def _drag(page, handle, readout) -> tuple[str, str, dict]:
    """Press the slider's handle, drag it 120 px to the right, hold it 4 s, release: the figure's image
    and the slider's readout while held, and the handle's box."""
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 12 * step, y)
        time.sleep(0.1)
    time.sleep(4)  # a continuous slider would have redrawn by now (a redraw takes < 4 s at smoke)
    held, moved = _figure_src(page), readout.inner_text()
    page.mouse.up()
    return held, moved, box


def test_slider_redraws_the_figure_in_jupyterlab(lab):
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(lab, wait_until="domcontentloaded")
            page.locator(".jp-Notebook").first.wait_for(timeout=90_000)
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)  # the kernel is up
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            handle = page.locator(".widget-slider .noUi-handle").first
            handle.wait_for(timeout=600_000)
            page.wait_for_function("() => document.querySelectorAll('.widget-output img').length > 0",
                                   timeout=120_000)
            # Run All goes on below the sliders; JupyterLab scrolls to each running cell, which would move
            # the handle away from a held mouse: drag once every cell has run and the kernel is idle.
            last = exercises_of("02")[-1].id  # the last cell checks this exercise
            page.get_by_text(f"Exercise {last}: not answered yet").first.wait_for(timeout=600_000)
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=600_000)
            before = _figure_src(page)
            readout = page.locator(".widget-slider .widget-readout").first
            start_value = readout.inner_text()
            tries = []
            for _ in range(3):  # a drag the page did not receive moves nothing; it is tried again
                held, moved_value, box = _drag(page, handle, readout)
                tries.append((box, moved_value))
                if moved_value != start_value:
                    break
            assert moved_value != start_value, f"dragging did not move the slider (box, readout per try: {tries})"
            assert held == before, "the figure was redrawn while the slider was still held (continuous_update?)"
            deadline = time.time() + 120
            while time.time() < deadline and _figure_src(page) == before:
                time.sleep(1)
            after = _figure_src(page)
            assert before and after and after != before, "releasing the slider did not redraw the figure"
        finally:
            browser.close()
