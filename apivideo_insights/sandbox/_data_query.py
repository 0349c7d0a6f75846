"""``/data`` requests, validated as api.video does: :func:`parse_query` -> :class:`Query`.

Each step checks one part of the request, in api.video's order (path attributes, query
names and filters, ``unique``/``viewDuration``, the window, the interval, sorting), and
raises :class:`QueryError` (a 400 problem JSON) at the first thing api.video refuses.

>>> q = parse_query("buckets", "play", "country", {"filterBy[continent]": ["EU"]},
...                 now=pd.Timestamp("2024-06-01", tz="UTC"))
>>> q.breakdown, q.filters
('country', {'continent': ['EU']})
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._periods import PeriodError, format_atom, parse_datetime
from .._spec import BUCKET_METRICS, METRIC_AGGREGATIONS, TIMESERIES_METRICS

__all__ = [
    "BREAKDOWNS",
    "FILTERS",
    "INTERVALS",
    "VIEW_DURATIONS",
    "Query",
    "QueryError",
    "parse_query",
]

#: breakdown (path) -> dimension column of :attr:`Facts.sessions`.
BREAKDOWNS: dict[str, str] = {
    "media-id": "media_id",
    "media-type": "media_type",
    "continent": "continent",
    "country": "country",
    "device-type": "device_type",
    "operating-system": "operating_system",
    "browser": "browser",
    "referrer": "referrer",
}
#: filterBy key -> (dimension column, takes a list)
FILTERS: dict[str, tuple[str, bool]] = {
    "mediaId": ("media_id", True),
    "mediaType": ("media_type", False),
    "continent": ("continent", True),
    "country": ("country", True),
    "deviceType": ("device_type", True),
    "operatingSystem": ("operating_system", True),
    "browser": ("browser", True),
    "tag": ("tags", False),
    "referrer": ("referrer", True),
}
CONTINENTS = ("AS", "AF", "NA", "SA", "AN", "EU", "AZ")
VIEW_DURATIONS = {"3s": 3, "5s": 5, "10s": 10, "30s": 30}
INTERVALS = {"minute": 60, "hour": 3600, "day": 86400}
UNIQUE_METRICS = {"ccv", "view", "ccv-peak", "ccv-average"}
RETENTION = pd.Timedelta(days=30)

_INVALID_QUERY = "https://docs.api.video/reference/request-invalid-query-parameter"
_INVALID_ATTRIBUTE = "https://docs.api.video/reference/invalid-attribute"


_INVALID_QUERY = "https://docs.api.video/reference/request-invalid-query-parameter"
_INVALID_ATTRIBUTE = "https://docs.api.video/reference/invalid-attribute"


class QueryError(ValueError):
    """A ``/data`` request api.video would refuse with a 400 problem JSON."""

    def __init__(
        self,
        name: str,
        detail: str,
        *,
        title: str = "A query parameter is invalid.",
        type_: str = _INVALID_QUERY,
    ) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail
        self.title = title
        self.type = type_

    def problem(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "status": 400,
            "detail": self.detail,
            "name": self.name,
        }


def _invalid_attribute(name: str, detail: str) -> QueryError:
    """A path attribute (metric, aggregation, breakdown) api.video refuses."""
    return QueryError(name, detail, title="An attribute is invalid.", type_=_INVALID_ATTRIBUTE)


# --------------------------------------------------------------------------- queries
@dataclass
class Query:
    """One ``/data`` request, validated."""

    endpoint: str  # metrics | buckets | timeseries
    metric: str
    aggregation: str | None = None
    breakdown: str | None = None
    start: pd.Timestamp = field(default_factory=lambda: pd.Timestamp(0, tz="UTC"))
    end: pd.Timestamp = field(default_factory=lambda: pd.Timestamp(0, tz="UTC"))
    interval: str | None = None
    unique: bool = False
    view_duration: str = "5s"
    filters: dict[str, Any] = field(default_factory=dict)
    sort_by: str | None = None
    sort_order: str | None = None

    @property
    def context_metric(self) -> str:
        """The metric as the answer's ``context`` names it (``unique-view-5`` ...)."""
        name = self.metric
        if name == "view":
            name = f"view-{self.view_duration[:-1]}"
        return f"unique-{name}" if self.unique else name


