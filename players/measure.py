"""The measure of the real-browser suite: reconstructions against the page's own truth.

* :func:`true_segments` turns the pages' ``currentTime`` traces into the true watched
  intervals (one row per uninterrupted stretch of playback, per session);
* :func:`passes` counts those intervals the way ``avi.segments`` counts passes (a pause and
  resume is one pass; a flash shorter than ``min_length`` is none): the truth that
  retention curves are compared with;
* :func:`drop_unload_pings` writes a recording without the bodies that arrived after the
  tab was closed or reloaded (what a player that sends nothing on unload leaves);
* :func:`naive_segments` is the baseline: a replay of the events in list order;
* :func:`restore` puts back, from the pages' own traces, what the events cannot tell (the
  seeks' true origins, a pause as a page that was playing went away): the error left is
  what the rules cost, the rest is information the stream lacks;
* :func:`forms` loads one recording the four ways the error is reported for, and
  :func:`errors` measures each with ``sandbox.world.pass_difference``.

Both ``tests/test_browser_players.py`` and ``benchmarks/bench_browser.py`` use these.
"""

from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import apivideo_insights as avi
from apivideo_insights.sandbox.world import pass_difference

__all__ = [
    "FORMS",
    "drop_unload_pings",
    "error",
    "errors",
    "forms",
    "legacy",
    "naive_segments",
    "passes",
    "read_truth",
    "restore",
    "thin",
    "true_segments",
    "write_truth",
]

#: The four ways a recording is measured, in the order of the results table.
FORMS = {
    "raw": "raw pings (read_pings: float positions, ms times)",
    "legacy": "legacy API form (integer positions, one-second times)",
    "legacy-no-unload": "legacy form, unload pings lost",
    "naive": "naive replay in list order (legacy form)",
}

#: The saved world the sandboxes of the measure serve beside what was recorded (fast to load).
WORLD = Path(__file__).resolve().parents[1] / "data" / "world"
# One sample: [epoch ms, currentTime, paused, seeking, playbackRate, event name].
_T, _POS, _PAUSED, _SEEKING, _RATE = range(5)


def true_segments(truth: Iterable[Mapping[str, Any]], *, slack: float = 0.3) -> pd.DataFrame:
    """The true watched intervals, from the page's trace of each page load.

    Between two consecutive samples of one load, the media from the first position to the
    second was watched when the element was playing at both (not paused, not seeking,
    except that the second may be the sample taken at the pause) and the position moved
    forward by no more than the rate allows (``rate * wall time + slack``): anything else is
    a seek, a stall or a pause. Consecutive watched steps join into one interval.

    Returns
    -------
    pandas.DataFrame
        ``session_id, load, video_id, start, end, started_at, ended_at`` (media seconds; UTC
        times), in time order per session. Loads without a session id are left out and
        counted in ``attrs["loads_without_session"]``.

    Examples
    --------
    >>> load = {"load": "L", "session_id": "s", "samples": [
    ...     [0, 0.0, 1, 0, 1, "play"], [1000, 1.0, 0, 0, 1, ""], [2000, 2.0, 0, 0, 1, ""],
    ...     [2050, 9.0, 0, 1, 1, "seeking"], [2100, 9.0, 0, 0, 1, "seeked"],
    ...     [3000, 9.9, 0, 0, 1, ""],
    ...     [4000, 10.9, 1, 0, 1, "pause"]]}
    >>> true_segments([load])[["session_id", "start", "end"]]
      session_id  start   end
    0          s    1.0   2.0
    1          s    9.0  10.9
    """
    rows: list[tuple[str, str, str, float, float, float, float]] = []
    orphans = 0
    for entry in truth:
        sid = entry.get("session_id")
        samples = entry.get("samples") or []
        video = str(entry.get("video_id") or "")
        if not sid:
            orphans += 1
            continue
        current: list[float] | None = None  # [start, end, t_start, t_end]
        for a, b in itertools.pairwise(samples):
            dt = (b[_T] - a[_T]) / 1000.0
            step = b[_POS] - a[_POS]
            playing = not a[_PAUSED] and not a[_SEEKING] and not b[_SEEKING]
            rate = max(a[_RATE], b[_RATE])
            # A pause sample's position is where playback stopped: the step to it counts.
            if playing and 0 < step <= rate * dt + slack:
                if current is not None and abs(current[1] - a[_POS]) < 1e-6:
                    current[1], current[3] = b[_POS], b[_T]
                else:
                    if current is not None:
                        rows.append((sid, entry["load"], video, *current))
                    current = [a[_POS], b[_POS], a[_T], b[_T]]
            elif step != 0 or a[_PAUSED] != b[_PAUSED] or b[_SEEKING]:
                if current is not None:
                    rows.append((sid, entry["load"], video, *current))
                current = None
        if current is not None:
            rows.append((sid, entry["load"], video, *current))
    frame = pd.DataFrame(
        rows, columns=["session_id", "load", "video_id", "start", "end", "t0", "t1"]
    )
    frame["started_at"] = pd.to_datetime(frame.pop("t0"), unit="ms", utc=True)
    frame["ended_at"] = pd.to_datetime(frame.pop("t1"), unit="ms", utc=True)
    frame = frame.sort_values(["session_id", "started_at"], kind="stable", ignore_index=True)
    frame.attrs["loads_without_session"] = orphans
    return frame


