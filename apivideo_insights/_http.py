"""The HTTP layer: one cached session with api.video's auth, retries and rate-limit pacing.

Small layers, each with one job (the requests-cache style):

* :class:`BearerAuth` / :class:`BasicAuth`: put the credentials on each request. Bearer
  tokens come from ``POST /auth/api-key``, are refreshed before they expire (the refresh
  token rotates) and again after a 401 (a few times per request at most: a token can expire
  while urllib3 retries a request).
* :class:`RateLimitRetry`: urllib3 retries: 5xx and connection errors with exponential
  backoff; 429 after ``Retry-After`` / ``X-RateLimit-Retry-After`` (api.video sends the
  latter on *every* answer, so it is read on 429 only).
* :class:`Pacer`: reads ``X-RateLimit-Remaining`` / ``X-RateLimit-Retry-After`` from real
  answers and spreads requests over what is left of the window, so a long load runs just
  under the limit instead of into 429s. It sits in the adapter, so cache hits skip it.
* :class:`Http`: the requests-cache ``CachedSession`` (SQLite, WAL) that composes them, plus
  the mapping of error answers to :mod:`apivideo_insights.exceptions`.

Secrets: the API key and tokens live only in the auth objects. They travel in the
``Authorization`` header (spelled exactly so, which requests-cache redacts and leaves out of
the cache key); ``/auth`` calls go through a separate session that never caches; the cache
key carries a salted, non-reversible fingerprint of the key so that accounts never share
entries.

>>> from apivideo_insights._http import mask_key
>>> mask_key("9VxMaPgsaFg7EBqmuspSzF7")  # doctest: +ELLIPSIS
'<hidden, account ...>'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import requests_cache
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ._cache import damaged, open_cache
from .exceptions import APIError, AuthError, NotFoundError, RateLimitError, SchemaError

__all__ = [
    "LIST_TTL",
    "NEVER_EXPIRE",
    "OPEN_TTL",
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "SETTLE",
    "BasicAuth",
    "BearerAuth",
    "Http",
    "Pacer",
    "RateLimitRetry",
    "account_fingerprint",
    "cache_key",
    "default_cache_path",
    "error_from_response",
    "mask_key",
]

log = logging.getLogger("apivideo_insights")

PRODUCTION_URL = "https://ws.api.video"
SANDBOX_URL = "https://sandbox.api.video"

#: Lists and open periods: answers that can change are kept for minutes only.
LIST_TTL = timedelta(minutes=5)
OPEN_TTL = timedelta(minutes=5)
#: Closed periods and ended sessions never change again.
NEVER_EXPIRE = requests_cache.NEVER_EXPIRE
#: How long after its end a period (or a session) is taken as closed: late events and the
#: end of sessions still running at the boundary land within this margin.
SETTLE = timedelta(hours=1)

_USER_AGENT = "apivideo-insights/0.1 (+python requests)"
# requests-cache replaces its defaults when given a list, so extend them.
_IGNORED = (*requests_cache.DEFAULT_IGNORED_PARAMS, "apiKey", "refreshToken")
_FINGERPRINT_SALT = b"apivideo-insights/account-fingerprint/v1"


def mask_key(key: str | None) -> str:
    """Stand-in for a secret in reprs: no character of it, only a non-reversible fingerprint.

    Even a few characters of a key narrow a brute-force search and end up in shared
    notebooks; the fingerprint still tells two accounts apart.
    """
    if not key:
        return "<none>"
    return f"<hidden, account {account_fingerprint(key)[:8]}>"


def account_fingerprint(api_key: str) -> str:
    """A salted, non-reversible fingerprint of an API key, for cache keys (16 hex digits)."""
    digest = hmac.new(_FINGERPRINT_SALT, api_key.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:16]


def default_cache_path() -> Path:
    """The default SQLite cache file: ``$APIVIDEO_INSIGHTS_CACHE_DIR`` or the user cache dir."""
    root = os.environ.get("APIVIDEO_INSIGHTS_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("apivideo-insights")
    return Path(root) / "http_cache.sqlite"


# --------------------------------------------------------------------------- rate limits


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class Pacer:
    """Spread requests over the rate-limit window the server reports.

    api.video counts requests per minute and answers with ``X-RateLimit-Limit``,
    ``X-RateLimit-Remaining`` and ``X-RateLimit-Retry-After`` (seconds until the window
    resets). The pacer keeps the lowest ``Remaining`` the server reported in the current
    window and counts the requests sent but not answered yet; a request may go while
    (remaining - in flight) is at least one. It lets requests through at full speed while
    plenty remain, spreads the last ``reserve`` of the budget over the time left when the
    running load wants more than that (so a load that fits is never slowed), waits for
    answers in flight when the budget looks spent, and holds every thread until the reset
    once the server says nothing remains (or after a 429). Thread-safe.

    Parameters
    ----------
    reserve : float
        Fraction of the limit below which requests are spread rather than sent at once.
    margin : float
        Seconds added to the reported reset time (the header is whole seconds).
    """

    def __init__(
        self,
        *,
        reserve: float = 0.1,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.reserve = reserve
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.limit: float | None = None
        #: The lowest X-RateLimit-Remaining heard in the current window (None: unknown).
        self.remaining: float | None = None
        self.reset_at: float | None = None
        self._next_at = 0.0
        self._in_flight = 0
        #: Requests a running load has queued but not started (set by the page reader).
        self.demand = 0
        #: Seconds spent waiting, and 429s seen (for benchmarks and diagnostics).
        self.waited = 0.0
        self.throttled = 0

    @property
    def available(self) -> float | None:
        """Requests that may still go in this window, by the pacer's reckoning."""
        if self.remaining is None:
            return None
        return self.remaining - self._in_flight

    def add_demand(self, n: int) -> None:
        """Tell the pacer how many more requests a load has queued (negative: started)."""
        with self._lock:
            self.demand = max(0, self.demand + n)

    def acquire(self) -> None:
        """Block until a request may be sent, then count it as in flight."""
        while True:
            with self._lock:
                now = self._clock()
                if self.reset_at is not None and now >= self.reset_at:
                    # A new window: assume the full limit until the server says otherwise.
                    self.remaining = self.limit
                    self.reset_at = None
                    self._next_at = now
                available = self.available
                if available is None or self.reset_at is None:
                    self._in_flight += 1
                    return
                if available >= 1:
                    self._in_flight += 1
                    wait = 0.0
                    limit = self.limit or available
                    # Spread the window's last requests only when the load wants more than
                    # the server says is left (answers in flight may be counted there
                    # already): a load that fits goes at full speed.
                    wants_more = self.demand + 1 > (self.remaining or 0)
                    if available - 1 < self.reserve * limit and wants_more:
                        # This request and the (available - 1) after it share the time
                        # left from its slot to the reset: the last one lands before it.
                        # The header is in whole seconds: finish a second early.
                        end = self.reset_at - 1.0 - self.margin
                        slot = min(max(now, self._next_at), max(now, end))
                        self._next_at = slot + max(end - slot, 0.0) / available
                        wait = slot - now
                    self.waited += max(wait, 0.0)
                    go = True
                elif self._in_flight > 0:
                    # Answers on their way will tell how much is really left.
                    wait, go = 0.01, False
                else:
                    wait, go = max(self.reset_at - now, 0.001), False
                    self.waited += wait
            if go:
                if wait > 0:
                    self._sleep(wait)
                return
            self._sleep(wait)

    def release(self) -> None:
        """A request sent through :meth:`acquire` got no answer (connection error)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a real answer's headers (call once per :meth:`acquire`)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._learn(status, headers)

    def observe_retry(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an intermediate answer urllib3 is about to retry (no acquire)."""
        with self._lock:
            self._learn(status, headers)

    def _learn(self, status: int, headers: Mapping[str, str]) -> None:
        now = self._clock()
        limit = _header_float(headers, "X-RateLimit-Limit")
        remaining = _header_float(headers, "X-RateLimit-Remaining")
        reset = _header_float(headers, "X-RateLimit-Retry-After")
        if status == 429:
            self.throttled += 1
            after = _header_float(headers, "Retry-After")
            wait = max(x for x in (after, reset, 1.0) if x is not None)
            self.remaining = 0
            self.reset_at = max(self.reset_at or 0.0, now + wait + self.margin)
            return
        if limit is not None:
            self.limit = limit
        if remaining is None or reset is None:
            return
        reset_at = now + reset + self.margin
        if self.reset_at is None or self.remaining is None or reset_at > self.reset_at + 1.0:
            self.remaining = remaining
            self.reset_at = reset_at
        else:
            self.remaining = min(self.remaining, remaining)


