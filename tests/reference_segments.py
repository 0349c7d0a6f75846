"""A plain per-event implementation of :func:`apivideo_insights.segments`, for cross-checks.

It follows the rules of the module docstring of :mod:`apivideo_insights.segments` one event
at a time, with Python objects and no numpy tricks, so that the vectorized version can be
compared with something easy to read. It takes a frame already in the events schema
(``_schema.conform(events, EVENT_COLUMNS)``) and returns ``(segments frame, dropped)``.
Only ``duration`` as a number or None (inferred per session from ``end`` events) and
``sessions`` as a mapping session_id -> ended_at (``pandas.Timestamp``) are supported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from apivideo_insights import schema as _schema

NS = 1_000_000_000
RANK = {"pause": 0, "end": 0, "seek.forward": 1, "seek.backward": 1, "ready": 2, "play": 3}
RANK["resume"] = 3
OPEN = {"play", "resume"}
CLOSE = {"pause", "end"}
SEEK = {"seek.forward", "seek.backward"}


def _num(x: object) -> float:
    return float("nan") if x is None or pd.isna(x) else float(x)  # type: ignore[arg-type]


def _usable(x: float) -> bool:
    return math.isfinite(x) and x >= 0


def reference_segments(
    events: pd.DataFrame,
    *,
    duration: float | None = None,
    sessions: Mapping[str, pd.Timestamp] | None = None,
    max_rate: float = 2.0,
    min_rate: float = 0.5,
    tolerance: float = 2.0,
    min_length: float = 0.25,
    merge_gap: float = 1.0,
    scrub_window: float = 2.0,
    open_end: str = "cap",
    open_cap: float = 5.0,
) -> tuple[pd.DataFrame, dict[str, int]]:
    ev = _schema.conform(events, _schema.EVENT_COLUMNS)
    reasons = "missing_session missing_type missing_time bad_position duplicate "
    reasons += "redundant_open redundant_close open_at_end past_duration short"
    dropped = dict.fromkeys(reasons.split(), 0)
    first_row: dict[str, int] = {}
    rows = []
    for i, (sid, typ, at, fr, to, when) in enumerate(zip(*(ev[c] for c in _schema.EVENT_COLUMNS))):
        if pd.isna(sid):
            dropped["missing_session"] += 1
            continue
        first_row.setdefault(sid, i)
        if pd.isna(typ):
            dropped["missing_type"] += 1
            continue
        if pd.isna(when):
            dropped["missing_time"] += 1
            continue
        at, fr, to = _num(at), _num(fr), _num(to)
        if typ in SEEK:
            if not _usable(to):
                dropped["bad_position"] += 1
                continue
            if not _usable(fr):
                fr = float("nan")
        elif not _usable(at) and (typ != "ready" or not math.isnan(at)):
            dropped["bad_position"] += 1
            continue
        rows.append(
            {"i": i, "sid": sid, "type": typ, "at": at, "from": fr, "to": to, "t": when.value}
        )
    rows.sort(key=lambda r: (first_row[r["sid"]], r["t"], RANK[r["type"]], r["i"]))

    def same(x: float, y: float) -> bool:
        return x == y or (math.isnan(x) and math.isnan(y))

    clean: list[dict] = []
    for r in rows:
        p = clean[-1] if clean else None
        if (
            p is not None
            and p["sid"] == r["sid"]
            and p["type"] == r["type"]
            and p["t"] == r["t"]
            and all(same(p[k], r[k]) for k in ("at", "from", "to"))
        ):
            dropped["duplicate"] += 1
            continue
        clean.append(r)

    # Playbacks: split each session at every ready (a leading ready starts playback 0).
    playbacks: list[tuple[str, int, list[dict]]] = []
    for r in clean:
        if not playbacks or playbacks[-1][0] != r["sid"]:
            playbacks.append((r["sid"], 0, [r]))
        elif r["type"] == "ready":
            playbacks.append((r["sid"], playbacks[-1][1] + 1, [r]))
        else:
            playbacks[-1][2].append(r)

    # Duration per session: given, or the largest `end` at of the session.
    dur: dict[str, float] = {}
    for r in clean:
        if duration is not None:
            dur[r["sid"]] = float(duration)
        elif r["type"] == "end" and r["at"] > 0:
            dur[r["sid"]] = max(dur.get(r["sid"], 0.0), r["at"])

    window = scrub_window * NS
    raw = []  # (sid, playback, start, end, t_open, t_end, estimated, was_open, rate)
    pending = []  # per playback, in order: what its events left, before the rate is known
    for k, (sid, number, evs) in enumerate(playbacks):
        mine: list[list] = []  # this playback's segments; clock-estimated ends filled below
        is_last = k + 1 == len(playbacks) or playbacks[k + 1][0] != sid
        t_next = None if is_last else playbacks[k + 1][2][0]["t"]
        seg = None  # (start, t_open)
        here = None  # (position, time) at the last event while playing
        for j, r in enumerate(evs):
            prev = evs[j - 1] if j > 0 else None
            nxt = evs[j + 1] if j + 1 < len(evs) else None

            def close(
                pos: float, t: int, kind: str, _seg=seg, _mine=mine, slowest: bool = True
            ) -> None:
                start, t_open = _seg
                wall = (t - t_open) / NS
                if (
                    math.isfinite(pos)
                    and start <= pos
                    and pos <= start + wall * max_rate + tolerance
                    and (pos >= start + wall * min_rate - tolerance or not slowest)
                ):
                    _mine.append([start, pos, t_open, t, False, wall, False, kind, pos])
                else:
                    _mine.append([start, None, t_open, t, True, wall, False, kind, pos])

            if r["type"] in OPEN:
                if seg is not None:
                    # Playing: consistent with where the previous event left the player?
                    here_pos, here_t = here
                    wall = (r["t"] - here_t) / NS
                    low = here_pos + wall * min_rate - tolerance
                    if low <= r["at"] <= here_pos + wall * max_rate + tolerance:
                        dropped["redundant_open"] += 1
                        here = (r["at"], r["t"])
                        continue
                    close(r["at"], r["t"], "reanchor", slowest=False)
                    seg = here = (r["at"], r["t"])
                    continue
                pos = r["at"]
                if prev is not None and prev["type"] in SEEK and r["t"] - prev["t"] <= window:
                    pos = prev["to"]
                seg = here = (pos, r["t"])
            elif r["type"] in CLOSE:
                pos = r["at"]
                if (
                    r["type"] == "pause"
                    and nxt is not None
                    and nxt["type"] in SEEK
                    and abs(nxt["to"] - r["at"]) <= 1.0
                    and nxt["t"] - r["t"] <= window
                ):
                    pos = nxt["from"]
                    scrubbed = True
                else:
                    scrubbed = False
                if seg is None:
                    # Paused: ahead of where the player was left means a lost play/resume.
                    if prev is not None:
                        left = prev["to"] if prev["type"] in SEEK else prev["at"]
                        if prev["type"] == "ready" and not math.isfinite(left):
                            left = 0.0
                        gap = pos - left
                        if 0 < gap <= (r["t"] - prev["t"]) / NS * max_rate + tolerance:
                            mine.append(
                                [left, pos, None, r["t"], True, None, True, "inferred", pos]
                            )
                            continue
                    dropped["redundant_close"] += 1
                    continue
                close(pos, r["t"], "scrub" if scrubbed else "close")
                seg = None
            elif r["type"] in SEEK and seg is not None:
                close(r["from"], r["t"], "seek")
                seg = here = (r["to"], r["t"])
        pending.append((sid, number, evs, mine, seg, is_last, t_next))

    # Each playback's rate: media / wall over the segments a pause/end closed (>= 10 s of
    # them), else over its session's, else 1; rounded to a quarter for integer data.
    sums: dict[int, tuple[float, float]] = {}
    by_session: dict[str, list[float]] = {}
    for k, (sid, _, _, mine, _, _, _) in enumerate(pending):
        media_sum = wall_sum = 0.0
        for start, end, _, _, est, wall, _, kind, _ in mine:
            if not est and kind in ("close", "scrub"):
                media_sum += end - start
                wall_sum += wall
        sums[k] = (media_sum, wall_sum)
        tot = by_session.setdefault(sid, [0.0, 0.0])
        tot[0] += media_sum
        tot[1] += wall_sum
    rates = {}
    for k, (sid, _, evs, _, _, _, _) in enumerate(pending):
        media_sum, wall_sum = sums[k]
        if wall_sum < 10.0:
            media_sum, wall_sum = by_session[sid]
        coarse = all(
            r["t"] % NS == 0
            and all(
                not math.isfinite(r[c]) or r[c] == math.floor(r[c]) for c in ("at", "from", "to")
            )
            for r in evs
        )
        rate = 1.0
        if wall_sum >= 10.0:
            lo = min(max(min_rate, 0.25), max_rate)
            ratio = media_sum / wall_sum
            if coarse:
                ratio = round(ratio * 4) / 4
            rate = min(max(ratio, lo), max_rate)
        rates[k] = rate
    # Sessions whose in-play seeks show a stale origin: the stretch's own start, long after.
    stale_seen: dict[str, bool] = {}
    for sid, _, _, mine, _, _, _ in pending:
        for start, _, _, _, _, wall, _, kind, pos in mine:
            if kind == "seek" and abs(pos - start) <= tolerance / 2 and wall > tolerance:
                stale_seen[sid] = True
    for k, (sid, number, evs, mine, seg, is_last, t_next) in enumerate(pending):
        rate = rates[k]
        for start, end, t_open, t, est, wall, inferred, kind, pos in mine:
            # A ``from`` past its stretch's start, in such a session, looks fresh.
            fresh = kind == "seek" and pos - start > tolerance and not stale_seen.get(sid, False)
            # An in-play seek's ``from`` behind where the clock puts the player is stale; in a
            # session whose origins look fresh it may be right or lagging: the middle.
            moved = False
            behind = kind == "seek" and not est and end < start + wall * rate - tolerance
            if behind and not fresh:
                est = True
            elif behind:
                end = (end + start + wall * max(rate, 1.0)) / 2
                est = moved = True
            # Ahead of it: a faster stretch, and ``from`` some time before the seek; moved
            # toward the middle of what is reachable, fully from ``tolerance`` ahead on.
            judged = kind == "seek" and not est and not fresh
            over = end - (start + wall * max(rate, 1.0)) if judged else 0.0
            if over > 0:
                since = max(wall - (end - start) / max_rate, 0.0)
                middle = min(end + since * rate / 2, start + wall * max_rate)
                weight = min(over / tolerance, 1.0) if tolerance > 0 else 1.0
                end = end + weight * (middle - end)
                est = moved = True
            if kind == "close" and est and wall > 0:
                # A pause/end the clock cannot reach: half the clock's media from the start,
                # half leading to the close (a seek that sent nothing came in between).
                half = wall * rate / 2
                raw.append((sid, number, start, start + half, t_open, t, True, False, rate))
                tail_open = t - round(wall / 2 * NS)
                raw.append(
                    (sid, number, max(pos - half, 0.0), pos, tail_open, t, True, False, rate)
                )
                continue
            if inferred:
                t_open = t - round((end - start) / rate * NS)
            elif est and not moved:
                end = start + wall * rate
            raw.append((sid, number, start, end, t_open, t, est, False, rate))
        if seg is not None:
            start, t_open = seg
            t_last = evs[-1]["t"]
            if is_last and sessions is not None and sid in sessions and pd.notna(sessions[sid]):
                bound = max(pd.Timestamp(sessions[sid]).value, t_last)
            elif open_end == "drop":
                dropped["open_at_end"] += 1
                continue
            else:
                bound = t_last + open_cap * NS
                if t_next is not None:
                    bound = min(bound, t_next)
            end = start + (bound - t_open) / NS * rate
            raw.append((sid, number, start, end, t_open, 0, True, True, rate))

    kept = []
    for sid, number, start, end, t_open, t_end, est, was_open, rate in raw:
        start, end = max(start, 0.0), max(end, 0.0)
        d = dur.get(sid)
        if d is not None:
            if start >= d:
                dropped["past_duration"] += 1
                continue
            start, end = min(start, d), min(end, d)
        if not (end - start >= min_length and end > start):
            dropped["short"] += 1
            continue
        if was_open:
            t_end = t_open + round((end - start) / rate * NS)
        kept.append([sid, number, start, end, t_open, t_end, est])

    merged: list[list] = []
    last_end = None
    for seg in kept:
        m = merged[-1] if merged else None
        if (
            m is not None
            and m[0] == seg[0]
            and m[1] == seg[1]
            and abs(seg[2] - last_end) <= merge_gap
        ):
            m[3] = max(m[3], seg[3])
            m[5] = max(m[5], seg[5])
            m[6] = m[6] or seg[6]
        else:
            merged.append(list(seg))
        last_end = seg[3]

    frame = pd.DataFrame(
        merged,
        columns=["session_id", "playback", "start", "end", "started_at", "ended_at", "estimated"],
    )
    for c in ("started_at", "ended_at"):
        frame[c] = pd.to_datetime(frame[c].astype("int64"), utc=True)
    frame = _schema.conform(frame, _schema.SEGMENT_COLUMNS)
    return frame, dropped