def passes(
    truth: pd.DataFrame, *, merge_gap: float | None = None, min_length: float | None = None
) -> pd.DataFrame:
    """The true intervals in ``avi.segments``' own definition of a pass (its rule 7).

    :func:`true_segments` ends an interval at every pause, so a viewer who paused at 12.7
    and went on from there holds two intervals over the second at 12, which a retention
    curve's ``views`` would count as two passes; ``avi.segments`` joins them into one. The
    curves compare like with like only when both count passes the same way: within one page
    load, an interval that starts within ``merge_gap`` of where the previous one stopped
    continues it, and one shorter than ``min_length`` (the blink of a drag while playing)
    is no pass. Both default to ``avi.segments``' own defaults.

    Examples
    --------
    >>> t = pd.DataFrame({"session_id": ["s"] * 3, "load": ["L"] * 3, "video_id": ["v"] * 3,
    ...     "start": [0.0, 12.7, 56.0], "end": [12.7, 20.0, 56.1],
    ...     "started_at": pd.to_datetime([0, 14, 25], unit="s", utc=True),
    ...     "ended_at": pd.to_datetime([13, 21, 26], unit="s", utc=True)})
    >>> passes(t)[["start", "end"]]
       start   end
    0    0.0  20.0
    """
    defaults = inspect.signature(avi.segments).parameters
    gap = defaults["merge_gap"].default if merge_gap is None else float(merge_gap)
    shortest = defaults["min_length"].default if min_length is None else float(min_length)
    kept = truth[(truth["end"] - truth["start"]) >= shortest]
    kept = kept.sort_values(["session_id", "load", "started_at"], kind="stable", ignore_index=True)
    same = (kept["session_id"] == kept["session_id"].shift()) & (
        kept["load"] == kept["load"].shift()
    )
    new = ~(same & ((kept["start"] - kept["end"].shift()).abs() <= gap))
    joined = kept.groupby(new.cumsum(), sort=False).agg(
        session_id=("session_id", "first"),
        load=("load", "first"),
        video_id=("video_id", "first"),
        start=("start", "first"),
        end=("end", "max"),
        started_at=("started_at", "first"),
        ended_at=("ended_at", "max"),
    )
    out = joined.reset_index(drop=True)
    out.attrs = {**truth.attrs, "joined": len(kept) - len(out), "short": len(truth) - len(kept)}
    return out


def thin(samples: list[list[Any]], *, every_ms: float = 250.0) -> list[list[Any]]:
    """The samples a file keeps: every media event's, every change of paused, seeking or
    rate, the sample just before each of those (the last position of the stretch it
    ends), the first and last, and one per ``every_ms`` between: the 50 ms ticks in
    between change nothing in :func:`true_segments` but the size.

    >>> thin([[0, 0, 0, 0, 1, ""], [50, .05, 0, 0, 1, ""], [100, .1, 0, 0, 1, ""],
    ...       [150, .15, 1, 0, 1, "pause"]])
    [[0, 0, 0, 0, 1, ''], [100, 0.1, 0, 0, 1, ''], [150, 0.15, 1, 0, 1, 'pause']]
    """
    n = len(samples)
    marks = [
        i == 0 or i == n - 1 or bool(s[5]) or s[2:5] != samples[i - 1][2:5]
        for i, s in enumerate(samples)
    ]
    keep = [m or (i + 1 < n and marks[i + 1]) for i, m in enumerate(marks)]
    out: list[list[Any]] = []
    for i, sample in enumerate(samples):
        if keep[i] or sample[_T] - out[-1][_T] >= every_ms:
            out.append(sample)
    return out