#: Fresh tokens one request may ask for after 401 answers.
_AUTH_ATTEMPTS = 3


class RateLimitRetry(Retry):
    """urllib3 ``Retry`` that waits on 429 as api.video asks, and backs off on 5xx.

    ``X-RateLimit-Retry-After`` comes with every api.video answer (it is the time to the
    window's reset, up to a minute), so it is honoured only on 429; 5xx and connection
    errors use exponential backoff. A :class:`Pacer`, when given, hears about each 429 so
    that the other threads hold back too.
    """

    def __init__(self, *args: Any, pacer: Pacer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer

    def new(self, **kw: Any) -> RateLimitRetry:
        kw.setdefault("pacer", self.pacer)
        return super().new(**kw)  # type: ignore[return-value]

    def get_retry_after(self, response: Any) -> float | None:
        if response is None or response.status != 429:
            return None
        for name in ("Retry-After", "X-RateLimit-Retry-After"):
            value = response.headers.get(name)
            if value is not None:
                try:
                    # 0 would mean "now" but the window may not have turned yet.
                    return max(self.parse_retry_after(str(value)), 0.5)
                except Exception:  # noqa: S112 - a malformed header falls back to the other
                    continue
        return None

    def increment(self, *args: Any, **kwargs: Any) -> RateLimitRetry:
        error = kwargs.get("error")
        if isinstance(error, urllib3.exceptions.SSLError):
            # A certificate problem does not go away by asking again: fail at once.
            raise urllib3.exceptions.MaxRetryError(kwargs["_pool"], kwargs.get("url"), error)
        response = kwargs.get("response")
        if response is None and len(args) >= 3:
            response = args[2]
        if response is not None and self.pacer is not None:
            self.pacer.observe_retry(response.status, response.headers)
        return super().increment(*args, **kwargs)  # type: ignore[return-value]


class PacedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that signs and paces each request that really goes out.

    Credentials are added here, below the cache, so that a cache hit needs no token (and
    so no ``/auth`` call); the :class:`Pacer` is asked here too, so cache hits don't count.
    """

    def __init__(self, pacer: Pacer, auth: Any = None, **kwargs: Any) -> None:
        self.pacer = pacer
        self.auth = auth
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
        return response


# --------------------------------------------------------------------------------- auth


class BasicAuth(requests.auth.AuthBase):
    """HTTP Basic with the API key as user name and an empty password."""

    def __init__(self, api_key: str) -> None:
        token = base64.b64encode(f"{api_key}:".encode()).decode("ascii")
        self._value = f"Basic {token}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._value
        return r

    def invalidate(self, used: str | None) -> bool:
        return False

    def __repr__(self) -> str:
        return "BasicAuth(<hidden>)"


class BearerAuth(requests.auth.AuthBase):
    """Disposable bearer tokens from ``/auth/api-key``, refreshed through ``/auth/refresh``.

    The token is renewed shortly before ``expires_in`` runs out, and again when an answer
    says 401 (:meth:`invalidate`). The refresh token rotates: each refresh answer replaces
    it. If the refresh is refused, a fresh token is asked for with the key. Thread-safe:
    one thread renews while the others wait for it.
    """

    def __init__(self, api_key: str, base_url: str, *, timeout: float = 30.0) -> None:
        self._key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._session = requests.Session()
        retry = Retry(
            total=3,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = _USER_AGENT
        #: How many tokens were obtained (``/auth/api-key``) and refreshed.
        self.issued = 0
        self.refreshed = 0

    def __repr__(self) -> str:
        return f"BearerAuth(base_url={self._base_url!r})"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        return r

    def token(self) -> str:
        with self._lock:
            if self._access is None or time.monotonic() >= self._expires_at:
                self._renew()
            assert self._access is not None
            return self._access

    def invalidate(self, used: str | None) -> bool:
        """Forget the token ``used`` (an ``Authorization`` value) after a 401.

        Returns True when a retry is worth it: the token was a bearer token (the one we
        hold, or one already replaced by another thread).
        """
        if not used or not used.startswith("Bearer "):
            return False
        with self._lock:
            if self._access is not None and used == f"Bearer {self._access}":
                self._access = None
        return True

    def close(self) -> None:
        self._session.close()

    def _renew(self) -> None:
        if self._refresh is not None:
            try:
                body = self._post("/auth/refresh", {"refreshToken": self._refresh})
                self.refreshed += 1
                self._store(body, "/auth/refresh")
                return
            except AuthError:
                # The refresh token was refused (expired, or already used): start over.
                self._refresh = None
        body = self._post("/auth/api-key", {"apiKey": self._key})
        self.issued += 1
        self._store(body, "/auth/api-key")

    def _store(self, body: Any, path: str) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            err = (
                f"POST {self._base_url}{path} answered without an access_token; "
                "is base_url an api.video server?"
            )
            raise SchemaError(err, url=self._base_url + path)
        expires_in = body.get("expires_in", 3600)
        try:
            expires_in = float(expires_in)
        except (TypeError, ValueError):
            expires_in = 3600.0
        # Renew a little early; short-lived test tokens keep most of their life.
        early = min(30.0, 0.1 * expires_in)
        self._access = body["access_token"]
        refresh = body.get("refresh_token")
        self._refresh = refresh if isinstance(refresh, str) else None
        self._expires_at = time.monotonic() + max(expires_in - early, 0.0)

    def _post(self, path: str, payload: dict[str, str]) -> Any:
        url = self._base_url + path
        try:
            r = self._session.post(url, json=payload, timeout=self._timeout)
        except requests.RequestException as exc:
            err = f"could not reach {url} ({type(exc).__name__}); check base_url and the network"
            raise APIError(err, url=url) from None
        if r.status_code in (400, 401, 403):
            title, detail = _problem(r)
            what = "refresh token" if path.endswith("refresh") else "API key"
            err = (
                f"api.video refused the {what} (HTTP {r.status_code}"
                f"{': ' + title if title else ''}) at {url}. Check the key: sandbox and "
                "production keys differ, and a key can be revoked in the dashboard."
            )
            raise AuthError(err, status=r.status_code, url=url, title=title, detail=detail)
        if r.status_code != 200:
            raise error_from_response(r)
        try:
            return r.json()
        except ValueError:
            err = f"POST {url} answered with something that is not JSON"
            raise SchemaError(err, status=r.status_code, url=url) from None


# ------------------------------------------------------------------------------- errors


def _problem(response: requests.Response) -> tuple[str | None, str | None]:
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    title = body.get("title")
    detail = body.get("detail")
    name = body.get("name")
    problems = body.get("problems")
    if isinstance(problems, list) and not detail:
        parts = [f"{p.get('name')}: {p.get('title')}" for p in problems[:5] if isinstance(p, dict)]
        detail = "; ".join(parts) or None
    if name and isinstance(detail, str) and str(name) not in detail:
        detail = f"{detail} ({name})"
    elif name and not detail:
        detail = f"parameter {name}"
    return (str(title) if title else None), (str(detail) if detail else None)


def _clean_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def error_from_response(response: requests.Response) -> APIError:
    """Map an error answer to the toolkit's exceptions, with what to do next."""
    status = response.status_code
    url = _clean_url(response.url or (response.request.url if response.request else "") or "")
    title, detail = _problem(response)
    said = f"{title}" + (f" {detail}" if detail else "") if title or detail else ""
    said = f": {said}" if said else ""
    kw: dict[str, Any] = {"status": status, "url": url, "title": title, "detail": detail}
    if status in (401, 403):
        hint = (
            "the account is suspended or the feature is disabled; contact api.video"
            if status == 403
            else "check the API key (sandbox and production keys differ)"
        )
        return AuthError(f"HTTP {status} from GET {url}{said}; {hint}.", **kw)
    if status == 404:
        return NotFoundError(
            f"HTTP 404 from GET {url}{said}; check the id, and that this account and "
            "environment (sandbox or production) own it.",
            **kw,
        )
    if status == 429:
        wait = response.headers.get("Retry-After") or response.headers.get(
            "X-RateLimit-Retry-After"
        )
        return RateLimitError(
            f"HTTP 429 from GET {url}: still rate limited after the retries allowed; "
            f"wait {wait or 'a minute'} s, lower max_workers, or ask api.video for a higher "
            "limit.",
            **kw,
        )
    if status == 400:
        return APIError(f"HTTP 400 from GET {url}{said}; check the arguments of this call.", **kw)
    return APIError(
        f"HTTP {status} from GET {url}{said}; the server failed, try again later.", **kw
    )


# ------------------------------------------------------------------------------ session


class _KeyRequest:
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


def _expire(value: Any) -> Any:
    if isinstance(value, timedelta):
        return max(int(value.total_seconds()), 1)
    return value


class Http:
    """One account's HTTP session: cache, auth, retries, pacing and error mapping.

    Parameters
    ----------
    api_key : str
        The api.video API key (kept only in the auth object).
    base_url : str
        ``https://ws.api.video``, ``https://sandbox.api.video`` or a local sandbox.
    cache : path or None
        SQLite cache file, or None for no cache.
    auth : {"bearer", "basic"}
    timeout : float
        Seconds per request (connect and read).
    max_workers : int
        Threads that may use the session at once (sizes the connection pool).
    retries : int
        Retries for 5xx, 429 and connection errors.
    backoff_factor : float
        urllib3 exponential backoff factor for 5xx and connection errors.

    Examples
    --------
    >>> http = Http("key", "http://127.0.0.1:9", cache=None)   # doctest: +SKIP
    >>> body, response = http.get_json("/videos", {"pageSize": 1})  # doctest: +SKIP
    """

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        cache: str | os.PathLike[str] | None = None,
        auth: str = "bearer",
        timeout: float = 30.0,
        max_workers: int = 8,
        retries: int = 5,
        backoff_factor: float = 0.25,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.fingerprint = account_fingerprint(api_key)
        self.cache_path = Path(cache) if cache is not None else None
        if auth == "bearer":
            self.auth: BearerAuth | BasicAuth = BearerAuth(api_key, self.base_url, timeout=timeout)
        elif auth == "basic":
            self.auth = BasicAuth(api_key)
        else:
            err = f"auth must be 'bearer' or 'basic', not {auth!r}"
            raise ValueError(err)
        self.pacer = Pacer()
        fingerprint = self.fingerprint

        def key_fn(request: Any, **kwargs: Any) -> str:
            return cache_key(request, fingerprint, kwargs.get("ignored_parameters"))

        if self.cache_path is not None:
            session: requests.Session = requests_cache.CachedSession(
                backend=open_cache(self.cache_path),
                expire_after=_expire(LIST_TTL),
                allowable_codes=(200,),
                allowable_methods=("GET",),
                ignored_parameters=list(_IGNORED),
                match_headers=False,
                key_fn=key_fn,
                stale_if_error=False,
            )
        else:
            session = requests.Session()
        retry = RateLimitRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff_factor,
            backoff_max=10.0,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,
            respect_retry_after_header=True,
            pacer=self.pacer,
        )
        size = max(10, max_workers + 2)
        adapter = PacedAdapter(
            self.pacer, self.auth, max_retries=retry, pool_connections=4, pool_maxsize=size
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = _USER_AGENT
        session.headers["Accept"] = "application/json"
        # TLS verification stays on: there is deliberately no way to turn it off here.
        session.verify = True
        self.session = session
        self._count_lock = threading.Lock()
        #: Requests that reached the network, and answers served from the cache.
        self.sent = 0
        self.cached = 0

    @property
    def caching(self) -> bool:
        return isinstance(self.session, requests_cache.CachedSession)

    def url(self, path_or_url: str) -> str:
        """An absolute URL on this server for an API path or link.

        Relative links are joined to ``base_url``; absolute ones (api.video sends both) are
        re-based onto ``base_url`` so that credentials never go to another host.
        """
        if path_or_url.startswith(("http://", "https://")):
            parts = urlsplit(path_or_url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        else:
            path = path_or_url if path_or_url.startswith("/") else "/" + path_or_url
        base = urlsplit(self.base_url)
        prefix = base.path.rstrip("/")
        if prefix and not path.startswith(prefix + "/"):
            path = prefix + path
        return urljoin(self.base_url + "/", path)

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
        kwargs: dict[str, Any] = {"params": params, "timeout": self.timeout}
        if self.caching:
            if expire_after is not None:
                kwargs["expire_after"] = _expire(expire_after)
            if refresh:
                kwargs["force_refresh"] = True
        response = self._send(url, kwargs)
        # Expired or revoked token: get a new one and try again. A token can also expire
        # while urllib3 retries a request (each retry resends the same header), so a few
        # fresh tokens are allowed; a server refusing every one still ends in AuthError.
        for _ in range(_AUTH_ATTEMPTS):
            used = response.request.headers.get("Authorization")
            if response.status_code != 401 or not self.auth.invalidate(used):
                break
            response = self._send(url, kwargs)
        if response.status_code != 200:
            raise error_from_response(response)
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
            body = response.json()
        except ValueError:
            err = (
                f"GET {_clean_url(response.url)} answered with something that is not JSON; "
                "is base_url an api.video server?"
            )
            url = _clean_url(response.url)
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
        try:
            return response.json(), response
        except ValueError:
            return None

    def keep(self, response: requests.Response, expires: datetime | None = None) -> None:
        """Re-store a fresh answer with a new expiry (None: never expires)."""
        if not self.caching or getattr(response, "from_cache", True):
            return
        key = getattr(response, "cache_key", None)
        if not key:
            return
        cache = self.session.cache  # type: ignore[attr-defined]
        cache.save_response(response, key, expires)
        response.expires = expires  # type: ignore[attr-defined]  # read by keep_frame

    def frame_key(self, loader: str, path: str, params: Any, *extra: Any) -> str | None:
        """The key of a finished frame: the request, what shaped the frame, the account.

        None when there is no cache. The versions of this package and of pandas are part of
        it, so an upgrade rebuilds frames instead of unpickling old ones.
        """
        if not self.caching:
            return None
        import pandas as pd

        from . import __version__

        digest = hashlib.blake2b(digest_size=16)
        for part in (
            "frame-v1",
            __version__,
            pd.__version__,
            loader,
            self.url(path),
            repr(list(params.items() if isinstance(params, Mapping) else params)),
            repr(extra),
            self.fingerprint,
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def count_cached(self, answers: int) -> None:
        """Count answers served from the cache without being read (a kept frame's)."""
        with self._count_lock:
            self.cached += answers

    def cache_counts(self) -> dict[str, tuple[int, int, int, int]] | None:
        """Entries, bytes, never expiring, expired: of the answers and of the kept frames."""
        if not self.caching:
            return None
        try:
            return self.session.cache.info()  # type: ignore[attr-defined,no-any-return]
        except sqlite3.Error as exc:
            raise damaged(self.cache_path, exc) from None

    def recall_frame(self, key: str | None) -> Any:
        """The finished frame kept under ``key`` (see :meth:`frame_key`), or None."""
        if key is None:
            return None
        try:
            return self.session.cache.get_frame(key)  # type: ignore[attr-defined]
        except sqlite3.Error as exc:
            raise damaged(self.cache_path, exc) from None

    def keep_frame(self, key: str | None, frame: Any, responses: Iterable[Any]) -> bool:
        """Keep a finished frame for as long as every answer it was built from stays fresh.

        Nothing is kept when an answer was not stored (it could not be re-read either) or
        has already expired.
        """
        if key is None:
            return False
        expires: datetime | None = None
        for response in responses:
            stored = getattr(response, "from_cache", False) or getattr(response, "cache_key", None)
            if not stored:
                return False
            when = getattr(response, "expires", None)
            if when is not None and (expires is None or when < expires):
                expires = when
        if expires is not None and expires <= datetime.now(expires.tzinfo):
            return False
        try:
            return bool(self.session.cache.save_frame(key, frame, expires))  # type: ignore[attr-defined]
        except sqlite3.Error as exc:
            raise damaged(self.cache_path, exc) from None

    def _cached(self, url: str, params: Any) -> Any:
        """A fresh cached answer, looked up directly (no session round trip), or None.

        The key is the one ``CachedSession.send`` computes for the same GET; a miss (or an
        expired entry) falls through to the session, which fetches and stores.
        """
        cache = self.session.cache  # type: ignore[attr-defined]
        try:
            pairs = params.items() if isinstance(params, Mapping) else (params or ())
            query = urlencode([(k, str(v)) for k, v in pairs])
            # What cache_key reads of a prepared request, without preparing one.
            request = _KeyRequest("GET", f"{url}{'&' if '?' in url else '?'}{query}")
            key = cache_key(request, self.fingerprint, _IGNORED)
            response = cache.get_response(key)
        except Exception:  # a corrupt entry is a miss, the session will overwrite it
            return None
        if response is None or response.is_expired or response.status_code != 200:
            return None
        with self._count_lock:
            self.cached += 1
        return response

    def _send(self, url: str, kwargs: dict[str, Any]) -> requests.Response:
        try:
            response = self.session.get(url, **kwargs)
        except sqlite3.Error as exc:
            raise damaged(self.cache_path, exc) from None
        except requests.exceptions.RetryError as exc:
            err = f"GET {_clean_url(url)} kept failing after retries ({exc.__class__.__name__})"
            raise APIError(err, url=_clean_url(url)) from None
        except requests.exceptions.SSLError:
            err = (
                f"TLS failed for {_clean_url(url)}: the server's certificate could not be "
                "verified (verification cannot be turned off); check the base URL"
            )
            raise APIError(err, url=_clean_url(url)) from None
        except requests.RequestException as exc:
            err = (
                f"could not reach {_clean_url(url)} ({type(exc).__name__}) after retries; "
                "check base_url and the network, or raise timeout="
            )
            raise APIError(err, url=_clean_url(url)) from None
        with self._count_lock:
            if getattr(response, "from_cache", False):
                self.cached += 1
            else:
                self.sent += 1
        return response

    def close(self) -> None:
        self.session.close()
        if isinstance(self.auth, BearerAuth):
            self.auth.close()
