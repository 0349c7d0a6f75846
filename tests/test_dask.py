"""Dask input: segments, retention, heatmap and engagement give what pandas gives.

Events of a small simulated world are written to Parquet, one file per session-hash bucket
(so no session spans two partitions), read back with ``dask.dataframe.read_parquet`` and run
on a ``distributed.LocalCluster``; every result is compared with the pandas function on the
same events.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

import apivideo_insights as avi  # noqa: E402
from apivideo_insights import _dask  # noqa: E402
from apivideo_insights.sandbox import simulate  # noqa: E402

pytestmark = [
    # In-process workers name themselves after the host's IP, which distributed looks up
    # with a UDP "connection" to 8.8.8.8 that the loopback guard refuses (nothing is sent).
    pytest.mark.filterwarnings("ignore:Couldn't detect a suitable IP address"),
    # dask's own Parquet reader still passes inplace= to pandas.
    pytest.mark.filterwarnings("ignore:The inplace keyword"),
]

BUCKETS = 4
NOW = "2026-11-01T00:00:00Z"


def _bucket(session_id: pd.Series, buckets: int = BUCKETS) -> np.ndarray:
    ids = np.asarray(session_id.astype(object).astype(str), dtype=object)
    return (pd.util.hash_array(ids) % buckets).astype(np.int64)


def _write_buckets(events: pd.DataFrame, path: Path, buckets: int = BUCKETS) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    bucket = _bucket(events["session_id"], buckets)
    for b in range(buckets):
        part = events[bucket == b].reset_index(drop=True)
        part.to_parquet(path / f"bucket-{b:03d}.parquet", index=False)
    return path


def _norm_segments(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order, ids as plain strings (categories differ between partitions)."""
    out = frame.assign(session_id=frame["session_id"].astype(object).astype(str))
    for name, dtype in out.dtypes.items():
        if isinstance(dtype, pd.StringDtype):
            out[name] = out[name].astype(object).where(out[name].notna(), None).astype("str")
    keys = ["session_id", "playback", "started_at", "start"]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def world():
    return simulate(7, now=NOW, sessions=300, videos=3, live_streams=0)


@pytest.fixture(scope="module")
def events(world):
    return world.events.drop(columns=["quirk", "live_stream_id"], errors="ignore")


@pytest.fixture(scope="module")
def durations(world):
    return world.durations


@pytest.fixture(scope="module")
def parquet_events(events, tmp_path_factory):
    path = _write_buckets(events, tmp_path_factory.mktemp("events"))
    return dd.read_parquet(path, split_row_groups=False)


@pytest.fixture(scope="module")
def client():
    # In-process workers: reliable on a shared 2-core machine and quick to start; the
    # process-based cluster is exercised by the slow test below.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def pandas_segments(events, durations, world):
    return avi.segments(events, duration=durations, sessions=world.sessions)


@pytest.fixture(scope="module")
def dask_segments(parquet_events, durations, world, client):
    return avi.segments(parquet_events, duration=durations, sessions=world.sessions)


# --- dispatch -----------------------------------------------------------------------------


