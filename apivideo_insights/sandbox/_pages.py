"""api.video's list pages: the ``pagination`` object, page parameters, sorting.

Every list endpoint of the sandbox answers ``{"data": [...], "pagination": {...}}`` through
:func:`page`; :func:`page_params` checks ``currentPage``/``pageSize`` as api.video does
(400 problem JSON with the allowed range) and :func:`sort_items` applies ``sortBy`` and
``sortOrder``.

>>> pagination(30, current_page=1, page_size=25, path="/webhooks")["links"][2]
{'rel': 'next', 'uri': '/webhooks?currentPage=2&pageSize=25'}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from ._problems import DOCS, Problem, bad_query

__all__ = ["PAGE_RANGE", "one", "page", "page_params", "pagination", "sort_items"]

#: ``pageSize``'s allowed range (``currentPage`` has only a minimum of 1).
PAGE_RANGE = {"min": 1, "max": 100}
#: A query string, parsed: every value of each name, in order.
Query = Mapping[str, list[str]]


# --------------------------------------------------------------------------- pagination
def pagination(
    items_total: int,
    *,
    current_page: int,
    page_size: int,
    path: str,
    params: Sequence[tuple[str, str]] = (),
    base_url: str = "",
) -> dict[str, Any]:
    """api.video's ``pagination`` object for one page.

    Parameters
    ----------
    items_total : int
        Items in the whole list (after filters).
    current_page, page_size : int
        The page asked for (1-based) and its size.
    path : str
        The route, e.g. ``/videos``.
    params : sequence of (name, value)
        The request's other query parameters, repeated in every link (filters must stick).
    base_url : str, optional
        Prefix of the link URIs: ``""`` gives relative links (``/live-streams?...``), as
        most spec examples do; a base URL gives absolute ones (``/videos``, ``/players``,
        ``/webhooks``).

    Examples
    --------
    >>> p = pagination(0, current_page=1, page_size=25, path="/players", base_url="http://h")
    >>> p["pagesTotal"], [link["rel"] for link in p["links"]]
    (0, ['self', 'first', 'last'])
    """
    pages_total = math.ceil(items_total / page_size) if items_total else 0
    last = max(pages_total, 1)
    start = (current_page - 1) * page_size
    on_page = max(0, min(page_size, items_total - start))
    kept = [(k, v) for k, v in params if k not in {"currentPage", "pageSize"}]

    def uri(page: int) -> str:
        query = urlencode([*kept, ("currentPage", str(page)), ("pageSize", str(page_size))])
        return f"{base_url}{path}?{query}"

    links = [{"rel": "self", "uri": uri(current_page)}, {"rel": "first", "uri": uri(1)}]
    if current_page > 1:
        links.append({"rel": "previous", "uri": uri(min(current_page - 1, last))})
    if current_page < pages_total:
        links.append({"rel": "next", "uri": uri(current_page + 1)})
    links.append({"rel": "last", "uri": uri(last)})
    return {
        "currentPage": current_page,
        "pageSize": page_size,
        "pagesTotal": pages_total,
        "itemsTotal": items_total,
        "currentPageItems": on_page,
        "links": links,
    }


def one(query: Query, name: str) -> str | None:
    """The last value of ``name`` in ``query`` (api.video reads the last one), or None."""
    values = query.get(name)
    return values[-1] if values else None


def page_params(query: Query) -> tuple[int, int]:
    """``(currentPage, pageSize)`` of a request; a 400 :class:`Problem` listing every bad one."""
    out = []
    problems = []
    for name, default, rng in (("currentPage", 1, {"min": 1}), ("pageSize", 25, PAGE_RANGE)):
        raw = one(query, name)
        value = default
        if raw is not None and raw != "":
            try:
                value = int(raw)
            except ValueError:
                problems.append((name, rng, "This parameter must be an integer."))
                out.append(default)
                continue
        if value < rng["min"] or value > rng.get("max", value):
            problems.append((name, rng, "This parameter is out of the allowed range of values."))
        out.append(value)
    if problems:
        raise _page_problem(problems)
    return out[0], out[1]


def _page_problem(problems: list[tuple[str, dict[str, int], str]]) -> Problem:
    name, rng, title = problems[0]
    allowed = f"{rng['min']} to {rng['max']}" if "max" in rng else f"{rng['min']} or more"
    kind = DOCS + "request-invalid-query-parameter"
    return Problem(
        400,
        {
            "type": kind,
            "title": title,
            "name": name,
            "status": 400,
            "detail": f"Use an integer from {allowed} for {name}.",
            "range": rng,
            "problems": [{"type": kind, "title": t, "name": n, "range": r} for n, r, t in problems],
        },
    )


def page(
    items: Sequence[Any] | int,
    path: str,
    query: Query,
    pairs: Sequence[tuple[str, str]],
    *,
    base_url: str = "",
    render: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """One page of ``items`` (or of ``render(i)`` for positions ``i`` < ``items``).

    ``base_url`` makes the links absolute (``/videos``, ``/players``, ``/webhooks``).
    """
    current, size = page_params(query)
    total = items if isinstance(items, int) else len(items)
    lo, hi = (current - 1) * size, min(current * size, total)
    if render is not None:
        data = [render(i) for i in range(lo, hi)]
    else:
        assert not isinstance(items, int)
        data = list(items[lo:hi]) if lo < hi else []
    return {
        "data": data,
        "pagination": pagination(
            total, current_page=current, page_size=size, path=path, params=pairs, base_url=base_url
        ),
    }


def sort_items(
    items: list[dict[str, Any]], query: Query, fields: Sequence[str]
) -> list[dict[str, Any]]:
    """``items`` ordered by ``sortBy`` (one of ``fields``) and ``sortOrder``; missing
    values last."""
    sort_by = one(query, "sortBy")
    order = one(query, "sortOrder")
    if order is not None and order not in ("asc", "desc"):
        raise bad_query("sortOrder", 'Use "asc" or "desc".', "This parameter is invalid.")
    if sort_by is None:
        return list(reversed(items)) if order == "desc" else items
    if sort_by not in fields:
        raise bad_query("sortBy", f"Use one of {', '.join(fields)}.", "This parameter is invalid.")
    present = [i for i in items if i.get(sort_by) is not None]
    missing = [i for i in items if i.get(sort_by) is None]
    present.sort(key=lambda i: i[sort_by], reverse=order == "desc")
    return present + missing
