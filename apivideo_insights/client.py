"""Connect to api.video and load its resources as tidy DataFrames.

:func:`connect` builds a :class:`Client`: one cached, authenticated, rate-limit-aware HTTP
session (:mod:`apivideo_insights._http`) plus thin loaders over the one page reader
(:mod:`apivideo_insights._pagination`), the endpoint table
(:mod:`apivideo_insights._endpoints`), argument checks (:mod:`apivideo_insights._params`) and
the readers of the answers (:mod:`apivideo_insights._wire`).

Every loader:

* validates its arguments before any request (``ValueError`` / ``TypeError`` saying what to
  pass instead);
* reads all pages, concurrently after the first;
* returns the same columns and dtypes whether or not there are rows;
* records ``endpoint``, ``params`` (never credentials), ``loaded_at``, the number of
  ``requests`` sent and answers served ``from_cache``, and rows ``dropped`` (by reason) in
  ``df.attrs``;
* takes ``refresh=True`` to bypass the cache.

Examples
--------
>>> import apivideo_insights as avi
>>> with avi.sandbox.serve() as sb:                                  # doctest: +SKIP
...     api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None)
...     videos = api.videos()
...     sessions = api.video_sessions(videos.video_id[0])
...     events = api.events(sessions)
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd

from . import _params, _wire
from ._aggregates import AggregateLoaders
from ._analytics import AnalyticsLoaders
from ._endpoints import ENDPOINTS, Endpoint, fill
from ._http import (
    LIST_TTL,
    PRODUCTION_URL,
    SANDBOX_URL,
    Http,
    data_expire,
    default_cache_path,
    mask_key,
)
from ._pagination import MAX_PAGE_SIZE, Listing, read_pages
from ._settings import Settings
from .exceptions import PartialLoadWarning, warn

__all__ = ["Client", "connect"]

_DEFAULT = object()


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


_check_id = _params.check_id

#: The endpoint table's cache policy kinds (``Endpoint.cache``) -> how long answers stay.
_EXPIRE = {"list": LIST_TTL}


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resolve_base_url(base_url: str | None, sandbox: bool) -> str:
    if base_url is None:
        base_url = os.environ.get("APIVIDEO_BASE_URL") or None
    if base_url is None:
        base_url = SANDBOX_URL if sandbox else PRODUCTION_URL
    if not isinstance(base_url, str):
        err = f"base_url must be a string URL, not {type(base_url).__name__}"
        raise TypeError(err)
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        err = f"base_url {base_url!r} is not an http(s) URL; e.g. https://ws.api.video"
        raise ValueError(err)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        warn(
            f"base_url {base_url!r} is plain http: the API key would travel unencrypted; "
            "use https unless this is a local test server."
        )
    return base_url.strip().rstrip("/")


def _resolve_cache(cache: Any) -> Path | None:
    if cache is _DEFAULT or cache is True or cache is Ellipsis:
        return default_cache_path()
    if cache is None or cache is False:
        return None
    if isinstance(cache, str | os.PathLike):
        path = Path(cache).expanduser()
        if path.is_dir():
            path = path / "http_cache.sqlite"
        if path.suffix == "":
            path = path.with_suffix(".sqlite")
        return path
    err = f"cache must be a file path, None (no cache), or left out; not {type(cache).__name__}"
    raise TypeError(err)


def connect(
    api_key: str | None = None,
    *,
    base_url: str | None = None,
    sandbox: bool = False,
    cache: Any = ...,
    max_workers: int = 8,
    progress: bool | None = None,
    timeout: float = 30,
    auth: str = "bearer",
    page_size: int = MAX_PAGE_SIZE,
) -> Client:
    """Connect to api.video (or a sandbox) and return a :class:`Client`.

    Parameters
    ----------
    api_key : str, optional
        The project's API key; default ``$APIVIDEO_API_KEY``. Sandbox and production keys
        differ.
    base_url : str, optional
        Default ``$APIVIDEO_BASE_URL``, else ``https://sandbox.api.video`` when
        ``sandbox=True``, else ``https://ws.api.video``.
    sandbox : bool
        Use api.video's sandbox environment when no base URL is given.
    cache : path or None, optional
        Left out: a SQLite file under ``$APIVIDEO_INSIGHTS_CACHE_DIR`` or the user cache
        directory. A path: that SQLite file. None: no cache.
    max_workers : int
        Concurrent requests for multi-page and multi-session loads.
    progress : bool or None
        Progress bars: None shows them for loads of more than a few requests in a
        terminal or notebook; False never; True always.
    timeout : float
        Seconds to wait for each answer, whole: its headers, then its body (an answer
        trickling in is stopped after that).
    auth : {"bearer", "basic"}
        Disposable bearer tokens from ``/auth/api-key`` (refreshed as needed), or HTTP
        Basic with the key.
    page_size : int
        Items per page asked for (1-100).

    Returns
    -------
    Client

    Notes
    -----
    Every call ends. A request is tried at most 6 times (5 retries after 5xx, 429, a failed
    connection or a body cut off), each attempt bounded by ``timeout`` for the headers and
    again for the body. A server that never answers costs one page ``6 * timeout`` plus
    8 s of backoff (188 s with the default 30 s, 38 s with ``timeout=5``); the worst case
    of all, headers each just in time and bodies cut off, is twice that. A body still
    trickling in after ``timeout`` fails at once. A rate-limit wait never exceeds 60 s
    (api.video's window); a 429 asking for more raises
    :class:`~apivideo_insights.RateLimitError`. One answer may hold at most 64 MiB, one
    listing at most 10,000 pages. Credentials go only to ``base_url``'s origin (scheme,
    host and port): a redirect elsewhere is refused, a link elsewhere re-based onto it.

    Examples
    --------
    >>> import apivideo_insights as avi
    >>> api = avi.connect("my-secret-key", base_url="http://127.0.0.1:8080", cache=None)
    >>> api  # doctest: +ELLIPSIS
    Client(base_url='http://127.0.0.1:8080', api_key='<hidden, account ...>', ...)
    """
    if api_key is None:
        api_key = os.environ.get("APIVIDEO_API_KEY") or None
    if api_key is None:
        err = (
            "no API key: pass api_key=... or set the APIVIDEO_API_KEY environment variable "
            "(find your keys at https://dashboard.api.video)"
        )
        raise ValueError(err)
    if not isinstance(api_key, str):
        err = f"api_key must be a string, not {type(api_key).__name__}"
        raise TypeError(err)
    api_key = api_key.strip()
    if not api_key or any(c.isspace() for c in api_key):
        err = "api_key is empty or contains spaces; copy it again from the dashboard"
        raise ValueError(err)
    if not isinstance(sandbox, bool):
        err = f"sandbox must be True or False, not {sandbox!r}"
        raise TypeError(err)
    settings = Settings(
        base_url=_resolve_base_url(base_url, sandbox),
        cache=_resolve_cache(cache),
        auth=auth,
        timeout=timeout,
        max_workers=max_workers,
        progress=progress,
        page_size=page_size,
    )
    return Client(Http(api_key, settings=settings), masked_key=mask_key(api_key))


class Client(AnalyticsLoaders, AggregateLoaders):
    """Loaders for one api.video account. Make one with :func:`connect`.

    The resource loaders (``videos``, ``video``...) are rows of one endpoint table
    (:mod:`apivideo_insights._endpoints`); the legacy session analytics come from
    :class:`~apivideo_insights._analytics.AnalyticsLoaders` and ``/data`` from
    :class:`~apivideo_insights._aggregates.AggregateLoaders`.

    Thread-safe; holds one HTTP session (close it with :meth:`close` or ``with``).
    """

    def __init__(
        self,
        http: Http,
        *,
        masked_key: str = "…",
        max_workers: int | None = None,
        progress: bool | object | None = _DEFAULT,
        page_size: int | None = None,
    ) -> None:
        # The settings connect() checked; the keywords override them (tests, scripts).
        settings = http.settings
        self._http = http
        self._settings = settings
        self._masked = masked_key
        self.max_workers = settings.max_workers if max_workers is None else max_workers
        self.progress: bool | None = (
            settings.progress if progress is _DEFAULT else progress  # type: ignore[assignment]
        )
        self.page_size = settings.page_size if page_size is None else page_size

    # ------------------------------------------------------------------ housekeeping

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._http.base_url

    @property
    def cache_path(self) -> Path | None:
        """The SQLite cache file, or None."""
        return self._http.cache_path

    @property
    def requests_sent(self) -> int:
        """Requests that reached the network so far (cache hits excluded; /auth excluded)."""
        return self._http.sent

    def __repr__(self) -> str:
        cache = str(self.cache_path) if self.cache_path is not None else None
        auth = "bearer" if type(self._http.auth).__name__ == "BearerAuth" else "basic"
        return (
            f"Client(base_url={self.base_url!r}, api_key={self._masked!r}, "
            f"auth={auth!r}, cache={cache!r})"
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session and the cache file."""
        self._http.close()

    def clear_cache(self) -> None:
        """Forget every cached answer and kept frame (of every account sharing the file)."""
        if self._http.caching:
            self._http.session.cache.clear()  # type: ignore[attr-defined]

    def cache_info(self) -> pd.DataFrame:
        """What the cache file holds: API answers and kept frames, counted and sized.

        Returns
        -------
        pandas.DataFrame
            Indexed ``answers`` and ``frames``; columns ``entries``, ``bytes``,
            ``never_expire`` (closed periods, ended sessions) and ``expired`` (dropped or
            replaced at their next use). ``attrs["path"]`` is the file (None without a
            cache) and ``attrs["file_bytes"]`` its size with its write-ahead log.

        Examples
        --------
        >>> api.cache_info()                                          # doctest: +SKIP
                 entries    bytes  never_expire  expired
        answers      214   913408           202        0
        frames         4   151552             2        0
        """
        columns = ["entries", "bytes", "never_expire", "expired"]
        counts = self._http.cache_counts() or {"answers": (0,) * 4, "frames": (0,) * 4}
        path = self._http.cache_path
        info = pd.DataFrame.from_dict(counts, orient="index", columns=columns).astype("int64")
        files = [Path(f"{path}{suffix}") for suffix in ("", "-wal")] if path else []
        info.attrs = {
            "path": str(path) if path else None,
            "file_bytes": sum(f.stat().st_size for f in files if f.exists()),
        }
        return info

    # --------------------------------------------------------------------- plumbing

    def _read(
        self,
        path: str,
        params: Sequence[tuple[str, Any]] = (),
        *,
        key: str | Callable[[Mapping[str, Any]], Any] | None,
        expire_after: Any,
        refresh: bool,
        desc: str,
    ) -> Listing:
        return read_pages(
            self._http,
            path,
            params,
            key=key,
            expire_after=expire_after,
            refresh=refresh,
            max_workers=self.max_workers,
            progress=self.progress,
            desc=desc,
            page_size=self.page_size,
        )

    def _memo(
        self,
        loader: str,
        path: str,
        params: Sequence[tuple[str, Any]] | Mapping[str, Any],
        refresh: bool,
        load: Callable[[], tuple[pd.DataFrame, list[Any]]],
        *shape: Any,
    ) -> pd.DataFrame:
        """Serve a load from its kept frame, or run ``load`` and keep what it built.

        A kept frame expires with the earliest of the answers it was built from, so it is
        served exactly when each of its pages would have been served from the cache; it
        skips reading and parsing them again. ``shape``: what else shaped the frame.
        """
        key = self._http.frame_key(loader, path, params, self.page_size, *shape)
        if not refresh:
            kept = self._http.recall_frame(key)
            if kept is not None:
                served = int(kept.attrs.get("requests", 0)) + int(kept.attrs.get("from_cache", 0))
                kept.attrs.update(loaded_at=_now().isoformat(), requests=0, from_cache=served)
                self._http.count_cached(served)
                return kept
        frame, responses = load()
        # A frame with gaps is not kept: the next load asks again (and warns again).
        if not frame.attrs.get("failed") and not frame.attrs.get("gaps"):
            self._http.keep_frame(key, frame, responses)
        return frame

    def _stamp(
        self,
        frame: pd.DataFrame,
        endpoint: str,
        params: Sequence[tuple[str, Any]] | Mapping[str, Any],
        responses: Iterable[Any] = (),
        *,
        duplicates: int = 0,
        listings: Iterable[Listing] = (),
        **extra: Any,
    ) -> pd.DataFrame:
        responses = list(responses)
        cached = sum(1 for r in responses if getattr(r, "from_cache", False))
        # Every request that went out: retries, redirects and 401 re-sends included.
        sent = sum(getattr(r, "_avi_sent", 1) for r in responses if not getattr(r, "from_cache", 0))
        listings = list(listings)
        earlier = [r for listing in listings for r in listing.earlier]
        sent += sum(getattr(r, "_avi_sent", 1) for r in earlier if not getattr(r, "from_cache", 0))
        gaps = _gaps(endpoint, listings)
        if gaps:
            extra = {**extra, "gaps": gaps}
        items = params.items() if isinstance(params, Mapping) else params
        recorded: dict[str, Any] = {}
        for k, v in items:
            if k in recorded:
                prev = recorded[k]
                recorded[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
            else:
                recorded[k] = v
        dropped = dict(frame.attrs.get("dropped", {}))
        invalid = frame.attrs.get("invalid_values")
        if invalid:
            extra = {"invalid_values": dict(invalid), **extra}
        replaced = frame.attrs.get("replaced_text")
        if replaced:
            # Unencodable text (lone surrogates) replaced by U+FFFD, by column (see _wire).
            extra = {"replaced_text": dict(replaced), **extra}
        if duplicates:
            # The same id on two pages (a list that moved during the load): kept once.
            dropped["repeated id"] = dropped.get("repeated id", 0) + duplicates
        frame.attrs = {
            "endpoint": endpoint,
            "params": recorded,
            "base_url": self.base_url,
            "loaded_at": _now().isoformat(),
            "requests": sent,
            "from_cache": cached,
            "dropped": dropped,
            **extra,
        }
        return frame

    def _paged(
        self,
        loader: str,
        path: str,
        params: list[tuple[str, Any]],
        *,
        key: str | Callable[[Mapping[str, Any]], Any],
        expire_after: Any,
        refresh: bool,
        desc: str,
        build: Callable[[Listing], pd.DataFrame],
        shape: Sequence[Any] = (),
        with_context: bool = False,
    ) -> pd.DataFrame:
        """A paginated endpoint as one frame: every page read, the frame built by ``build``,
        stamped, and kept (see :meth:`_memo`; ``shape``: what else shaped it)."""

        def load() -> tuple[pd.DataFrame, list[Any]]:
            listing = self._read(
                path, params, key=key, expire_after=expire_after, refresh=refresh, desc=desc
            )
            extra = {"context": dict(listing.first.get("context") or {})} if with_context else {}
            stamped = self._stamp(
                build(listing),
                path,
                params,
                listing.responses,
                pages=listing.pages,
                duplicates=listing.duplicates,
                listings=[listing],
                **extra,
            )
            return stamped, listing.responses

        return self._memo(loader, path, params, refresh, load, *shape)

    def _list(
        self, endpoint: Endpoint, filters: Mapping[str, Any], refresh: bool, **ids: str
    ) -> pd.DataFrame:
        """Every item of a list endpoint (a row of the endpoint table) as one frame."""
        params = _params.list_params(endpoint.name, endpoint.filters, filters)
        path = fill(endpoint.path, **ids)
        extra = {name: ids[name] for name in endpoint.carried}
        return self._paged(
            endpoint.name,
            path,
            params,
            key=endpoint.key,
            expire_after=_EXPIRE[endpoint.cache],
            refresh=refresh,
            desc=endpoint.name,
            build=lambda listing: _wire.resource_frame(
                listing.items,
                endpoint.columns,
                required=endpoint.required,
                what=endpoint.name,
                extra=extra or None,
                url=path,
            ),
        )

    def _item(self, endpoint: Endpoint, refresh: bool, **ids: str) -> pd.DataFrame:
        """One item of an endpoint as a one-row frame with its list's columns."""
        assert endpoint.item is not None
        path = fill(endpoint.item, **ids)
        extra = {name: ids[name] for name in endpoint.carried}

        def load() -> tuple[pd.DataFrame, list[Any]]:
            expire = _EXPIRE[endpoint.cache]
            body, response = self._http.get_json(path, expire_after=expire, refresh=refresh)
            frame = _wire.item_frame(
                body,
                endpoint.columns,
                required=endpoint.required,
                what=endpoint.name,
                extra=extra or None,
                url=path,
            )
            return self._stamp(frame, path, {}, [response]), [response]

        return self._memo(f"{endpoint.name}:item", path, {}, refresh, load)

    # ------------------------------------------------------------------------ lists

    def videos(self, *, refresh: bool = False, **filters: Any) -> pd.DataFrame:
        """All videos (``GET /videos``), one row each.

        Parameters
        ----------
        refresh : bool
            Bypass the cache.
        **filters
            ``title``, ``tags`` (list: videos with all of them), ``metadata`` (dict),
            ``description``, ``live_stream_id``, ``sort_by`` (``title``, ``created_at``,
            ``published_at``, ``updated_at``), ``sort_order`` (``asc``/``desc``).

        Returns
        -------
        pandas.DataFrame
            ``video_id, title, description, created_at, published_at, updated_at, tags,
            metadata`` (dict), ``public, panoramic, mp4_support, player_id, ...``
            (:data:`apivideo_insights.schema.VIDEO_COLUMNS`).

        Examples
        --------
        >>> api.videos(tags=["tutorial"], sort_by="created_at")       # doctest: +SKIP
        """
        return self._list(ENDPOINTS["videos"], filters, refresh)

    def live_streams(self, *, refresh: bool = False, **filters: Any) -> pd.DataFrame:
        """All live streams (``GET /live-streams``), one row each.

        Parameters
        ----------
        refresh : bool
            Bypass the cache.
        **filters
            ``name``, ``stream_key``, ``sort_by`` (``name``, ``created_at``,
            ``updated_at``), ``sort_order``.

        Returns
        -------
        pandas.DataFrame
            :data:`apivideo_insights.schema.LIVE_STREAM_COLUMNS`.

        Examples
        --------
        >>> api.live_streams(sort_by="name")                          # doctest: +SKIP
        """
        return self._list(ENDPOINTS["live_streams"], filters, refresh)

    def players(self, *, refresh: bool = False, **filters: Any) -> pd.DataFrame:
        """All player themes (``GET /players``), one row each.

        Parameters
        ----------
        refresh : bool
            Bypass the cache.
        **filters
            ``sort_by`` (``name``, ``created_at``, ``updated_at``), ``sort_order``.

        Returns
        -------
        pandas.DataFrame
            :data:`apivideo_insights.schema.PLAYER_COLUMNS`.

        Examples
        --------
        >>> api.players()                                             # doctest: +SKIP
        """
        return self._list(ENDPOINTS["players"], filters, refresh)

    def upload_tokens(self, *, refresh: bool = False, **filters: Any) -> pd.DataFrame:
        """All upload tokens (``GET /upload-tokens``), one row each.

        Parameters
        ----------
        refresh : bool
            Bypass the cache.
        **filters
            ``sort_by`` (``created_at``, ``ttl``), ``sort_order``.

        Returns
        -------
        pandas.DataFrame
            :data:`apivideo_insights.schema.UPLOAD_TOKEN_COLUMNS`.

        Examples
        --------
        >>> api.upload_tokens(sort_by="ttl")                          # doctest: +SKIP
        """
        return self._list(ENDPOINTS["upload_tokens"], filters, refresh)

    def webhooks(self, *, refresh: bool = False, **filters: Any) -> pd.DataFrame:
        """All webhooks (``GET /webhooks``), one row each.

        Parameters
        ----------
        refresh : bool
            Bypass the cache.
        **filters
            ``events``: webhooks listening to that event (such as
            ``video.encoding.quality.completed``).

        Returns
        -------
        pandas.DataFrame
            :data:`apivideo_insights.schema.WEBHOOK_COLUMNS`.

        Examples
        --------
        >>> api.webhooks(events="video.encoding.quality.completed")   # doctest: +SKIP
        """
        return self._list(ENDPOINTS["webhooks"], filters, refresh)

    def captions(self, video_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """A video's captions (``GET /videos/{video_id}/captions``), one row per language.

        Parameters
        ----------
        video_id : str
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            :data:`apivideo_insights.schema.CAPTION_COLUMNS` (``video_id`` first).

        Examples
        --------
        >>> api.captions("vi4blUQJFrYWbaG44NC")                       # doctest: +SKIP
        """
        vid = _check_id(video_id, "video_id")
        return self._list(ENDPOINTS["captions"], {}, refresh, video_id=vid)

    def chapters(self, video_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """A video's chapter files (``GET /videos/{video_id}/chapters``), one per language.

        Read a file's WebVTT (its ``src``) with :func:`apivideo_insights.read_chapters`.

        Parameters
        ----------
        video_id : str
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            :data:`apivideo_insights.schema.CHAPTER_LIST_COLUMNS`.

        Examples
        --------
        >>> api.chapters("vi4blUQJFrYWbaG44NC")                       # doctest: +SKIP
        """
        vid = _check_id(video_id, "video_id")
        return self._list(ENDPOINTS["chapters"], {}, refresh, video_id=vid)

    # ----------------------------------------------------------------- single items

    def video(self, video_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """One video (``GET /videos/{video_id}``) as a one-row frame.

        Parameters
        ----------
        video_id : str
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            One row, with the same columns as :meth:`videos`.

        Raises
        ------
        NotFoundError
            No video has this id.

        Examples
        --------
        >>> import apivideo_insights as avi
        >>> with avi.sandbox.serve() as sb:
        ...     api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None)
        ...     first = api.videos().iloc[0]
        ...     one = api.video(first["video_id"])
        >>> len(one), one.loc[0, "title"] == first["title"]
        (1, True)
        """
        vid = _check_id(video_id, "video_id")
        return self._item(ENDPOINTS["videos"], refresh, video_id=vid)

    def live_stream(self, live_stream_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """One live stream (``GET /live-streams/{live_stream_id}``) as a one-row frame.

        Parameters
        ----------
        live_stream_id : str
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            One row, with the same columns as :meth:`live_streams`.

        Raises
        ------
        NotFoundError
            No live stream has this id.

        Examples
        --------
        >>> api.live_stream("li400mYKSgQ6xs7taUeSaEKr")  # doctest: +SKIP
        """
        lid = _check_id(live_stream_id, "live_stream_id")
        return self._item(ENDPOINTS["live_streams"], refresh, live_stream_id=lid)

    def player(self, player_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """One player theme (``GET /players/{player_id}``) as a one-row frame.

        Parameters
        ----------
        player_id : str
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            One row, with the same columns as :meth:`players`.

        Raises
        ------
        NotFoundError
            No player theme has this id.

        Examples
        --------
        >>> api.player("pl45d5vFFGrfdXpVkbDZ8YLQ")  # doctest: +SKIP
        """
        pid = _check_id(player_id, "player_id")
        return self._item(ENDPOINTS["players"], refresh, player_id=pid)

    def upload_token(self, token: str, *, refresh: bool = False) -> pd.DataFrame:
        """One upload token (``GET /upload-tokens/{token}``) as a one-row frame.

        Parameters
        ----------
        token : str
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            One row, with the same columns as :meth:`upload_tokens`.

        Raises
        ------
        NotFoundError
            No upload token is this one (or it expired).

        Examples
        --------
        >>> api.upload_token("to1tcmSFHeYY5KzyhOqVKMKb")  # doctest: +SKIP
        """
        tid = _check_id(token, "token")
        return self._item(ENDPOINTS["upload_tokens"], refresh, token=tid)

    def webhook(self, webhook_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """One webhook (``GET /webhooks/{webhook_id}``) as a one-row frame.

        Parameters
        ----------
        webhook_id : str
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            One row, with the same columns as :meth:`webhooks`.

        Raises
        ------
        NotFoundError
            No webhook has this id.

        Examples
        --------
        >>> api.webhook("webhook_XXXXXXXXXXXXXXX")  # doctest: +SKIP
        """
        wid = _check_id(webhook_id, "webhook_id")
        return self._item(ENDPOINTS["webhooks"], refresh, webhook_id=wid)

    def caption(self, video_id: str, language: str, *, refresh: bool = False) -> pd.DataFrame:
        """One caption of a video (``GET /videos/{video_id}/captions/{language}``).

        Parameters
        ----------
        video_id : str
        language : str
            Its ``srclang``, such as ``en``.
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            One row, with the same columns as :meth:`captions`.

        Raises
        ------
        NotFoundError
            The video, or its caption in that language, does not exist.

        Examples
        --------
        >>> api.caption("vi4blUQJFrYWbaG44NC", "en")  # doctest: +SKIP
        """
        vid = _check_id(video_id, "video_id")
        lang = _check_id(language, "language")
        return self._item(ENDPOINTS["captions"], refresh, video_id=vid, language=lang)

    def chapter(self, video_id: str, language: str, *, refresh: bool = False) -> pd.DataFrame:
        """One chapter file of a video (``GET /videos/{video_id}/chapters/{language}``).

        Parameters
        ----------
        video_id : str
        language : str
            Such as ``en``.
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            One row, with the same columns as :meth:`chapters`.

        Raises
        ------
        NotFoundError
            The video, or its chapters in that language, do not exist.

        Examples
        --------
        >>> api.chapter("vi4blUQJFrYWbaG44NC", "en")  # doctest: +SKIP
        """
        vid = _check_id(video_id, "video_id")
        lang = _check_id(language, "language")
        return self._item(ENDPOINTS["chapters"], refresh, video_id=vid, language=lang)

    def account(self, *, refresh: bool = False) -> pd.DataFrame:
        """The account's quota, features and environment (``GET /account``), one row.

        A deprecated endpoint of the 2021 API (``openapi-2021-02``): servers of today may
        answer 404 (:class:`~apivideo_insights.NotFoundError`); the sandbox serves it.

        Returns
        -------
        pandas.DataFrame
            One row: ``environment`` (``production`` or ``sandbox``), ``features`` (list),
            ``quota_used, quota_remaining, quota_total``
            (:data:`apivideo_insights.schema.ACCOUNT_COLUMNS`).

        Examples
        --------
        >>> import apivideo_insights as avi
        >>> with avi.sandbox.serve() as sb:
        ...     api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None)
        ...     account = api.account()
        >>> account.loc[0, "environment"]
        'sandbox'
        """
        path = "/account"

        def load() -> tuple[pd.DataFrame, list[Any]]:
            body, response = self._http.get_json(path, expire_after=LIST_TTL, refresh=refresh)
            frame = _wire.account_frame(body, url=path)
            return self._stamp(frame, path, {}, [response]), [response]

        return self._memo("account", path, {}, refresh, load)

    def video_status(self, video_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """A video's duration and encoding facts (``GET /videos/{video_id}/status``).

        Returns
        -------
        pandas.DataFrame
            One row: ``video_id, duration`` (seconds), ``playable, width, height, bitrate,
            framerate, samplerate, video_codec, audio_codec, aspect_ratio, qualities,
            ingest_status, ingest_filesize``.
        """
        vid = _check_id(video_id, "video_id")
        path = f"/videos/{quote(vid, safe='')}/status"

        def load() -> tuple[pd.DataFrame, list[Any]]:
            body, response = self._http.get_json(path, expire_after=LIST_TTL, refresh=refresh)
            frame = _wire.video_status_frame(vid, body, url=path)
            return self._stamp(frame, path, {}, [response]), [response]

        return self._memo("video_status", path, {}, refresh, load)

    # ---------------------------------------------------------------------- /data

    def _data_expire(self, metric: str, end: pd.Timestamp | None, total: bool = False) -> Any:
        # The cache policy has one home: _http/policy.py.
        return data_expire(metric, end, total)

    # ----------------------------------------------------------------------- files

    def write_events_parquet(
        self,
        events: pd.DataFrame,
        path: str | os.PathLike[str],
        *,
        partition_by: str | list[str] | None = "auto",
        overwrite: bool = False,
    ) -> Path:
        """Write events to a Parquet dataset that :func:`~apivideo_insights.read_events`
        reads back identically (:func:`apivideo_insights.io.write_events_parquet`).

        Parameters
        ----------
        events : pandas.DataFrame
            An events frame (:meth:`events`).
        path : str or path
            A directory (created).
        partition_by : str, list of str, None or "auto"
            Hive partition columns. ``"auto"``: ``video_id`` (else ``live_stream_id``) when
            every row has one, as :meth:`events` adds from a sessions frame; else one file.
        overwrite : bool
            Replace an existing non-empty directory.

        Returns
        -------
        pathlib.Path
            The dataset directory.

        Examples
        --------
        >>> api.write_events_parquet(api.events(sessions), "archive/events")  # doctest: +SKIP
        PosixPath('archive/events')
        """
        from .io import write_events_parquet

        return write_events_parquet(events, path, partition_by=partition_by, overwrite=overwrite)


# ------------------------------------------------------------------------- helpers


def _gaps(endpoint: str, listings: Iterable[Listing]) -> dict[str, Any]:
    """What the listings of one load lacked after their re-reads, warned once; {} if none."""
    short = [listing for listing in listings if listing.notes or listing.missing]
    if not short:
        return {}
    missing = sum(listing.missing for listing in short)
    notes = [note for listing in short for note in listing.notes]
    gaps = {"listings": len(short), "missing": missing, "notes": notes[:20]}
    warn(
        f"{endpoint}: the server's pagination did not add up in {len(short)} listing(s) "
        f"({notes[0]}{'; ...' if len(notes) > 1 else ''}); {missing} item(s) it counted were "
        "not received, even after re-reading. What was received is returned; attrs['gaps'] "
        "says what is missing. Try again later with refresh=True.",
        PartialLoadWarning,
    )
    return gaps
