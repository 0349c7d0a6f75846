"""What reconstruction did, in plain words (apivideo_insights._data_notes)."""

from __future__ import annotations

import apivideo_insights as avi
from apivideo_insights._data_notes import data_notes
from apivideo_insights._frames import Frames, prepare

NOW = "2024-06-01T12:00:00+00:00"


def test_data_notes_say_what_happened_in_words():
    world = avi.sandbox.simulate(seed=3, now=NOW, videos=3, live_streams=1, sessions=300)
    segs = avi.segments(world.events, sessions=world.sessions, duration=world.durations)
    notes = data_notes(segs.attrs)
    assert notes and all(n[0].isupper() or n[0].isdigit() for n in notes)
    assert not any("_" in n for n in notes)  # no raw counter names
    assert data_notes({}) == []
    # The display's frames carry the same sentences once their segments are reconstructed.
    prepared = prepare(Frames(videos=world.videos, sessions=world.sessions, events=world.events))
    assert set(notes) <= set(prepared.notes)


def test_counters_that_are_not_numbers_count_as_none():
    attrs = {"events": "many", "dropped_events": None, "dropped": ["duplicate"], "inferred": 2}
    assert data_notes(attrs) == ["2 lost 'play' events were inferred from what followed them."]


def test_open_ends_say_how_their_end_was_estimated():
    attrs = {
        "open_at_end": 4,
        "closed_by_heartbeats": 1,
        "closed_by_runs": 2,
        "closed_by_session": 1,
        "estimated_share": 0.25,
    }
    (line,) = data_notes(attrs)
    assert line.startswith("4 stretches were still playing")
    assert "1 from the player's 10-second pings, 2 from how long" in line
    assert line.endswith("; 25% of the watched time is estimated.")


def test_whole_second_positions_say_how_they_were_read():
    (line,) = data_notes({"position_shift": 0.25})
    assert line == (
        "Player positions came in whole seconds (the legacy API's); each was read 0.25 s on, "
        "toward the middle of the second it stands for."
    )
    assert data_notes({"position_shift": 0.0}) == []
