"""Dask dispatch: the same public functions accept a dask DataFrame partitioned by session.

:func:`dask_aware` decorates :func:`~apivideo_insights.retention`,
:func:`~apivideo_insights.heatmap` and :func:`~apivideo_insights.engagement` where they are
defined (so ``avi.retention`` is ``apivideo_insights.retention.retention``) and wraps
:func:`~apivideo_insights.segments` in the package namespace. Given pandas, the function
runs unchanged; given a dask DataFrame, the implementation of the same name below runs,
which reuses the pandas code partition by partition, never a copy of its arithmetic. Dask
stays an optional dependency: it is imported only once a dask collection has been passed in.

The contract for dask input is that **no session spans two partitions** (reconstruction is
per session, and retention counts each session once). Sessions are split cleanly when:

* the frame is indexed by ``session_id`` with known divisions (``events.set_index(
  "session_id")``);
* it was shuffled on the session (``events.shuffle(on="session_id")``);
* it was read from Parquet files that each hold whole sessions, one partition per file
  (for instance one file per session-hash bucket, or per batch of sessions), read with
  ``split_row_groups=False`` or written with row groups that do not cut a session.

What each function returns on dask input:

``segments(events)``
    A lazy dask DataFrame of segments, one output partition per input partition, with the
    columns of the pandas result (``session_id`` categorical with per-partition
    categories; text may come back as ``string[pyarrow]`` under dask's
    ``dataframe.convert-string``). ``.compute()`` gives the rows; ``avi.collect`` gives the
    rows *and* what was dropped, summed across partitions, in ``.attrs`` (a plain
    ``.compute()`` cannot merge per-partition ``attrs``), with the contract's dtypes, and
    checks that no session spans two partitions. ``duration`` and ``sessions`` are pandas
    objects sent once to each worker. Without ``duration``, each video's length is
    inferred from its ``end`` events over all partitions (an extra pass over three
    columns), as pandas does; a ``duration`` that lacks some videos leaves those to be
    inferred within each partition, which can differ from pandas: give every video's
    length, or none.
``retention(segments, duration=...)``
    A pandas frame equal to ``retention(avi.collect(segments), ...)`` (every option:
    ``by``, ``bins``, ``sessions``), made of retention's own three steps: each partition's
    counts (:func:`~apivideo_insights.retention.retention_counts`: per-bin ``viewers``
    and ``views`` and sessions per cohort), added up pairwise on the workers
    (:func:`~apivideo_insights.retention.add_counts`), then the frame
    (:func:`~apivideo_insights.retention.retention_frame`). Only those counts travel to
    the client, never the segments.
``heatmap(segments, duration=...)``
    A pandas frame: the per-partition heatmaps concatenated, rows sorted by session (or in
    the order of ``sessions=``). It is dense, one int32 cell per session and bin (100,000
    sessions of a 10-minute video at 1 s bins: 240 MB on the client), so ``max_cells``
    applies to the whole result; pass a larger ``bin_size``, ``bins=100`` or a subset
    of sessions for big data.
``engagement(segments, ...)``
    A pandas frame: the segments are collected (``avi.collect``), then the pandas function
    runs on them. Segments are several times fewer rows than events, so this fits where the
    events would not. A dask ``events=`` frame is reduced on the workers to the rows that
    count impressions (each ``ready``, and each session's first event for its
    ``video_id``) before it is computed; other dask arguments are computed as they are.

Examples
--------
>>> import apivideo_insights as avi
>>> import dask.dataframe as dd  # doctest: +SKIP
>>> events = dd.read_parquet("events/", split_row_groups=False)  # doctest: +SKIP
>>> segs = avi.segments(events)  # doctest: +SKIP
>>> curve = avi.retention(segs, duration=600.0)  # doctest: +SKIP
>>> table = avi.collect(segs)  # doctest: +SKIP
>>> table.attrs["dropped"]  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _durations
from .schema import EVENT_TYPE_DTYPE, SEGMENT_COLUMNS, empty_frame

F = TypeVar("F", bound=Callable[..., object])
_STR = pd.Series([], dtype="str").dtype

__all__ = ["PARAMETER_ATTRS", "collect", "dask_aware", "is_dask_collection"]

_DASK_NOTE = (
    "The first argument may also be a dask DataFrame partitioned by session (no session\n"
    "in two partitions); see :mod:`apivideo_insights._dask` for what is returned then."
)


def _with_dask_note(doc: str) -> str:
    """Add :data:`_DASK_NOTE` to a numpydoc docstring's Notes section (made if missing)."""
    doc = inspect.cleandoc(doc)
    if "\nNotes\n-----\n" in doc:
        return doc.replace("\nNotes\n-----\n", f"\nNotes\n-----\n{_DASK_NOTE}\n\n", 1)
    section = f"Notes\n-----\n{_DASK_NOTE}\n\n"
    if "\nExamples\n--------\n" in doc:
        return doc.replace("\nExamples\n--------\n", f"\n{section}Examples\n--------\n", 1)
    return f"{doc}\n\n{section}".rstrip() + "\n"


