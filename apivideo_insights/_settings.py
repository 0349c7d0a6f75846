"""One client's settings: checked once, frozen, handed to the HTTP layer and the loaders.

:func:`apivideo_insights.connect` builds a :class:`Settings` from its arguments; the HTTP
session (:class:`apivideo_insights._http.Http`) and the :class:`~apivideo_insights.Client`
read every knob from it. The API key is not a setting: it lives only in the auth objects.

>>> from apivideo_insights._settings import Settings
>>> s = Settings(base_url="http://127.0.0.1:8080", timeout=5)
>>> s.timeout, s.max_pages, s.max_wait
(5.0, 10000, 60.0)
>>> Settings(base_url="http://127.0.0.1:8080", timeout=0)
Traceback (most recent call last):
...
ValueError: timeout must be a positive number of seconds, not 0
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_PAGE_SIZE", "Settings"]

#: The most items api.video returns per page.
MAX_PAGE_SIZE = 100


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        err = f"{name} must be a positive integer, not {value!r}"
        raise ValueError(err)
    return value


def _positive_number(name: str, value: Any, what: str = "number") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        err = f"{name} must be a positive {what}, not {value!r}"
        raise ValueError(err)
    if value == float("inf"):
        err = f"{name} must be finite, not {value!r}"
        raise ValueError(err)
    return float(value)


@dataclass(frozen=True)
class Settings:
    """What one client may do, and how long and how much it may wait for.

    Parameters
    ----------
    base_url : str
        The server (already resolved: no trailing slash).
    cache : Path or None
        The SQLite cache file, or None for no cache.
    auth : {"bearer", "basic"}
    timeout : float
        Seconds for one answer, whole (connect, headers and body; see ``max_bytes``).
    max_workers : int
        Concurrent requests of one load.
    progress : bool or None
    page_size : int
        Items per page asked for (1-100).
    retries : int
        Retries of a request after 5xx, 429 or a failed connection.
    backoff_factor : float
        Exponential backoff between those retries (seconds, urllib3's factor).
    max_pages : int
        Pages one listing may have, in every pagination mode (totals, ``next`` links).
    max_wait : float
        The longest one rate-limit wait may be (api.video's window is a minute).
    max_bytes : int
        The largest answer body accepted.
    """

    base_url: str
    cache: Path | None = None
    auth: str = "bearer"
    timeout: float = 30.0
    max_workers: int = 8
    progress: bool | None = None
    page_size: int = MAX_PAGE_SIZE
    retries: int = 5
    backoff_factor: float = 0.25
    max_pages: int = 10_000
    max_wait: float = 60.0
    max_bytes: int = 64 * 2**20

    def __post_init__(self) -> None:
        if not isinstance(self.base_url, str) or not self.base_url:
            err = f"base_url must be a non-empty string, not {self.base_url!r}"
            raise TypeError(err)
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.cache is not None:
            object.__setattr__(self, "cache", Path(self.cache))
        if self.auth not in ("bearer", "basic"):
            err = f"auth must be 'bearer' or 'basic', not {self.auth!r}"
            raise ValueError(err)
        timeout = _positive_number("timeout", self.timeout, "number of seconds")
        object.__setattr__(self, "timeout", timeout)
        _positive_int("max_workers", self.max_workers)
        if self.progress is not None and not isinstance(self.progress, bool):
            err = f"progress must be True, False or None, not {self.progress!r}"
            raise TypeError(err)
        size = self.page_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
            err = f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, not {size!r}"
            raise ValueError(err)
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            err = f"retries must be a non-negative integer, not {self.retries!r}"
            raise ValueError(err)
        backoff = self.backoff_factor
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            err = f"backoff_factor must be a non-negative number, not {backoff!r}"
            raise ValueError(err)
        object.__setattr__(self, "backoff_factor", float(backoff))
        _positive_int("max_pages", self.max_pages)
        object.__setattr__(self, "max_wait", _positive_number("max_wait", self.max_wait))
        _positive_int("max_bytes", self.max_bytes)

    @property
    def worst_case(self) -> float:
        """Seconds one request may take at most when no answer comes: every attempt's
        ``timeout`` for the headers and again for the body, plus the backoff between
        attempts (each capped at 10 s). Rate-limit waits come on top (``max_wait`` each)."""
        backoff = sum(min(self.backoff_factor * 2**i, 10.0) for i in range(1, self.retries + 1))
        return float((self.retries + 1) * 2 * self.timeout + backoff)
