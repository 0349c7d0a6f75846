"""The legacy analytics ``period`` parameter and the ``/data`` date-times, parsed.

One parser serves both sides: the client checks a period with it before any request, and
the sandbox server answers with it, so whatever the client accepts the server accepts.

The removed ``/analytics/videos/{videoId}`` and ``/analytics/live-streams/{liveStreamId}``
endpoints took a required ``period`` (spec ``openapi-2023-09``)::

    2018-01-01              a day
    2018-W01                an ISO week (Monday to Sunday)
    2018-01                 a month
    2018                    a year
    2018-01-01/2018-01-15   a range of any two of those forms, both ends included

:func:`parse_period` turns one into a half-open UTC interval ``[start, end)``; the sandbox
keeps the sessions whose ``loadedAt`` falls inside it. :func:`parse_datetime` reads the
ATOM date-times of ``/data``'s ``from`` and ``to``.

>>> parse_period("2018-W01")
(Timestamp('2018-01-01 00:00:00+0000', tz='UTC'), Timestamp('2018-01-08 00:00:00+0000', tz='UTC'))
>>> parse_period("2018-01-30/2018-02")[1]
Timestamp('2018-03-01 00:00:00+0000', tz='UTC')
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

__all__ = ["PeriodError", "format_atom", "parse_datetime", "parse_period"]

# re.ASCII: \d would otherwise accept any Unicode digit ("２０２４"), which int() reads.
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_YEAR = re.compile(r"^(\d{4})$", re.ASCII)
#: Years a period may name: analytics began long after 1970, and nanosecond timestamps end
#: in 2262, so anything outside is a typo, not a period.
_YEARS = (1970, 2200)

_FORMS = (
    'Use a day ("2018-01-01"), an ISO week ("2018-W01"), a month ("2018-01"), a year '
    '("2018"), or a range of two of those ("2018-01-01/2018-01-15").'
)


class PeriodError(ValueError):
    """A ``period`` or date-time that cannot be read; the message says which forms work."""


def _utc(year: int, month: int = 1, day: int = 1) -> pd.Timestamp:
    if not _YEARS[0] <= year <= _YEARS[1]:
        raise ValueError(f"year {year} is outside {_YEARS[0]}-{_YEARS[1]}")
    return pd.Timestamp(dt.datetime(year, month, day, tzinfo=dt.UTC))


def _single(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of one day, week, month or year."""
    try:
        if m := _DAY.match(text):
            start = _utc(int(m[1]), int(m[2]), int(m[3]))
            return start, start + pd.Timedelta(days=1)
        if m := _WEEK.match(text):
            monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
            start = _utc(monday.year, monday.month, monday.day)
            return start, start + pd.Timedelta(days=7)
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            start = _utc(year, month)
            end = _utc(year + 1, 1) if month == 12 else _utc(year, month + 1)
            return start, end
        if m := _YEAR.match(text):
            year = int(m[1])
            return _utc(year), _utc(year + 1)
    except ValueError as exc:  # month 13, day 31 of April, week 54, year 0...
        raise PeriodError(f"{text!r} is not a valid date: {exc}. {_FORMS}") from None
    raise PeriodError(f"{text!r} is not a period. {_FORMS}")


def parse_period(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The half-open UTC interval ``[start, end)`` that ``period`` covers.

    Parameters
    ----------
    text : str
        ``2018-01-01``, ``2018-W01``, ``2018-01``, ``2018``, or two of those joined by
        ``/`` (the range covers both ends entirely: ``2018-01/2018-02`` is two months).

    Returns
    -------
    (start, end) : tuple of pandas.Timestamp
        UTC, ``start`` included and ``end`` excluded.

    Raises
    ------
    PeriodError
        When the text has none of those forms, names an impossible date, or a range ends
        before it starts (its last part ends on or before the start of its first part).

    Examples
    --------
    >>> parse_period("2018-01-01")[1]
    Timestamp('2018-01-02 00:00:00+0000', tz='UTC')
    """
    if not isinstance(text, str):
        raise PeriodError(f"period must be a string, not {type(text).__name__}. {_FORMS}")
    text = text.strip()
    if not text:
        raise PeriodError(f"period is empty. {_FORMS}")
    if "/" in text:
        first, _, last = text.partition("/")
        if "/" in last:
            raise PeriodError(f"{text!r} has more than one '/'. {_FORMS}")
        start, _ = _single(first.strip())
        _, end = _single(last.strip())
        if end <= start:
            raise PeriodError(f"{text!r} ends before it starts: put the earlier date first.")
        return start, end
    return _single(text)


def parse_datetime(text: str) -> pd.Timestamp:
    """Read an ATOM date-time (``2024-02-05T00:00:00+01:00``) as a UTC timestamp.

    A ``+`` that arrived as a space (an unencoded ``+`` in a query string) is put back, a
    trailing ``Z`` is UTC, and a date-time with no offset is taken as UTC.

    Examples
    --------
    >>> parse_datetime("2024-02-05T00:00:00 01:00")
    Timestamp('2024-02-04 23:00:00+0000', tz='UTC')
    """
    raw = text.strip()
    # "+01:00" sent unencoded decodes to " 01:00".
    fixed = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", raw)
    if fixed.endswith(("Z", "z")):
        fixed = fixed[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(fixed)
    except ValueError:
        raise PeriodError(
            f"{text!r} is not an ATOM date-time: use the form 2024-02-05T00:00:00+01:00."
        ) from None
    if not _YEARS[0] <= value.year <= _YEARS[1]:
        raise PeriodError(f"{text!r} is outside the years {_YEARS[0]}-{_YEARS[1]}.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return pd.Timestamp(value).tz_convert("UTC")


def format_atom(ts: pd.Timestamp) -> str:
    """``2024-10-01T23:00:00+00:00``: the ATOM form api.video's ``/data`` answers use.

    Examples
    --------
    >>> format_atom(pd.Timestamp("2024-10-01 23:00:00.7", tz="UTC"))
    '2024-10-01T23:00:00+00:00'
    """
    ts = pd.Timestamp(ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return str(ts.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