def is_dask_collection(obj: object) -> bool:
    """Whether ``obj`` is a dask collection, checked without importing dask.

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask_collection(pd.DataFrame())
    False
    """
    module = type(obj).__module__ or ""
    root = module.split(".", 1)[0]
    return root in {"dask", "dask_expr", "dask_cudf"} and hasattr(obj, "__dask_graph__")


def dask_aware(func: F) -> F:
    """Return ``func`` made to accept a dask DataFrame as its first argument.

    The wrapper looks up the dask implementation by ``func.__name__`` only when the first
    argument (positional, or by its parameter name) is a dask collection; otherwise it
    calls ``func`` unchanged, so pandas users never import dask.

    Examples
    --------
    >>> def double(frame):
    ...     return frame * 2
    >>> dask_aware(double)(pd.Series([1, 2])).tolist()
    [2, 4]
    """
    name = func.__name__
    try:
        params = list(inspect.signature(func).parameters.values())
        first = params[0].name if params and params[0].kind != params[0].VAR_POSITIONAL else None
    except (TypeError, ValueError):
        first = None

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        data = args[0] if args else kwargs.get(first) if first else None
        if data is None or not is_dask_collection(data):
            return func(*args, **kwargs)
        impl = _IMPLEMENTATIONS.get(name)
        if impl is None:
            msg = (
                f"{name}() does not accept a dask collection; call .compute() on it first "
                "to pass a pandas DataFrame."
            )
            raise TypeError(msg)
        if not args:
            kwargs = dict(kwargs)
            data = kwargs.pop(cast(str, first))
        return impl(data, *args[1:], **kwargs)

    if func.__doc__ and name in _IMPLEMENTATIONS:
        wrapper.__doc__ = _with_dask_note(func.__doc__)
    return cast(F, wrapper)


# --- helpers shared by the implementations ---------------------------------------------------


def _require_frame(data: Any, name: str) -> None:
    import dask.dataframe as dd

    if not isinstance(data, dd.DataFrame):
        msg = (
            f"{name}() needs a dask DataFrame, not a {type(data).__name__}; convert with "
            "dask.dataframe.from_pandas or read with dask.dataframe.read_parquet."
        )
        raise TypeError(msg)


def _session_column(part: pd.DataFrame) -> pd.DataFrame:
    """Bring ``session_id`` back as a column when the frame was indexed by it."""
    if "session_id" not in part.columns and part.index.name == "session_id":
        part = part.reset_index()
    return part


def _default_strings(part: pd.DataFrame) -> pd.DataFrame:
    """Dask's ``dataframe.convert-string`` turns text into ``string[pyarrow]`` (missing =
    ``pd.NA``); the contract's text dtype is pandas' default ``str`` (missing = NaN)."""
    text = [
        c for c, dtype in part.dtypes.items() if isinstance(dtype, pd.StringDtype) and dtype != _STR
    ]
    return part.astype(dict.fromkeys(text, _STR)) if text else part


def _tidy_segments(part: pd.DataFrame) -> pd.DataFrame:
    """One partition of segments as the pandas functions expect them."""
    part = _default_strings(_session_column(part))
    sid = part.get("session_id")
    if sid is not None and isinstance(sid.dtype, pd.CategoricalDtype):
        # Parquet and concatenation carry every session of a file or of the whole frame as
        # categories; a per-session table (the heatmap) would get a row for each of them.
        part = part.assign(session_id=sid.cat.remove_unused_categories())
    return part


