"""The column contract: empty and full frames share columns and dtypes; timestamps parse."""

from __future__ import annotations

import pandas as pd
import pytest

from apivideo_insights import schema


@pytest.mark.parametrize(
    "columns",
    [schema.EVENT_COLUMNS, schema.SESSION_COLUMNS, schema.SEGMENT_COLUMNS],
    ids=["events", "sessions", "segments"],
)
def test_empty_frame_matches_conformed_full_frame(columns):
    empty = schema.empty_frame(columns)
    full = schema.conform(
        pd.DataFrame({"session_id": ["a", "b"], "playback": [0, 1]}), columns, keep_extra=False
    )
    assert list(empty.columns) == list(columns) == list(full.columns)
    assert empty.dtypes.astype(str).tolist() == full.dtypes.astype(str).tolist()


def test_timestamps_in_every_form_the_api_sends():
    parsed = schema.to_utc(
        pd.Series(
            [
                "2019-06-24T11:45:01.109Z",
                "2020-01-31T10:17:47+00:00",
                "2024-05-29T07+00:00:00:00",  # the malformed timeseries spec example
                "2024-02-05T00:00:00+01:00",
                None,
            ]
        )
    )
    assert str(parsed.dtype) == schema.DATETIME
    assert parsed[0] == pd.Timestamp("2019-06-24 11:45:01.109", tz="UTC")
    assert parsed[2] == pd.Timestamp("2024-05-29 07:00", tz="UTC")
    assert parsed[3] == pd.Timestamp("2024-02-04 23:00", tz="UTC")
    assert pd.isna(parsed[4])


def test_strings_keep_missing_values_missing():
    out = schema.to_str(pd.Series(["x", None, 3]))
    assert out.tolist()[0] == "x" and out.tolist()[2] == "3"
    assert pd.isna(out.iloc[1])


def test_extra_columns_are_kept_after_the_contract():
    frame = pd.DataFrame({"video_id": ["v"], "session_id": ["s"], "type": ["play"]})
    out = schema.conform(frame, schema.EVENT_COLUMNS)
    assert list(out.columns)[: len(schema.EVENT_COLUMNS)] == list(schema.EVENT_COLUMNS)
    assert out.columns[-1] == "video_id"


def test_the_contract_is_public_and_every_loader_table_row_uses_it():
    import apivideo_insights as avi
    from apivideo_insights._endpoints import ENDPOINTS

    assert avi.schema is schema
    specs = {name: getattr(schema, name) for name in schema.__all__ if name.endswith("_COLUMNS")}
    assert {"EVENT_COLUMNS", "SESSION_COLUMNS", "VIDEO_COLUMNS", "ACCOUNT_COLUMNS"} <= set(specs)
    for endpoint in ENDPOINTS.values():
        assert any(endpoint.columns is spec for spec in specs.values()), endpoint.name
        for field in endpoint.required:
            assert field in endpoint.columns, (endpoint.name, field)


@pytest.mark.parametrize("name", [n for n in schema.__all__ if n.endswith("_COLUMNS")])
def test_every_spec_makes_an_empty_frame_with_its_dtypes(name):
    columns = getattr(schema, name)
    empty = schema.empty_frame(columns)
    assert list(empty.columns) == list(columns) and len(empty) == 0
    again = schema.conform(empty, columns)
    assert again.dtypes.to_dict() == empty.dtypes.to_dict()
