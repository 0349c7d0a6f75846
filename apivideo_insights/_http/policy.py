"""Cache policy: what may enter the cache, and for how long it stays.

One rule for what enters: an answer is stored only if it is a 200 to a GET whose body
parsed as a JSON object or list (:func:`may_store`, requests-cache's ``filter_fn``). A
truncated or malformed 200 is handed to the caller (who raises
:class:`~apivideo_insights.SchemaError`) and never kept, so the next load asks again.

How long it stays:

* lists and open periods: :data:`LIST_TTL` / :data:`OPEN_TTL` (minutes: they change);
* closed periods and ended sessions: :data:`NEVER_EXPIRE` once :data:`SETTLE` has passed
  since their end (:func:`data_expire`, :func:`keep_if_settled`).

>>> import pandas as pd
>>> data_expire("play", pd.Timestamp("2020-01-01", tz="UTC")) is NEVER_EXPIRE
True
>>> data_expire("play-total", pd.Timestamp("2020-01-01", tz="UTC")) == OPEN_TTL
True
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import requests_cache

from ..schema import to_utc

if TYPE_CHECKING:
    from .._pagination import Listing
    from .session import Http

__all__ = [
    "LIST_TTL",
    "NEVER_EXPIRE",
    "OPEN_TTL",
    "SETTLE",
    "data_expire",
    "expire_seconds",
    "keep_if_settled",
    "may_store",
    "parsed",
]

#: Lists and open periods: answers that can change are kept for minutes only.
LIST_TTL = timedelta(minutes=5)
OPEN_TTL = timedelta(minutes=5)
#: Closed periods and ended sessions never change again.
NEVER_EXPIRE = requests_cache.NEVER_EXPIRE
#: How long after its end a period (or a session) is taken as closed: late events and the
#: end of sessions still running at the boundary land within this margin.
SETTLE = timedelta(hours=1)

_NOT_JSON = object()


def expire_seconds(value: Any) -> Any:
    """An expiry as requests-cache takes it (whole seconds, at least one)."""
    if isinstance(value, timedelta):
        return max(int(value.total_seconds()), 1)
    return value


def parsed(response: Any) -> Any:
    """The JSON body of ``response`` (parsed once, then remembered on it); raises
    ``ValueError`` when it is not JSON, or nested too deep to parse."""
    body = getattr(response, "_avi_json", _NOT_JSON)
    if body is _NOT_JSON:
        try:
            body = json.loads(response.content)
        except RecursionError:
            raise ValueError("nested too deep") from None
        except (TypeError, UnicodeDecodeError) as exc:
            raise ValueError(str(exc)) from None
        with contextlib.suppress(AttributeError):  # slots: parse again next time
            response._avi_json = body
    return body


def may_store(response: Any) -> bool:
    """Whether an answer may enter the cache: a 200 whose body parsed (object or list)."""
    if getattr(response, "status_code", None) != 200:
        return False
    try:
        body = parsed(response)
    except ValueError:
        return False
    return isinstance(body, dict | list)


def data_expire(metric: str, end: pd.Timestamp | None, total: bool = False) -> Any:
    """How long a ``/data`` answer stays: forever once its period has settled."""
    # play/total and play-total ignore the window: they change with every play.
    if total or metric == "play-total" or end is None:
        return OPEN_TTL
    return NEVER_EXPIRE if end + SETTLE < pd.Timestamp.now(tz="UTC") else OPEN_TTL


def keep_if_settled(http: Http, listing: Listing, quiet_since: pd.Timestamp) -> None:
    """Keep a session's event pages forever once the session has long been quiet."""
    if not http.caching or not listing.items:
        return
    if all(getattr(r, "from_cache", False) for r in listing.responses):
        return
    stamps = [item.get("emittedAt") for item in listing.items if isinstance(item, Mapping)]
    last = to_utc(pd.Series(stamps, dtype=object)).max()
    if not isinstance(last, pd.Timestamp) or last is pd.NaT or last >= quiet_since:
        return
    for response in listing.responses:
        http.keep(response, None)
