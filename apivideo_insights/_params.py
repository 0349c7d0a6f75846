"""From user arguments to api.video query parameters, checked before any request.

Pure functions only (no HTTP). The loaders of :mod:`apivideo_insights.client` call them
first, so a bad argument is a ``ValueError`` / ``TypeError`` that says what to pass, and no
request is sent. The answers coming back are read by :mod:`apivideo_insights._wire`.

* legacy ``period`` strings (:func:`parse_period`; the sandbox parses with the same
  :mod:`apivideo_insights._periods`), with a warning when a period lies in the future;
* ``/data`` windows and filters (:func:`data_params`), against the spec's enums in
  :mod:`apivideo_insights._spec`;
* list filters (:func:`list_params`), against each endpoint's allowed options.

>>> from apivideo_insights._params import parse_period
>>> import datetime as dt
>>> parse_period("2024-W03", today=dt.date(2024, 3, 1))[1:]
(datetime.date(2024, 1, 15), datetime.date(2024, 1, 22))
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from . import _periods
from ._spec import (
    AGGREGATIONS,
    BREAKDOWNS,
    BUCKET_METRICS,
    INTERVALS,
    METRIC_AGGREGATIONS,
    METRICS,
    TIMESERIES_METRICS,
    VIEW_DURATIONS,
)
from ._wire import camel, snake
from .exceptions import warn

__all__ = [
    "AGGREGATIONS",
    "BREAKDOWNS",
    "BREAKDOWN_METRICS",
    "INTERVALS",
    "METRICS",
    "METRIC_AGGREGATIONS",
    "PERIOD_FORMS",
    "TIMESERIES_METRICS",
    "check_id",
    "choice",
    "data_params",
    "list_params",
    "parse_period",
    "period_bounds",
    "to_timestamp",
]

#: The spec's ``/data`` enums live in ``_spec`` (shared with the sandbox server).
BREAKDOWN_METRICS = BUCKET_METRICS
_FILTERS = (
    "mediaId",
    "mediaType",
    "continent",
    "country",
    "deviceType",
    "operatingSystem",
    "browser",
    "tag",
    "referrer",
)
_SORT_BY = {
    "metrics": (),
    "buckets": ("metricValue", "dimensionValue"),
    "timeseries": ("metricValue", "emittedAt"),
}

# --------------------------------------------------------------------------- arguments

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)

PERIOD_FORMS = (
    "a day '2024-01-15', an ISO week '2024-W03', a month '2024-01', a year '2024', "
    "or a range of two of those '2024-01-01/2024-01-15'"
)


def _period_error(period: Any, why: str = "") -> ValueError:
    extra = f" ({why})" if why else ""
    return ValueError(f"period {period!r} is not valid{extra}; use {PERIOD_FORMS}")


def _day(text: str, period: Any) -> dt.date:
    m = _DAY.match(text)
    if not m:
        raise _period_error(period)
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise _period_error(period, f"{text} is not a date") from None


def period_bounds(text: str) -> tuple[dt.date, dt.date]:
    """The first day and the day after the last of a valid period string.

    The sandbox server parses periods with the same function, so the two always agree.
    """
    try:
        start, end = _periods.parse_period(text)
    except _periods.PeriodError as exc:
        raise _period_error(text, str(exc).split(". Use ")[0]) from None
    return start.date(), end.date()


def _as_date(value: Any, period: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _day(value, period)
    raise _period_error(period)


def parse_period(period: Any, *, today: dt.date) -> tuple[str, dt.date, dt.date]:
    """Validate a legacy ``period`` locally: ``(text, first_day, day_after_last)``.

    ``None`` is the last 30 days (today included). Dates and ``(start, end)`` pairs of
    dates are accepted too.
    """
    if period is None:
        first = today - dt.timedelta(days=29)
        text = f"{first.isoformat()}/{today.isoformat()}"
    elif isinstance(period, str):
        text = period.strip()
    elif isinstance(period, dt.date):
        text = _as_date(period, period).isoformat()
    elif isinstance(period, tuple | list) and len(period) == 2:
        a, b = (_as_date(v, period) for v in period)
        text = f"{a.isoformat()}/{b.isoformat()}"
    else:
        raise _period_error(period)
    first, after = period_bounds(text)
    _warn_if_future(text, first, after, today)
    return text, first, after


def _warn_if_future(text: str, first: dt.date, after: dt.date, today: dt.date) -> None:
    """Say so when a period asks for days that have not happened yet.

    A period that starts after today returns nothing; a range whose end lies after today
    returns nothing after today. A single week, month or year that contains today is the
    natural "this month" and does not warn.
    """
    if first > today:
        warn(
            f"period {text!r} starts after today ({today.isoformat()}, UTC): there are no "
            "sessions in the future, so this returns nothing; did you mean an earlier year?"
        )
    elif "/" in text and after > today + dt.timedelta(days=1):
        warn(
            f"period {text!r} ends after today ({today.isoformat()}, UTC): it returns "
            "nothing after today."
        )


def to_timestamp(value: Any, name: str) -> pd.Timestamp:
    """A user's start/end (str, date, datetime, Timestamp) as a UTC Timestamp."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        err = f"{name}={value!r} is not a date or time; pass e.g. '2024-05-01T00:00:00Z'"
        raise ValueError(err) from None
    if ts is pd.NaT:
        err = f"{name} must not be missing"
        raise ValueError(err)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def check_id(value: Any, name: str) -> str:
    """A path parameter, checked; any text is allowed (paths quote it as one segment)."""
    if not isinstance(value, str) or not value.strip():
        err = f"{name} must be a non-empty id string such as 'vi4blUQJFrYWbaG44NC', not {value!r}"
        raise TypeError(err) if not isinstance(value, str) else ValueError(err)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            err = f"{name} {value!r} holds a lone surrogate, which no URL can carry"
            raise ValueError(err) from None
    return value.strip()


