"""avi.read_events and write_events_parquet: every file form gives the api.events columns."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pandas as pd
import pytest

import apivideo_insights as avi
from apivideo_insights.io import write_events_parquet
from apivideo_insights.schema import EVENT_COLUMNS, empty_frame


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


def _csv_text(sep: str = ",") -> str:
    rows = [{**it, "sessionId": "psA"} for it in ITEMS_A]
    return pd.DataFrame(rows).to_csv(index=False, sep=sep)


class TestSniffing:
    """The content decides the format, whatever the name says (issue 11)."""

    @pytest.mark.parametrize("name", ["events.txt", "events", "export.dat"])
    def test_csv_under_any_name(self, tmp_path, name):
        path = tmp_path / name
        path.write_text(_csv_text())
        frame = avi.read_events(path)
        assert len(frame) == len(ITEMS_A) and frame["seek_to"].max() == 21

    def test_tsv(self, tmp_path):
        path = tmp_path / "events.tsv"
        path.write_text(_csv_text(sep="\t"))
        pd.testing.assert_frame_equal(avi.read_events(path), avi.read_events(_csv_text().encode()))

    @pytest.mark.parametrize("name", ["events.json.gz", "events.ndjson.gz", "events.csv.gz"])
    def test_gzipped(self, tmp_path, name):
        if "ndjson" in name:
            text = "\n".join(json.dumps({**it, "session_id": "psA"}) for it in ITEMS_A)
        elif "csv" in name:
            text = _csv_text()
        else:
            text = json.dumps(_page("psA", ITEMS_A))
        path = tmp_path / name
        path.write_bytes(gzip.compress(text.encode()))
        frame = avi.read_events(path)
        assert len(frame) == len(ITEMS_A)
        assert set(frame["session_id"].astype(str)) == {"psA"}
        # The same bytes in memory, and under a name that does not say gzip.
        assert len(avi.read_events(path.read_bytes())) == len(ITEMS_A)
        plain = tmp_path / "renamed"
        plain.write_bytes(path.read_bytes())
        assert len(avi.read_events(plain)) == len(ITEMS_A)

    @pytest.mark.parametrize("content", [b"", b"  \n\n", b"\xef\xbb\xbf", b"sessionId,type\n"])
    def test_empty_sources_give_the_contract_columns(self, tmp_path, content):
        path = tmp_path / "empty.csv"
        path.write_bytes(content)
        empty = empty_frame(EVENT_COLUMNS)
        for source in (path, content, io.BytesIO(content)):
            frame = avi.read_events(source)
            assert len(frame) == 0
            assert frame[list(EVENT_COLUMNS)].dtypes.to_dict() == empty.dtypes.to_dict()

    def test_both_spellings_of_the_session_are_merged_and_conflicts_counted(self):
        events = [
            {**ITEMS_B[0], "sessionId": "psB"},
            {**ITEMS_B[1], "session_id": "psB"},
            {**ITEMS_A[0], "session_id": "psA", "sessionId": "psOther"},
        ]
        with pytest.warns(UserWarning, match="two ways"):
            frame = avi.read_events(json.dumps(events).encode())
        assert frame["session_id"].astype(str).tolist() == ["psB", "psB", "psA"]
        assert frame.attrs["conflicts"] == {"session_id": 1}
        assert "sessionId" not in frame.columns


class TestBadFiles:
    """Bad files are SchemaErrors that say what was found, never raw Python errors."""

    def test_deeply_nested_json(self, tmp_path):
        deep = "[" * 100_000 + "]" * 100_000
        with pytest.raises(avi.SchemaError, match="too deeply"):
            avi.read_events(deep.encode())
        path = tmp_path / "deep.ndjson"
        path.write_text('{"type": "play"}\n' + deep + "\n")
        with pytest.raises(avi.SchemaError, match="line 2 nests"):
            avi.read_events(path)

    @pytest.mark.parametrize(
        "content",
        [
            json.dumps(_page("psA", ITEMS_A)).replace("play", "pl\u00e9y").encode("latin-1"),
            _csv_text().replace("play", "pl\u00e9y").encode("latin-1"),
        ],
        ids=["json", "csv"],
    )
    def test_not_utf8(self, content):
        with pytest.raises(avi.SchemaError, match="UTF-8"):
            avi.read_events(content)

    def test_truncated_gzip(self):
        content = gzip.compress(_csv_text().encode())[:-20]
        with pytest.raises(avi.SchemaError, match="gzip"):
            avi.read_events(content)

    def test_schema_errors_list_the_columns_found_and_expected(self):
        with pytest.raises(avi.SchemaError) as info:
            avi.read_events(b"user,when,what\nu1,2024-05-01,click\n")
        message = str(info.value)
        assert "user, when, what" in message
        assert "emitted_at (or emittedAt)" in message
        with pytest.raises(avi.SchemaError, match="columns found: type, emitted_at, at"):
            avi.read_events(io.StringIO(json.dumps(ITEMS_A)))