def _tidy_events(part: pd.DataFrame) -> pd.DataFrame:
    part = _tidy_segments(part)
    kind = part.get("type")
    if kind is not None and kind.dtype != EVENT_TYPE_DTYPE:
        # Parquet files keep only the types present in each file, in file order; the
        # reconstruction ranks events by the canonical category order.
        if isinstance(kind.dtype, pd.CategoricalDtype):
            kind = kind.cat.set_categories(list(EVENT_TYPE_DTYPE.categories))
        if kind.dtype != EVENT_TYPE_DTYPE:
            kind = kind.astype(object).astype(EVENT_TYPE_DTYPE)
        part = part.assign(type=kind)
    return part


def _shared(value: Any) -> Any:
    """Ship a pandas argument to the workers once (one graph key), not inside every task."""
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index | np.ndarray):
        from dask import delayed

        return delayed(value, pure=True)
    return value


def _ship(kwargs: dict[str, Any]) -> Any:
    """Keyword arguments for every partition's task, shipped once when they hold data."""
    shipped = {k: _shared(v) for k, v in kwargs.items()}
    if all(shipped[k] is kwargs[k] for k in kwargs):
        return kwargs
    from dask import delayed

    return delayed(shipped)


def _computed(value: Any) -> Any:
    """Small dask arguments (``sessions``, ``duration``) are computed to pandas."""
    return value.compute() if is_dask_collection(value) else value


#: Partitions with more sessions than this send a sample of their sessions to the check.
_CHECK_ALL_UP_TO = 4096
#: The sample: sessions whose hash is 0 modulo this (the same sessions in every partition).
_CHECK_SAMPLE = 16
#: Where :func:`_segments_partition` leaves the first and last session of its events.
_EDGES = "dask_partition_edges"


def _hash_ids(values: object) -> npt.NDArray[np.uint64]:
    ids = np.asarray(values, dtype=object).astype(str).astype(object)
    return np.asarray(pd.util.hash_array(ids), dtype=np.uint64)


def _session_hashes(part: pd.DataFrame) -> np.ndarray:
    """Hashes of sessions of one partition, for the check that no session is in two.

    Checking every session would cost the client 8 bytes per session (and a sort), which
    grows with the data. So a partition sends all its sessions only when it has few; else
    the sessions whose hash falls in one class of ``_CHECK_SAMPLE`` (the same class in every
    partition, so a split session of that class is always caught), plus the first and last
    session of the events it was built from: a frame cut by rows (``from_pandas``,
    ``repartition``, row groups) splits exactly those, so that mistake is always caught.
    """
    part = _session_column(part)
    edges = part.attrs.get(_EDGES, ())
    if "session_id" not in part.columns or not len(part):
        return _hash_ids(list(edges))
    sid = part["session_id"]
    values = (
        sid.cat.remove_unused_categories().cat.categories
        if isinstance(sid.dtype, pd.CategoricalDtype)
        else pd.unique(sid.dropna())
    )
    hashes = _hash_ids(values)
    if len(hashes) > _CHECK_ALL_UP_TO:
        hashes = hashes[hashes % _CHECK_SAMPLE == 0]
    return np.unique(np.concatenate([hashes, _hash_ids(list(edges))]))


def _split_message(split: int, where: str = "") -> str:
    return (
        f"{split} session(s) span more than one partition{where}; sessions must not be "
        "split. Repartition by session first, e.g. events.shuffle(on='session_id') or "
        "events.set_index('session_id'), or read Parquet with split_row_groups=False from "
        "files that each hold whole sessions."
    )


def _check_disjoint(hashes: Sequence[np.ndarray]) -> None:
    if len(hashes) < 2:
        return
    allh = np.concatenate(hashes)
    if len(allh) != len(np.unique(allh)):
        counts = [len(h) for h in hashes]
        owner = np.repeat(np.arange(len(hashes)), counts)
        _, first, seen = np.unique(allh, return_index=True, return_counts=True)
        split = int((seen > 1).sum())
        where = sorted({int(owner[i]) for i in first[seen > 1]})[:5]
        raise ValueError(_split_message(split, f" (first in partitions {where})"))


