"""The HTTP layer: one cached session with api.video's auth, retries and rate-limit pacing.

Small layers, each with one job (the requests-cache style):

* :mod:`.auth`: which origin may receive credentials (one rule, :func:`same_origin`);
  :class:`BearerAuth` (tokens from ``POST /auth/api-key``, refreshed before they expire and
  after a 401) and :class:`BasicAuth`; :func:`mask_key` for reprs.
* :mod:`.pacing`: :class:`Pacer` (spreads requests over the rate-limit window),
  :class:`RateLimitRetry` (urllib3 retries), and the one cap on waits.
* :mod:`.errors`: answers and failures to :mod:`apivideo_insights.exceptions`, secrets
  redacted.
* :mod:`.policy`: what may enter the cache, and for how long.
* :mod:`.cache`: cache keys, opening the file (uncached when it is read-only), the store
  of finished frames.
* :mod:`.session`: :class:`Http`, composing them (deadline and size cap on each answer,
  same-origin redirects only).

Secrets: the API key and tokens live only in the auth objects. They travel in the
``Authorization`` header (which requests-cache redacts and leaves out of the cache key),
only to ``base_url``'s origin; ``/auth`` calls go through a separate session that never
caches and never follows redirects; the cache key carries a salted, non-reversible
fingerprint of the key so that accounts never share entries.

Bounds: an answer's headers take at most ``timeout``, its body at most ``timeout`` more
and ``max_bytes``; a request is tried at most ``retries + 1`` times (6 x 30 s plus about
8 s of backoff with the defaults against a server that never answers, twice that at worst:
:attr:`apivideo_insights._settings.Settings.worst_case`); no rate-limit wait exceeds
``max_wait`` (60 s).

>>> from apivideo_insights._http import mask_key
>>> mask_key("9VxMaPgsaFg7EBqmuspSzF7")  # doctest: +ELLIPSIS
'<hidden, account ...>'
"""

from __future__ import annotations

import os
from pathlib import Path

from .auth import BasicAuth, BearerAuth, account_fingerprint, mask_key, same_origin
from .cache import cache_key, open_store
from .errors import error_from_response, redact
from .pacing import MAX_WAIT, Pacer, RateLimitRetry, parse_wait
from .policy import LIST_TTL, NEVER_EXPIRE, OPEN_TTL, SETTLE, data_expire, keep_if_settled
from .session import Http, PacedAdapter

__all__ = [
    "LIST_TTL",
    "MAX_WAIT",
    "NEVER_EXPIRE",
    "OPEN_TTL",
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "SETTLE",
    "BasicAuth",
    "BearerAuth",
    "Http",
    "PacedAdapter",
    "Pacer",
    "RateLimitRetry",
    "account_fingerprint",
    "cache_key",
    "data_expire",
    "default_cache_path",
    "error_from_response",
    "keep_if_settled",
    "mask_key",
    "open_store",
    "parse_wait",
    "redact",
    "same_origin",
]

PRODUCTION_URL = "https://ws.api.video"
SANDBOX_URL = "https://sandbox.api.video"


def default_cache_path() -> Path:
    """The default SQLite cache file: ``$APIVIDEO_INSIGHTS_CACHE_DIR`` or the user cache dir."""
    root = os.environ.get("APIVIDEO_INSIGHTS_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("apivideo-insights")
    return Path(root) / "http_cache.sqlite"