_FILTER_KEY = re.compile(r"^filterBy\[([^\]]*)\](\[\d*\])?$")
_COMMON = {"from", "to", "filterBy"}
_ALLOWED = {
    "metrics": _COMMON | {"unique", "viewDuration"},
    "buckets": _COMMON
    | {"unique", "viewDuration", "sortBy", "sortOrder", "currentPage", "pageSize"},
    "timeseries": _COMMON
    | {"unique", "viewDuration", "interval", "sortBy", "sortOrder", "currentPage", "pageSize"},
}

_SORT_FIELDS = {
    "buckets": ("metricValue", "dimensionValue"),
    "timeseries": ("metricValue", "emittedAt"),
}


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise QueryError(name, f"This parameter takes one value; {len(values)} were sent.")
    return values[0]


def _choices(values: Any) -> str:
    return ", ".join(f'"{v}"' for v in values)


def parse_query(
    endpoint: str,
    metric: str,
    second: str | None,
    query: dict[str, list[str]],
    *,
    now: pd.Timestamp,
) -> Query:
    """Validate a ``/data`` request the way api.video does; raise :class:`QueryError`.

    Parameters
    ----------
    endpoint : {"metrics", "buckets", "timeseries"}
    metric : str
        The ``{metric}`` path segment.
    second : str or None
        ``{aggregation}`` (metrics) or ``{breakdown}`` (buckets); ``None`` for timeseries.
    query : dict
        Query parameters, each name to its list of values (``parse_qs`` form).
    now : pandas.Timestamp
        The world's clock: ``to`` defaults to it and ``from`` may not be more than 30 days
        before it.

    Examples
    --------
    >>> q = parse_query("metrics", "play", "count", {}, now=pd.Timestamp("2024-06-01", tz="UTC"))
    >>> str(q.start), str(q.end)
    ('2024-05-31 00:00:00+00:00', '2024-06-01 00:00:00+00:00')
    """
    q = Query(endpoint=endpoint, metric=metric)
    _path_attributes(q, second)
    q.filters = _filters(query, _ALLOWED[endpoint])
    _check_filters(q.filters, q)
    _unique_and_view_duration(q, query)
    q.start, q.end = _window(query, pd.Timestamp(now))
    if endpoint == "timeseries":
        q.interval = _interval(query, q.start, q.end)
    if endpoint != "metrics":
        q.sort_by, q.sort_order = _sorting(query, _SORT_FIELDS[endpoint])
    return q


def _path_attributes(q: Query, second: str | None) -> None:
    """``{metric}`` and ``{aggregation}``/``{breakdown}`` of the path."""
    metric = q.metric
    known = {"metrics": METRIC_AGGREGATIONS, "buckets": BUCKET_METRICS}.get(
        q.endpoint, TIMESERIES_METRICS
    )
    if q.endpoint not in ("metrics", "buckets", "timeseries"):  # pragma: no cover
        raise ValueError(f"unknown /data endpoint {q.endpoint!r}")
    if metric not in known:
        raise _invalid_attribute("metric", f"This metric is invalid. Use one of {_choices(known)}.")
    if q.endpoint == "metrics":
        valid = METRIC_AGGREGATIONS[metric]
        if second not in valid:
            raise _invalid_attribute(
                "aggregation",
                f'The aggregation "{second}" is invalid for the metric "{metric}". '
                f"Use one of {_choices(valid)}.",
            )
        q.aggregation = second
    elif q.endpoint == "buckets":
        if second not in BREAKDOWNS:
            raise _invalid_attribute(
                "breakdown", f"This breakdown is invalid. Use one of {_choices(BREAKDOWNS)}."
            )
        if metric == "play-total" and second != "media-id":
            raise _invalid_attribute(
                "breakdown",
                'The metric "play-total" is only available with the breakdown "media-id".',
            )
        q.breakdown = second


def _filters(query: dict[str, list[str]], allowed: set[str]) -> dict[str, Any]:
    """``filterBy[...]`` values by filter (lists where the filter takes several); any other
    name not in ``allowed`` is refused."""
    filters: dict[str, Any] = {}
    for name, values in query.items():
        m = _FILTER_KEY.match(name)
        if not m:
            if name not in allowed:
                raise QueryError(name, "This field was not expected.")
            continue
        key = m[1]
        if key not in FILTERS:
            raise QueryError(
                f"filterBy[{key}]", f"This filter is invalid. Use one of {_choices(FILTERS)}."
            )
        if FILTERS[key][1]:
            filters.setdefault(key, []).extend(values)
        elif len(values) > 1 or key in filters:
            raise QueryError(f"filterBy[{key}]", "This filter takes a single value.")
        else:
            filters[key] = values[0]
    return filters


