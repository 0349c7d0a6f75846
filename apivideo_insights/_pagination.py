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
    """All the items of one listing, and how they were obtained.

    ``notes`` says what did not add up (an empty page before the end the totals promised,
    a ``next`` link back to a page already read, totals that disagree) and ``missing`` how
    many items the server counted (``itemsTotal``) but did not send, after every re-read.
    """

    items: list[Any]
    first: dict[str, Any]
    pages: int
    total: int | None
    responses: list[Any] = field(default_factory=list)
    rounds: int = 1
    consistent: bool = True
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)
    missing: int = 0
    #: Answers of the earlier rounds (re-reads), for counting what was sent.
    earlier: list[Any] = field(default_factory=list)


#: Pages one listing may have, in every pagination mode (totals or ``next`` links): 1
#: million items at 100 a page. A listing claiming or running to more is broken, and
#: following it would send requests without end.
MAX_PAGES = 10_000


def plan_pages(
    pagination: Mapping[str, Any] | None,
    *,
    current: int | None = None,
    max_pages: int = MAX_PAGES,
) -> list[int]:
    """Pages still to fetch after ``current`` (default: the answer's ``currentPage``).

    ``pagesTotal`` is believed only as far as ``itemsTotal / pageSize`` allows, so a broken
    total cannot send hundreds of requests for a handful of items; :func:`read_many` then
    reads the pages ``pagesTotal`` claims beyond that one at a time, while they hold items,
    so an ``itemsTotal`` that undercounts never leaves pages unread either.
    """
    if not isinstance(pagination, Mapping):
        return []
    current = current or _int(pagination.get("currentPage")) or 1
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
    if total > max_pages:
        err = (
            f"the answer's pagination claims {total} pages, more than the {max_pages} one "
            "listing may have; that cannot be a real listing. Check the base URL, narrow the "
            "request (a shorter period, filters), or report the endpoint's answer as broken"
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
    # A running kernel, not merely an imported ipykernel (tests and tools import it too).
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


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
        self.visited: set[Any] = set()  # next-link mode: the links already read
        self.notes: list[str] = []
        self.earlier: list[Any] = []  # answers of the rounds before this one
        self.probe_to: int | None = None  # pagesTotal beyond what itemsTotal implies


def _link_key(http: Http, uri: str, params: Sequence[tuple[str, Any]] = ()) -> Any:
    """What identifies a page's request: its path and its sorted query (for loops)."""
    parts = urlsplit(http.url(uri))
    query = [*parse_qsl(parts.query, keep_blank_values=True), *((k, str(v)) for k, v in params)]
    return parts.path, tuple(sorted(query))


class _Reader:
    """The concurrent read of many listings: one pool, one progress bar, one page bound."""

    def __init__(
        self,
        http: Http,
        states: list[_State],
        *,
        workers: int,
        progress: bool | None,
        desc: str,
        page_size: int,
        max_rounds: int,
    ) -> None:
        self.http = http
        self.states = states
        self.workers = workers
        self.progress = progress
        self.desc = desc
        self.page_size = page_size
        self.max_rounds = max_rounds
        settings = getattr(http, "settings", None)
        self.max_pages = int(getattr(settings, "max_pages", MAX_PAGES))
        self.planned = len(states)
        self.done_requests = 0
        self.bar: Any = None
        self.pending: dict[Future[Any], tuple[_State, int]] = {}
        self.pool: ThreadPoolExecutor | None = None

    def run(self) -> None:
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="avi-page") as pool:
            self.pool = pool
            try:
                for state in self.states:
                    self._start_round(state)
                while self.pending:
                    finished, _ = wait(list(self.pending), return_when=FIRST_COMPLETED)
                    for future in finished:
                        if future in self.pending:
                            self._collect(future)
                    self._show()
            finally:
                if self.bar is not None:
                    self.bar.close()
                for future in self.pending:
                    if future.cancel():
                        self.http.pacer.add_demand(-1)

    def _address(self, state: _State, page: int) -> tuple[str, list[tuple[str, Any]] | None]:
        """Where ``page`` is: the ``next`` link that led to it, else the job's path and query."""
        uri = state.links.get(page)
        if uri is not None:
            # Relative or absolute, the link is re-based onto our base URL by Http.url.
            return uri, None
        return state.job.path, _page_params(state.job, page, self.page_size)

    def _fetch(self, state: _State, page: int) -> tuple[Any, Any]:
        self.http.pacer.add_demand(-1)
        path, params = self._address(state, page)
        return self.http.get_json(
            path, params, expire_after=state.job.expire_after, refresh=state.refresh
        )

    def _submit(self, state: _State, page: int) -> None:
        state.outstanding += 1
        if not state.refresh:
            # Cache hits are answered here: a thread hand-off would cost more than them.
            hit = self.http.lookup(*self._address(state, page))
            if hit is not None:
                done: Future[Any] = Future()
                done.set_result(hit)
                self.pending[done] = (state, page)
                return
        self.http.pacer.add_demand(1)
        assert self.pool is not None
        self.pending[self.pool.submit(self._fetch, state, page)] = (state, page)

    def _start_round(self, state: _State) -> None:
        state.earlier.extend(state.responses)
        state.pages = {}
        state.links = {}
        state.responses = []
        state.expected = None
        state.follow = None
        state.notes = []
        state.probe_to = None
        state.visited = {_link_key(self.http, state.job.path, _page_params(state.job, 1, 1))}
        self._submit(state, 1)

    def _collect(self, future: Future[Any]) -> None:
        state, page = self.pending.pop(future)
        state.outstanding -= 1
        self.done_requests += 1
        if state.error is not None or state.done:
            return
        try:
            body, response = future.result()
            items, pagination = _split(body, response.url)
            state.pages[page] = (items, pagination)
            state.responses.append(response)
            if page == 1 and isinstance(body, Mapping):
                state.first = {k: v for k, v in body.items() if k != "data"}
            if page == 1:
                self._plan(state, pagination)
            elif state.follow == page:
                self._follow(state, page, items, pagination)
            elif not items and state.expected is not None and page < state.expected:
                self._cut(state, page)
        except BaseException as exc:
            state.error = exc
            return
        done = state.outstanding == 0 and state.expected is not None
        try:
            if done and self._probe(state):
                return
        except SchemaError as exc:
            state.error = exc
            return
        if done and _finish(state, self.max_rounds):
            self.planned += 1
            self._start_round(state)

    def _plan(self, state: _State, pagination: dict[str, Any] | None) -> None:
        """After page 1: every other page at once, or the ``next`` link one page at a time."""
        said = _int((pagination or {}).get("currentPage"))
        if said not in (None, 1):
            state.notes.append(f"page 1 said it was page {said}")
        rest = plan_pages(pagination, current=1, max_pages=self.max_pages)
        state.expected = rest[-1] if rest else 1
        claimed = _int((pagination or {}).get("pagesTotal"))
        if claimed is not None and claimed > state.expected:
            state.probe_to = claimed
        if claimed is None and rest:
            state.expected = 1
            self._follow(state, 1, None, pagination)
            return
        for p in rest:
            self._submit(state, p)
        self.planned += len(rest)

    def _follow(
        self, state: _State, page: int, items: list[Any] | None, pagination: dict[str, Any] | None
    ) -> None:
        """Next-link mode: ask for the page after ``page``, unless the listing ended."""
        state.follow = None
        if items is not None and not items:
            return  # an empty page ends the listing, whatever its links say
        rest = plan_pages(pagination, current=page, max_pages=self.max_pages)
        if not rest:
            return
        nxt = page + 1
        if nxt > self.max_pages:
            raise self._too_long(state, " (its next links never end)")
        uri = _link(pagination or {}, "next")
        if uri is not None:
            key = _link_key(self.http, uri)
            if key in state.visited:
                state.notes.append(
                    f"page {page}'s next link points back to a page already read; stopped there"
                )
                return
            state.visited.add(key)
            state.links[nxt] = uri
        state.expected = nxt
        state.follow = nxt
        self._submit(state, nxt)
        self.planned += 1

    def _probe(self, state: _State) -> bool:
        """Ask for one more page ``pagesTotal`` claims beyond ``itemsTotal``, while the
        last one held items; True when one was asked for."""
        if state.probe_to is None or state.follow is not None or not state.pages:
            return False
        last = max(state.pages)
        if last >= state.probe_to or not state.pages[last][0]:
            return False
        if last + 1 > self.max_pages:
            raise self._too_long(state)
        state.expected = last + 1
        self._submit(state, last + 1)
        self.planned += 1
        return True

    def _too_long(self, state: _State, why: str = "") -> SchemaError:
        """The error of a listing that runs past the page bound (``why``: how it did)."""
        err = (
            f"GET {state.job.path}: the listing runs past {self.max_pages} pages{why}; "
            "stopped. Narrow the request, or report the endpoint's answer as broken"
        )
        return SchemaError(err)

    def _cut(self, state: _State, page: int) -> None:
        """An empty page before the end the totals promised: the rest are not asked for."""
        claimed = state.expected
        state.expected = page
        dropped = 0
        for future, (st, p) in list(self.pending.items()):
            if st is state and p > page and future.cancel():
                del self.pending[future]
                st.outstanding -= 1
                self.http.pacer.add_demand(-1)
                dropped += 1
        self.planned -= dropped
        state.notes.append(
            f"page {page} of the {claimed} the totals promised was empty; the pages after it "
            "were not asked for"
        )

    def _show(self) -> None:
        from tqdm.auto import tqdm

        if self.bar is None and progress_enabled(self.progress, self.planned):
            self.bar = tqdm(
                total=self.planned,
                desc=self.desc,
                unit="req",
                leave=False,
                disable=False,
                dynamic_ncols=True,
            )
            self.bar.update(self.done_requests)
        elif self.bar is not None:
            if self.bar.total != self.planned:
                self.bar.total = self.planned
                self.bar.refresh()
            self.bar.update(self.done_requests - self.bar.n)


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
    threads and one progress bar. Every pagination mode ends: a listing may have at most
    ``http.settings.max_pages`` pages (:data:`MAX_PAGES`), a ``next`` link back to a page
    already read ends it, and so does an empty page (what did not add up is in
    :attr:`Listing.notes`).
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        err = f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}"
        raise ValueError(err)
    states = [_State(job) for job in jobs]
    if not states:
        return []
    reader = _Reader(
        http,
        states,
        workers=max(1, min(max_workers, 64)),
        progress=progress,
        desc=desc,
        page_size=page_size,
        max_rounds=max_rounds,
    )
    reader.run()
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
    items, totals, page_totals = _gather(state.pages)
    items, duplicates = _dedupe(items, key)
    total = max(totals) if totals else None
    # Anything that moved while the listing was read makes it inconsistent.
    consistent = len(totals) <= 1 and len(page_totals) <= 1 and duplicates == 0
    consistent = consistent and not state.notes and (total is None or len(items) == total)
    if not consistent and state.round < max_rounds:
        # Something moved during the load: read the listing again, fresh.
        if key is not None:
            state.seen_before.extend(items)
        state.round += 1
        state.refresh = True
        return True
    if key is not None and state.seen_before and not consistent:
        items = _merge_rounds(items, state.seen_before, key)
    notes = list(state.notes)
    if len(totals) > 1 or len(page_totals) > 1:
        notes.append("the totals changed from page to page")
    missing = max(total - len(items), 0) if total is not None else 0
    if total is not None and len(items) != total:
        notes.append(f"itemsTotal said {total}, {len(items)} received")
    state.listing = Listing(
        items=items,
        first=state.first,
        pages=max(expected, max(state.pages, default=1)),
        total=total,
        responses=list(state.responses),
        rounds=state.round,
        consistent=consistent,
        duplicates=duplicates,
        notes=notes if not consistent else [],
        missing=missing,
        earlier=list(state.earlier),
    )
    state.done = True
    return False


