"""The report in headless Chromium: it loads nothing, runs nothing, and shows its charts.

Drives Debian's ``/usr/bin/chromium`` through Playwright (never a downloaded browser).
Skipped when Chromium or Playwright is missing, except in CI (``CI=true``), where that is
a failure.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _chromium import launch, unavailable
from test_report import HOSTILE, NOW, hostile

import apivideo_insights as avi

pytestmark = pytest.mark.browser


def _unavailable(reason: str) -> None:
    unavailable(reason, what="browser tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


class Visit:
    """A page opened on a file, with everything it logged, requested or popped up."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        page = self.page
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.url = path.resolve().as_uri()
        page.goto(self.url, wait_until="load")

    def close(self) -> None:
        self.page.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> Path:
    world = avi.sandbox.simulate(seed=11, now=NOW, videos=3, live_streams=1, sessions=400)
    path = tmp_path_factory.mktemp("browser") / "report.html"
    return avi.report(hostile(world), path, title=HOSTILE[1], dpi=70)


def test_report_loads_nothing_and_runs_nothing(browser, report_path, tmp_path):
    visit = Visit(browser, report_path)
    try:
        assert [m for m in visit.console if m[0] == "error"] == []
        assert visit.errors == []
        assert visit.failed == []
        assert visit.dialogs == []
        assert all(u == visit.url or u.startswith("data:") for u in visit.requests), visit.requests
        assert visit.page.evaluate("window.__pwned") is None
        # The hostile title is on the page as text.
        assert visit.page.title() == HOSTILE[1]
        assert visit.page.locator("h1").inner_text() == HOSTILE[1]
        assert visit.page.locator("script").count() == 0
    finally:
        visit.close()


def test_charts_render(browser, report_path, tmp_path):
    visit = Visit(browser, report_path)
    try:
        images = visit.page.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        assert len(images) >= 8
        assert all(done and w > 200 and h > 100 for done, w, h in images), images
        shot = tmp_path / "report.png"
        data = visit.page.screenshot(path=str(shot), full_page=True)
        width, height = _png_size(data)
        assert width == 1200 and height > 2000  # the whole report, not an empty page
        # A blank page compresses to almost nothing; charts and tables do not.
        assert len(data) > 150_000
        first = visit.page.locator("figure img").first
        box = first.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150
    finally:
        visit.close()


def test_the_checks_would_catch_an_unescaped_payload(browser, tmp_path):
    """Negative control: the same payload, unescaped and without the CSP, does run."""
    page = tmp_path / "unsafe.html"
    page.write_text(
        f"<!DOCTYPE html><title>x</title><h1>{HOSTILE[1]}</h1><p>{HOSTILE[0]}</p>",
        encoding="utf-8",
    )
    visit = Visit(browser, page)
    try:
        assert visit.page.evaluate("window.__pwned") == 1
        assert visit.dialogs  # alert(1) fired
        assert any(not (u == visit.url or u.startswith("data:")) for u in visit.requests)
    finally:
        visit.close()


#: Headers whose words do not fit their cell (the cell had to break a word), and ids that
#: run over more than one line.
_BROKEN = """() => {
  const broken = [];
  const probe = document.createElement('span');
  probe.style.cssText = 'white-space:nowrap;position:absolute;visibility:hidden';
  document.body.appendChild(probe);
  for (const th of document.querySelectorAll('thead th')) {
    const s = getComputedStyle(th);
    probe.style.font = s.font;
    const room = th.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    for (const word of th.textContent.split(/\\s+/).filter(Boolean)) {
      probe.textContent = word;
      if (probe.getBoundingClientRect().width > room + 0.5) broken.push(th.textContent);
    }
  }
  probe.remove();
  const ids = Array.from(document.querySelectorAll('span.id'));
  const wrapped = ids.filter(e => e.getClientRects().length > 1).map(e => e.textContent);
  return {broken, wrapped, ids: ids.length, headers: document.querySelectorAll('thead th').length};
}"""


@pytest.mark.parametrize("width", [1200, 800])
def test_headers_do_not_break_mid_word_and_ids_stay_on_one_line(browser, report_path, width):
    visit = Visit(browser, report_path)
    try:
        visit.page.set_viewport_size({"width": width, "height": 900})
        found = visit.page.evaluate(_BROKEN)
        assert found["headers"] > 20 and found["ids"] > 5
        assert found["broken"] == []
        assert found["wrapped"] == []
    finally:
        visit.close()


def test_the_header_check_would_catch_a_broken_word(browser, tmp_path):
    """Negative control: a header squeezed into a narrow column is reported."""
    page = tmp_path / "narrow.html"
    page.write_text(
        "<!DOCTYPE html><table style='width:60px'><thead><tr>"
        "<th style='overflow-wrap:anywhere'>impressions</th></tr></thead></table>"
        "<span class='id' style='display:inline-block;width:30px'>x</span>"
        "<div style='width:40px'><span class='id'>viLong vi2Long vi3Long</span></div>",
        encoding="utf-8",
    )
    visit = Visit(browser, page)
    try:
        found = visit.page.evaluate(_BROKEN)
        assert found["broken"] == ["impressions"]
        assert found["wrapped"] == ["viLong vi2Long vi3Long"]
    finally:
        visit.close()
