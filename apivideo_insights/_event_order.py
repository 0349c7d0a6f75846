"""Cleaning and ordering player events: rule 1 (validate and clean) and rule 2 (order) of
:func:`apivideo_insights.segments.segments`, over whole columns.

Also the event codes every stage shares: type codes follow ``schema.EVENT_TYPES`` and
kinds their within-a-second order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import schema as _schema

_NS = 1_000_000_000
_NAT = np.iinfo(np.int64).min

# Event type codes follow _schema.EVENT_TYPES: ready, play, pause, resume, seek.forward,
# seek.backward, end.
_READY, _PLAY, _PAUSE, _RESUME, _SEEK_FWD, _SEEK_BWD, _END = range(7)
# Internal kinds, numbered in their within-a-second order: closing, seeking, ready, opening.
_CLOSE, _SEEK, _READYK, _OPEN = 0, 1, 2, 3
_KIND = np.array([_READYK, _OPEN, _CLOSE, _OPEN, _SEEK, _SEEK, _CLOSE], dtype=np.int8)


class _Ordered:
    """A block's usable events, cleaned and in reconstruction order, as columns."""

    order: np.ndarray  # row of each in the block's events
    s: np.ndarray  # session code (int32)
    ty: np.ndarray  # type code
    t: np.ndarray  # emitted_at, ns
    at: np.ndarray
    fr: np.ndarray  # seek_from, NaN where unusable
    to: np.ndarray
    seek_from_missing: int


def _clean_and_order(ev: pd.DataFrame, dropped: dict[str, int], *, shift: float = 0.0) -> _Ordered:
    """Rules 1 and 2 for ``ev`` (validated events): drop unusable rows, order the rest and
    drop consecutive duplicates, counting each dropped row in ``dropped`` once.

    ``shift`` is added to every position above 0 (:func:`_position_shift`; 0 stays 0: a
    start, or a seek back to it)."""
    ncat = len(ev["session_id"].cat.categories)
    n_in = len(ev)

    codes = ev["session_id"].cat.codes.to_numpy()
    type_codes = _type_codes(ev["type"])
    t = ev["emitted_at"].array.asi8 if n_in else np.empty(0, np.int64)
    at = ev["at"].to_numpy(dtype=np.float32, na_value=np.nan)
    fr = ev["seek_from"].to_numpy(dtype=np.float32, na_value=np.nan)
    to = ev["seek_to"].to_numpy(dtype=np.float32, na_value=np.nan)
    if shift:
        # Whole seconds stand for a span of positions: an end is not then systematically
        # early, nor a start late.
        at, fr, to = (np.where(x > 0, x + np.float32(shift), x) for x in (at, fr, to))

    # 1. Validity: counted in a fixed order so that each row has exactly one reason.
    bad_sess = codes < 0
    bad_type = ~bad_sess & (type_codes < 0)
    bad_time = ~bad_sess & ~bad_type & (t == _NAT)
    ok = ~(bad_sess | bad_type | bad_time)
    kind_all = _KIND[np.maximum(type_codes, 0)]
    is_seek_all = kind_all == _SEEK
    pos = np.where(is_seek_all, to, at)
    needs_pos = kind_all != _READYK
    # A ready may lack ``at`` (it then means 0), but a negative or infinite one is wrong.
    unusable = ~(np.isfinite(pos) & (pos >= 0))
    bad_pos = ok & unusable & (needs_pos | ~np.isnan(pos))
    del unusable
    ok &= ~bad_pos
    bad_from = is_seek_all & ~(np.isfinite(fr) & (fr >= 0))
    dropped["missing_session"] = int(bad_sess.sum())
    dropped["missing_type"] = int(bad_type.sum())
    dropped["missing_time"] = int(bad_time.sum())
    dropped["bad_position"] = int(bad_pos.sum())
    seek_from_missing = int((ok & bad_from).sum())
    fr = np.where(bad_from, np.float32(np.nan), fr)
    del bad_sess, bad_type, bad_time, bad_pos, bad_from, needs_pos, pos, is_seek_all

    # 2. Order: one stable sort of a packed (session, time, kind) key.
    sess_rank = _appearance_rank(codes, ncat)
    if ok.all():
        order = _sort_order(sess_rank, codes, t, kind_all)
    else:
        rows = np.flatnonzero(ok)
        order = rows[_sort_order(sess_rank, codes[rows], t[rows], kind_all[rows])]
        del rows
    del ok, kind_all
    s = codes[order].astype(np.int32)
    ty = type_codes[order]
    tt = t[order]
    a = at[order]
    f = fr[order]
    g = to[order]

    # Consecutive exact duplicates (NaN equal to NaN).
    if len(s) > 1:
        dup = np.zeros(len(s), dtype=bool)
        dup[1:] = (
            (s[1:] == s[:-1])
            & (ty[1:] == ty[:-1])
            & (tt[1:] == tt[:-1])
            & _same(a[1:], a[:-1])
            & _same(f[1:], f[:-1])
            & _same(g[1:], g[:-1])
        )
        ndup = int(dup.sum())
        if ndup:
            keep = ~dup
            order, s, ty, tt, a, f, g = (x[keep] for x in (order, s, ty, tt, a, f, g))
        dropped["duplicate"] = ndup

    out = _Ordered()
    out.order, out.s, out.ty, out.t, out.at, out.fr, out.to = order, s, ty, tt, a, f, g
    out.seek_from_missing = seek_from_missing
    return out