def _gather(
    pages: Mapping[int, tuple[list[Any], dict[str, Any] | None]],
) -> tuple[list[Any], set[int], set[int]]:
    """The items of every page in page order, and the ``itemsTotal`` and ``pagesTotal``
    values the pages gave (more than one of either: the listing changed while read)."""
    items: list[Any] = []
    totals: set[int] = set()
    page_totals: set[int] = set()
    for page in sorted(pages):
        page_items, pagination = pages[page]
        items.extend(page_items)
        if pagination:
            t = _int(pagination.get("itemsTotal"))
            if t is not None:
                totals.add(t)
            pt = _int(pagination.get("pagesTotal"))
            if pt is not None:
                page_totals.add(pt)
    return items, totals, page_totals


def _merge_rounds(
    items: list[Any], seen_before: list[Any], key: Callable[[Any], str | None]
) -> list[Any]:
    """Out of rounds: every item seen in any round, once (no gaps, no duplicates)."""
    merged: dict[Any, Any] = {}
    for item in [*items, *seen_before]:
        k = key(item)
        if k is not None and k not in merged:
            merged[k] = item
    # Items without an id are the parser's to count as malformed, never to lose here.
    return [*merged.values(), *(item for item in items if key(item) is None)]


def _dedupe(items: list[Any], key: Callable[[Any], str | None] | None) -> tuple[list[Any], int]:
    """Items with an id kept once (first seen), those without kept all; and the repeats."""
    if key is None:
        return items, 0
    duplicates = 0
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
    return [*unique.values(), *anonymous], duplicates


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
