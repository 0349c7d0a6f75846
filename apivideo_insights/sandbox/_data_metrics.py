"""The ``/data`` analytics of the sandbox, computed from the same events the legacy API lists.

api.video's current analytics (``/data/metrics``, ``/data/buckets``, ``/data/timeseries``)
are aggregates; the sandbox derives every one of them from ``World.events`` and
``World.sessions`` so that both eras of the API describe one world. The definitions (kept
simple on purpose, and the same in every endpoint):

=================  ===================================================================
``impression``     a ``ready`` event, at its ``emittedAt``.
``play``           a ``play`` event.
``start``          the first ``play`` of a playback (a playback is the stretch of a
                   session's listed events from one ``ready`` to the next).
``end``            an ``end`` event.
``play-rate``      plays / impressions of the same window and filters.
``play-total``     plays of all time (``from``/``to`` ignored).
``impression-time``  milliseconds from the session's ``loadedAt`` to its first ``ready``,
                   counted at that ``ready``.
``watch-time``     wall-clock seconds between a ``play``/``resume`` and the next
                   ``pause``/``end``/``ready`` of the session, in listed order (seeks do
                   not stop playback; a stretch never closed ends at the session's
                   ``endedAt``); clipped to the window. ``average`` = sum / sessions
                   that watched in the window.
``view``           a session whose cumulative watch time reaches ``viewDuration``
                   (default 5 s), counted at the moment it does.
``ccv``            concurrent sessions, a session lasting from ``loadedAt`` to
                   ``endedAt``. ``peak`` = most at once in the window, ``live`` = most at
                   once in the 20 s before ``to``, ``ccv-average`` = time-weighted mean.
``unique``         viewers instead of sessions: a viewer is the session's ``viewer_id``
                   column when the world has one, else its location + device + os +
                   client fingerprint (api.video uses IP + user agent); views are unique
                   per viewer and UTC day, concurrent viewers merge a viewer's sessions.
=================  ===================================================================

Dimensions come from :mod:`apivideo_insights.sandbox._catalog` (country name -> ``FR``,
``EU``; ``desktop`` -> ``computer``; ``Microsoft Windows`` -> ``windows``; ``Firefox`` ->
``firefox``); ``referrer`` is the session's referrer URL, ``""`` when unknown.

Timeseries only list the intervals that have a value (as api.video's example does);
``emittedAt`` is the interval start in ATOM form (``2024-10-01T23:00:00+00:00``).

>>> facts = build_facts(world)                                   # doctest: +SKIP
>>> q = parse_query("metrics", "play", "count", {}, now=world.now)  # doctest: +SKIP
>>> compute(facts, q)["data"]                                    # doctest: +SKIP
412
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd

from .._periods import format_atom
from .._spec import BUCKET_METRICS, METRIC_AGGREGATIONS, TIMESERIES_METRICS
from ._catalog import BROWSERS, COUNTRIES, DEVICES, OPERATING_SYSTEMS
from ._data_query import (
    BREAKDOWNS,
    FILTERS,
    INTERVALS,
    VIEW_DURATIONS,
    Query,
    QueryError,
    parse_query,
)
from .world import World

__all__ = [
    "BREAKDOWNS",
    "BUCKET_METRICS",
    "FILTERS",
    "METRIC_AGGREGATIONS",
    "TIMESERIES_METRICS",
    "Facts",
    "Query",
    "QueryError",
    "build_facts",
    "compute",
    "parse_query",
]

LIVE_WINDOW = pd.Timedelta(seconds=20)
_NS = 1_000_000_000
_NAT = np.iinfo(np.int64).min


# --------------------------------------------------------------------------- facts
@dataclass
class Facts:
    """Everything ``/data`` needs, derived once from a world.

    Attributes
    ----------
    sessions : pandas.DataFrame
        One row per session (position = session code): ``session_id``, the dimensions
        (``media_id, media_type, continent, country, device_type, operating_system,
        browser, referrer``), ``tags`` (frozenset), ``viewer`` (int) and ``life_start``,
        ``life_end`` (epoch ns).
    points : dict
        Metric name -> ``(session codes, epoch ns)`` of each counted moment
        (``impression``, ``play``, ``start``, ``end``, ``view-3`` ... ``view-30``).
    watch : tuple of numpy.ndarray
        ``(codes, start ns, end ns)`` of every watched stretch.
    impression_ms : tuple of numpy.ndarray
        ``(codes, epoch ns, milliseconds)`` of each session's first ``ready``.
    dropped : dict
        Rows left out, with the reason as key (events of unknown sessions, ...).
    """

    sessions: pd.DataFrame
    points: dict[str, tuple[np.ndarray, np.ndarray]]
    watch: tuple[np.ndarray, np.ndarray, np.ndarray]
    impression_ms: tuple[np.ndarray, np.ndarray, np.ndarray]
    dropped: dict[str, int] = field(default_factory=dict)


def _ns(values: Any) -> np.ndarray:
    from ..schema import to_utc

    s = to_utc(values)
    return s.array.asi8.copy() if len(s) else np.zeros(0, dtype=np.int64)


def _lookup(values: pd.Series, table: dict[str, str], default: str = "unknown") -> np.ndarray:
    obj = values.astype(object)
    return np.asarray(
        [table.get(str(v), str(v).lower() if v is not None and v == v else default) for v in obj],
        dtype=object,
    )


def _dimensions(world: World) -> pd.DataFrame:
    s = world.sessions
    n = len(s)

    def column(name: str) -> pd.Series:
        return s[name] if name in s else pd.Series([None] * n, index=s.index, dtype=object)

    country_code = {name: code for name, code, *_ in COUNTRIES}
    continent_of = {code: continent for _, code, continent, *_ in COUNTRIES}
    device = {legacy: data for legacy, data, *_ in DEVICES}
    oses = {legacy: data for legacy, _, data, _ in OPERATING_SYSTEMS}
    browsers = {legacy: data for legacy, data, _ in BROWSERS}

    video = column("video_id").astype(object)
    live = column("live_stream_id").astype(object)
    has_video = video.notna().to_numpy()
    media_id = np.where(has_video, video.to_numpy(), live.to_numpy()).astype(object)
    media_type = np.where(has_video, "video", "live-stream").astype(object)
    countries = np.asarray(
        [country_code.get(str(c), "unknown") for c in column("location_country").astype(object)],
        dtype=object,
    )
    referrer = column("referrer_url").astype(object)
    referrer_values = np.asarray(
        ["" if r is None or r != r or str(r) in {"unknown", ""} else str(r) for r in referrer],
        dtype=object,
    )
    tags_of = {v["videoId"]: frozenset(v.get("tags") or ()) for v in world.videos}
    tags = [
        tags_of.get(str(v), frozenset()) if v == v and v is not None else frozenset() for v in video
    ]

    if "viewer_id" in s:
        viewer = pd.factorize(s["viewer_id"].astype(object))[0]
    else:
        parts = [
            column(c).astype(object).astype(str).to_numpy()
            for c in (
                "location_country",
                "location_city",
                "device_type",
                "device_vendor",
                "device_model",
                "os_name",
                "os_version",
                "client_name",
                "client_version",
            )
        ]
        fingerprint = ["\x1f".join(row) for row in zip(*parts)] if n else []
        viewer = pd.factorize(pd.Series(fingerprint, dtype=object))[0]

    return pd.DataFrame(
        {
            "session_id": column("session_id").astype(object).astype(str).to_numpy(),
            "media_id": media_id,
            "media_type": media_type,
            "continent": np.asarray(
                [continent_of.get(c, "unknown") for c in countries], dtype=object
            ),
            "country": countries,
            "device_type": _lookup(column("device_type"), device),
            "operating_system": _lookup(column("os_name"), oses),
            "browser": _lookup(column("client_name"), browsers),
            "referrer": referrer_values,
            "tags": tags,
            "viewer": np.asarray(viewer, dtype=np.int64),
        }
    )


def build_facts(world: World) -> Facts:
    """Index ``world`` for ``/data``: dimensions per session, moments per metric.

    Runs once per server start; every request then filters numpy arrays.
    """
    dims = _dimensions(world)
    codes, types, t, dropped = _listed_events(world, dims)
    points = _moments(codes, types, t)
    life_start, life_end = _lifetimes(world, len(dims), codes, t)
    dims["life_start"] = life_start
    dims["life_end"] = life_end
    watch = _stretches(codes, types, t, life_end)
    points.update(_views(*watch))
    return Facts(dims, points, watch, _impression_time(points["impression"], life_start), dropped)


def _listed_events(
    world: World, dims: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """``(session codes, types, epoch ns, dropped)`` of the events, grouped by session in
    listed order (the world lists each session's events together; a stable sort makes
    sure)."""
    code_of = {sid: i for i, sid in enumerate(dims["session_id"])}
    ev = world.events
    dropped: dict[str, int] = {}
    sid = ev["session_id"].astype(object).astype(str).to_numpy() if len(ev) else np.zeros(0)
    codes = np.asarray([code_of.get(x, -1) for x in sid], dtype=np.int64)
    known = codes >= 0
    if (~known).any():
        dropped["events of sessions not in World.sessions"] = int((~known).sum())
    types = ev["type"].astype(object).astype(str).to_numpy()[known] if len(ev) else np.zeros(0)
    t = _ns(ev["emitted_at"])[known] if len(ev) else np.zeros(0, dtype=np.int64)
    codes = codes[known]
    if (t == _NAT).any():
        dropped["events without emittedAt"] = int((t == _NAT).sum())
        keep = t != _NAT
        types, t, codes = types[keep], t[keep], codes[keep]
    order = np.argsort(codes, kind="stable")
    return codes[order], types[order], t[order], dropped


def _moments(
    codes: np.ndarray, types: np.ndarray, t: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Impressions, plays, ends, and starts (the first play of each playback)."""
    is_ready = types == "ready"
    first_of_session = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, bool)
    # playback number: readies so far in the session
    ready_cum = np.cumsum(is_ready)
    base = np.maximum.accumulate(np.where(first_of_session, ready_cum - is_ready, 0))
    playback = ready_cum - base
    points: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, kind in (("impression", "ready"), ("play", "play"), ("end", "end")):
        mask = types == kind
        points[name] = (codes[mask], t[mask])
    play_idx = np.flatnonzero(types == "play")
    if len(play_idx):
        key = pd.DataFrame({"c": codes[play_idx], "p": playback[play_idx]})
        starts = play_idx[~key.duplicated().to_numpy()]
    else:
        starts = play_idx
    points["start"] = (codes[starts], t[starts])
    return points


