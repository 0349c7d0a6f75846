"""The dashboard in a real frontend: JupyterLab 4 in headless Chromium.

Starts JupyterLab on 127.0.0.1 (a free port, a token, a temporary root holding one
notebook that serves a simulated project and calls ``avi.dashboard``), drives Debian's
``/usr/bin/chromium`` through Playwright (never a downloaded browser), runs the notebook,
and works every control: video, bins, cohort, view and period. Each change must change what
is drawn (the chart's image or the table), with no error output and no console error.

Skipped when JupyterLab, Chromium or Playwright is missing, except in CI (``CI=true``),
where that is a failure. Every process it starts is stopped (the server's process group,
the kernel and its sandbox with it); the whole run is bounded (pytest-timeout, and each
wait).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _chromium import launch, unavailable

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[1]
NOW = "2024-06-01T12:00:00+00:00"
PERIOD = "2024-05-01/2024-06-01"
LATER = "2024-05-25/2024-06-01"
#: Where a copy of the screenshot goes, when set (to look at it).
SHOTS = os.environ.get("AVI_SCREENSHOT_DIR")

NOTEBOOK_CELL = f"""\
import apivideo_insights as avi

# The simulated titles include non-Latin ones ("Résumé — 日本語").
world = avi.sandbox.simulate(seed=3, now="{NOW}", videos=3, live_streams=0, sessions=300)
sandbox = avi.sandbox.serve(world).start()
api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)
ui = avi.dashboard(api, period="{PERIOD}")
ui"""


def _unavailable(reason: str) -> None:
    unavailable(reason, what="the JupyterLab test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _notebook(path: Path) -> None:
    book = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "dashboard",
                "metadata": {},
                "outputs": [],
                "source": NOTEBOOK_CELL,
            }
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(book), encoding="utf-8")


class Lab:
    """A JupyterLab server in its own process group, stopped with everything it started."""

    def __init__(self, root: Path, home: Path) -> None:
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.log = (home / "lab.log").open("wb")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "IPYTHONDIR": str(home / "ipython"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        }
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.disable_check_xsrf=True",
            # Nothing leaves the machine: no update checks, no news.
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=",
            "--LabApp.extension_manager=readonly",
            "--LabApp.expose_app_in_browser=True",  # the test runs Lab's own commands
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        self.proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(
                    f"{self.url}/api/status?token={self.token}", timeout=2
                ) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        log = Path(self.log.name).read_text(errors="replace")[-3000:]
        pytest.fail(f"JupyterLab did not start within {timeout:.0f} s:\n{log}")

    def start_kernel(self, path: str) -> None:
        """A kernel session for the notebook, started before the page opens (so that Lab
        attaches to it rather than asking which kernel to start)."""
        body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}
        request = urllib.request.Request(
            f"{self.url}/api/sessions?token={self.token}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 201, answer.status

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)  # the server, its kernel and their threads
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _unavailable("jupyterlab is not installed (pip install 'jupyterlab>=4')")
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("lab-home")
    _notebook(root / "dashboard.ipynb")
    _settings(home)
    server = Lab(root, home)
    try:
        server.wait_ready()
        server.start_kernel("dashboard.ipynb")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch("the JupyterLab test")


def _loopback_only(route: Any) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def _wait_for_chart(page: Any, timeout: float = 150.0) -> None:
    """Wait for the dashboard's first chart; Lab may first ask which kernel to use: take
    the notebook's own (Python 3)."""
    deadline = time.monotonic() + timeout
    asked = 0.0
    while time.monotonic() < deadline:
        if page.locator(".widget-output img").count():
            return
        if page.locator(".jp-Dialog").count():
            page.keyboard.press("Enter")  # "Select" (the preferred kernel) has the focus
        prompt = page.locator(".jp-InputPrompt").first.inner_text()
        if "[ ]" in prompt and time.monotonic() - asked > 10:
            # Run > Run All Cells (again, if Lab was not ready to take it the last time).
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            asked = time.monotonic()
        page.wait_for_timeout(500)
    text = page.locator(".jp-Notebook").first.inner_text()[-2000:]
    pytest.fail(f"no dashboard chart within {timeout:.0f} s; the notebook shows:\n{text}")


def _settings(home: Path) -> None:
    """No news prompt (it would ask to fetch from the internet) in a fresh settings dir;
    no debugger (it logs a console error when its kernel requests are cut short, which
    would hide ours)."""
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/debugger-extension": True}}),
        encoding="utf-8",
    )
    folder = home / "settings" / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
    )


def _image(page: Any) -> str:
    """The src of the chart the dashboard shows now ('' when none)."""
    return str(
        page.evaluate(
            """() => { const i = document.querySelector('.widget-output img');
                       return i ? i.getAttribute('src') : ''; }"""
        )
    )


