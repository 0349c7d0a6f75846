"""api.video's auth, as the sandbox checks it: tokens, the two auth endpoints, and the
``Authorization`` header (bearer tokens, or Basic with the key as user name).

>>> tokens = Tokens(ttl=60)
>>> issued = tokens.issue()
>>> tokens.valid(issued["access_token"]), tokens.issue(old_refresh="not-issued")
(True, None)
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import threading
import time
from collections import deque
from typing import Any

from ._problems import problem, required

__all__ = ["ISSUED_KEPT", "Tokens", "authorize", "token_answer"]

#: Tokens kept in the issued list: bounded for long-lived servers.
ISSUED_KEPT = 10_000


class Tokens:
    """Access tokens with an expiry, and refresh tokens that rotate."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        #: Every (access, refresh) pair issued, for tests that look for leaked tokens.
        self.issued: deque[tuple[str, str]] = deque(maxlen=ISSUED_KEPT)

    def issue(self, old_refresh: str | None = None) -> dict[str, Any] | None:
        with self._lock:
            if old_refresh is not None:
                if old_refresh not in self._refresh:
                    return None
                self._refresh.discard(old_refresh)
            access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
            now = time.monotonic()
            # Forget expired tokens so that a long-lived server does not grow.
            self._access = {k: v for k, v in self._access.items() if v > now}
            self._access[access] = now + self.ttl
            self._refresh.add(refresh)
            self.issued.append((access, refresh))
        return {
            "token_type": "Bearer",
            "expires_in": max(1, math.ceil(self.ttl)),
            "access_token": access,
            "refresh_token": refresh,
        }

    def issued_pairs(self) -> list[tuple[str, str]]:
        """Every ``(access, refresh)`` pair issued (the last :data:`ISSUED_KEPT`)."""
        with self._lock:
            return list(self.issued)

    def valid(self, access: str) -> bool:
        with self._lock:
            expiry = self._access.get(access)
            return expiry is not None and time.monotonic() < expiry


def token_answer(body: bytes, *, refresh: bool, api_key: str, tokens: Tokens) -> dict[str, Any]:
    """The answer of ``POST /auth/api-key`` (``refresh=False``) or ``POST /auth/refresh``."""
    try:
        payload = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        raise problem(400, "invalid-payload", "The payload is invalid.") from None
    field_name = "refreshToken" if refresh else "apiKey"
    value = payload.get(field_name) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value:
        raise required(field_name)
    if not refresh:
        if not secrets.compare_digest(value.encode(), api_key.encode()):
            raise problem(401, "authentication-invalid-api-key", "The API key is invalid.")
        issued = tokens.issue()
    else:
        issued = tokens.issue(old_refresh=value)
        if issued is None:
            raise problem(
                401, "authentication-invalid-refresh-token", "The refresh token is invalid."
            )
    assert issued is not None
    return issued


def authorize(header: str | None, *, api_key: str, tokens: Tokens) -> None:
    """Return if ``header`` (``Authorization``) is valid; a 401 :class:`Problem` otherwise."""
    if not header:
        raise problem(
            401,
            "authentication-missing-authorization-header",
            'The "Authorization" header is missing.',
        )
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "basic" and credentials:
        try:
            user = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            user = None
        if user is not None:
            key = user.partition(":")[0]
            if secrets.compare_digest(key.encode(), api_key.encode()):
                return
            raise problem(401, "authentication-invalid-api-key", "The API key is invalid.")
    elif scheme == "bearer" and credentials:
        if tokens.valid(credentials):
            return
        raise problem(
            401, "authentication-invalid-access-token", "The access token is invalid or expired."
        )
    raise problem(
        401,
        "authentication-invalid-authorization-header",
        'The "Authorization" header value is invalid.',
    )