# --------------------------------------------------------------------------------------
# Validation


#: Seconds added to whole-second positions whose rounding is unknown: the legacy API's
#: integers were cut down (floor: the best shift is 0.5) or rounded (best: 0); a quarter
#: second is the shift whose worst case over both is smallest (0.3125 s mean error per
#: position either way, against 0.5 s unshifted when floored).
_UNKNOWN_ROUNDING_SHIFT = 0.25


def _position_shift(ev: pd.DataFrame, positions: str, duration: np.ndarray) -> float:
    """Seconds to add to the positions of ``ev`` (those above 0) for the middle of what
    each stands for.

    ``"floored"``: 0.5; ``"exact"``: 0. ``"auto"`` decides from the data: positions that
    are not all whole numbers are exact (the SDK's floats); whole numbers (the legacy API's)
    are rounded when an ``end`` is past its session's known duration, which a floored
    position never is, and otherwise of unknown rounding (``_UNKNOWN_ROUNDING_SHIFT``).
    """
    if positions != "auto":
        return 0.5 if positions == "floored" else 0.0
    cols = [
        ev[c].to_numpy(dtype=np.float32, na_value=np.nan) for c in ("at", "seek_from", "seek_to")
    ]
    with np.errstate(invalid="ignore"):
        # Whole numbers only (NaN, a missing value, does not count either way).
        if not all(bool(np.all((np.rint(x) == x) | np.isnan(x))) for x in cols):
            return 0.0
        if not any(np.nanmax(x, initial=0.0) > 0 for x in cols):
            return 0.0
        # An end past its session's duration (where a rounding collector puts the end of a
        # video whose length has a fraction of .5 or more).
        codes = ev["session_id"].cat.codes.to_numpy()
        rows = np.flatnonzero((_type_codes(ev["type"]) == _END) & (codes >= 0))
        rows = rows[codes[rows] < len(duration)]
        if np.any(cols[0][rows] > duration[codes[rows]] + 1e-6):
            return 0.0  # the collector rounded
    return _UNKNOWN_ROUNDING_SHIFT


