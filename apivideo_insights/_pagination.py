"""The one page reader: every page of one or many paginated listings, concurrently.

api.video lists answer ``{"data": [...], "pagination": {...}}`` with ``currentPage``,
``pagesTotal``, ``itemsTotal`` and ``links`` (relative or absolute URIs). The reader asks
for page 1 of each listing, then for all the other pages at once on a thread pool. If a
listing changes while it is read (a total that moves between pages, ids seen twice or
missing), it re-reads that listing fresh, bypassing the cache, up to ``max_rounds`` times;
items are de-duplicated by id where the resource has one.

>>> from apivideo_insights._pagination import plan_pages
>>> plan_pages({"currentPage": 1, "pagesTotal": 4, "itemsTotal": 90, "pageSize": 25})
[2, 3, 4]
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ._http import Http
from .exceptions import SchemaError

__all__ = [
    "AUTO_PROGRESS_MIN",
    "Job",
    "Listing",
    "plan_pages",
    "progress_enabled",
    "read_many",
    "read_pages",
]

#: Loads of more requests than this show a progress bar when ``progress=None``.
AUTO_PROGRESS_MIN = 5
MAX_PAGE_SIZE = 100


@dataclass
class Job:
    """One paginated listing to read.

    ``key`` names the field (or gives a function) that identifies an item, for
    de-duplication; None for items without identity (events).
    """

    path: str
    params: Sequence[tuple[str, Any]] = ()
    key: str | Callable[[Mapping[str, Any]], Any] | None = None
    expire_after: Any = None
    refresh: bool = False
    label: str = ""


@dataclass
class Listing:
    """All the items of one listing, and how they were obtained."""

    items: list[Any]
    first: dict[str, Any]
    pages: int
    total: int | None
    responses: list[Any] = field(default_factory=list)
    rounds: int = 1
    consistent: bool = True
    duplicates: int = 0


#: More pages than any real listing has (10 million items at 100 a page): a pagination
#: object claiming more is broken, and following it would send requests without end.
MAX_PAGES = 100_000


def plan_pages(pagination: Mapping[str, Any] | None) -> list[int]:
    """Pages still to fetch after the first, from its ``pagination`` object.

    ``pagesTotal`` is believed only as far as ``itemsTotal / pageSize`` allows, so a broken
    total cannot send hundreds of requests for a handful of items.
    """
    if not isinstance(pagination, Mapping):
        return []
    current = _int(pagination.get("currentPage")) or 1
    total = _int(pagination.get("pagesTotal"))
    items = _int(pagination.get("itemsTotal"))
    size = _int(pagination.get("pageSize"))
    implied = math.ceil(items / size) if items is not None and size and size > 0 else None
    if total is None:
        if implied is None:
            nxt = _link(pagination, "next")
            return [current + 1] if nxt else []
        total = implied
    elif implied is not None:
        total = min(total, max(implied, current))
    if total - current > MAX_PAGES:
        err = (
            f"the answer's pagination claims {total} pages; that cannot be a real listing. "
            "Check the base URL, or report the endpoint's answer as broken"
        )
        raise SchemaError(err)
    return list(range(current + 1, total + 1))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _link(pagination: Mapping[str, Any], rel: str) -> str | None:
    links = pagination.get("links")
    if isinstance(links, Mapping):  # the spec's schema-level example: an object by rel
        uri = links.get(rel)
        return uri if isinstance(uri, str) else None
    if isinstance(links, list):
        for link in links:
            if isinstance(link, Mapping) and link.get("rel") == rel:
                uri = link.get("uri")
                return uri if isinstance(uri, str) else None
    return None


def link_params(uri: str) -> list[tuple[str, str]]:
    """Query parameters of a pagination link (relative or absolute)."""
    return parse_qsl(urlsplit(uri).query, keep_blank_values=True)


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def progress_enabled(progress: bool | None, n_requests: int) -> bool:
    """Whether to show a bar: ``progress`` if given, else for longer loads in a terminal
    or notebook."""
    if progress is not None:
        return bool(progress)
    if n_requests <= AUTO_PROGRESS_MIN:
        return False
    if _in_notebook():
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def _page_params(job: Job, page: int, page_size: int) -> list[tuple[str, Any]]:
    base = [(k, v) for k, v in job.params if k not in ("currentPage", "pageSize")]
    return [*base, ("currentPage", page), ("pageSize", page_size)]


def _split(body: Any, url: str) -> tuple[list[Any], dict[str, Any] | None]:
    if isinstance(body, list):  # not paginated at all
        return body, None
    if not isinstance(body, Mapping) or "data" not in body:
        err = f"GET {url}: the answer has no 'data' list; is this a list endpoint?"
        raise SchemaError(err, url=url)
    data = body["data"]
    if not isinstance(data, list):
        err = f"GET {url}: 'data' is not a list"
        raise SchemaError(err, url=url)
    pagination = body.get("pagination")
    return data, dict(pagination) if isinstance(pagination, Mapping) else None


def _key_of(job: Job) -> Callable[[Any], str | None] | None:
    """The item -> id function used to drop repeats, or None when items have no id."""
    key = job.key
    if key is None:
        return None
    if callable(key):
        raw: Callable[[Any], Any] = key
    else:
        name = key

        def raw(item: Any) -> Any:
            return item.get(name) if isinstance(item, Mapping) else None

    def get(item: Any) -> str | None:
        # Only a non-empty string identifies an item. Anything else (null, false, a list)
        # is malformed: such items are all kept here, and the parser counts them as drops.
        value = raw(item)
        return value if isinstance(value, str) and value else None

    return get


class _State:
    """Progress of one listing through its rounds."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.round = 1
        self.refresh = job.refresh
        self.first: dict[str, Any] = {}
        self.expected: int | None = None
        self.pages: dict[int, tuple[list[Any], dict[str, Any] | None]] = {}
        self.outstanding = 0
        self.responses: list[Any] = []
        self.seen_before: list[Any] = []
        self.error: BaseException | None = None
        self.done = False
        self.listing: Listing | None = None
        self.follow: int | None = None  # next-link mode: the page being followed
        self.links: dict[int, str] = {}


