"""Cache keys, the opening of the cache file, and the store of finished frames beside it.

The SQLite file itself (damage, locks, the ``frames`` table) is :mod:`apivideo_insights._cache`;
what may enter it and for how long is :mod:`.policy`. Here:

* :func:`cache_key`: method, URL with sorted query, account fingerprint (never headers);
* :func:`open_store`: the cache for a path, or None (with one warning) when the file or its
  directory cannot be written: the client then works uncached rather than failing;
* :class:`FrameStore`: finished DataFrames kept as long as every answer they were built
  from stays fresh.

>>> class R: method, url, body = "GET", "https://ws.api.video/videos?b=2&a=1", None
>>> cache_key(R(), "f") == cache_key(type("S", (), {"method": "GET", "body": None,
...     "url": "https://WS.api.video/videos?a=1&b=2"})(), "f")
True
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests_cache

from .._cache import SafeSQLiteCache, damaged, open_cache
from .._version import __version__
from ..exceptions import warn

__all__ = ["IGNORED", "FrameStore", "KeyRequest", "cache_key", "open_store"]

# requests-cache replaces its defaults when given a list, so extend them.
IGNORED = (*requests_cache.DEFAULT_IGNORED_PARAMS, "apiKey", "refreshToken")

_warned: set[str] = set()
_warned_lock = threading.Lock()


class KeyRequest:
    """The parts of a request that :func:`cache_key` reads."""

    __slots__ = ("body", "method", "url")

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url
        self.body = None


def cache_key(request: Any, fingerprint: str, ignored: Iterable[str] | None = None) -> str:
    """The cache key of a request: method, URL with sorted query, account fingerprint.

    Faster than requests-cache's default (a warm load is mostly key lookups) and only what
    matters for api.video's GETs: headers never enter it (the credentials live there), the
    account does, as a salted fingerprint of the key.
    """
    parts = urlsplit(request.url or "")
    skip = set(ignored or ())
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in skip
    )
    canonical = "\n".join(
        (
            "v1",
            (request.method or "GET").upper(),
            f"{parts.scheme}://{parts.netloc.lower()}{parts.path}",
            urlencode(query),
            fingerprint,
        )
    )
    body = request.body or b""
    digest = hashlib.blake2b(canonical.encode("utf-8"), digest_size=16)
    digest.update(body if isinstance(body, bytes) else str(body).encode("utf-8"))
    return digest.hexdigest()


def _unwritable(path: Path) -> str | None:
    """Why the cache at ``path`` cannot be written, or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"its directory cannot be created ({exc.strerror or type(exc).__name__})"
    if not path.parent.is_dir():
        return "its directory is not a directory"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return "its directory is read-only"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "the file is read-only"
    return None


def _uncached(path: Path, why: str) -> None:
    with _warned_lock:
        if str(path) in _warned:
            return
        _warned.add(str(path))
    warn(
        f"the cache file {path} cannot be used ({why}); working without a cache. Pass "
        "cache= a writable path (or set APIVIDEO_INSIGHTS_CACHE_DIR), or cache=None"
    )


def open_store(path: Path) -> SafeSQLiteCache | None:
    """The cache at ``path``; None, after one warning, when it cannot be written."""
    why = _unwritable(path)
    if why is None:
        try:
            return open_cache(path)
        except PermissionError as exc:
            why = f"permission denied: {exc.strerror or exc}"
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc) and "unable to open" not in str(exc):
                raise damaged(path, exc) from None
            why = str(exc)
    _uncached(path, why)
    return None


class FrameStore:
    """Finished frames, kept beside the answers they were built from (same file).

    A kept frame expires with the earliest of its answers, so it is served exactly when
    each of its pages would have been served from the cache.
    """

    def __init__(self, cache: SafeSQLiteCache | None, path: Path | None, fingerprint: str):
        self.cache = cache
        self.path = path
        self.fingerprint = fingerprint

    def key(self, loader: str, url: str, params: Any, *extra: Any) -> str | None:
        """The key of a finished frame: the request, what shaped the frame, the account.

        None when there is no cache. The versions of this package and of pandas are part
        of it, so an upgrade rebuilds frames instead of unpickling old ones.
        """
        if self.cache is None:
            return None
        import pandas as pd

        digest = hashlib.blake2b(digest_size=16)
        for part in (
            "frame-v1",
            __version__,
            pd.__version__,
            loader,
            url,
            repr(list(params.items() if isinstance(params, Mapping) else params)),
            repr(extra),
            self.fingerprint,
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def recall(self, key: str | None) -> Any:
        """The finished frame kept under ``key``, or None."""
        if key is None or self.cache is None:
            return None
        try:
            return self.cache.get_frame(key)
        except sqlite3.Error as exc:
            raise damaged(self.path, exc) from None

    def keep(self, key: str | None, frame: Any, responses: Iterable[Any]) -> bool:
        """Keep a finished frame for as long as every answer it was built from stays fresh.

        Nothing is kept when an answer was not stored (it could not be re-read either) or
        has already expired.
        """
        if key is None or self.cache is None:
            return False
        expires: datetime | None = None
        for response in responses:
            stored = getattr(response, "from_cache", False) or getattr(response, "cache_key", None)
            if not stored or getattr(response, "_avi_unstored", False):
                return False
            when = getattr(response, "expires", None)
            if when is not None and (expires is None or when < expires):
                expires = when
        if expires is not None and expires <= datetime.now(expires.tzinfo):
            return False
        try:
            return bool(self.cache.save_frame(key, frame, expires))
        except sqlite3.Error as exc:
            raise damaged(self.path, exc) from None

    def counts(self) -> dict[str, tuple[int, int, int, int]] | None:
        """Entries, bytes, never expiring, expired: of the answers and of the kept frames."""
        if self.cache is None:
            return None
        try:
            return self.cache.info()
        except sqlite3.Error as exc:
            raise damaged(self.path, exc) from None
