"""What reconstruction did, in plain words: ``avi.segments``' ``attrs`` as sentences.

The report's and the dashboard's data notes (through ``_frames.prepare``) are written
here, for a reader who never saw the events; the counters' meanings are those of
``segments.py``'s numbered rules.

>>> data_notes({"events": 10, "dropped_events": 1, "dropped": {"missing_time": 1}})
['1 of 10 player events were left out: 1 had no time.']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["data_notes"]

#: Reason -> why those rows were left out, for a reader who never saw the events.
_DROPPED_WHY: dict[str, str] = {
    "missing_session": "had no session id",
    "missing_type": "had no event type",
    "missing_time": "had no time",
    "bad_position": "had an impossible position",
    "duplicate": "were sent twice",
    "redundant_open": "repeated a 'play' while already playing (harmless)",
    "redundant_close": "repeated a 'pause' or 'end' while already stopped (harmless)",
}
_SEGMENTS_WHY: dict[str, str] = {
    "open_at_end": "were still playing at the last event and could not be closed",
    "past_duration": "lay past the end of the video",
    "short": "were shorter than a quarter of a second",
}


def _n(value: Any) -> int:
    """A counter of ``attrs``; missing or not a number counts as none (attrs may be edited)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def data_notes(attrs: Mapping[str, Any]) -> list[str]:
    """What ``avi.segments``' ``attrs`` say was estimated or dropped, as sentences.

    >>> for line in data_notes({"events": 100, "dropped_events": 3,
    ...                         "dropped": {"duplicate": 3}, "inferred": 2}):
    ...     print(line)
    3 of 100 player events were left out: 3 were sent twice.
    2 lost 'play' events were inferred from what followed them.
    """
    lines = []
    events, dropped = _n(attrs.get("events")), _n(attrs.get("dropped_events"))
    raw = attrs.get("dropped")
    reasons: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if dropped:
        why = [
            f"{_n(reasons.get(k)):,} {text}"
            for k, text in _DROPPED_WHY.items()
            if _n(reasons.get(k))
        ]
        lines.append(
            f"{dropped:,} of {events:,} player events were left out"
            + (f": {'; '.join(why)}." if why else ".")
        )
    segs = [
        f"{_n(reasons.get(k)):,} {text}" for k, text in _SEGMENTS_WHY.items() if _n(reasons.get(k))
    ]
    if segs:
        lines.append(f"Some watched segments were dropped: {'; '.join(segs)}.")
    estimated = _n(attrs.get("estimated"))
    if estimated:
        lines.append(
            f"{estimated:,} watched segments have a start or end estimated from the clock, "
            "because the player's positions contradicted the time that passed."
        )
    open_end = _n(attrs.get("open_at_end"))
    if open_end:
        # The words follow segments' open_end="estimate" rule (rule 6 of segments.py).
        closed = {k: _n(attrs.get(f"closed_by_{k}")) for k in ("heartbeats", "runs", "session")}
        share = attrs.get("estimated_share")
        lines.append(
            f"{open_end:,} stretches were still playing when the events stopped (a tab closed "
            f"or reloaded): their end was estimated, {closed['heartbeats']:,} from the "
            f"player's 10-second pings, {closed['runs']:,} from how long the viewer's other "
            f"stretches lasted, {closed['session']:,} from when the session ended"
            + (f"; {float(share):.0%} of the watched time is estimated." if share else ".")
        )
    shift = attrs.get("position_shift")
    if isinstance(shift, int | float) and shift > 0:
        # segments' rule 1: the legacy API's whole seconds stand for a span of positions.
        lines.append(
            "Player positions came in whole seconds (the legacy API's); each was read "
            f"{float(shift):g} s on, toward the middle of the second it stands for."
        )
    inferred = _n(attrs.get("inferred"))
    if inferred:
        lines.append(f"{inferred:,} lost 'play' events were inferred from what followed them.")
    seek = _n(attrs.get("seek_from_missing"))
    if seek:
        lines.append(f"{seek:,} seeks did not say where they started; their origin was assumed.")
    unclamped = _n(attrs.get("unclamped_sessions"))
    if unclamped:
        lines.append(
            f"{unclamped:,} sessions belong to videos of unknown duration, so positions past "
            "the end could not be checked."
        )
    return lines