def test_pandas_input_never_imports_dask():
    code = (
        "import sys, pandas as pd, apivideo_insights as avi\n"
        "seg = pd.DataFrame({'session_id': ['a'], 'start': [0.0], 'end': [2.0]})\n"
        "avi.retention(seg, duration=2.0)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_wrappers_keep_the_pandas_functions_identity():
    # The package namespace shadows the module names with the public functions.
    segments = importlib.import_module("apivideo_insights.segments")
    retention = importlib.import_module("apivideo_insights.retention")
    engagement = importlib.import_module("apivideo_insights.engagement")

    # Every function is dask-aware where it is defined: one function, one name.
    assert avi.segments is segments.segments
    assert avi.retention is retention.retention
    assert avi.heatmap is retention.heatmap
    assert avi.engagement is engagement.engagement
    assert avi.collect is _dask.collect
    for func in (avi.segments, avi.retention, avi.heatmap, avi.engagement):
        assert "dask DataFrame" in (func.__doc__ or ""), func.__name__
    assert avi.segments.__name__ == "segments"


def test_is_dask_collection():
    assert not _dask.is_dask_collection(pd.DataFrame())
    assert not _dask.is_dask_collection(None)
    assert _dask.is_dask_collection(dd.from_pandas(pd.DataFrame({"a": [1]}), npartitions=1))


def test_a_dask_series_is_refused_with_advice():
    series = dd.from_pandas(pd.Series([1.0, 2.0]), npartitions=1)
    with pytest.raises(TypeError, match="dask DataFrame"):
        avi.segments(series)


def test_first_argument_by_keyword_is_dispatched(events, durations):
    ddf = dd.from_pandas(events, npartitions=1)
    out = avi.segments(events=ddf, duration=durations)
    assert _dask.is_dask_collection(out)


def test_merge_attrs_adds_counts_and_keeps_parameters():
    merged = _dask.merge_attrs(
        [
            {"dropped": {"short": 1, "duplicate": 0}, "events": 10, "bin_size": 1.0},
            {"dropped": {"short": 2, "duplicate": 3}, "events": 5, "bin_size": 1.0},
            {"playbacks": pd.Series([1], index=["z"])},
        ]
    )
    assert merged["dropped"] == {"short": 3, "duplicate": 3}
    assert merged["events"] == 15
    assert merged["bin_size"] == 1.0
    assert merged["playbacks"].to_dict() == {"z": 1}


# --- results equal pandas on a LocalCluster --------------------------------------------------


def test_segments_equal_pandas(dask_segments, pandas_segments):
    assert _dask.is_dask_collection(dask_segments)
    assert dask_segments.npartitions == BUCKETS
    got = _dask.collect(dask_segments)
    assert len(got) == len(pandas_segments) > 0
    pd.testing.assert_frame_equal(_norm_segments(got), _norm_segments(pandas_segments))
    assert list(got.columns) == list(pandas_segments.columns)
    assert got.dtypes.astype(str).tolist() == pandas_segments.dtypes.astype(str).tolist()


def test_durations_inferred_over_all_partitions(events, world, tmp_path, client):
    # Without durations a video's length is its furthest ``end`` event; keep those in one
    # partition only, so that the others cannot infer it from their own rows.
    bucket = _bucket(events["session_id"])
    sparse = events[(events["type"] != "end") | (bucket == 0)].reset_index(drop=True)
    ddf = dd.read_parquet(_write_buckets(sparse, tmp_path / "ends"), split_row_groups=False)
    got = _dask.collect(avi.segments(ddf, sessions=world.sessions))
    want = avi.segments(sparse, sessions=world.sessions)
    pd.testing.assert_frame_equal(_norm_segments(got), _norm_segments(want))
    assert got.attrs["unclamped_sessions"] == want.attrs["unclamped_sessions"]


def test_plain_compute_gives_the_same_rows(dask_segments, pandas_segments):
    got = dask_segments.compute()
    pd.testing.assert_frame_equal(_norm_segments(got), _norm_segments(pandas_segments))


def test_dropped_counts_are_summed_across_partitions(dask_segments, pandas_segments):
    got = _dask.collect(dask_segments).attrs
    want = pandas_segments.attrs
    for key in ("events", "events_used", "dropped_events", "dropped", "sessions", "estimated"):
        if key in want:
            assert got[key] == want[key], key
    assert sum(want["dropped"].values()) > 0  # the world's quirks do drop something
    assert got["events"] == got["events_used"] + got["dropped_events"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bin_size": 1.0},
        {"bin_size": 5.0, "by": "video_id"},
        {"bins": 20},
        {"bins": 10, "by": "video_id"},
    ],
    ids=["1s", "5s-by-video", "20-bins-pooled", "10-bins-by-video"],
)
def test_retention_equals_pandas(dask_segments, pandas_segments, durations, kwargs):
    got = avi.retention(dask_segments, duration=durations, **kwargs)
    want = avi.retention(pandas_segments, duration=durations, **kwargs)
    assert isinstance(got, pd.DataFrame)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs
    assert got["viewers"].sum() > 0


def test_retention_by_a_sessions_column(dask_segments, pandas_segments, durations, world):
    kwargs = {"duration": durations, "bin_size": 10.0, "by": "device_type"}
    got = avi.retention(dask_segments, sessions=world.sessions, **kwargs)
    want = avi.retention(pandas_segments, sessions=world.sessions, **kwargs)
    pd.testing.assert_frame_equal(got, want)


def test_heatmap_equals_pandas(dask_segments, pandas_segments, durations):
    vid = durations.index[0]
    one = dask_segments[dask_segments["video_id"] == vid]
    want_in = pandas_segments[pandas_segments["video_id"] == vid]
    got = avi.heatmap(one, duration=float(durations[vid]), bin_size=5.0)
    want = avi.heatmap(want_in, duration=float(durations[vid]), bin_size=5.0)
    assert got.shape[0] > 0
    pd.testing.assert_frame_equal(got, want.sort_index())
    assert got.attrs == want.attrs