def _validate_events(events: Any) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise TypeError(
            f"events must be a pandas DataFrame (from api.events or avi.read_events), "
            f"not {type(events).__name__}"
        )
    dup = events.columns[events.columns.duplicated()].unique().tolist()
    if dup:
        raise ValueError(
            f"events has duplicate column names {dup[:5]}; keep one column of each name "
            "(e.g. events.loc[:, ~events.columns.duplicated()])"
        )
    missing = [c for c in _schema.EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(
            f"events is missing column {missing[0]!r}; segments needs the columns "
            f"{list(_schema.EVENT_COLUMNS)} (as returned by api.events or avi.read_events)"
        )
    for name in ("at", "seek_from", "seek_to"):
        dtype = events[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            raise ValueError(f"events column {name!r} must hold media positions in seconds")
    if not (
        pd.api.types.is_datetime64_any_dtype(events["emitted_at"].dtype)
        or pd.api.types.is_numeric_dtype(events["emitted_at"].dtype)
        or events["emitted_at"].dtype == object
        or pd.api.types.is_string_dtype(events["emitted_at"].dtype)
    ):
        raise ValueError("events column 'emitted_at' must hold timestamps")
    _check_epoch_seconds(events["emitted_at"])
    if _conforms(events):
        # Already in the events schema: read it in place (a copy costs ~30 bytes an event).
        ev = events
    else:
        try:
            ev = _schema.conform(events, _schema.EVENT_COLUMNS)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"events could not be read as player events: {exc}") from exc
    # conform keeps whatever categories the column has: check them against the contract.
    type_col = ev["type"]
    if isinstance(type_col.dtype, pd.CategoricalDtype):
        unknown = [c for c in type_col.cat.categories if c not in _schema.EVENT_TYPES]
        if unknown:
            raise ValueError(
                f"events column 'type' has unknown event types {unknown[:5]}; expected "
                f"{list(_schema.EVENT_TYPES)}"
            )
    for name in ("type", "at", "seek_from", "seek_to", "emitted_at"):
        if ev is events:
            break  # nothing was converted, so nothing was lost
        before = int(events[name].notna().sum())
        after = int(ev[name].notna().sum())
        if after < before:
            bad = events[name][events[name].notna() & ev[name].isna()]
            what = "event types" if name == "type" else "values"
            expect = (
                f"expected one of {list(_schema.EVENT_TYPES)}"
                if name == "type"
                else "expected timestamps"
                if name == "emitted_at"
                else "expected numbers of seconds"
            )
            raise ValueError(
                f"events column {name!r} has {len(bad)} unreadable {what} "
                f"(e.g. {bad.iloc[0]!r}); {expect}"
            )
    return ev


#: Numbers in ``emitted_at`` are epoch seconds; beyond this they are milliseconds (1e11 s
#: is the year 5138, 1e11 ms is 1973).
_EPOCH_MS_FLOOR = 1e11


def _check_epoch_seconds(col: pd.Series) -> None:
    """Numbers are read as epoch seconds: refuse values that can only be milliseconds."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return
    if pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    elif col.dtype == object and len(col):
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        return
    big = np.abs(values) > _EPOCH_MS_FLOOR
    if big.any():
        raise ValueError(
            f"events column 'emitted_at' holds numbers such as {values[big][0]:.0f}, which "
            "look like epoch milliseconds; numbers are read as epoch seconds. Pass "
            "timestamps instead, e.g. pd.to_datetime(events['emitted_at'], unit='ms', "
            "utc=True)"
        )


def _conforms(events: pd.DataFrame) -> bool:
    dtypes = events.dtypes
    return (
        isinstance(dtypes["session_id"], pd.CategoricalDtype)
        and isinstance(dtypes["type"], pd.CategoricalDtype)
        and all(dtypes[c] in (np.float32, np.float64) for c in ("at", "seek_from", "seek_to"))
        and str(dtypes["emitted_at"]) == _schema.DATETIME
    )


def _type_codes(col: pd.Series) -> np.ndarray:
    """Codes into ``_schema.EVENT_TYPES`` (-1 for missing), whatever the category order."""
    cats = list(col.cat.categories)
    lookup = np.array([_schema.EVENT_TYPES.index(c) for c in cats] + [-1], dtype=np.int8)
    return np.asarray(lookup[col.cat.codes.to_numpy()])


def _same(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray((x == y) | (np.isnan(x) & np.isnan(y)))


# --------------------------------------------------------------------------------------
# Ordering


def _appearance_rank(codes: np.ndarray, ncat: int) -> np.ndarray:
    """Rank of each session code by its first row in ``codes`` (fast when grouped)."""
    rank = np.zeros(ncat, dtype=np.int64)
    if not len(codes) or not ncat:
        return rank
    starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    heads = codes[np.concatenate(([0], starts))]
    heads = heads[heads >= 0]
    if len(heads) and np.bincount(heads, minlength=ncat).max() > 1:
        heads = pd.unique(codes)
        heads = heads[heads >= 0]
    rank[heads] = np.arange(len(heads))
    return rank


def _sort_order(
    sess_rank: np.ndarray, codes: np.ndarray, t: np.ndarray, kind: np.ndarray
) -> np.ndarray:
    """Stable order by (session rank, time, kind), from one packed int64 key when it fits.

    Events usually arrive grouped by session and nearly in time order, so the stable
    (run-aware) sort of the packed key costs little more than reading it.
    """
    n = len(t)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    tmin = int(t.min())
    span = int(t.max()) - tmin
    key = t - tmin
    # API timestamps are whole seconds: pack them in seconds so that the key fits.
    for unit in (_NS, 1_000_000, 1_000):
        if not np.any(key % unit):
            key //= unit
            span //= unit
            break
    nsess = int(sess_rank.max()) + 1 if len(sess_rank) else 1
    if nsess * (span + 1) * 4 < 2**62:
        srank = sess_rank[codes]
        srank *= span + 1
        key += srank
        del srank
        key *= 4
        key += kind
        return np.argsort(key, kind="stable")
    return np.lexsort((kind, key, sess_rank[codes]))


# --------------------------------------------------------------------------------------