def _lifetimes(
    world: World, n: int, codes: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each session's ``[loadedAt, endedAt]`` (for ccv and for closing a stretch never
    closed); a missing end is the last event's time."""
    life_start = _ns(world.sessions["loaded_at"]) if n else np.zeros(0, np.int64)
    life_end = (
        _ns(world.sessions["ended_at"])
        if n and "ended_at" in world.sessions
        else np.full(n, _NAT, dtype=np.int64)
    )
    last_event = np.full(n, _NAT, dtype=np.int64)
    if len(codes):
        np.maximum.at(last_event, codes, t)
    missing_end = life_end == _NAT
    life_end = np.where(missing_end, np.maximum(last_event, life_start), life_end)
    return life_start, np.maximum(life_end, life_start)


def _stretches(
    codes: np.ndarray, types: np.ndarray, t: np.ndarray, life_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Watched stretches ``(codes, start ns, end ns)``: a state machine over openers
    (play, resume) and closers (pause, end, ready), vectorised."""
    oc = np.isin(types, ("play", "resume", "pause", "end", "ready"))
    oc_codes, oc_t = codes[oc], t[oc]
    opener = np.isin(types[oc], ("play", "resume"))
    if not len(oc_codes):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    new_session = np.r_[True, oc_codes[1:] != oc_codes[:-1]]
    prev_open = np.r_[False, opener[:-1]]
    prev_open[new_session] = False
    effective_open = opener & ~prev_open
    effective_close = ~opener & prev_open
    marks = np.flatnonzero(effective_open | effective_close)
    m_codes, m_t, m_open = oc_codes[marks], oc_t[marks], effective_open[marks]
    nxt_same = np.r_[m_codes[1:] == m_codes[:-1], False]
    nxt_close = np.r_[~m_open[1:], False]
    closes = nxt_same & nxt_close
    w_idx = np.flatnonzero(m_open)
    w_codes = m_codes[w_idx]
    w_start = m_t[w_idx]
    next_t = np.r_[m_t[1:], 0]
    open_end = np.maximum(life_end[w_codes], w_start)
    w_end = np.where(closes[w_idx], next_t[w_idx], open_end)
    return w_codes, w_start, np.maximum(w_end, w_start)


def _views(
    w_codes: np.ndarray, w_start: np.ndarray, w_end: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Views: the moment each session's cumulative watch time reaches each threshold."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if not len(w_codes):
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        return {f"view-{label[:-1]}": empty for label in VIEW_DURATIONS}
    o = np.lexsort((w_start, w_codes))
    vc, vs, ve = w_codes[o], w_start[o], w_end[o]
    length = (ve - vs).astype(np.float64)
    cum = pd.Series(length).groupby(vc).cumsum().to_numpy()
    before = cum - length
    for label, seconds in VIEW_DURATIONS.items():
        need = seconds * _NS
        hit = (before < need) & (cum >= need)
        moment = vs[hit] + (need - before[hit]).astype(np.int64)
        out[f"view-{label[:-1]}"] = (vc[hit], moment)
    return out


def _impression_time(
    impressions: tuple[np.ndarray, np.ndarray], life_start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Impression time: loadedAt -> first ready of the session, in milliseconds."""
    ready_codes, ready_t = impressions
    if not len(ready_codes):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    first_ready = ~pd.Series(ready_codes).duplicated().to_numpy()
    rc, rt = ready_codes[first_ready], ready_t[first_ready]
    return rc, rt, np.maximum(rt - life_start[rc], 0) / 1e6


# --------------------------------------------------------------------------- compute
def _session_mask(facts: Facts, filters: dict[str, Any]) -> np.ndarray:
    s = facts.sessions
    mask = np.ones(len(s), dtype=bool)
    for key, value in filters.items():
        column, _ = FILTERS[key]
        if key == "tag":
            mask &= np.asarray([value in tags for tags in s["tags"]], dtype=bool)
            continue
        values = s[column].to_numpy(dtype=object)
        wanted = value if isinstance(value, list) else [value]
        if key in ("country", "continent"):
            wanted = [w.upper() for w in wanted]
        elif key in ("deviceType", "operatingSystem", "browser"):
            wanted = [w.lower() for w in wanted]
        elif key == "referrer":
            wanted = [*wanted, *(unquote(w) for w in wanted)]
        mask &= np.isin(values, np.asarray(wanted, dtype=object))
    return mask


def _steps(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Change points and the level after each: the count of intervals ``[s, e)`` open."""
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if not len(starts):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    times = np.concatenate([starts, ends])
    delta = np.concatenate([np.ones(len(starts), np.int64), -np.ones(len(ends), np.int64)])
    order = np.lexsort((delta, times))
    times, level = times[order], np.cumsum(delta[order])
    last = np.r_[times[1:] != times[:-1], True]
    return times[last], level[last]


def _peak(times: np.ndarray, level: np.ndarray, a: int, b: int) -> int:
    if not len(times):
        return 0
    i = int(np.searchsorted(times, a, "right")) - 1
    at_a = int(level[i]) if i >= 0 else 0
    j = int(np.searchsorted(times, b, "left"))
    inside = level[i + 1 : j]
    return max(at_a, int(inside.max()) if inside.size else 0)


def _area(times: np.ndarray, level: np.ndarray, a: int, b: int) -> float:
    """Integral of the level over ``[a, b)``, in level x seconds."""
    if not len(times):
        return 0.0
    cum = np.r_[0.0, np.cumsum(level[:-1] * (np.diff(times) / _NS))]

    def upto(x: int) -> float:
        k = int(np.searchsorted(times, x, "right")) - 1
        if k < 0:
            return 0.0
        return float(cum[k] + level[k] * ((x - times[k]) / _NS))

    return upto(b) - upto(a)


def _merge(keys: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, ...]:
    """Union of each key's intervals (one viewer's overlapping sessions count once)."""
    if not len(keys):
        return keys, starts, ends
    o = np.lexsort((starts, keys))
    k, s, e = keys[o], starts[o], ends[o]
    run_end = pd.Series(e).groupby(k).cummax().to_numpy()
    prev_end = np.r_[np.iinfo(np.int64).min, run_end[:-1]]
    new = np.r_[True, k[1:] != k[:-1]] | (s > prev_end)
    group = np.cumsum(new) - 1
    ms = pd.Series(s).groupby(group).min().to_numpy()
    me = pd.Series(e).groupby(group).max().to_numpy()
    mk = pd.Series(k).groupby(group).first().to_numpy()
    return mk, ms, me


def _windows(q: Query) -> list[tuple[int, int, int]]:
    """Timeseries intervals ``(label ns, a, b)`` covering ``[from, to)``."""
    step = INTERVALS[q.interval or "hour"] * _NS
    a0, b0 = q.start.value, q.end.value
    first = a0 // step * step
    return [(t, max(t, a0), min(t + step, b0)) for t in range(first, b0, step)]


def _count_points(
    facts: Facts, name: str, mask: np.ndarray, a: int | None, b: int | None, unique: bool
) -> tuple[np.ndarray, np.ndarray]:
    codes, t = facts.points[name]
    keep = mask[codes]
    if a is not None and b is not None:
        keep &= (t >= a) & (t < b)
    return codes[keep], t[keep]


def _count(codes: np.ndarray, t: np.ndarray, facts: Facts, unique: bool) -> int:
    if not unique:
        return len(codes)
    viewer = facts.sessions["viewer"].to_numpy()[codes]
    day = t // (86400 * _NS)
    return len(set(zip(viewer.tolist(), day.tolist())))


def _grouped(
    facts: Facts, q: Query, keys_of_codes: np.ndarray | None, label_of_t: int | None
) -> dict[Any, float]:
    """The metric for each group: by session dimension (buckets) or by time (timeseries)."""
    mask = _session_mask(facts, q.filters)
    a, b = q.start.value, q.end.value
    metric = q.metric
    unique = q.unique

    def point_groups(name: str, window: bool = True) -> dict[Any, float]:
        codes, t = _count_points(
            facts, name, mask, a if window else None, b if window else None, unique
        )
        if keys_of_codes is not None:
            keys = keys_of_codes[codes]
        else:
            step = label_of_t or 1
            keys = t // step * step
        out: dict[Any, float] = {}
        if not len(codes):
            return out
        frame = pd.DataFrame({"k": keys, "c": codes, "t": t})
        for key, part in frame.groupby("k", sort=False):
            out[key] = _count(part["c"].to_numpy(), part["t"].to_numpy(), facts, unique)
        return out

    if metric in ("play", "start", "end", "impression"):
        return point_groups(metric)
    if metric == "play-total":
        return point_groups("play", window=False)
    if metric == "view":
        return point_groups(f"view-{q.view_duration[:-1]}")
    if metric == "play-rate":
        plays, impressions = point_groups("play"), point_groups("impression")
        return {k: plays.get(k, 0) / n for k, n in impressions.items() if n}
    if metric in ("ccv-peak", "ccv-average"):
        s = facts.sessions
        codes = np.flatnonzero(mask)
        starts = s["life_start"].to_numpy()[codes]
        ends = s["life_end"].to_numpy()[codes]
        groups: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        windows: Sequence[tuple[int | None, int, int]]
        if keys_of_codes is not None:
            keys = keys_of_codes[codes]
            frame = pd.DataFrame({"k": keys, "i": np.arange(len(codes))})
            for key, part in frame.groupby("k", sort=False):
                idx = part["i"].to_numpy()
                groups[key] = (codes[idx], starts[idx], ends[idx])
            windows = [(None, a, b)]
        else:
            groups[None] = (codes, starts, ends)
            windows = _windows(q)
        out: dict[Any, float] = {}
        viewer = s["viewer"].to_numpy()
        for key, (gc, gs, ge) in groups.items():
            if unique:
                _, gs, ge = _merge(viewer[gc], gs, ge)
            times, level = _steps(gs, ge)
            for label, wa, wb in windows:
                if metric == "ccv-peak":
                    value: float = _peak(times, level, wa, wb)
                else:
                    value = _area(times, level, wa, wb) / ((wb - wa) / _NS)
                if value > 0:
                    out[key if label is None else label] = value
        return out
    raise AssertionError(metric)  # pragma: no cover


def _number(value: float) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() else value


def compute(facts: Facts, q: Query) -> dict[str, Any]:
    """Answer a validated :class:`Query`.

    Returns
    -------
    dict
        ``/data/metrics``: the whole answer (``context``, ``data``). ``/data/buckets`` and
        ``/data/timeseries``: ``context`` and the full, sorted ``data`` list; the server
        paginates it.
    """
    timeframe = {"from": format_atom(q.start), "to": format_atom(q.end)}
    if q.endpoint == "metrics":
        value = _metric_value(facts, q)
        return {
            "context": {
                "metric": q.context_metric,
                "aggregation": q.aggregation,
                "timeframe": timeframe,
            },
            "data": _number(value),
        }
    if q.endpoint == "buckets":
        column = BREAKDOWNS[q.breakdown or "media-id"]
        keys = facts.sessions[column].to_numpy(dtype=object)
        values = _grouped(facts, q, keys, None)
        rows = [{"metricValue": _number(v), "dimensionValue": str(k)} for k, v in values.items()]
        by = q.sort_by or "metricValue"
        desc = (q.sort_order or ("desc" if by == "metricValue" else "asc")) == "desc"
        rows.sort(key=lambda r: r["dimensionValue"])
        rows.sort(key=lambda r: r[by], reverse=desc)
        return {
            "context": {
                "metric": q.context_metric,
                "breakdown": q.breakdown,
                "timeframe": timeframe,
            },
            "data": rows,
        }
    step = INTERVALS[q.interval or "hour"] * _NS
    values = _grouped(facts, q, None, step)
    rows_t = sorted(values.items())
    rows = [
        {"emittedAt": format_atom(pd.Timestamp(int(k), tz="UTC")), "metricValue": _number(v)}
        for k, v in rows_t
    ]
    by = q.sort_by or "emittedAt"
    desc = (q.sort_order or ("asc" if by == "emittedAt" else "desc")) == "desc"
    if by == "metricValue":
        rows.sort(key=lambda r: r["metricValue"], reverse=desc)
    elif desc:
        rows.reverse()
    return {
        "context": {"metric": q.context_metric, "interval": q.interval, "timeframe": timeframe},
        "data": rows,
    }


def _metric_value(facts: Facts, q: Query) -> float:
    mask = _session_mask(facts, q.filters)
    a, b = q.start.value, q.end.value
    metric, agg = q.metric, q.aggregation
    if metric in ("play", "start", "end", "impression", "view") and agg == "count":
        name = f"view-{q.view_duration[:-1]}" if metric == "view" else metric
        codes, t = _count_points(facts, name, mask, a, b, q.unique)
        return _count(codes, t, facts, q.unique)
    if metric == "play" and agg == "total":
        codes, _ = _count_points(facts, "play", mask, None, None, False)
        return len(codes)
    if metric == "play" and agg == "rate":
        plays = len(_count_points(facts, "play", mask, a, b, False)[0])
        impressions = len(_count_points(facts, "impression", mask, a, b, False)[0])
        return plays / impressions if impressions else 0.0
    if metric == "impression-time":
        codes, t, ms = facts.impression_ms
        keep = mask[codes] & (t >= a) & (t < b)
        if agg == "sum":
            return float(ms[keep].sum())
        return float(ms[keep].mean()) if keep.any() else 0.0
    if metric == "watch-time":
        codes, s, e = facts.watch
        keep = mask[codes]
        codes = codes[keep]
        clipped = (np.minimum(e[keep], b) - np.maximum(s[keep], a)).clip(min=0) / _NS
        total = float(clipped.sum())
        if agg == "sum":
            return total
        watchers = len(np.unique(codes[clipped > 0]))
        return total / watchers if watchers else 0.0
    if metric == "ccv":
        s = facts.sessions
        codes = np.flatnonzero(mask)
        starts = s["life_start"].to_numpy()[codes]
        ends = s["life_end"].to_numpy()[codes]
        if q.unique:
            _, starts, ends = _merge(s["viewer"].to_numpy()[codes], starts, ends)
        times, level = _steps(starts, ends)
        if agg == "live":
            return _peak(times, level, max(a, b - LIVE_WINDOW.value), b)
        return _peak(times, level, a, b)
    raise AssertionError((metric, agg))  # pragma: no cover