def test_heatmap_of_selected_sessions_keeps_their_order(dask_segments, pandas_segments, durations):
    vid = durations.index[0]
    want_in = pandas_segments[pandas_segments["video_id"] == vid]
    chosen = [*list(want_in["session_id"].astype(str).unique()[:3][::-1]), "not-a-session"]
    got = avi.heatmap(
        dask_segments[dask_segments["video_id"] == vid],
        duration=float(durations[vid]),
        sessions=chosen,
    )
    want = avi.heatmap(want_in, duration=float(durations[vid]), sessions=chosen)
    pd.testing.assert_frame_equal(got, want)
    assert got.loc["not-a-session"].sum() == 0
    by_ids = avi.heatmap(
        dask_segments[dask_segments["video_id"] == vid],
        duration=float(durations[vid]),
        session_ids=chosen,
    )
    pd.testing.assert_frame_equal(by_ids, want)


def test_bad_lengths_fail_before_any_partition_is_computed(dask_segments):
    with pytest.raises(ValueError, match="max_bins"):
        avi.retention(dask_segments, duration=1e9)
    with pytest.raises(ValueError, match="duration is required"):
        avi.retention(dask_segments, duration=None)


def test_engagement_equals_pandas(
    dask_segments, pandas_segments, parquet_events, events, durations, world
):
    got = avi.engagement(
        dask_segments, duration=durations, events=parquet_events, sessions=world.sessions
    )
    want = avi.engagement(
        pandas_segments, duration=durations, events=events, sessions=world.sessions
    )
    pd.testing.assert_frame_equal(got, want)
    assert got["impressions"].notna().all()


# --- partitioning ------------------------------------------------------------------------------


def test_a_session_split_across_partitions_is_refused(events, durations, client):
    # Row-wise partitions cut sessions in two.
    split = dd.from_pandas(events, npartitions=3, sort=False)
    segs = avi.segments(split, duration=durations)
    with pytest.raises(ValueError, match="span more than one partition"):
        avi.retention(segs, duration=durations)
    with pytest.raises(ValueError, match="span more than one partition"):
        _dask.collect(segs)


def test_a_cut_between_large_partitions_is_caught(client):
    # Over _CHECK_ALL_UP_TO sessions per partition only a sample is compared, but the
    # sessions at the edges of a row-wise cut are always compared.
    n = 3 * _dask._CHECK_ALL_UP_TO
    sid = np.repeat([f"s{i:06d}" for i in range(n)], 3)
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    events = pd.DataFrame(
        {
            "session_id": pd.Categorical(sid),
            "type": pd.Categorical(np.tile(["ready", "play", "pause"], n)),
            "at": np.tile([0.0, 0.0, 10.0], n).astype("float32"),
            "seek_from": np.float32(np.nan),
            "seek_to": np.float32(np.nan),
            "emitted_at": t0 + pd.to_timedelta(np.tile([0, 1, 11], n), unit="s"),
        }
    )
    # 2 partitions of 1.5 * _CHECK_ALL_UP_TO sessions, cut inside session number 1.5 * 4096
    # (row counts are not multiples of 3).
    cut = dd.from_pandas(events.iloc[1:], npartitions=2, sort=False)
    segs = avi.segments(cut, duration=60.0)
    with pytest.raises(ValueError, match="span more than one partition"):
        avi.retention(segs, duration=60.0)
    whole = dd.from_pandas(events, npartitions=1)
    assert avi.retention(avi.segments(whole, duration=60.0), duration=60.0)["viewers"].max() == n


def test_events_indexed_by_session_with_known_divisions(events, durations, pandas_segments):
    indexed = dd.from_pandas(
        events.assign(session_id=events["session_id"].astype(str)).set_index("session_id"),
        npartitions=3,
    )
    assert indexed.known_divisions
    got = _dask.collect(avi.segments(indexed, duration=durations))
    want = avi.segments(events, duration=durations)
    pd.testing.assert_frame_equal(_norm_segments(got), _norm_segments(want))


def test_no_events_at_all(events, durations, client):
    empty = dd.from_pandas(events.iloc[:0], npartitions=1)
    segs = _dask.collect(avi.segments(empty, duration=durations))
    assert len(segs) == 0
    curve = avi.retention(avi.segments(empty, duration=durations), duration=60.0)
    pd.testing.assert_frame_equal(curve, avi.retention(segs, duration=60.0))


@pytest.mark.slow
def test_worker_processes(events, durations, world, tmp_path, pandas_segments):
    """Everything shipped to workers pickles: separate processes, as on a real cluster."""
    path = _write_buckets(events, tmp_path / "events", buckets=3)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # any free port: 8787 may be taken on a shared machine
        ) as cluster,
        distributed.Client(cluster),
    ):
        ddf = dd.read_parquet(path, split_row_groups=False)
        segs = avi.segments(ddf, duration=durations, sessions=world.sessions)
        got = avi.retention(segs, duration=durations, bin_size=5.0)
        rows = _dask.collect(segs)
    want = avi.retention(pandas_segments, duration=durations, bin_size=5.0)
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(_norm_segments(rows), _norm_segments(pandas_segments))