def read_many(
    http: Http,
    jobs: Sequence[Job],
    *,
    max_workers: int = 8,
    progress: bool | None = None,
    desc: str = "pages",
    page_size: int = MAX_PAGE_SIZE,
    max_rounds: int = 3,
) -> list[Listing | BaseException]:
    """Read every page of every job; a failed job gives its exception in its slot.

    Page 1 of each job goes first; each job's remaining pages are queued as soon as its
    first page says how many there are. All requests share one pool of ``max_workers``
    threads and one progress bar.
    """
    from tqdm.auto import tqdm

    if not 1 <= page_size <= MAX_PAGE_SIZE:
        err = f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}"
        raise ValueError(err)
    states = [_State(job) for job in jobs]
    if not states:
        return []
    planned = len(states)
    done_requests = 0
    bar: Any = None
    lock = threading.Lock()

    def fetch(state: _State, page: int) -> tuple[Any, Any]:
        http.pacer.add_demand(-1)
        uri = state.links.get(page)
        if uri is not None:
            # Relative or absolute, the link is re-based onto our base URL by Http.url.
            return http.get_json(uri, expire_after=state.job.expire_after, refresh=state.refresh)
        params = _page_params(state.job, page, page_size)
        return http.get_json(
            state.job.path,
            params,
            expire_after=state.job.expire_after,
            refresh=state.refresh,
        )

    workers = max(1, min(max_workers, 64))
    pending: dict[Future[Any], tuple[_State, int]] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="avi-page") as pool:

        def submit(state: _State, page: int) -> None:
            state.outstanding += 1
            if not state.refresh:
                # Cache hits are answered here: a thread hand-off would cost more than them.
                uri = state.links.get(page)
                if uri is not None:
                    hit = http.lookup(uri)
                else:
                    hit = http.lookup(state.job.path, _page_params(state.job, page, page_size))
                if hit is not None:
                    done: Future[Any] = Future()
                    done.set_result(hit)
                    pending[done] = (state, page)
                    return
            http.pacer.add_demand(1)
            pending[pool.submit(fetch, state, page)] = (state, page)

        def start_round(state: _State) -> None:
            state.pages = {}
            state.links = {}
            state.responses = []
            state.expected = None
            submit(state, 1)

        for state in states:
            start_round(state)
        try:
            while pending:
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in finished:
                    state, page = pending.pop(future)
                    state.outstanding -= 1
                    done_requests += 1
                    if state.error is not None or state.done:
                        continue
                    try:
                        body, response = future.result()
                        items, pagination = _split(body, response.url)
                    except BaseException as exc:
                        state.error = exc
                        continue
                    state.pages[page] = (items, pagination)
                    state.responses.append(response)
                    if page == 1 or state.follow == page:
                        if page == 1 and isinstance(body, Mapping):
                            state.first = {k: v for k, v in body.items() if k != "data"}
                        rest = plan_pages(pagination)
                        nxt = _link(pagination or {}, "next")
                        if rest and nxt:
                            state.links[rest[0]] = nxt
                        if page == 1:
                            state.expected = rest[-1] if rest else 1
                            total = _int((pagination or {}).get("pagesTotal"))
                            if total is None and rest:
                                # Only a `next` link: follow it one page at a time.
                                state.follow = rest[0]
                                submit(state, rest[0])
                                planned += 1
                            else:
                                for p in rest:
                                    submit(state, p)
                                planned += len(rest)
                        elif rest:
                            state.expected = rest[0]
                            state.follow = rest[0]
                            submit(state, rest[0])
                            planned += 1
                        else:
                            state.follow = None
                    if state.outstanding == 0 and state.expected is not None:
                        again = _finish(state, max_rounds)
                        if again:
                            planned += 1
                            start_round(state)
                with lock:
                    if bar is None and progress_enabled(progress, planned):
                        bar = tqdm(
                            total=planned,
                            desc=desc,
                            unit="req",
                            leave=False,
                            disable=False,
                            dynamic_ncols=True,
                        )
                        bar.update(done_requests)
                    elif bar is not None:
                        if bar.total != planned:
                            bar.total = planned
                            bar.refresh()
                        bar.update(done_requests - bar.n)
        finally:
            if bar is not None:
                bar.close()
            for future in pending:
                if future.cancel():
                    http.pacer.add_demand(-1)
    results: list[Listing | BaseException] = []
    for state in states:
        if state.error is not None:
            results.append(state.error)
        else:
            assert state.listing is not None
            results.append(state.listing)
    return results


