"""Credentials: which origin may receive them, bearer tokens and their refresh, masking.

One rule decides where credentials go (:func:`same_origin`): a request gets an
``Authorization`` header only when its scheme, host and port are those of ``base_url``.
Every signing goes through :meth:`_Auth.__call__`, so a redirect or a link to another host
never carries the key or a token, whatever urllib3 or requests do about redirects.

>>> same_origin("https://ws.api.video/videos?currentPage=2", "https://ws.api.video")
True
>>> same_origin("https://ws.api.video:8443/videos", "https://ws.api.video")
False
>>> same_origin("//evil.example/videos", "https://ws.api.video")
False
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..exceptions import APIError, AuthError, SchemaError
from .errors import clean_url, connection_error, error_from_response, problem
from .pacing import RateLimitRetry

__all__ = [
    "BasicAuth",
    "BearerAuth",
    "account_fingerprint",
    "mask_key",
    "origin",
    "same_origin",
]

USER_AGENT = "apivideo-insights/0.1 (+python requests)"
_FINGERPRINT_SALT = b"apivideo-insights/account-fingerprint/v1"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def mask_key(key: str | None) -> str:
    """Stand-in for a secret in reprs: no character of it, only a non-reversible fingerprint.

    Even a few characters of a key narrow a brute-force search and end up in shared
    notebooks; the fingerprint still tells two accounts apart.

    >>> mask_key("9VxMaPgsaFg7EBqmuspSzF7")  # doctest: +ELLIPSIS
    '<hidden, account ...>'
    """
    if not key:
        return "<none>"
    return f"<hidden, account {account_fingerprint(key)[:8]}>"


def account_fingerprint(api_key: str) -> str:
    """A salted, non-reversible fingerprint of an API key, for cache keys (16 hex digits)."""
    digest = hmac.new(_FINGERPRINT_SALT, api_key.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:16]


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL, the default port filled in."""
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` is on the server of ``base_url``: the only place credentials go."""
    here = origin(base_url)
    return bool(here[1]) and origin(url) == here


def _header_safe(token: Any) -> bool:
    """A token that can travel in a header as is: printable ASCII, no spaces."""
    return (
        isinstance(token, str)
        and 0 < len(token) <= 8192
        and token.isascii()
        and token.isprintable()
        and " " not in token
    )


class _Auth(requests.auth.AuthBase):
    """Signs a request only when it goes to ``base_url``'s origin (see :func:`same_origin`)."""

    base_url = ""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if same_origin(r.url or "", self.base_url):
            r.headers["Authorization"] = self.value()
        else:
            r.headers.pop("Authorization", None)
        return r

    def value(self) -> str:
        raise NotImplementedError

    def invalidate(self, used: str | None) -> bool:
        return False

    def secrets(self) -> list[str]:
        """Every secret held now, for :func:`~apivideo_insights._http.errors.redact`."""
        return []

    def close(self) -> None:
        """Nothing to close (bearer auth has its own session)."""


class BasicAuth(_Auth):
    """HTTP Basic with the API key as user name and an empty password."""

    def __init__(self, api_key: str, base_url: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        token = base64.b64encode(f"{api_key}:".encode()).decode("ascii")
        self._value = f"Basic {token}"

    def value(self) -> str:
        return self._value

    def secrets(self) -> list[str]:
        return [self._key, self._value.split(" ", 1)[1]]

    def __repr__(self) -> str:
        return "BasicAuth(<hidden>)"


#: Fresh tokens one request may ask for after 401 answers.
AUTH_ATTEMPTS = 3


class BearerAuth(_Auth):
    """Disposable bearer tokens from ``/auth/api-key``, refreshed through ``/auth/refresh``.

    The token is renewed shortly before ``expires_in`` runs out, and again when an answer
    says 401 (:meth:`invalidate`). The refresh token rotates: each refresh answer replaces
    it. If the refresh is refused, a fresh token is asked for with the key. Thread-safe:
    one thread renews while the others wait for it. ``/auth`` calls never follow a
    redirect: the key or the refresh token would be posted again to wherever it points.
    """

    def __init__(self, api_key: str, base_url: str, *, timeout: float = 30.0) -> None:
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._session = requests.Session()
        # RateLimitRetry: a sandbox this process stopped fails at once, not after retries.
        retry = RateLimitRetry(
            total=3,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            raise_on_status=False,
            redirect=0,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = USER_AGENT
        #: How many tokens were obtained (``/auth/api-key``) and refreshed.
        self.issued = 0
        self.refreshed = 0

    def __repr__(self) -> str:
        return f"BearerAuth(base_url={self.base_url!r})"

    def value(self) -> str:
        return f"Bearer {self.token()}"

    def token(self) -> str:
        with self._lock:
            if self._access is None or time.monotonic() >= self._expires_at:
                self._renew()
            assert self._access is not None
            return self._access

    def secrets(self) -> list[str]:
        return [s for s in (self._key, self._access, self._refresh) if s]

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
        url = self.base_url + path
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            err = f"POST {url} answered without an access_token; is base_url an api.video server?"
            raise SchemaError(err, url=url)
        refresh = body.get("refresh_token")
        for name, token in (("access_token", body["access_token"]), ("refresh_token", refresh)):
            if token is not None and not _header_safe(token):
                # Never echo it: a token with CR/LF would also split the header it goes in.
                err = (
                    f"POST {url} answered with a {name} that cannot be sent in a header "
                    "(control or non-ASCII characters); is base_url an api.video server?"
                )
                raise AuthError(err, status=200, url=url)
        expires_in = body.get("expires_in", 3600)
        try:
            expires_in = float(expires_in)
        except (TypeError, ValueError):
            expires_in = 3600.0
        if not 0 <= expires_in < 10**9:
            expires_in = 3600.0
        # Renew a little early; short-lived test tokens keep most of their life.
        early = min(30.0, 0.1 * expires_in)
        self._access = body["access_token"]
        self._refresh = refresh if isinstance(refresh, str) else None
        self._expires_at = time.monotonic() + max(expires_in - early, 0.0)

    def _post(self, path: str, payload: dict[str, str]) -> Any:
        url = self.base_url + path
        try:
            r = self._session.post(url, json=payload, timeout=self._timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise connection_error("POST", url, exc) from None
        secrets = [*self.secrets(), *payload.values()]
        if 300 <= r.status_code < 400:
            where = clean_url(r.headers.get("Location") or "")
            err = (
                f"POST {url} answered HTTP {r.status_code}, a redirect to {where or 'elsewhere'}; "
                "it was not followed (the credentials would go with it). Check base_url."
            )
            raise APIError(err, status=r.status_code, url=url)
        if r.status_code in (400, 401, 403):
            title, detail = problem(r, secrets)
            what = "refresh token" if path.endswith("refresh") else "API key"
            err = (
                f"api.video refused the {what} (HTTP {r.status_code}"
                f"{': ' + title if title else ''}) at {url}. Check the key: sandbox and "
                "production keys differ, and a key can be revoked in the dashboard."
            )
            raise AuthError(err, status=r.status_code, url=url, title=title, detail=detail)
        if r.status_code != 200:
            raise error_from_response(r, secrets)
        try:
            return r.json()
        except (ValueError, RecursionError):
            err = f"POST {url} answered with something that is not JSON"
            raise SchemaError(err, status=r.status_code, url=url) from None