def write_truth(truth: list[dict[str, Any]], path: Path, **about: Any) -> None:
    """Save a run's truth traces, thinned (:func:`thin`), and what else says how it was
    made, as JSON."""
    loads = [{**entry, "samples": thin(entry["samples"])} for entry in truth]
    Path(path).write_text(json.dumps({**about, "loads": loads}, separators=(",", ":")) + "\n")


def read_truth(path: Path) -> dict[str, Any]:
    """Read what :func:`write_truth` saved: a dict with ``loads`` and the rest."""
    return json.loads(Path(path).read_text())


def drop_unload_pings(record: Path, out: Path, unloads: Mapping[str, float]) -> int:
    """Copy a recording without the bodies sent as a page went away; returns how many.

    ``unloads`` maps each page load id (the ``load`` metadata the test page sends) to the
    epoch milliseconds at which the tab was closed or reloaded: a body of that load
    received at or after it was sent by the unload handler (``destroy()``'s pause, and the
    events still queued with it), which a player without an unload handler never sends.
    """
    kept, dropped = [], 0
    for line in Path(record).read_text().splitlines():
        if not line.strip():
            continue
        body = json.loads(line)
        meta = {k: v for item in body["session"].get("metadata") or [] for k, v in item.items()}
        cut = unloads.get(str(meta.get("load")))
        received = pd.Timestamp(body["received_at"]).value / 1e6
        if cut is not None and received >= cut:
            dropped += 1
            continue
        kept.append(line)
    Path(out).write_text("".join(f"{line}\n" for line in kept))
    return dropped


def restore(
    events: pd.DataFrame,
    loads: Iterable[Mapping[str, Any]],
    unloads: Mapping[str, float],
    *,
    origins: bool = True,
    unload_pauses: bool = True,
    within: float = 15.0,
) -> pd.DataFrame:
    """The events with what the stream cannot tell put back from the pages' own traces.

    A counterfactual, for measuring only: the error of ``avi.segments`` on these events is
    what its rules cost; the rest of its error on the events as sent is information that
    the stream lacks (research notes §1.8).

    * ``origins``: each seek's ``seek_from`` becomes where the player was when the seeking
      began that ended at the last ``seeked`` before the seek was sent (within ``within``
      seconds; else it stays as sent). Steps of a drag that no ``seeked`` separated are one
      seek, from where the first began. The SDK sends the position at the last media event
      other than ``timeupdate``: seconds stale once a file is downloaded or hls.js's buffer
      is full.
    * ``unload_pauses``: a ``pause`` at the player's true position, a millisecond before
      each page load that was playing went away (closed or reloaded): what a player whose
      unload handler always got through would add. Events queued and lost with the page stay
      lost, and so do the in-play seeks that video.js never sends.

    ``loads`` are the traces of :func:`read_truth` (``loads``), ``unloads`` its page load id
    -> epoch milliseconds of the close or reload.

    Examples
    --------
    >>> loads = [{"load": "L", "session_id": "s", "video_id": "v", "samples": [
    ...     [0, 0.0, 0, 0, 1, "play"], [5000, 5.0, 0, 0, 1, ""],
    ...     [5010, 40.0, 0, 1, 1, "seeking"], [5100, 40.0, 0, 0, 1, "seeked"],
    ...     [8100, 43.0, 0, 0, 1, ""]]}]
    >>> ev = pd.DataFrame({"session_id": "s", "type": ["play", "seek.forward"],
    ...     "at": [0.0, None], "seek_from": [None, 0.0], "seek_to": [None, 40.0],
    ...     "emitted_at": pd.to_datetime([0, 5100], unit="ms", utc=True)})
    >>> restore(ev, loads, {"L": 9001})[["type", "at", "seek_from"]]
               type    at  seek_from
    0          play   0.0        NaN
    1  seek.forward   NaN       5.01
    2         pause  43.9        NaN
    """
    out = events.copy()
    for column in ("session_id", "type"):
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
    by_session: dict[str, list[Mapping[str, Any]]] = {}
    for entry in loads:
        if entry.get("session_id"):
            by_session.setdefault(str(entry["session_id"]), []).append(entry)
    if origins:
        out["seek_from"] = out["seek_from"].astype(float)
        sent = out["emitted_at"].to_numpy("datetime64[ms]").astype(np.int64)
        seeks = np.flatnonzero(out["type"].astype(str).str.startswith("seek").to_numpy())
        began = {sid: _seek_origins(entries) for sid, entries in by_session.items()}
        column = out.columns.get_loc("seek_from")
        for i in seeks:
            times, where = began.get(str(out["session_id"].iat[i]), _NO_SEEKS)
            # A seek is sent at ``seeked`` (video.js: at the next play), a few ms after the
            # page's trace has it: a little slack.
            k = int(np.searchsorted(times, sent[i] + 30, side="right")) - 1
            if k >= 0 and sent[i] - times[k] <= within * 1000:
                out.iat[i, column] = where[k]
    if unload_pauses:
        rows = []
        for sid, entries in by_session.items():
            for entry in entries:
                cut = unloads.get(str(entry["load"]))
                if cut is None:
                    continue
                last_ms = int(cut) - 1
                position = _playing_position(entry["samples"], last_ms)
                if position is not None:
                    when = pd.Timestamp(last_ms, unit="ms", tz="UTC")
                    rows.append(
                        {"session_id": sid, "type": "pause", "at": position, "emitted_at": when}
                        | ({"video_id": entry.get("video_id")} if "video_id" in out else {})
                        | ({"received_at": when} if "received_at" in out else {})
                    )
        if rows:
            out = pd.concat([out, pd.DataFrame(rows)], ignore_index=True)
    return out


