"""avi.read_events and write_events_parquet: every file form gives the api.events columns."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import apivideo_insights as avi
from apivideo_insights.schema import EVENT_COLUMNS, empty_frame
from apivideo_insights.io import write_events_parquet


def _page(session_id: str, items: list[dict], page: int = 1, pages: int = 1) -> dict:
    uri = f"/analytics/sessions/{session_id}/events?currentPage={page}&pageSize=25"
    return {
        "data": items,
        "pagination": {
            "currentPage": page,
            "pagesTotal": pages,
            "itemsTotal": len(items),
            "pageSize": 25,
            "links": [{"rel": "self", "uri": uri}],
        },
    }


ITEMS_A = [
    {"type": "ready", "emittedAt": "2024-05-01T10:00:00.000Z", "at": 0},
    {"type": "play", "emittedAt": "2024-05-01T10:00:01.000Z", "at": 0},
    {"type": "pause", "emittedAt": "2024-05-01T10:00:08.000Z", "at": 7},
    {"type": "seek.forward", "emittedAt": "2024-05-01T10:00:09.000Z", "from": 7, "to": 21},
    {"type": "end", "emittedAt": "2024-05-01T10:00:20.000Z", "at": 30},
]
ITEMS_B = [
    {"type": "play", "emittedAt": "2024-05-02T11:00:00+00:00", "at": 3},
    {"type": "pause", "emittedAt": "2024-05-02T11:00:05+00:00", "at": 8},
]


def _expected() -> pd.DataFrame:
    rows = [("psA", it) for it in ITEMS_A] + [("psB", it) for it in ITEMS_B]
    frame = pd.DataFrame(
        {
            "session_id": [s for s, _ in rows],
            "type": [it["type"] for _, it in rows],
            "at": [it.get("at") for _, it in rows],
            "seek_from": [it.get("from") for _, it in rows],
            "seek_to": [it.get("to") for _, it in rows],
            "emitted_at": [it["emittedAt"] for _, it in rows],
        }
    )
    return avi.read_events(io.StringIO(frame.to_csv(index=False)))


def _assert_events(frame: pd.DataFrame) -> None:
    assert list(frame.columns[: len(EVENT_COLUMNS)]) == list(EVENT_COLUMNS)
    for name, dtype in EVENT_COLUMNS.items():
        assert frame[name].dtype == (dtype if dtype != "category" else "category"), name


class TestJson:
    def test_one_page_takes_session_from_links(self):
        frame = avi.read_events(io.StringIO(json.dumps(_page("psA", ITEMS_A))))
        _assert_events(frame)
        assert frame["session_id"].astype(str).unique().tolist() == ["psA"]
        seek = frame[frame["type"] == "seek.forward"].iloc[0]
        assert (seek["seek_from"], seek["seek_to"]) == (7.0, 21.0)
        assert np.isnan(seek["at"])
        assert str(frame["emitted_at"].dt.tz) == "UTC"

    def test_list_of_pages_equals_csv(self, tmp_path):
        pages = [_page("psA", ITEMS_A[:3], 1, 2), _page("psA", ITEMS_A[3:], 2, 2)]
        pages.append(_page("psB", ITEMS_B))
        path = tmp_path / "pages.json"
        path.write_text(json.dumps(pages))
        frame = avi.read_events(path)
        pd.testing.assert_frame_equal(frame, _expected(), check_categorical=False)

    def test_duplicate_page_is_counted_not_doubled(self):
        pages = [_page("psB", ITEMS_B), _page("psB", ITEMS_B)]
        frame = avi.read_events(io.BytesIO(json.dumps(pages).encode()))
        assert len(frame) == len(ITEMS_B)
        assert frame.attrs["dropped"] == {"duplicate page": len(ITEMS_B)}

    def test_list_of_events_with_session_field(self):
        events = [{**it, "sessionId": "psB"} for it in ITEMS_B]
        frame = avi.read_events(json.dumps(events).encode())
        assert frame["session_id"].astype(str).tolist() == ["psB", "psB"]

    def test_page_with_session_id_field(self):
        page = {"session_id": "psZ", "data": ITEMS_B}
        frame = avi.read_events(io.StringIO(json.dumps(page)))
        assert set(frame["session_id"].astype(str)) == {"psZ"}

    def test_ndjson_lines(self, tmp_path):
        path = tmp_path / "events.ndjson"
        lines = [json.dumps({**it, "session_id": "psA"}) for it in ITEMS_A]
        lines += [json.dumps({**it, "session_id": "psB"}) for it in ITEMS_B]
        path.write_text("\n".join(lines) + "\n")
        frame = avi.read_events(path)
        pd.testing.assert_frame_equal(frame, _expected(), check_categorical=False)

    def test_without_session_is_schema_error(self):
        with pytest.raises(avi.SchemaError, match="session"):
            avi.read_events(io.StringIO(json.dumps(ITEMS_A)))

    def test_without_type_is_schema_error(self):
        items = [{"emittedAt": "2024-05-01T10:00:00Z", "at": 1, "session_id": "ps1"}]
        with pytest.raises(avi.SchemaError, match="type"):
            avi.read_events(io.StringIO(json.dumps(items)))

    def test_bad_rows_are_dropped_and_counted(self):
        items = [
            *ITEMS_A,
            {"type": "rewind", "emittedAt": "2024-05-01T10:00:21Z", "at": 1},
            {"type": "play", "emittedAt": "not a time", "at": 1},
            {"type": "play", "emittedAt": "2024-05-01T10:00:22Z", "at": "eleven"},
            {"type": "play", "emittedAt": "2024-05-01T10:00:23Z", "at": True},
            "not an event",
        ]
        frame = avi.read_events(io.StringIO(json.dumps(_page("psA", items))))
        assert len(frame) == len(ITEMS_A)
        dropped = frame.attrs["dropped"]
        assert dropped["unknown type"] == 2  # "rewind" and the non-object item
        assert dropped["bad emitted_at"] == 1
        assert dropped["non-numeric at"] == 2

    def test_empty_sources_have_the_contract_dtypes(self):
        empty = empty_frame(EVENT_COLUMNS)
        for source in ('{"data": [], "pagination": {}}', "[]"):
            frame = avi.read_events(io.StringIO(source))
            assert frame.dtypes.to_dict() == empty.dtypes.to_dict()
            assert len(frame) == 0


class TestCsvParquet:
    def test_csv_with_api_names(self, tmp_path):
        path = tmp_path / "events.csv"
        rows = [{**it, "sessionId": "psA"} for it in ITEMS_A]
        pd.DataFrame(rows).to_csv(path, index=False)
        frame = avi.read_events(path)
        assert len(frame) == len(ITEMS_A)
        assert frame["seek_to"].max() == 21

    def test_parquet_round_trip_partitioned(self, tmp_path):
        events = _expected()
        events["video_id"] = events["session_id"].astype(str).map({"psA": "vi1", "psB": "vi2"})
        target = write_events_parquet(events, tmp_path / "ds")
        assert sorted(p.name for p in target.iterdir()) == ["video_id=vi1", "video_id=vi2"]
        back = avi.read_events(target)
        _assert_events(back)
        back = back.sort_values(["session_id", "emitted_at"], kind="stable")
        back = back.reset_index(drop=True)
        pd.testing.assert_frame_equal(
            back[list(EVENT_COLUMNS)], events[list(EVENT_COLUMNS)], check_categorical=False
        )
        assert back["video_id"].astype(str).tolist() == events["video_id"].tolist()

    def test_parquet_single_file_and_refuses_overwrite(self, tmp_path):
        events = _expected()
        target = write_events_parquet(events, tmp_path / "one")
        assert [p.name for p in target.iterdir()] == ["part-0.parquet"]
        pd.testing.assert_frame_equal(
            avi.read_events(target / "part-0.parquet"), events, check_categorical=False
        )
        with pytest.raises(FileExistsError, match="overwrite=True"):
            write_events_parquet(events, target)
        write_events_parquet(events.iloc[:2], target, overwrite=True)
        assert len(avi.read_events(target)) == 2

    def test_bytes_are_sniffed(self, tmp_path):
        events = _expected()
        buffer = io.BytesIO()
        events.to_parquet(buffer, index=False)
        frame = avi.read_events(buffer.getvalue())
        pd.testing.assert_frame_equal(frame, events, check_categorical=False)

    def test_wrong_argument_types(self, tmp_path):
        with pytest.raises(TypeError, match="path"):
            avi.read_events(42)
        with pytest.raises(FileNotFoundError):
            avi.read_events(tmp_path / "missing.json")
