"""The :class:`Http` session: the layers of this package composed into one GET.

Below the cache (so that cache hits cost nothing): :class:`PacedAdapter` signs the request
(:mod:`.auth`, only for ``base_url``'s origin), waits its turn (:mod:`.pacing`), sends it
with urllib3's retries, and reads the body within a deadline and a size cap. Above it:
:meth:`Http.get` follows same-origin redirects itself (never one to another origin), asks
for fresh tokens after a 401, and maps failures to the toolkit's exceptions
(:mod:`.errors`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import requests_cache
import urllib3
from requests.adapters import HTTPAdapter

from .._cache import damaged
from .._settings import Settings
from ..exceptions import APIError, RateLimitError, SchemaError
from .auth import AUTH_ATTEMPTS, USER_AGENT, BasicAuth, BearerAuth, account_fingerprint, same_origin
from .cache import IGNORED, FrameStore, KeyRequest, cache_key, open_store
from .errors import clean_url, connection_error, error_from_response
from .pacing import Pacer, RateLimitRetry, parse_wait
from .policy import LIST_TTL, expire_seconds, may_store, parsed

__all__ = ["MAX_REDIRECTS", "CutOffError", "Http", "PacedAdapter", "read_body"]

#: Same-origin redirects one GET may follow.
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


def _attempts(response: Any) -> int:
    """Requests that went out for this answer: 1 plus urllib3's retries (0 if cached)."""
    if getattr(response, "from_cache", False):
        return 0
    retries = getattr(getattr(response, "raw", None), "retries", None)
    return 1 + len(getattr(retries, "history", ()) or ())


class CutOffError(APIError):
    """The body stopped coming (connection lost, read timed out): worth another try."""


def read_body(response: requests.Response, deadline: float, max_bytes: int) -> None:
    """Read the whole body now, by ``deadline`` (monotonic) and within ``max_bytes``.

    A server trickling its answer, or sending more than any api.video answer holds, is
    stopped here instead of holding the call (or the memory) without bound.
    """
    url = clean_url(response.url or "")
    method = (response.request.method or "GET") if response.request is not None else "GET"
    length = response.headers.get("Content-Length")
    too_big = (
        f"{method} {url} answered more than {max_bytes / 2**20:.0f} MiB; no api.video answer "
        "is that large: check base_url, or ask for fewer items (page_size=, a shorter period)"
    )
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        response.close()
        raise APIError(too_big, status=response.status_code, url=url)
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    try:
        while True:
            chunk = raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                response.close()
                raise APIError(too_big, status=response.status_code, url=url)
            if time.monotonic() > deadline:
                response.close()
                err = (
                    f"{method} {url} sent its answer too slowly ({size} bytes before the "
                    "deadline); the server or the network is stalling: try again later, or "
                    "raise timeout="
                )
                raise APIError(err, status=response.status_code, url=url)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        response.close()
        err = (
            f"{method} {url}: the answer was cut off after {size} bytes "
            f"({type(exc).__name__}), again after the retries; try again later (nothing of it "
            "was cached)"
        )
        raise CutOffError(err, status=response.status_code, url=url) from None
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]


class PacedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that signs, paces and reads each request that really goes out.

    Credentials are added here, below the cache, so that a cache hit needs no token (and
    so no ``/auth`` call); the :class:`Pacer` is asked here too, so cache hits don't count.
    """

    def __init__(
        self,
        pacer: Pacer,
        auth: Any = None,
        *,
        timeout: float = 30.0,
        max_bytes: int = 64 * 2**20,
        **kwargs: Any,
    ) -> None:
        self.pacer = pacer
        self.auth = auth
        self.body_timeout = timeout
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if self.auth is not None:
            self.auth(request)
        self.pacer.acquire()
        try:
            response = super().send(request, *args, **kwargs)
        except BaseException:
            self.pacer.release()
            raise
        self.pacer.observe(response.status_code, response.headers)
        read_body(response, time.monotonic() + self.body_timeout, self.max_bytes)
        return response


class Http:
    """One account's HTTP session: cache, auth, retries, pacing and error mapping.

    Parameters
    ----------
    api_key : str
        The api.video API key (kept only in the auth object).
    base_url : str, optional
        ``https://ws.api.video``, ``https://sandbox.api.video`` or a local sandbox; may be
        left out when ``settings`` is given.
    settings : Settings, optional
        Every knob at once (:func:`apivideo_insights.connect` builds one); the keywords
        below are a shorthand for tests and scripts that build a session by hand.
    cache : path or None
        SQLite cache file, or None for no cache.
    auth : {"bearer", "basic"}
    timeout : float
        Seconds per answer (connect, headers and body).
    max_workers : int
        Threads that may use the session at once (sizes the connection pool).
    retries : int
        Retries for 5xx, 429 and connection errors.
    backoff_factor : float
        urllib3 exponential backoff factor for 5xx and connection errors.

    Examples
    --------
    >>> http = Http("key", "http://127.0.0.1:9", cache=None)
    >>> http.url("//elsewhere.example/videos?currentPage=2")  # links never leave base_url
    'http://127.0.0.1:9/videos?currentPage=2'
    """

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        settings: Settings | None = None,
        cache: str | os.PathLike[str] | None = None,
        auth: str = "bearer",
        timeout: float = 30.0,
        max_workers: int = 8,
        retries: int = 5,
        backoff_factor: float = 0.25,
    ) -> None:
        if settings is None:
            if base_url is None:
                raise TypeError("Http needs base_url or settings")
            settings = Settings(
                base_url=base_url,
                cache=Path(cache) if cache is not None else None,
                auth=auth,
                timeout=timeout,
                max_workers=max_workers,
                retries=retries,
                backoff_factor=backoff_factor,
            )
        self.settings = settings
        self.base_url = settings.base_url
        self.timeout = settings.timeout
        self.fingerprint = account_fingerprint(api_key)
        self.auth: BearerAuth | BasicAuth
        if settings.auth == "bearer":
            self.auth = BearerAuth(api_key, self.base_url, timeout=self.timeout)
        else:
            self.auth = BasicAuth(api_key, self.base_url)
        self.pacer = Pacer(max_wait=settings.max_wait)
        store = open_store(settings.cache) if settings.cache is not None else None
        self.cache_path = settings.cache if store is not None else None
        self.frames = FrameStore(store, self.cache_path, self.fingerprint)
        self.session = self._session(store)
        self._count_lock = threading.Lock()
        #: Requests that reached the network (retries, redirects and 401 re-sends
        #: included; /auth excluded), and answers served from the cache.
        self.sent = 0
        self.cached = 0

    def _session(self, store: Any) -> requests.Session:
        settings = self.settings
        fingerprint = self.fingerprint

        def key_fn(request: Any, **kwargs: Any) -> str:
            return cache_key(request, fingerprint, kwargs.get("ignored_parameters"))

        if store is not None:
            session: requests.Session = requests_cache.CachedSession(
                backend=store,
                expire_after=expire_seconds(LIST_TTL),
                allowable_codes=(200,),
                allowable_methods=("GET",),
                ignored_parameters=list(IGNORED),
                match_headers=False,
                key_fn=key_fn,
                filter_fn=may_store,
                stale_if_error=False,
            )
        else:
            session = requests.Session()
        n = settings.retries
        retry = RateLimitRetry(
            total=n,
            connect=n,
            read=n,
            status=n,
            redirect=0,
            backoff_factor=settings.backoff_factor,
            backoff_max=10.0,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,
            respect_retry_after_header=True,
            pacer=self.pacer,
            max_wait=settings.max_wait,
        )
        adapter = PacedAdapter(
            self.pacer,
            self.auth,
            timeout=settings.timeout,
            max_bytes=settings.max_bytes,
            max_retries=retry,
            pool_connections=4,
            pool_maxsize=max(10, settings.max_workers + 2),
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        session.headers["Accept"] = "application/json"
        # TLS verification stays on: there is deliberately no way to turn it off here.
        session.verify = True
        return session

    @property
    def caching(self) -> bool:
        return isinstance(self.session, requests_cache.CachedSession)

    def url(self, path_or_url: str) -> str:
        """An absolute URL on this server for an API path or link.

        Relative links are joined to ``base_url``; absolute and scheme-relative ones
        (api.video sends absolute links) are re-based onto ``base_url``: a link can choose
        the path, never the server, so credentials never go to another host.
        """
        parts = urlsplit(path_or_url)
        if parts.scheme or parts.netloc:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        else:
            path = path_or_url
        path = path if path.startswith("/") else "/" + path
        base = urlsplit(self.base_url)
        prefix = base.path.rstrip("/")
        if prefix and not path.startswith(prefix + "/"):
            path = prefix + path
        return f"{base.scheme}://{base.netloc}{path}"

    def get(
        self,
        path_or_url: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        *,
        expire_after: Any = None,
        refresh: bool = False,
    ) -> requests.Response:
        """GET with cache, auth (fresh tokens after a 401), retries and error mapping."""
        url = self.url(path_or_url)
        if self.caching and not refresh:
            hit = self._cached(url, params)
            if hit is not None:
                return hit
        kwargs: dict[str, Any] = {
            "params": params,
            "timeout": self.timeout,
            "allow_redirects": False,
        }
        if self.caching:
            if expire_after is not None:
                kwargs["expire_after"] = expire_seconds(expire_after)
            if refresh:
                kwargs["force_refresh"] = True
        sent = 0
        response = self._follow(url, kwargs)
        sent += response._avi_sent  # type: ignore[attr-defined]
        # Expired or revoked token: get a new one and try again. A token can also expire
        # while urllib3 retries a request (each retry resends the same header), so a few
        # fresh tokens are allowed; a server refusing every one still ends in AuthError.
        for _ in range(AUTH_ATTEMPTS):
            used = response.request.headers.get("Authorization")
            if response.status_code != 401 or not self.auth.invalidate(used):
                break
            response = self._follow(url, kwargs)
            sent += response._avi_sent  # type: ignore[attr-defined]
        response._avi_sent = sent  # type: ignore[attr-defined]
        if response.status_code != 200:
            raise self._error(response)
        return response

    def _error(self, response: requests.Response) -> APIError:
        if response.status_code == 429:
            asked = max(
                (parse_wait(response.headers.get(h)) or 0.0)
                for h in ("Retry-After", "X-RateLimit-Retry-After")
            )
            limit = self.settings.max_wait
            if asked > limit:
                url = clean_url(response.url or "")
                err = (
                    f"HTTP 429 from GET {url}: the server asks to wait "
                    f"{'forever' if asked > 1e8 else f'{asked:.0f} s'}, more than the "
                    f"{limit:.0f} s this client waits (api.video's window is a minute); try "
                    "again later, or lower max_workers"
                )
                return RateLimitError(err, status=429, url=url)
        return error_from_response(response, self.auth.secrets())

    def _follow(self, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """Send, following redirects only within ``base_url``'s origin (a few at most)."""
        sent = 0
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(url, kwargs)
            sent += _attempts(response) + response._avi_failed  # type: ignore[attr-defined]
            location = response.headers.get("Location")
            if not (300 <= response.status_code < 400 and location):
                break
            target = urljoin(response.url or url, location)
            if not same_origin(target, self.base_url):
                break  # mapped by error_from_response: a redirect that was not followed
            url, kwargs = target, {**kwargs, "params": None}
        response._avi_sent = sent  # type: ignore[attr-defined]
        return response

    def get_json(
        self,
        path_or_url: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        *,
        expire_after: Any = None,
        refresh: bool = False,
    ) -> tuple[Any, requests.Response]:
        """:meth:`get`, decoded: ``(body, response)``; non-JSON answers are SchemaError."""
        response = self.get(path_or_url, params, expire_after=expire_after, refresh=refresh)
        try:
            body = parsed(response)
        except ValueError:
            url = clean_url(response.url)
            err = (
                f"GET {url} answered with something that is not JSON (cut off, malformed or "
                "nested too deep); it was not cached: try again, and check that base_url is "
                "an api.video server"
            )
            raise SchemaError(err, status=response.status_code, url=url) from None
        return body, response

    def lookup(
        self, path_or_url: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None
    ) -> tuple[Any, Any] | None:
        """``(body, response)`` from the cache only, or None (no request is sent)."""
        if not self.caching:
            return None
        response = self._cached(self.url(path_or_url), params)
        if response is None:
            return None
        return parsed(response), response

    def keep(self, response: requests.Response, expires: datetime | None = None) -> None:
        """Re-store a fresh answer with a new expiry (None: never expires)."""
        if not self.caching or getattr(response, "from_cache", True):
            return
        key = getattr(response, "cache_key", None)
        if not key or not may_store(response):
            return
        cache = self.session.cache  # type: ignore[attr-defined]
        cache.save_response(response, key, expires)
        response.expires = expires  # type: ignore[attr-defined]  # read by keep_frame

    def frame_key(self, loader: str, path: str, params: Any, *extra: Any) -> str | None:
        """The key of a finished frame (see :meth:`FrameStore.key`), or None uncached."""
        return self.frames.key(loader, self.url(path), params, *extra)

    def recall_frame(self, key: str | None) -> Any:
        """The finished frame kept under ``key`` (see :meth:`frame_key`), or None."""
        return self.frames.recall(key)

    def keep_frame(self, key: str | None, frame: Any, responses: Iterable[Any]) -> bool:
        """Keep a finished frame while its answers stay fresh (see :class:`FrameStore`)."""
        return self.frames.keep(key, frame, responses)

    def count_cached(self, answers: int) -> None:
        """Count answers served from the cache without being read (a kept frame's)."""
        with self._count_lock:
            self.cached += answers

    def cache_counts(self) -> dict[str, tuple[int, int, int, int]] | None:
        """Entries, bytes, never expiring, expired: of the answers and of the kept frames."""
        return self.frames.counts()

    def _cached(self, url: str, params: Any) -> requests.Response | None:
        """A fresh cached answer, looked up directly (no session round trip), or None.

        The key is the one ``CachedSession.send`` computes for the same GET; a miss (or an
        expired entry) falls through to the session, which fetches and stores.
        """
        cache = self.session.cache  # type: ignore[attr-defined]
        try:
            pairs = params.items() if isinstance(params, Mapping) else (params or ())
            query = urlencode([(k, str(v)) for k, v in pairs])
            # What cache_key reads of a prepared request, without preparing one.
            request = KeyRequest("GET", f"{url}{'&' if '?' in url else '?'}{query}")
            key = cache_key(request, self.fingerprint, IGNORED)
            response = cache.get_response(key)
        except Exception:  # a corrupt entry is a miss, the session will overwrite it
            return None
        if response is None or response.is_expired or response.status_code != 200:
            return None
        if not may_store(response):
            # Stored by an older version before answers had to parse: drop it, ask again.
            with contextlib.suppress(Exception):  # the fetch that follows replaces it anyway
                cache.delete(key)
            return None
        with self._count_lock:
            self.cached += 1
        return cast(requests.Response, response)

    def _send(self, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """One GET through the session; a body cut off is asked for again (``retries``)."""
        settings = self.settings
        for attempt in range(settings.retries + 1):
            try:
                response = self.session.get(url, **kwargs)
                break
            except CutOffError:
                with self._count_lock:
                    self.sent += 1
                if attempt == settings.retries:
                    raise
                time.sleep(min(settings.backoff_factor * 2**attempt, 10.0))
            except sqlite3.Error as exc:
                raise damaged(self.cache_path, exc) from None
            except requests.RequestException as exc:
                raise connection_error("GET", url, exc) from None
        response._avi_failed = attempt  # type: ignore[attr-defined]
        with self._count_lock:
            if getattr(response, "from_cache", False):
                self.cached += 1
            else:
                self.sent += _attempts(response)
        return response

    def close(self) -> None:
        self.session.close()
        self.auth.close()