_NO_SEEKS = (np.empty(0, np.int64), np.empty(0))


def _seek_origins(entries: Iterable[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """When each ``seeked`` of a session's page loads came (epoch ms, sorted) and where the
    player was as the seeking it ends began (the sample before the first ``seeking`` since
    the last ``seeked``, moved on while playing)."""
    pairs = []
    for entry in entries:
        origin = None
        for before, sample in itertools.pairwise(entry["samples"]):
            if sample[5] == "seeking" and origin is None:
                origin = _moved_on(before, sample[_T])
            elif sample[5] == "seeked" and origin is not None:
                pairs.append((sample[_T], origin))
                origin = None
    pairs.sort()
    return np.array([t for t, _ in pairs], np.int64), np.array([p for _, p in pairs], float)


def _playing_position(samples: list[list[Any]], at_ms: float) -> float | None:
    """The position at ``at_ms`` of a trace that was playing then, else None."""
    last = None
    for sample in samples:
        if sample[_T] > at_ms:
            break
        last = sample
    if last is None or last[_PAUSED] or last[_SEEKING]:
        return None
    return _moved_on(last, at_ms)


def _moved_on(sample: list[Any], at_ms: float) -> float:
    """Where the player of ``sample`` was at ``at_ms``: moved on at its rate while playing."""
    if sample[_PAUSED] or sample[_SEEKING]:
        return float(sample[_POS])
    return float(sample[_POS] + (at_ms - sample[_T]) / 1000.0 * sample[_RATE])


def naive_segments(events: pd.DataFrame) -> pd.DataFrame:
    """Replay each session's events in list order: the baseline a plain loop gives.

    ``play``/``resume`` open a stretch at ``at``; ``pause``/``end`` close it at ``at``; a
    seek closes it at ``from`` and reopens at ``to`` when playing; ``ready`` closes it where
    it was last known to be. Nothing is checked against the clock.

    >>> ev = pd.DataFrame({"session_id": "s", "type": ["ready", "play", "pause"],
    ...     "at": [0, 0, 7], "seek_from": None, "seek_to": None})
    >>> naive_segments(ev)[["session_id", "start", "end"]]
      session_id  start  end
    0          s    0.0  7.0
    """
    rows: list[tuple[str, float, float]] = []
    for sid, group in events.groupby("session_id", sort=False, observed=True):
        start: float | None = None
        last = 0.0
        for kind, at, frm, to in zip(
            group["type"].astype(str), group["at"], group["seek_from"], group["seek_to"]
        ):
            at = float(at) if pd.notna(at) else last
            if kind in ("play", "resume"):
                start, last = at, at
            elif kind in ("pause", "end", "ready"):
                if start is not None and at > start:
                    rows.append((str(sid), start, at))
                start, last = None, at
            elif kind.startswith("seek"):
                frm = float(frm) if pd.notna(frm) else last
                to = float(to) if pd.notna(to) else frm
                if start is not None:
                    if frm > start:
                        rows.append((str(sid), start, frm))
                    start = to
                last = to
    return pd.DataFrame(rows, columns=["session_id", "start", "end"])


def error(truth: pd.DataFrame, reconstructed: pd.DataFrame) -> float:
    """Pass-count error over true watch time (``pass_difference`` / true seconds watched)."""
    watched = float((truth["end"] - truth["start"]).sum())
    if watched <= 0:
        return float("nan")
    cols = ["session_id", "start", "end"]
    return pass_difference(truth[cols], reconstructed[cols]) / watched


def forms(
    record: Path,
    *,
    duration: float,
    unloads: Mapping[str, float],
    workdir: Path,
) -> dict[str, pd.DataFrame]:
    """Reconstructed segments of every session of one recording, in each of :data:`FORMS`.

    ``raw``: ``avi.read_pings`` then ``avi.segments``. ``legacy``: the recording served by a
    sandbox started with ``record=`` and loaded as a user would, video by video
    (``api.video_sessions`` / ``api.events``). ``legacy-no-unload``: the same after
    :func:`drop_unload_pings`. ``naive``: :func:`naive_segments` of the legacy events.
    Each frame has ``session_id, start, end`` (and more); ``legacy-no-unload`` counts the
    bodies it dropped in ``attrs["unload_pings_dropped"]``.
    """
    out: dict[str, pd.DataFrame] = {}
    events, sessions = avi.read_pings(record)
    out["raw"] = avi.segments(events, duration=duration, sessions=sessions)
    videos = sorted(sessions["video_id"].dropna().astype(str).unique())
    workdir.mkdir(parents=True, exist_ok=True)
    cut = workdir / "no-unload.ndjson"
    dropped = drop_unload_pings(record, cut, unloads)
    legacy_events = pd.DataFrame()
    for name, path in (("legacy", record), ("legacy-no-unload", cut)):
        ev, se = legacy(path, video_id=videos)
        out[name] = avi.segments(ev, duration=duration, sessions=se)
        if name == "legacy":
            legacy_events = ev
    out["naive"] = naive_segments(legacy_events)
    out["legacy-no-unload"].attrs["unload_pings_dropped"] = dropped
    return out


def legacy(record: Path, *, video_id: str | Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events and sessions of recorded videos as the legacy API serves them (through a
    sandbox restarted on that ``record=`` file, read with ``api.video_sessions`` and
    ``api.events`` over the days the record covers)."""
    ids = [video_id] if isinstance(video_id, str) else list(video_id)
    period = _period(record)
    with avi.sandbox.serve(WORLD, record=record) as sb:
        api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None, progress=False)
        sessions = pd.concat([api.video_sessions(v, period=period) for v in ids], ignore_index=True)
        events = api.events(sessions)
    return events, sessions


def _period(record: Path) -> str:
    """The days a record's bodies were received on, as a legacy ``period`` (inclusive),
    so that a recording loads the same whenever it is measured."""
    days = [
        pd.Timestamp(json.loads(line)["received_at"]).tz_convert("UTC").normalize()
        for line in Path(record).read_text().splitlines()
        if line.strip()
    ]
    first, last = min(days), max(days)
    return f"{(first - pd.Timedelta(days=1)).date()}/{last.date()}"


def errors(
    truth: pd.DataFrame, by_form: Mapping[str, pd.DataFrame], *, video_id: str | None = None
) -> dict[str, float]:
    """The pass-count error of each form against the truth (share of true watch time),
    over every session, or over the sessions of one ``video_id`` (one group of viewers)."""
    if video_id is not None:
        truth = truth[truth["video_id"] == video_id]
    ids = set(truth["session_id"])
    return {
        name: error(truth, seg[seg["session_id"].astype(str).isin(ids)])
        for name, seg in by_form.items()
    }
