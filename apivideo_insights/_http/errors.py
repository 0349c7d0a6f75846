"""Answers and failures to the toolkit's exceptions, with what to do next, secrets removed.

Messages are built only from the status, the method, the URL without credentials and the
problem JSON's ``title``/``detail`` (api.video's RFC 7807 answers); anything in them that
equals a secret the client holds (the key, a token, the Basic value) is replaced first, as
a hostile or buggy server may echo what it was sent.

>>> redact("bad key abc123secret in request", ["abc123secret"])
'bad key <hidden> in request'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from ..exceptions import APIError, AuthError, NotFoundError, RateLimitError
from ..sandbox._stopped import was_stopped

__all__ = ["clean_url", "connection_error", "error_from_response", "problem", "redact"]

#: Secrets shorter than this are not searched for (they would match ordinary words).
_MIN_SECRET = 6


def redact(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """``text`` with every secret in ``secrets`` replaced by ``<hidden>``."""
    if not text:
        return text
    found = [s for s in secrets if s and len(s) >= _MIN_SECRET]
    for secret in sorted(found, key=len, reverse=True):  # a token may contain a shorter one
        text = text.replace(secret, "<hidden>")
    return text


def problem(
    response: requests.Response, secrets: Iterable[str | None] = ()
) -> tuple[str | None, str | None]:
    """``(title, detail)`` of a problem JSON answer, redacted; ``(None, None)`` otherwise."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
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
    secrets = list(secrets)
    # Long texts are the server's, not a problem's: keep a line's worth.
    title = redact(str(title)[:300], secrets) if title else None
    detail = redact(str(detail)[:500], secrets) if detail else None
    return title, detail


def clean_url(url: str) -> str:
    """``url`` without user info or fragment (what an error message may show)."""
    parts = urlsplit(url or "")
    netloc = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _method(response: requests.Response) -> str:
    request = response.request
    return (request.method or "GET").upper() if request is not None else "GET"


def error_from_response(
    response: requests.Response, secrets: Iterable[str | None] = ()
) -> APIError:
    """Map an error answer to the toolkit's exceptions, with what to do next."""
    status = response.status_code
    url = clean_url(response.url or (response.request.url if response.request else "") or "")
    method = _method(response)
    title, detail = problem(response, secrets)
    said = f"{title}" + (f" {detail}" if detail else "") if title or detail else ""
    said = f": {said}" if said else ""
    kw: dict[str, Any] = {"status": status, "url": url, "title": title, "detail": detail}
    where = f"HTTP {status} from {method} {url}"
    if status in (401, 403):
        hint = (
            "the account is suspended or the feature is disabled; contact api.video"
            if status == 403
            else "check the API key (sandbox and production keys differ)"
        )
        return AuthError(f"{where}{said}; {hint}.", **kw)
    if status == 404:
        return NotFoundError(
            f"{where}{said}; check the id, and that this account and "
            "environment (sandbox or production) own it.",
            **kw,
        )
    if status == 429:
        wait = response.headers.get("Retry-After") or response.headers.get(
            "X-RateLimit-Retry-After"
        )
        return RateLimitError(
            f"{where}: still rate limited after the retries allowed; "
            f"wait {str(wait)[:40] if wait else 'a minute'} s, lower max_workers, or ask "
            "api.video for a higher limit.",
            **kw,
        )
    if status == 400:
        return APIError(f"{where}{said}; check the arguments of this call.", **kw)
    if 300 <= status < 400:
        target = clean_url(response.headers.get("Location") or "")
        return APIError(
            f"{where}: a redirect to {target or 'nowhere'} that was not followed (it leaves "
            f"the server, or redirects again and again); check base_url.",
            **kw,
        )
    return APIError(f"{where}{said}; the server failed, try again later.", **kw)


def connection_error(method: str, url: str, exc: BaseException) -> APIError:
    """The error for a request that got no answer (after its retries)."""
    shown = clean_url(url)
    stopped = was_stopped(url)
    if stopped is not None:
        err = (
            f"the sandbox at {stopped} was stopped; start a new one (avi.sandbox.serve()) "
            "and connect to its base_url"
        )
        return APIError(err, url=shown)
    if isinstance(exc, requests.exceptions.SSLError):
        err = (
            f"TLS failed for {shown}: the server's certificate could not be verified "
            "(verification cannot be turned off); check the base URL"
        )
        return APIError(err, url=shown)
    if isinstance(exc, requests.exceptions.RetryError):
        err = f"{method} {shown} kept failing after retries ({type(exc).__name__})"
        return APIError(err, url=shown)
    err = (
        f"could not reach {shown} ({type(exc).__name__}) after retries; check base_url and "
        "the network, or raise timeout="
    )
    return APIError(err, url=shown)
