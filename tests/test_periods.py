"""The legacy ``period`` parameter and ``/data`` date-times (pure functions, no server)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apivideo_insights._periods import (
    PeriodError,
    format_atom,
    parse_datetime,
    parse_period,
)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2018-01-01", "2018-01-01", "2018-01-02"),
        ("2018-02-28", "2018-02-28", "2018-03-01"),
        ("2020-02-29", "2020-02-29", "2020-03-01"),
        ("2018-W01", "2018-01-01", "2018-01-08"),
        # ISO week 1 of 2019 starts on Monday 2018-12-31; 2020 has a week 53.
        ("2019-W01", "2018-12-31", "2019-01-07"),
        ("2020-W53", "2020-12-28", "2021-01-04"),
        ("2018-01", "2018-01-01", "2018-02-01"),
        ("2018-12", "2018-12-01", "2019-01-01"),
        ("2018", "2018-01-01", "2019-01-01"),
        ("2018-01-01/2018-01-15", "2018-01-01", "2018-01-16"),
        ("2018-01-01/2018-01-01", "2018-01-01", "2018-01-02"),
        ("2018-01/2018-02", "2018-01-01", "2018-03-01"),
        ("2018-W01/2018-01-10", "2018-01-01", "2018-01-11"),
        ("2017/2018-W02", "2017-01-01", "2018-01-15"),
        (" 2018-01-01 ", "2018-01-01", "2018-01-02"),
    ],
)
def test_periods_cover_whole_days_end_excluded(period: str, start: str, end: str) -> None:
    assert parse_period(period) == (ts(start), ts(end))


@pytest.mark.parametrize(
    "period",
    [
        "",
        "18-01-01",
        "2018-1-1",
        "2018-13",
        "2018-02-30",
        "2018-W54",
        "2019-W53",  # 2019 has 52 ISO weeks
        "2018-W00",
        "2018-01-01T00:00:00",
        "2018-01-15/2018-01-01",
        "2018-02/2018-01",
        "2018-01-08/2018-W01",
        "2018-01-01/2018-01-02/2018-01-03",
        "2018-01-01/",
        "last week",
        "0000",
    ],
)
def test_malformed_periods_say_what_works(period: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(period)
    message = str(info.value)
    assert "2018-W01" in message or "earlier date first" in message


def test_period_must_be_text() -> None:
    with pytest.raises(PeriodError):
        parse_period(2018)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    a=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
    b=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
)
def test_any_two_forms_make_a_range_from_first_start_to_last_end(a: dt.date, b: dt.date) -> None:
    a, b = min(a, b), max(a, b)
    forms_a = [a.isoformat(), a.strftime("%Y-%m"), str(a.year)]
    forms_b = [b.isoformat(), b.strftime("%Y-%m"), str(b.year)]
    year, week, _ = b.isocalendar()
    forms_b.append(f"{year}-W{week:02d}")
    for fa in forms_a:
        for fb in forms_b:
            start, end = parse_period(f"{fa}/{fb}")
            assert start == parse_period(fa)[0]
            assert end == parse_period(fb)[1]
            # The dates named are inside the range.
            assert start <= ts(a.isoformat()) < end
            assert ts(b.isoformat()) < end


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_form_contains_its_day(day: dt.date) -> None:
    year, week, _ = day.isocalendar()
    moment = ts(day.isoformat()) + pd.Timedelta(hours=23, minutes=59)
    for form in (day.isoformat(), f"{year}-W{week:02d}", day.strftime("%Y-%m"), str(day.year)):
        start, end = parse_period(form)
        assert start <= moment < end
        assert start.tz is not None and str(start.tz) == "UTC"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-05T00:00:00+01:00", "2024-02-04T23:00:00Z"),
        ("2024-02-05T00:00:00 01:00", "2024-02-04T23:00:00Z"),  # '+' decoded as a space
        ("2024-02-05T00:00:00Z", "2024-02-05T00:00:00Z"),
        ("2024-02-05T00:00:00", "2024-02-05T00:00:00Z"),  # naive: UTC
        ("2024-02-05T00:00:00.250-02:00", "2024-02-05T02:00:00.250Z"),
        ("2024-02-05", "2024-02-05T00:00:00Z"),
    ],
)
def test_parse_datetime_reads_atom_forms(text: str, expected: str) -> None:
    assert parse_datetime(text) == pd.Timestamp(expected)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00:00Z", "", "2024-02-05T25:00"])
def test_parse_datetime_refuses_other_text(text: str) -> None:
    with pytest.raises(PeriodError, match="ATOM"):
        parse_datetime(text)


def test_format_atom_is_well_formed_utc() -> None:
    assert format_atom(ts("2024-10-01 23:00:00.9")) == "2024-10-01T23:00:00+00:00"
    assert format_atom(pd.Timestamp("2024-10-01 23:00", tz="Europe/Paris")) == (
        "2024-10-01T21:00:00+00:00"
    )
    assert format_atom(pd.Timestamp("2024-10-01 23:00")) == "2024-10-01T23:00:00+00:00"
    # Round trip.
    value = ts("2024-05-29T07:00:00")
    assert parse_datetime(format_atom(value)) == value


def test_the_shared_parser_does_not_warn_about_the_future() -> None:
    # The client warns about periods after today (apivideo_insights._params); the sandbox,
    # which parses with this same function and has its own "now", must not.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_period("2099-01") == (ts("2099-01-01"), ts("2099-02-01"))


def test_the_client_side_check_warns_about_the_future() -> None:
    from apivideo_insights._params import parse_period as client_period

    today = dt.date(2024, 6, 15)
    with pytest.warns(UserWarning, match="starts after today"):
        client_period("2024-07", today=today)
    with pytest.warns(UserWarning, match="nothing after today"):
        client_period("2024-06-01/2024-07-01", today=today)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client_period("2024-06", today=today)  # this month: the natural request
        client_period("2024-06-01/2024-06-15", today=today)  # up to today, included
        client_period(None, today=today)
