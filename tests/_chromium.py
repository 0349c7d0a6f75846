"""Debian's Chromium for the browser tests: where it is, how it starts, and what a missing piece
means (a skip on a laptop, a failure in CI, ``CI=true``). Never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# One Chromium and one set of flags for every browser this project starts: the real-browser
# harness's (its page autoplays; the notebooks and dashboards here do not mind).
from players.harness import CHROMIUM, CHROMIUM_ARGS


def unavailable(reason: str, *, what: str = "browser tests") -> None:
    """Skip, or fail under ``CI=true``, because ``reason`` is missing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} must run in CI: {reason}")
    pytest.skip(reason)


def launch(what: str = "browser tests") -> Iterator[Any]:
    """A headless Chromium through Playwright, closed afterwards (the body of a fixture)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed", what=what)
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        unavailable(f"no Chromium at {CHROMIUM} (install Debian's 'chromium' package)", what=what)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