def merge_attrs(attrs: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Merge per-partition ``attrs``: counts add up, equal values are kept once.

    Numbers are summed, dicts merged key by key, Series added (missing = 0), frames
    concatenated; any other value is kept when every partition agrees on it.

    Examples
    --------
    >>> merge_attrs([{"dropped": {"no_ready": 1}}, {"dropped": {"no_ready": 2, "late": 1}}])
    {'dropped': {'no_ready': 3, 'late': 1}}
    """
    out: dict[str, Any] = {}
    keys: list[str] = []
    for a in attrs:
        keys.extend(k for k in a if k not in keys)
    for key in keys:
        if key == _EDGES:
            continue
        values = [a[key] for a in attrs if key in a]
        merged = _same(values) if key in PARAMETER_ATTRS else _merge_values(values)
        if merged is not _DISAGREE:
            out[key] = merged
    return out


_DISAGREE = object()
#: attrs that echo an argument (the same in every partition), not counts to add up.
PARAMETER_ATTRS = frozenset(
    {
        "bin_size",
        "bins",
        "by",
        "duration",
        "freq",
        "max_cells",
        "options",
        "policy",
        "position_shift",
    }
)


def _same(values: list[Any]) -> Any:
    try:
        if all(bool(v == values[0]) for v in values[1:]):
            return values[0]
    except (TypeError, ValueError):
        pass
    return _DISAGREE


def _merge_values(values: list[Any]) -> Any:
    first = values[0]
    if all(isinstance(v, Mapping) for v in values):
        return merge_attrs(values)
    if all(isinstance(v, numbers.Number) and not isinstance(v, bool) for v in values):
        total = sum(values)
        return type(first)(total) if isinstance(first, int | np.integer) else total
    if all(isinstance(v, pd.Series) for v in values):
        total = values[0]
        for v in values[1:]:
            total = total.add(v, fill_value=0)
        if all(pd.api.types.is_integer_dtype(v.dtype) for v in values):
            total = total.astype(first.dtype)
        return total
    if all(isinstance(v, pd.DataFrame) for v in values):
        return pd.concat(values)
    return _same(values)


def _union_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Sorted categories for ``session_id`` after a concat of per-partition categories."""
    sid = frame.get("session_id")
    if sid is not None and isinstance(sid.dtype, pd.CategoricalDtype):
        cats = sid.cat.categories
        if not cats.is_monotonic_increasing:
            frame["session_id"] = sid.cat.reorder_categories(cats.sort_values())
    return frame


# --- segments ---------------------------------------------------------------------------------


def _segments_partition(
    part: pd.DataFrame, func: Callable[..., Any], kwargs: dict[str, Any]
) -> pd.DataFrame:
    events = _tidy_events(part)
    out = cast(pd.DataFrame, func(events, **kwargs))
    if len(events) and "session_id" in events.columns:
        sid = events["session_id"]
        # For the partitioning check (see _session_hashes); collect() removes it.
        out.attrs[_EDGES] = (str(sid.iloc[0]), str(sid.iloc[-1]))
    return out


def _segments_meta(events_meta: pd.DataFrame, func: Callable[..., Any], kwargs: Any) -> Any:
    from dask.dataframe.utils import clear_known_categories

    try:
        meta = func(_tidy_events(events_meta), **kwargs)
    except NotImplementedError:
        raise
    except Exception:
        # The pandas function should accept no events; if it does not, fall back to the
        # contract's columns (plus ``video_id`` when the events carry it).
        meta = empty_frame(SEGMENT_COLUMNS)
        if "video_id" in events_meta.columns:
            meta["video_id"] = events_meta["video_id"].iloc[:0]
    meta = meta.iloc[:0].copy()
    meta.attrs = {}
    return clear_known_categories(meta, cols=["session_id"]) if "session_id" in meta else meta


def _global_durations(events: Any, duration: Any) -> Any:
    """Durations that a partition cannot infer alone.

    Without ``duration`` the pandas function uses, for each video, the largest ``at`` of an
    ``end`` event of that video, which may lie in another partition; so it is computed here
    over all partitions (one extra pass over ``type``, ``video_id`` and ``at``) and passed to
    every partition. A given ``duration`` is used as it is (see the module docstring).
    """
    if duration is None and {"video_id", "type", "at"} <= set(events.columns):
        return _durations.from_end_events(events)
    return duration


def _segments_dask(events: Any, **kwargs: Any) -> Any:
    _require_frame(events, "segments")
    from .segments import segments as func

    local = {k: _computed(v) for k, v in kwargs.items()}
    local["duration"] = _global_durations(events, local.get("duration"))
    meta = _segments_meta(events._meta, func, local)
    # One dict argument: dask resolves the delayed values inside it on the workers.
    return events.map_partitions(
        _segments_partition,
        func,
        _ship(local),
        meta=meta,
        enforce_metadata=False,
        align_dataframes=False,
    )


def collect(segments: object) -> pd.DataFrame:
    """Compute a dask frame of segments to pandas, keeping the rows dropped.

    Each partition's ``attrs`` (the reasons and counts of rows dropped by the
    reconstruction) are merged, counts summed, into the result's ``attrs``; a plain
    ``.compute()`` loses them. Also checks that no session spans two partitions, and
    sorts the ``session_id`` categories. A pandas frame is returned as it is.

    Parameters
    ----------
    segments : dask.dataframe.DataFrame or pandas.DataFrame
        Usually the result of ``avi.segments(dask_events)``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> seg = pd.DataFrame({"session_id": ["a"], "start": [0.0], "end": [2.0]})
    >>> avi.collect(seg) is seg  # pandas in, the same frame out
    True
    >>> segs = avi.collect(avi.segments(dask_events))  # doctest: +SKIP
    >>> segs.attrs["dropped"]  # doctest: +SKIP
    """
    if not is_dask_collection(segments):
        return cast(pd.DataFrame, segments)
    import dask
    from dask.dataframe.methods import concat

    _require_frame(segments, "collect")
    frame: Any = segments
    parts = [dask.delayed(_with_hashes)(p) for p in frame.to_delayed()]
    results = dask.compute(*parts)
    _check_disjoint([h for _, h in results])
    frames = [f for f, _ in results]
    attrs = merge_attrs([f.attrs for f in frames])
    attrs.pop(_EDGES, None)
    out = concat(frames) if frames else frame._meta
    out = _union_categories(_default_strings(out.reset_index(drop=True)))
    out.attrs = attrs
    return cast(pd.DataFrame, out)


def _with_hashes(part: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    return part, _session_hashes(part)


# --- retention ----------------------------------------------------------------------------------


def _retention_partial(part: pd.DataFrame, kwargs: dict[str, Any]) -> tuple[Any, np.ndarray]:
    """One partition's retention counts (they add up across partitions) and its sessions."""
    from .retention import retention_counts

    part = _tidy_segments(part)
    return retention_counts(part, **kwargs), _session_hashes(part)


def _combine_retention(a: tuple[Any, np.ndarray], b: tuple[Any, np.ndarray]) -> tuple[Any, Any]:
    """Two partial results of disjoint sessions added up (a step of the tree reduction)."""
    from .retention import add_counts

    split = len(np.intersect1d(a[1], b[1], assume_unique=True))
    if split:
        raise ValueError(_split_message(split))
    return add_counts(a[0], b[0]), np.union1d(a[1], b[1])


def _tree_reduce(parts: list[Any], combine: Callable[..., Any]) -> Any:
    """Combine delayed values pairwise on the workers: the client gets one small result."""
    from dask import delayed

    while len(parts) > 1:
        pairs = [parts[i : i + 2] for i in range(0, len(parts), 2)]
        parts = [delayed(combine)(*p) if len(p) == 2 else p[0] for p in pairs]
    return parts[0]


def _retention_dask(segments: Any, **kwargs: Any) -> pd.DataFrame:
    """The pandas function's own steps: counts per partition, added up, then the frame."""
    import dask

    from .retention import retention, retention_frame

    _require_frame(segments, "retention")
    local = {k: _computed(v) for k, v in kwargs.items()}
    # Validate the arguments (and fail early) on the empty frame before any computation.
    template = retention(_tidy_segments(segments._meta), **local)
    shipped = _ship(local)
    parts = [dask.delayed(_retention_partial)(p, shipped) for p in segments.to_delayed()]
    if not parts:
        return cast(pd.DataFrame, template)
    ((total, _),) = dask.compute(_tree_reduce(parts, _combine_retention))
    options = {k: local[k] for k in ("by", "bin_size", "bins") if k in local}
    return retention_frame(total, **options)


# --- heatmap ------------------------------------------------------------------------------------


def _heatmap_partial(
    part: pd.DataFrame, func: Callable[..., Any], kwargs: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray]:
    part = _tidy_segments(part)
    chosen = kwargs.get("session_ids")
    if chosen is not None:
        # Each partition shows the selected sessions it holds; the rest are added (as rows
        # of zeros) once, after the concatenation.
        here = set(part["session_id"].astype(object).astype(str))
        kwargs = {**kwargs, "session_ids": [s for s in chosen if s in here]}
    return func(part, **kwargs), _session_hashes(part)


def _heatmap_dask(segments: Any, **kwargs: Any) -> pd.DataFrame:
    import dask

    from .retention import heatmap, selected_sessions

    _require_frame(segments, "heatmap")
    local = {k: _computed(v) for k, v in kwargs.items()}
    template = heatmap(_tidy_segments(segments._meta), **local)  # validates the arguments
    chosen = selected_sessions(local.pop("session_ids", None), local.pop("sessions", None))
    if chosen is not None:
        local["session_ids"] = chosen.tolist()
    parts = [
        dask.delayed(_heatmap_partial)(p, heatmap, _ship(local)) for p in segments.to_delayed()
    ]
    results = dask.compute(*parts)
    _check_disjoint([h for _, h in results])
    frames = [f for f, _ in results]
    attrs = merge_attrs([f.attrs for f in frames])
    filled = [f for f in frames if f.shape[0] and f.shape[1]]
    ncols = max((f.shape[1] for f in filled), default=template.shape[1])
    cells = sum(f.shape[0] for f in filled) * ncols
    max_cells = local.get("max_cells", 100_000_000)
    if cells > max_cells:
        msg = (
            f"heatmap of {cells:,} cells is over max_cells={max_cells:,}; pass "
            "session_ids=[...] for a subset, a larger bin_size or bins=100, or raise max_cells."
        )
        raise ValueError(msg)
    if filled:
        out = pd.concat(filled)
    else:
        out = (frames[0] if frames else template).iloc[:0]
    out = out.sort_index() if chosen is None else out.reindex(chosen, fill_value=0)
    out = out.astype(template.dtypes.iloc[0] if template.shape[1] else "int32")
    out.attrs = attrs
    return out


# --- engagement ---------------------------------------------------------------------------------


def _impression_rows(part: pd.DataFrame) -> pd.DataFrame:
    """The rows of events that :func:`engagement` reads: every ``ready`` (an impression) and
    the first event of each session (its ``video_id``), in their original order."""
    part = _default_strings(_session_column(part))
    if not len(part):
        return part
    sid = part["session_id"]
    first = ~sid.duplicated()
    ready = part["type"].astype(object).to_numpy() == "ready"
    return part[first.to_numpy() | ready]


def _engagement_dask(segments: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
    _require_frame(segments, "engagement")
    from .engagement import engagement as func

    events: Any = kwargs.get("events")
    if is_dask_collection(events):
        _require_frame(events, "engagement(events=...)")
        kwargs = {**kwargs, "events": events.map_partitions(_impression_rows, meta=events._meta)}
    local = {k: _computed(v) for k, v in kwargs.items()}
    if isinstance(local.get("events"), pd.DataFrame):
        local["events"] = _tidy_events(local["events"].reset_index(drop=True))
    return cast(pd.DataFrame, func(collect(segments), *args, **local))


_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "segments": _segments_dask,
    "retention": _retention_dask,
    "heatmap": _heatmap_dask,
    "engagement": _engagement_dask,
}