def _unique_and_view_duration(q: Query, query: dict[str, list[str]]) -> None:
    unique = _one(query, "unique")
    if unique is not None:
        if unique.lower() not in {"true", "false", "1", "0"}:
            raise QueryError("unique", 'This value should be "true" or "false".')
        q.unique = unique.lower() in {"true", "1"}
        if q.metric not in UNIQUE_METRICS:
            which = (
                "ccv and view metrics."
                if q.endpoint == "metrics"
                else "ccv-peak, ccv-average and view metrics."
            )
            raise QueryError(
                "unique", "This field was not expected: `unique` is accepted only with the " + which
            )
    duration = _one(query, "viewDuration")
    if duration is not None:
        if duration not in VIEW_DURATIONS:
            raise QueryError(
                "viewDuration",
                'This view duration is invalid. Use one of "3s", "5s", "10s", "30s".',
            )
        if q.metric != "view":
            raise QueryError(
                "viewDuration",
                "This field was not expected: `viewDuration` is accepted only with the "
                "view metric.",
            )
        q.view_duration = duration


def _window(query: dict[str, list[str]], now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[from, to)``: the day before ``to`` (default ``now``), within 30 days of ``now``."""
    to_text, from_text = _one(query, "to"), _one(query, "from")
    try:
        end = parse_datetime(to_text) if to_text else now
    except PeriodError as exc:
        raise QueryError("to", str(exc)) from None
    try:
        start = parse_datetime(from_text) if from_text else end - pd.Timedelta(days=1)
    except PeriodError as exc:
        raise QueryError("from", str(exc)) from None
    if start < now - RETENTION:
        raise QueryError(
            "from",
            f"This value is too far in the past: `from` must be within 30 days before "
            f"now ({format_atom(now - RETENTION)} or later).",
        )
    if start >= end:
        raise QueryError("from", "This value must be before `to`.")
    return start, end


def _interval(query: dict[str, list[str]], start: pd.Timestamp, end: pd.Timestamp) -> str:
    interval = _one(query, "interval")
    if interval is None:
        interval = "hour" if end - start <= pd.Timedelta(days=2) else "day"
    if interval not in INTERVALS:
        raise QueryError("interval", f"This interval is invalid. Use one of {_choices(INTERVALS)}.")
    if interval == "minute" and end - start >= pd.Timedelta(minutes=60):
        raise QueryError(
            "interval", "This interval cannot be used with a timeframe over 60 minutes."
        )
    return interval


def _sorting(query: dict[str, list[str]], fields: tuple[str, ...]) -> tuple[str | None, str | None]:
    sort_by = _one(query, "sortBy")
    if sort_by is not None and sort_by not in fields:
        raise QueryError("sortBy", f"This value is invalid. Use one of {_choices(fields)}.")
    sort_order = _one(query, "sortOrder")
    if sort_order is not None and sort_order not in ("asc", "desc"):
        raise QueryError("sortOrder", 'This value is invalid. Use one of "asc", "desc".')
    return sort_by, sort_order


def _check_filters(filters: dict[str, Any], q: Query) -> None:
    media_filters = [k for k in ("mediaId", "mediaType") if k in filters]
    total = (q.endpoint == "metrics" and q.metric == "play" and q.aggregation == "total") or (
        q.endpoint == "buckets" and q.metric == "play-total"
    )
    if media_filters and not total:
        raise QueryError(
            f"filterBy[{media_filters[0]}]",
            "The mediaId and mediaType filters are accepted only by /data/metrics/play/total "
            "and /data/buckets/play-total/media-id. Use /data/buckets/{metric}/media-id "
            "for one value per video.",
        )
    if "mediaType" in filters and filters["mediaType"] not in ("video", "live-stream"):
        raise QueryError(
            "filterBy[mediaType]", 'This value is invalid. Use "video" or "live-stream".'
        )
    for value in filters.get("continent", []):
        if value.upper() not in CONTINENTS:
            raise QueryError(
                "filterBy[continent]",
                f'The continent "{value}" is invalid. Use one of {_choices(CONTINENTS)}.',
            )
    for value in filters.get("referrer", []):
        if len(value) > 2048:
            raise QueryError(
                "filterBy[referrer]", "This value should not contain more than 2048 characters."
            )
