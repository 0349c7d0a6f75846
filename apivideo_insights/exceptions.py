"""The toolkit's exceptions: one small hierarchy, importable from ``apivideo_insights``.

Argument mistakes are plain :class:`ValueError` / :class:`TypeError` raised before any
request; everything the API (or a file) answers wrongly is an :class:`APIError` subclass.
Messages never contain the API key or a token: build them only from the status, the URL
without credentials, and the problem JSON's ``title``/``detail``.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "APIError",
    "AuthError",
    "CacheError",
    "CacheRebuiltWarning",
    "InsightsError",
    "NotFoundError",
    "PartialLoadWarning",
    "RateLimitError",
    "SchemaError",
]


class InsightsError(Exception):
    """Base class of every error this package raises on purpose."""


class APIError(InsightsError):
    """api.video (or the sandbox) answered with an error.

    Parameters
    ----------
    message : str
        What went wrong and what to do next.
    status : int, optional
        HTTP status code, when there was an answer.
    url : str, optional
        The request URL (never holds credentials: api.video takes them in headers).
    title, detail : str, optional
        The problem JSON's ``title`` and ``detail`` fields.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        title: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.title = title
        self.detail = detail

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Keyword-only fields must survive pickling (Dask ships exceptions between processes).
        return (
            _rebuild,
            (type(self), str(self), self.status, self.url, self.title, self.detail),
        )


def _rebuild(cls, message, status, url, title, detail):  # type: ignore[no-untyped-def]
    return cls(message, status=status, url=url, title=title, detail=detail)


class AuthError(APIError):
    """The API key or token was refused (401/403, or 400 from ``/auth``)."""


class NotFoundError(APIError):
    """The resource or route does not exist (404)."""


class RateLimitError(APIError):
    """Still rate limited (429) after the retries allowed."""


class SchemaError(APIError):
    """An answer (or a file) lacks required fields or has the wrong types."""


class PartialLoadWarning(UserWarning):
    """Some items of a multi-item load failed; the rest were returned."""


class CacheError(InsightsError):
    """The HTTP cache file cannot be used; the message names it and says what to do."""


class CacheRebuiltWarning(UserWarning):
    """A damaged cache file was moved aside and a new one started."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointing at the caller's own line: the first frame outside this
    package, however many of its functions (loaders, dask wrappers) lie in between."""
    frame = sys._getframe(0)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