def _finish(state: _State, max_rounds: int) -> bool:
    """Assemble a job whose pages are all in; True asks for another round."""
    key = _key_of(state.job)
    expected = state.expected or 1
    pages = [state.pages.get(p) for p in range(1, expected + 1)]
    items: list[Any] = []
    totals: set[int] = set()
    page_totals: set[int] = set()
    for entry in pages:
        if entry is None:
            continue
        page_items, pagination = entry
        items.extend(page_items)
        if pagination:
            t = _int(pagination.get("itemsTotal"))
            if t is not None:
                totals.add(t)
            pt = _int(pagination.get("pagesTotal"))
            if pt is not None:
                page_totals.add(pt)
    duplicates = 0
    if key is not None:
        unique: dict[Any, Any] = {}
        anonymous = []
        for item in items:
            k = key(item)
            if k is None:
                anonymous.append(item)
            elif k in unique:
                duplicates += 1
            else:
                unique[k] = item
        items = [*unique.values(), *anonymous]
    total = max(totals) if totals else None
    consistent = len(totals) <= 1 and len(page_totals) <= 1 and duplicates == 0
    if total is not None and len(items) != total:
        consistent = False
    if not consistent and state.round < max_rounds:
        # Something moved during the load: read the listing again, fresh.
        if key is not None:
            state.seen_before.extend(items)
        state.round += 1
        state.refresh = True
        return True
    if key is not None and state.seen_before and not consistent:
        # Out of rounds: keep everything seen, once (no gaps, no duplicates).
        merged: dict[Any, Any] = {}
        for item in [*items, *state.seen_before]:
            k = key(item)
            if k is not None and k not in merged:
                merged[k] = item
        # Items without an id are the parser's to count as malformed, never to lose here.
        items = [*merged.values(), *(item for item in items if key(item) is None)]
    state.listing = Listing(
        items=items,
        first=state.first,
        pages=expected,
        total=total,
        responses=list(state.responses),
        rounds=state.round,
        consistent=consistent,
        duplicates=duplicates,
    )
    state.done = True
    return False


def read_pages(
    http: Http,
    path: str,
    params: Sequence[tuple[str, Any]] = (),
    *,
    key: str | Callable[[Mapping[str, Any]], Any] | None = None,
    expire_after: Any = None,
    refresh: bool = False,
    max_workers: int = 8,
    progress: bool | None = None,
    desc: str = "pages",
    page_size: int = MAX_PAGE_SIZE,
) -> Listing:
    """Every page of one listing (see :func:`read_many`); raises its error."""
    job = Job(path, tuple(params), key=key, expire_after=expire_after, refresh=refresh)
    (result,) = read_many(
        http, [job], max_workers=max_workers, progress=progress, desc=desc, page_size=page_size
    )
    if isinstance(result, BaseException):
        raise result
    return result
