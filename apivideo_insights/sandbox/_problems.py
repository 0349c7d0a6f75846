"""api.video's problem JSON errors (RFC 7807 bodies with api.video's ``type`` URLs).

Every error answer of the sandbox is raised as a :class:`Problem` by a handler and turned
into a response by the server, so that a handler never writes to the socket itself.

>>> p = not_found("videoId")
>>> p.status, p.body["title"]
(404, 'The requested resource was not found.')
"""

from __future__ import annotations

from typing import Any

__all__ = ["DOCS", "Problem", "bad_query", "not_found", "problem", "required"]

DOCS = "https://docs.api.video/reference/"


class Problem(Exception):
    """An error answer: ``status`` and the problem JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("title", ""))
        self.status = status
        self.body = body


def problem(status: int, slug: str, title: str, **extra: Any) -> Problem:
    """A :class:`Problem` of type ``DOCS + slug``; ``None`` extras are left out."""
    body: dict[str, Any] = {"type": DOCS + slug, "title": title, "status": status}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Problem(status, body)


def not_found(name: str) -> Problem:
    """404 for the path parameter ``name``."""
    return problem(404, "resource-not-found", "The requested resource was not found.", name=name)


def bad_query(name: str, detail: str, title: str = "A query parameter is invalid.") -> Problem:
    """400 for the query parameter ``name``."""
    return problem(400, "request-invalid-query-parameter", title, name=name, detail=detail)


def required(name: str, detail: str | None = None) -> Problem:
    """400 ``attribute-required`` for ``name``, with api.video's ``problems`` list."""
    item = {
        "type": DOCS + "attribute-required",
        "title": "This attribute is required.",
        "name": name,
    }
    body: dict[str, Any] = {**item, "status": 400}
    if detail is not None:
        body["detail"] = detail
    body["problems"] = [item]
    return Problem(400, body)