def choice(value: Any, valid: Sequence[str], name: str) -> str:
    if value not in valid:
        err = f"{name}={value!r} is not one of {', '.join(map(repr, valid))}"
        raise ValueError(err)
    return str(value)


def data_params(
    kind: str,
    *,
    start: Any = None,
    end: Any = None,
    filters: Mapping[str, Any],
) -> tuple[list[tuple[str, str]], pd.Timestamp | None]:
    """Query parameters of a ``/data`` call, validated: ``(params, end_timestamp)``.

    ``filters`` take ``filterBy`` names (snake_case or camelCase: ``country="FR"``,
    ``device_type=["phone", "tablet"]``) and the options ``unique``, ``view_duration``,
    ``sort_by``, ``sort_order``.
    """
    params: list[tuple[str, str]] = []
    t0 = to_timestamp(start, "start") if start is not None else None
    t1 = to_timestamp(end, "end") if end is not None else None
    if t0 is not None and t1 is not None and t0 >= t1:
        err = f"start ({t0.isoformat()}) must be before end ({t1.isoformat()})"
        raise ValueError(err)
    if t0 is not None and t0 > pd.Timestamp.now(tz="UTC"):
        warn(f"start ({t0.isoformat()}) is in the future: there is no data yet to return.")
    if t0 is not None:
        params.append(("from", t0.isoformat(timespec="seconds")))
    if t1 is not None:
        params.append(("to", t1.isoformat(timespec="seconds")))
    sort_by = _SORT_BY[kind]
    options = ["unique", "viewDuration", *(["sortBy", "sortOrder"] if sort_by else [])]
    for key in sorted(filters):
        value = filters[key]
        if value is None:
            continue
        name = camel(key)
        if name == "filterBy" and isinstance(value, Mapping):
            nested, _ = data_params(kind, filters=value)
            params.extend(nested)
            continue
        if name in _FILTERS:
            if isinstance(value, str | int | float):
                params.append((f"filterBy[{name}]", str(value)))
            else:
                values = list(value)
                if name in ("tag", "mediaType") and len(values) == 1:
                    params.append((f"filterBy[{name}]", str(values[0])))
                else:
                    params.extend((f"filterBy[{name}][]", str(v)) for v in values)
        elif name == "unique":
            params.append(("unique", "true" if value else "false"))
        elif name == "viewDuration":
            params.append(("viewDuration", choice(value, VIEW_DURATIONS, "view_duration")))
        elif name == "sortBy" and sort_by:
            params.append(("sortBy", choice(camel(str(value)), sort_by, "sort_by")))
        elif name == "sortOrder" and sort_by:
            params.append(("sortOrder", choice(value, ("asc", "desc"), "sort_order")))
        else:
            valid = ", ".join(snake(f) for f in (*_FILTERS, *options))
            err = f"unknown filter {key!r}; valid filters are {valid}"
            raise ValueError(err)
    return params, t1


def list_params(
    resource: str,
    valid: Mapping[str, Sequence[str] | None],
    filters: Mapping[str, Any],
) -> list[tuple[str, str]]:
    """Validate list filters (snake_case or camelCase) into query parameters.

    ``valid``: the endpoint's options (API names), each with its allowed values or None.

    >>> list_params("videos", {"tags": None, "sortBy": ("title",)}, {"sort_by": "title"})
    [('sortBy', 'title')]
    """
    params: list[tuple[str, str]] = []
    for key in sorted(filters):
        value = filters[key]
        if value is None:
            continue
        name = camel(key)
        if name not in valid:
            names = ", ".join(snake(v) for v in valid) or "none"
            err = f"unknown filter {key!r} for {resource}; valid filters are {names}"
            raise ValueError(err)
        choices = valid[name]
        if name == "metadata":
            if not isinstance(value, Mapping):
                err = "metadata must be a dict such as {'Author': 'John Doe'}"
                raise TypeError(err)
            params.extend((f"metadata[{k}]", str(v)) for k, v in sorted(value.items()))
        elif name == "tags":
            tags = [value] if isinstance(value, str) else list(value)
            params.extend(("tags[]", str(t)) for t in tags)
        elif choices is not None:
            text = camel(str(value)) if name == "sortBy" else str(value)
            params.append((name, choice(text, choices, snake(name))))
        else:
            params.append((name, str(value)))
    return params