def _output_text(page: Any) -> str:
    return str(page.evaluate("() => document.querySelector('.widget-output')?.innerText ?? ''"))


def _wait_changed(page: Any, what: str, before: str, timeout: float = 60_000) -> str:
    """Wait until the chart's src (what='img') or the table's text (what='table') differs."""
    # Done loading (no placeholder) and showing something else than before.
    js = {
        "img": """(b) => { const i = document.querySelector('.widget-output img');
                           return !document.querySelector('.widget-output .avi-loading')
                                  && i && i.getAttribute('src') !== b; }""",
        "table": """(b) => { const t = document.querySelector('.widget-output table');
                             return !document.querySelector('.widget-output .avi-loading')
                                    && t && t.innerText !== b; }""",
    }[what]
    page.wait_for_function(js, arg=before, timeout=timeout)
    if what == "img":
        return _image(page)
    return str(page.evaluate("() => document.querySelector('.widget-output table').innerText"))


def test_dashboard_in_jupyterlab(lab: Lab, browser: Any, tmp_path: Path) -> None:
    console: list[tuple[str, str, str]] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60_000)
    page.route("**/*", _loopback_only)
    phase = ["opening"]
    page.on("console", lambda m: console.append((m.type, m.text, phase[0])))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{lab.url}/lab/tree/dashboard.ipynb?token={lab.token}", wait_until="load")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        # Run the notebook (Run > Run All Cells, see _wait_for_chart), once the kernel is up.
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.commands"
            ".isEnabled('notebook:run-all-cells')",
            timeout=90_000,
        )
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000
        )

        # The widgets render, with a first chart.
        phase[0] = "running"
        _wait_for_chart(page)
        phase[0] = "using"
        controls = page.locator(".jp-OutputArea .widget-vbox").first
        assert controls.locator(".widget-dropdown select").count() == 3
        assert controls.locator(".widget-toggle-button").count() == 3
        shown = _image(page)
        assert shown.startswith("data:image/png;base64,")

        video = page.locator(".widget-dropdown", has_text="Video").locator("select")
        # The picker is wide enough for the long title (not cut off).
        box = video.bounding_box()
        fits = video.evaluate("s => s.scrollWidth <= s.clientWidth + 1")
        assert box is not None and box["width"] > 500 and fits
        period = page.locator(".widget-text", has_text="Period").locator("input")
        assert "2024" not in (period.get_attribute("placeholder") or "")
        assert "last 30 days" in page.locator(".jp-OutputArea").first.inner_text()

        # Video, bins, cohort: each redraws the chart.
        video.select_option(index=1)
        shown = _wait_changed(page, "img", shown)
        page.locator(".widget-dropdown", has_text="Bins").locator("select").select_option(
            label="10 s"
        )
        shown = _wait_changed(page, "img", shown)
        page.locator(".widget-dropdown", has_text="Cohort").locator("select").select_option(
            label="device type"
        )
        shown = _wait_changed(page, "img", shown)

        # View: heatmap (a new image), then engagement (bars and a table).
        page.locator(".widget-toggle-button", has_text="heatmap").click()
        shown = _wait_changed(page, "img", shown)
        page.locator(".widget-toggle-button", has_text="engagement").click()
        table = _wait_changed(page, "table", "")
        # The table stays inside the output area (it scrolls rather than being clipped).
        area = page.locator(".widget-output").first.bounding_box()
        holder = page.locator(".widget-output .avi-table").first.bounding_box()
        assert area is not None and holder is not None
        assert holder["x"] + holder["width"] <= area["x"] + area["width"] + 1

        # Period: a shorter one, through the text box (Enter submits it).
        period.fill(LATER)
        period.press("Enter")
        table = _wait_changed(page, "table", table)
        bars = _image(page)
        page.locator(".widget-toggle-button", has_text="retention").click()
        shown = _wait_changed(page, "img", bars)
        assert page.locator(".widget-output img").count() == 1  # the curve alone
        assert not page.locator(".widget-output table").count()

        # No error anywhere: no error output, no error box, no console error.
        assert not page.locator(".jp-OutputArea-output[data-mime-type*='stderr']").count()
        assert not page.locator(".jp-OutputArea-output .avi-error").count()
        assert "Error" not in _output_text(page)
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "dashboard.png", Path(SHOTS) / "jupyterlab-dashboard.png")
        # What the page logged while in use (closing it cancels the kernel's pending
        # requests, which Lab logs as errors of its own).
        logged = [(kind, text, phase) for kind, text, phase in console]
    finally:
        page.close()
    assert not errors, errors
    bad = [(phase, text) for kind, text, phase in logged if kind == "error"]
    assert not bad, bad
