"""Simulate an api.video project: resources, viewers, the events they left, and the truth.

:func:`simulate` builds a :class:`~apivideo_insights.sandbox.world.World`. Viewers are drawn
with behaviour that gives real retention shapes (early drop-off, gradual decay, skipped
intros, rewatched moments, pauses, reloads, replays, abandoned tabs, playback rates up to
2x); :mod:`._collector` turns what they did into the events the legacy collector recorded,
quirks included; ``world.truth`` keeps what they really watched.

Everything about viewers is vectorised with numpy: a loop over a bounded number of
behaviour *steps*, each step handling every still-active playback at once. A million
sessions take seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from ..schema import (
    EVENT_COLUMNS,
    EVENT_TYPE_DTYPE,
    SEGMENT_COLUMNS,
    SESSION_COLUMNS,
    STR,
    conform,
    to_str,
)
from . import _catalog as cat
from ._collector import (
    COLLECTORS,
    KIND,
    PING_INTERVAL,
    QUIRK_CODE,
    QUIRKS,
    EventArrays,
    Transitions,
    emit,
    queued_at_close,
    reserve,
    resolve_quirks,
)
from .world import World

__all__ = ["QUIRKS", "simulate"]

try:  # optional: builds string columns without a Python object per row
    import pyarrow as pa
except ImportError:  # pragma: no cover
    pa = None

#: Whether pandas' default string dtype is Arrow-backed (pandas 3 with pyarrow).
_ARROW_STR = pa is not None and getattr(pd.Series([], dtype=STR).dtype, "storage", "") == "pyarrow"

_BASE62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)
_DAY = 86400.0
_INF = np.inf
_NS = 1_000_000_000


def simulate(
    seed: int = 0,
    *,
    now: Any = None,
    videos: int = 12,
    live_streams: int = 2,
    sessions: int = 2000,
    days: float = 30,
    live_share: float = 0.1,
    recent_share: float = 0.3,
    reload_rate: float = 0.1,
    replay_rate: float = 0.08,
    quirks: Mapping[str, float] | bool | None = None,
    max_steps: int = 48,
    collector: str = "textbook",
    precision: str = "legacy",
    reload_gap: float | None = None,
    rates: Mapping[float, float] | None = None,
    stalls: float = 0.0,
    rate_changes: float = 0.0,
) -> World:
    """Build a simulated api.video project with known ground truth.

    Parameters
    ----------
    seed : int
        Random seed. The same ``seed`` and ``now`` (and other arguments) give an identical
        world. Resources (videos, players, ...) depend only on ``seed``, ``now``,
        ``days``, ``videos`` and ``live_streams``, not on the number of sessions.
    now : datetime-like, optional
        End of the timeline (UTC; a naive value is taken as UTC). Default: the current UTC
        time floored to the hour. Nothing happens after it.
    videos, live_streams : int
        How many videos (at least 1) and live streams.
    sessions : int
        Player sessions in total, video and live.
    days : float
        Sessions start over the ``days`` before ``now``.
    live_share : float
        Share of sessions that watch a live stream (0 when ``live_streams=0``).
    recent_share : float
        Share of sessions that start in the last 24 hours, so that the ``/data`` default
        window (the last day) holds data.
    reload_rate : float
        Chance that a tab is reloaded (a new ``ready`` in the same session, minutes to days
        later); each reload may be followed by another at the same rate (at most 4 loads).
    replay_rate : float
        Chance that a viewer who reaches the end presses replay (at most once).
    quirks : dict, bool or None
        Rates of the collector's quirks, see :data:`QUIRKS` (``None``/``True``: defaults,
        ``False``: every quirk off, a dict: override some rates).
    max_steps : int
        Most behaviour steps (pauses, scrubs, ...) one playback may take; a viewer still
        watching after that closes the tab.
    collector : str, default "textbook"
        How the player's integration reports what viewers did. ``"textbook"``: the legacy
        collector as documented (§1.4, §1.7), with the ``quirks`` rates. The others follow
        what real browsers send (§1.8, :data:`COLLECTORS`; ``quirks`` then only set
        ``lost_event`` and ``timeupdate_lag``): ``"hlsjs"`` (hls.js-plugin event mapping
        with ``destroy()`` on unload, a downloaded progressive file: in-play seeks carry a
        stale ``from``, the start of the stretch), ``"hlsjs_downloading"`` (the same, file
        still downloading: fresh origins), ``"hlsjs_plugin"`` (api.video's hls.js plugin:
        nothing sent on unload, events still queued then are lost) and ``"videojs"``
        (in-play seeks unreported). With a real profile, ``world.sessions["ended_at"]`` is
        the last ping the collector received, and ``world.meta["heartbeats"]`` holds the
        client's 10-s timer pings while playing (``session_id, heartbeat_at``).
    precision : {"legacy", "pings"}, default "legacy"
        ``"legacy"``: integer positions and whole-second ``emitted_at`` (the API's);
        ``"pings"``: float positions (ms) and millisecond times (what the SDK posts).
    reload_gap : float, optional
        Median seconds between a tab's playback and its reload (default: minutes to days,
        median 15 min); 3 means reloads within seconds, 3 * 86400 viewers back days later.
    rates : dict, optional
        Playback rate -> weight (default ``{1: 82, 1.25: 5, 1.5: 8, 2: 5}``); rates are
        never reported in the events.
    stalls : float, default 0.0
        Mean share of wall time a playing viewer spends stalled (buffering: time passes,
        the position does not, and nothing is reported).
    rate_changes : float, default 0.0
        Share of watched stretches (8 media seconds or more) during part of which the viewer
        switches to 2x and back, as the real-browser ``scrubber`` does; nothing is reported.
        The switch back is a media event, so the hls.js-like profiles' stale in-play seek
        origins are then its position, not the stretch's start.

    Returns
    -------
    World
        ``world.events`` holds the collector's events, grouped by session in list order,
        with the contract columns then ``video_id``, ``live_stream_id`` and ``quirk``
        (the quirk that produced or altered the row, ``"none"`` for a clean one).
        ``world.truth`` holds the true watched intervals (contract segment columns, then
        ``video_id``, ``live_stream_id``, ``rate``). ``world.sessions`` has the sessions
        columns with ``live_stream_id`` right after ``video_id``, listed in (nearly)
        ``loaded_at`` order; its ``metadata`` dicts are shared between sessions with the
        same values (copy one before changing it; live sessions have ``None``).
        ``world.meta`` holds the arguments (``"args"``), the resolved quirk rates
        (``"quirks"``), each video's behaviour profile (``"profiles"``: where viewers skip
        and what they rewatch) and the live broadcasts (``"broadcasts"``).

    Notes
    -----
    Quirk switches (``quirks=``; rates per opportunity, defaults in brackets):
    ``pause_at_target`` [0.9] a scrub's pause carries the target and the release time;
    ``seek_after_resume`` [0.85] the seek is listed after the resume it caused;
    ``pause_before_end`` [0.1] a pause at the duration right before ``end``;
    ``replay_seek`` [1.0] a replay after ``end`` adds ``seek.backward duration→0``;
    ``duplicate_pause`` [0.3] destroy() on close pauses again a paused player;
    ``lost_unload_pause`` [0.3] the pause of a tab closed while playing is lost;
    ``lost_event`` [0.002] any other event lost; ``broken_from`` [0.02] a seek's ``from``
    is stale (just below ``to``), 0 or missing; ``extra_ready`` [0.03] 1-2 extra
    ``ready`` before the first play; ``timeupdate_lag`` [0.25] seconds a pause's ``at``
    may lag; ``hidden_seek`` [0.0] an in-play scrub leaves no event at all.
    With ``quirks=False`` the events are clean: play/resume open at ``at``, pause/end
    close at ``at``, and they match ``world.truth`` exactly up to rounding to whole
    seconds.

    Examples
    --------
    >>> from apivideo_insights.sandbox import simulate
    >>> world = simulate(seed=1, now="2026-01-01T00:00Z", sessions=50)
    >>> len(world.sessions), world.events["session_id"].nunique()
    (50, 50)
    >>> bool((world.truth["start"] < world.truth["end"]).all())
    True
    """
    _check(seed, videos, live_streams, sessions, days, max_steps)
    for name, value in (
        ("live_share", live_share),
        ("recent_share", recent_share),
        ("reload_rate", reload_rate),
        ("replay_rate", replay_rate),
    ):
        if not 0 <= float(value) <= 1:
            raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
    q = resolve_quirks(quirks)
    form = _form(collector, precision, reload_gap, rates, stalls, rate_changes)
    stamp = _now(now)
    now_ns = int(stamp.value)

    res_rng = np.random.default_rng([seed, 1])
    resources = _resources(res_rng, stamp, videos, live_streams, days)
    profiles = resources.pop("profiles")
    windows = resources.pop("windows")

    rng = np.random.default_rng([seed, 2])
    n_live = round(sessions * live_share) if live_streams > 0 else 0
    n_video = sessions - n_live
    frames = _viewers(
        rng,
        now_ns=now_ns,
        n_video=n_video,
        n_live=n_live,
        days=float(days),
        recent_share=recent_share,
        reload_rate=reload_rate,
        replay_rate=replay_rate,
        q=q,
        form=form,
        max_steps=max_steps,
        profiles=profiles,
        windows=windows,
        video_ids=[v["videoId"] for v in resources["videos"]],
        durations=np.array(
            [
                resources["video_status"][v["videoId"]]["encoding"]["metadata"]["duration"]
                for v in resources["videos"]
            ],
            dtype=float,
        ),
        live_ids=[s["liveStreamId"] for s in resources["live_streams"]],
    )
    meta = {
        "args": {
            "videos": videos,
            "live_streams": live_streams,
            "sessions": sessions,
            "days": days,
            "live_share": live_share,
            "recent_share": recent_share,
            "reload_rate": reload_rate,
            "replay_rate": replay_rate,
            "max_steps": max_steps,
            "collector": collector,
            "precision": precision,
            "reload_gap": reload_gap,
            "rates": dict(form["rates"]),
            "stalls": stalls,
            "rate_changes": rate_changes,
        },
        "quirks": q,
        "profiles": profiles,
        "broadcasts": [
            {
                "liveStreamId": resources["live_streams"][j]["liveStreamId"],
                "start": stamp + pd.Timedelta(seconds=begin),
                "end": stamp + pd.Timedelta(seconds=begin + length),
            }
            for j, begin, length in windows
        ],
    }
    heartbeats = frames.pop("heartbeats", None)
    if heartbeats is not None:
        meta["heartbeats"] = heartbeats
    return World(seed=seed, now=stamp, meta=meta, **resources, **frames)


_DEFAULT_RATES: dict[float, float] = {1.0: 82, 1.25: 5, 1.5: 8, 2.0: 5}


def _form(
    collector: Any,
    precision: Any,
    reload_gap: Any,
    rates: Any,
    stalls: Any,
    rate_changes: Any,
) -> dict[str, Any]:
    """How the stream is written: the collector profile, precision and viewer variants."""
    if collector != "textbook" and collector not in COLLECTORS:
        raise ValueError(
            f"collector must be 'textbook' or one of {sorted(COLLECTORS)}, not {collector!r}"
        )
    if precision not in ("legacy", "pings"):
        raise ValueError(f'precision must be "legacy" or "pings", not {precision!r}')
    if reload_gap is not None and not (
        isinstance(reload_gap, int | float) and np.isfinite(reload_gap) and reload_gap > 0
    ):
        raise ValueError(f"reload_gap must be a positive number of seconds, not {reload_gap!r}")
    mix = dict(_DEFAULT_RATES if rates is None else rates)
    if not mix or any(not (0 < float(r) <= 4) or float(w) < 0 for r, w in mix.items()):
        raise ValueError(f"rates must map rates in (0, 4] to weights >= 0, not {rates!r}")
    if not (isinstance(stalls, int | float) and 0 <= stalls < 1):
        raise ValueError(f"stalls must be a share in [0, 1), not {stalls!r}")
    if not (isinstance(rate_changes, int | float) and 0 <= rate_changes <= 1):
        raise ValueError(f"rate_changes must be a share in [0, 1], not {rate_changes!r}")
    return {
        "collector": collector,
        "precision": precision,
        "reload_gap": reload_gap,
        "rates": {float(r): float(w) for r, w in mix.items()},
        "stalls": float(stalls),
        "rate_changes": float(rate_changes),
    }


# --------------------------------------------------------------------------------------
# Arguments


def _check(
    seed: Any, videos: Any, live_streams: Any, sessions: Any, days: Any, max_steps: Any
) -> None:
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer, not {seed!r}")
    for name, value, low in (
        ("videos", videos, 1),
        ("live_streams", live_streams, 0),
        ("sessions", sessions, 0),
        ("max_steps", max_steps, 2),
    ):
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise TypeError(f"{name} must be an integer, not {value!r}")
        if value < low:
            raise ValueError(f"{name} must be at least {low}, not {value!r}")
    if not isinstance(days, int | float | np.number) or not days > 0:
        raise ValueError(f"days must be a positive number of days, not {days!r}")


def _now(now: Any) -> pd.Timestamp:
    if now is None:
        return pd.Timestamp.now(tz="UTC").floor("h")
    if not isinstance(now, str | datetime | pd.Timestamp | np.datetime64):
        raise TypeError(f"now must be a datetime, Timestamp or ISO string, not {now!r}")
    stamp = pd.Timestamp(now)
    if stamp is pd.NaT:
        raise ValueError("now must be a real time, not NaT")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# --------------------------------------------------------------------------------------
# Ids and small resources


def _id_bytes(rng: np.random.Generator, prefix: str, n: int, length: int) -> np.ndarray:
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    body = _BASE62[rng.integers(0, 62, size=(n, length), dtype=np.uint8)]
    return np.ascontiguousarray(
        np.concatenate([np.broadcast_to(head, (n, len(head))), body], axis=1)
    )


def _ids(rng: np.random.Generator, prefix: str, n: int, length: int = 22) -> list[str]:
    """``n`` api.video-style ids: the prefix then ``length`` base62 characters."""
    raw = _id_bytes(rng, prefix, n, length)
    return [bytes(row).decode() for row in raw]


def _id_strings(rng: np.random.Generator, prefix: str, n: int, length: int = 22) -> pd.Series:
    """Like :func:`_ids`, as a string column built straight from the bytes (fast)."""
    raw = _id_bytes(rng, prefix, n, length)
    width = raw.shape[1]
    if not _ARROW_STR:
        return to_str(pd.Series(raw.view(f"S{width}").ravel().astype(str), dtype=object))
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw.tobytes()))
    return pd.Series(pd.array(arr, dtype=STR))


def _atom(stamp: pd.Timestamp) -> str:
    return str(stamp.floor("s").strftime("%Y-%m-%dT%H:%M:%S+00:00"))


def _uuid(rng: np.random.Generator) -> str:
    h = rng.bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _resources(
    rng: np.random.Generator, now: pd.Timestamp, n_videos: int, n_live: int, days: float
) -> dict[str, Any]:
    """Players, live streams, videos, statuses, captions, chapters, tokens, webhooks."""
    before = now - pd.Timedelta(days=float(days))

    def past(lo_days: float, hi_days: float) -> pd.Timestamp:
        return before - pd.Timedelta(seconds=float(rng.uniform(lo_days, hi_days)) * _DAY)

    players = []
    for i, pid in enumerate(_ids(rng, "pl", 3)):
        created = past(200, 400)
        players.append(
            {
                "playerId": str(pid),
                "name": ["Default", "Dark & <bold>", "Marketing — été"][i],
                "text": "rgba(255, 255, 255, .95)",
                "link": "rgba(255, 0, 0, .95)",
                "linkHover": "rgba(255, 255, 255, .75)",
                "linkActive": "rgba(255, 0, 0, .75)",
                "trackPlayed": "rgba(88, 131, 255, .95)",
                "trackUnplayed": "rgba(255, 255, 255, .35)",
                "trackBackground": "rgba(255, 255, 255, .2)",
                "backgroundTop": "rgba(72, 4, 45, 1)",
                "backgroundBottom": "rgba(94, 95, 89, 1)",
                "backgroundText": "rgba(255, 255, 255, .95)",
                "enableApi": True,
                "enableControls": True,
                "forceAutoplay": False,
                "hideTitle": i == 1,
                "forceLoop": False,
                "createdAt": _atom(created),
                "updatedAt": _atom(created + pd.Timedelta(days=float(rng.uniform(0, 30)))),
                "assets": {"logo": "logo.png", "link": "https://example.com/?a=1&b=<2>"},
            }
        )
    player_ids = [p["playerId"] for p in players]

    live_streams: list[dict[str, Any]] = []
    windows: list[tuple[int, float, float]] = []
    for j, lid in enumerate(_ids(rng, "li", n_live)):
        created = past(60, 200)
        broadcasting = j == 0
        live_streams.append(
            {
                "liveStreamId": str(lid),
                "name": ["Weekly town hall", "Conférence & <live> 24/7"][j % 2]
                + ("" if j < 2 else f" {j}"),
                "streamKey": _uuid(rng),
                "public": True,
                "playerId": player_ids[j % len(player_ids)],
                "broadcasting": broadcasting,
                "restreams": (
                    [
                        {
                            "name": "YouTube",
                            "serverUrl": "rtmp://youtube.broadcast.example.com",
                            "streamKey": _uuid(rng),
                        }
                    ]
                    if j == 0
                    else []
                ),
                "assets": {
                    "hls": f"https://live.api.video/{lid}.m3u8",
                    "iframe": f'<iframe src="https://embed.api.video/live/{lid}" width="100%" '
                    'height="100%" frameborder="0" scrolling="no" allowfullscreen=""></iframe>',
                    "player": f"https://embed.api.video/live/{lid}",
                    "thumbnail": f"https://live.api.video/{lid}/thumbnail.jpg",
                },
                "createdAt": _atom(created),
                "updatedAt": _atom(now - pd.Timedelta(hours=float(rng.uniform(1, 48)))),
            }
        )
        # One broadcast a day at a fixed hour; stream 0 is live right now.
        length = float(rng.uniform(1.0, 2.5)) * 3600
        first = now.floor("D") - pd.Timedelta(days=int(np.ceil(days)))
        hour = float(rng.uniform(8, 20)) * 3600
        for day in range(int(np.ceil(days)) + 1):
            start = first + pd.Timedelta(days=day, seconds=hour)
            if start < now and start >= now - pd.Timedelta(days=float(days)):
                windows.append((j, (start - now).total_seconds(), length))
        if broadcasting:
            windows.append((j, -0.6 * length, length))

    titles = cat.VIDEO_TITLES
    video_list: list[dict[str, Any]] = []
    status: dict[str, dict[str, Any]] = {}
    captions: dict[str, list[dict[str, Any]]] = {}
    chapters: dict[str, list[dict[str, Any]]] = {}
    vtt: dict[tuple[str, str], str] = {}
    profiles: dict[str, dict[str, float]] = {}
    vids = _ids(rng, "vi", n_videos)
    durations = np.where(
        rng.random(n_videos) < 0.5,
        rng.integers(30, 300, n_videos),
        rng.integers(300, 1801, n_videos),
    )
    for i, vid in enumerate(vids):
        vid = str(vid)
        d = int(durations[i])
        created = past(1, 300)
        published = created + pd.Timedelta(minutes=float(rng.uniform(1, 30)))
        title = titles[i % len(titles)] + ("" if i < len(titles) else f" ({i // len(titles)})")
        tags = sorted(
            set(rng.choice(["tutorial", "api", "live", "été", "<b>bold</b>", "maths"], 2))
        )
        from_live = n_live > 0 and i == n_videos - 1 and n_videos > 2
        source: dict[str, Any] = {"uri": f"/videos/{vid}/source", "type": "upload"}
        if from_live:
            lid = live_streams[0]["liveStreamId"]
            source = {
                "type": "live",
                "liveStream": {
                    "liveStreamId": lid,
                    "links": [{"rel": "self", "uri": f"/live-streams/{lid}"}],
                },
            }
        video_list.append(
            {
                "videoId": vid,
                "createdAt": _atom(created),
                "title": title,
                "description": [
                    "An amazing video explaining string theory.",
                    'Tips & tricks: use <video> tags and "quotes" safely.',
                    "Une vidéo — avec des caractères accentués.",
                    "",
                ][i % 4],
                "publishedAt": _atom(published),
                "updatedAt": _atom(
                    min(published + pd.Timedelta(days=float(rng.uniform(0, 5))), now)
                ),
                "discardedAt": None,
                "deletesAt": None,
                "discarded": False,
                "language": ["en", "fr", "ja", "en"][i % 4],
                "languageOrigin": ["api", "auto", None][i % 3],
                "tags": [str(t) for t in tags],
                "metadata": [
                    {"key": "Author", "value": ["John Doe", "Zoë Ångström", "<Admin>"][i % 3]},
                    {"key": "Format", "value": ["Tutorial", "Webinar", "Keynote"][i % 3]},
                ],
                "source": source,
                "assets": {
                    "iframe": f'<iframe src="https://embed.api.video/vod/{vid}" width="100%" '
                    'height="100%" frameborder="0" scrolling="no" allowfullscreen=""></iframe>',
                    "player": f"https://embed.api.video/vod/{vid}",
                    "hls": f"https://cdn.api.video/vod/{vid}/hls/manifest.m3u8",
                    "thumbnail": f"https://cdn.api.video/vod/{vid}/thumbnail.jpg",
                    "mp4": f"https://cdn.api.video/vod/{vid}/mp4/source.mp4",
                },
                "playerId": player_ids[i % len(player_ids)],
                "public": bool(i % 5 != 4),
                "panoramic": False,
                "mp4Support": True,
            }
        )
        size = int(d * rng.uniform(1.5e5, 6e5))
        status[vid] = {
            "ingest": {
                "status": "uploaded" if not from_live else "ingested",
                "filesize": size,
                "receivedBytes": [{"from": 0, "to": size - 1, "total": size}],
                "receivedParts": {"parts": [1], "total": 1},
            },
            "encoding": {
                "playable": True,
                "qualities": [
                    {"type": kind, "quality": qual, "status": "encoded"}
                    for kind in ("hls", "mp4")
                    for qual in ("360p", "720p", "1080p")
                ],
                "metadata": {
                    "width": 1920,
                    "height": 1080,
                    "bitrate": round(float(rng.uniform(800, 4500)), 3),
                    "duration": d,
                    "framerate": 30,
                    "samplerate": 48000,
                    "videoCodec": "h264",
                    "audioCodec": "aac",
                    "aspectRatio": "16/9",
                },
            },
        }
        if i % 2 == 0:
            langs = [("en", "English"), ("fr", "français"), ("ja", "日本語")][: 1 + i % 3]
            captions[vid] = [
                {
                    "uri": f"/videos/{vid}/captions/{code}",
                    "src": f"https://cdn.api.video/vod/{vid}/captions/{code}.vtt",
                    "srclang": code,
                    "languageName": name,
                    "default": k == 0,
                }
                for k, (code, name) in enumerate(langs)
            ]
        else:
            captions[vid] = []
        if i % 3 == 0:
            chapters[vid] = []
            for lang in ["en", "fr"][: 1 + (i % 2)]:
                chapters[vid].append(
                    {
                        "uri": f"/videos/{vid}/chapters/{lang}",
                        "src": f"https://cdn.api.video/vod/{vid}/chapters/{lang}.vtt",
                        "language": lang,
                    }
                )
                vtt[(vid, lang)] = _chapter_vtt(rng, d, lang)
        else:
            chapters[vid] = []
        profiles[vid] = _profile(rng, d)

    tokens = []
    for k, tok in enumerate(_ids(rng, "to", 3)):
        created = now - pd.Timedelta(days=float(rng.uniform(0.1, 20)))
        ttl = [3600, 0, 86400][k]
        item = {"token": str(tok), "ttl": ttl, "createdAt": _atom(created)}
        if ttl:
            item["expiresAt"] = _atom(created + pd.Timedelta(seconds=ttl))
        tokens.append(item)

    hooks = []
    for k in range(2):
        hid = "webhook_" + str(_ids(rng, "", 1, 15)[0])
        hooks.append(
            {
                "webhookId": hid,
                "createdAt": _atom(past(10, 100)),
                "events": [
                    ["video.encoding.quality.completed"],
                    ["live-stream.broadcast.started", "live-stream.broadcast.ended"],
                ][k],
                "url": ["https://hooks.example.com/notif?myquery=query&x=<1>", "https://ex.com/h"][
                    k
                ],
                "signatureSecret": "sig_sec_" + str(_ids(rng, "", 1, 16)[0]),
            }
        )
    return {
        "videos": video_list,
        "video_status": status,
        "live_streams": live_streams,
        "players": players,
        "upload_tokens": tokens,
        "webhooks": hooks,
        "captions": captions,
        "chapters": chapters,
        "chapter_vtt": vtt,
        "profiles": profiles,
        "windows": windows,
    }


_CHAPTER_TITLES = {
    "en": ("Introduction", "The problem", "Demo", "Q&A <live>", "Wrap-up"),
    "fr": ("Introduction", "Le problème", "Démo", "Questions & réponses", "Conclusion"),
}


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _chapter_vtt(rng: np.random.Generator, duration: int, lang: str) -> str:
    """WebVTT chapters covering ``[0, duration]``, 3 to 5 cues."""
    names = _CHAPTER_TITLES.get(lang, _CHAPTER_TITLES["en"])
    n = int(rng.integers(3, 6))
    # Jittered around even spacing, so that no two cuts round to the same second and every
    # chapter has a positive length (at least 0.4 * duration / n).
    cuts = (np.arange(1, n) + rng.uniform(-0.3, 0.3, n - 1)) * duration / n
    bounds = [0.0, *np.round(cuts).tolist(), float(duration)]
    lines = ["WEBVTT", ""]
    for k in range(n):
        lines += [str(k + 1), f"{_vtt_time(bounds[k])} --> {_vtt_time(bounds[k + 1])}"]
        lines += [names[k] if k < n - 1 else names[-1], ""]
    return "\n".join(lines)


def _profile(rng: np.random.Generator, d: int) -> dict[str, float]:
    """How viewers treat one video: where they skip, what they rewatch, when they leave."""
    if rng.random() < 0.6:  # a dull intro, right at the start or after a short logo
        a = float(rng.choice([0.0, rng.uniform(2, 8)]))
        b = a + max(8.0, float(rng.uniform(0.05, 0.15)) * d)
    else:  # a dull stretch in the middle
        a = float(rng.uniform(0.3, 0.6)) * d
        b = a + max(8.0, float(rng.uniform(0.05, 0.12)) * d)
    width = max(5.0, float(rng.uniform(0.03, 0.08)) * d)
    hot = float(rng.uniform(0.2, 0.85)) * d
    return {
        "skip_from": round(a, 3),
        "skip_to": round(min(b, 0.9 * d), 3),
        "skip_rate": round(float(rng.uniform(0.15, 0.5)), 3),
        "hot_start": round(max(0.0, hot - width / 2), 3),
        "hot_end": round(min(d - 1.0, hot + width / 2), 3),
        "rewatch_rate": round(float(rng.uniform(0.1, 0.3)), 3),
        "early_drop": round(float(rng.uniform(0.15, 0.35)), 3),
        "completion": round(float(rng.uniform(0.15, 0.45)), 3),
    }


# --------------------------------------------------------------------------------------
# Viewers


def _choice(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").clip(0, len(w) - 1)


#: Sessions simulated together. Chunks keep the working arrays in cache (the cost stays
#: linear in the number of sessions); the size is fixed so that a world depends only on its
#: arguments, not on the machine.
_CHUNK = 1 << 16


def _viewers(
    rng: np.random.Generator,
    *,
    now_ns: int,
    n_video: int,
    n_live: int,
    days: float,
    recent_share: float,
    reload_rate: float,
    replay_rate: float,
    q: dict[str, float],
    form: dict[str, Any],
    max_steps: int,
    profiles: dict[str, dict[str, float]],
    windows: list[tuple[int, float, float]],
    video_ids: list[str],
    live_ids: list[str],
    durations: np.ndarray,
) -> dict[str, pd.DataFrame]:
    """Sessions, events and truth: who watches what and when, then viewers chunk by chunk."""
    n = n_video + n_live
    is_live_s: np.ndarray = np.zeros(n, dtype=bool)
    is_live_s[n_video:] = True

    # What each session watches: videos by a Zipf-like popularity, live streams by window.
    n_v = len(video_ids)
    pop = 1.0 / (1 + rng.permutation(n_v)) ** 0.8
    media_s: np.ndarray = np.full(n, -1, dtype=np.int64)
    media_s[:n_video] = _choice(rng, pop, n_video)
    win = np.asarray(windows, dtype=float).reshape(-1, 3)
    join: np.ndarray = np.zeros(n)  # live: joining time, seconds relative to now
    remain: np.ndarray = np.zeros(n)
    if n_live:
        recent = win[:, 1] > -_DAY
        w = np.where(recent, recent_share / max(recent.sum(), 1), 0.0)
        w += np.where(~recent, (1 - recent_share) / max((~recent).sum(), 1), 0.0)
        pick = _choice(rng, w, n_live)
        start, length = win[pick, 1], win[pick, 2]
        stop = np.minimum(start + length, 0.0)
        jt = start + (stop - start) * rng.beta(1.0, 2.0, n_live)
        media_s[n_video:] = win[pick, 0].astype(np.int64)
        join[n_video:] = jt
        remain[n_video:] = start + length - jt

    # A nominal loadedAt per session (seconds relative to now), drawn first so that sessions
    # are simulated, and listed, in (nearly) loadedAt order. Video sessions spread over the
    # days (evenings busier) with a share in the last 24 h; those that would still be running
    # at now are moved earlier once their length is known. Live sessions start at joining.
    startup = rng.uniform(1.0, 3.0, n)  # from loadedAt to the first ready
    u = rng.random((n, 4))
    day_start = -((now_ns % (86400 * _NS)) / _NS)
    tod = np.where(u[:, 1] < 0.6, rng.normal(20.0, 3.0, n) % 24, u[:, 2] * 24) * 3600
    spread = day_start - np.floor(u[:, 0] * days) * _DAY + tod
    spread = np.where(spread > 0, spread - _DAY, spread)
    nominal = np.where(u[:, 3] < recent_share, -u[:, 2] * _DAY, spread)
    nominal = np.where(is_live_s, join - startup, nominal)
    order = np.argsort(nominal, kind="stable")
    is_live_s, media_s, join = is_live_s[order], media_s[order], join[order]
    remain, nominal, startup = remain[order], nominal[order], startup[order]

    prof = {
        key: np.array([profiles[v][key] for v in video_ids])
        for key in next(iter(profiles.values()))
    }
    bounds = list(range(0, n, _CHUNK)) or [0]
    parts = []
    for lo, chunk_rng in zip(bounds, rng.spawn(len(bounds)), strict=True):
        hi = min(n, lo + _CHUNK)
        part = _chunk(
            chunk_rng,
            now_ns=now_ns,
            is_live_s=is_live_s[lo:hi],
            media_s=media_s[lo:hi],
            remain=remain[lo:hi],
            nominal=nominal[lo:hi],
            startup=startup[lo:hi],
            durations=durations,
            prof=prof,
            reload_rate=reload_rate,
            replay_rate=replay_rate,
            q=q,
            form=form,
            max_steps=max_steps,
        )
        part["e_sess"] += lo
        part["t_sess"] += lo
        if "h_sess" in part:
            part["h_sess"] += lo
        parts.append(part)
    merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return _frames(
        rng,
        now_ns=now_ns,
        is_live_s=is_live_s,
        media_s=media_s,
        video_ids=video_ids,
        live_ids=live_ids,
        **merged,
    )


@dataclass
class _Playbacks:
    """Per-playback traits of the viewers of a chunk (one row per load of a tab)."""

    sess: np.ndarray  # session (local index)
    first: np.ndarray  # per session: its first playback
    k_in: np.ndarray  # playback number within its session
    loads: np.ndarray  # per session: number of playbacks
    live: np.ndarray  # a live stream (no seeking, rate 1)
    d: np.ndarray  # media duration (live: what is left of the broadcast)
    played: np.ndarray  # False: an impression only (ready, never played)
    rate: np.ndarray  # playback rate
    leave: np.ndarray  # position where the viewer gives up (inf: watches to the end)
    skip_at: np.ndarray  # position where they skip the dull zone (inf: never)
    skip_to: np.ndarray
    rew_left: np.ndarray  # rewatches of the hot spot left
    rew_at: np.ndarray
    rew_to: np.ndarray
    pause_every: np.ndarray  # mean media seconds between pauses (inf: never pauses)
    seek_every: np.ndarray  # mean media seconds between random seeks
    replays: np.ndarray  # replays after the end left
    idle: np.ndarray  # wall seconds from ready to the first play


def _playbacks(
    rng: np.random.Generator,
    *,
    is_live_s: np.ndarray,
    media_s: np.ndarray,
    remain: np.ndarray,
    durations: np.ndarray,
    prof: dict[str, np.ndarray],
    reload_rate: float,
    rates: Mapping[float, float] | None = None,
) -> _Playbacks:
    """Draw who each viewer is: when they leave, what they skip and rewatch, how they pause."""
    n = len(is_live_s)
    # Playbacks: one per load of the tab; reloads reuse the session.
    loads = np.ones(n, dtype=np.int64)
    more = ~is_live_s
    for _ in range(3):
        more &= rng.random(n) < reload_rate
        loads += more
    p_total = int(loads.sum())
    sess = np.repeat(np.arange(n), loads)
    first = np.cumsum(loads) - loads
    k_in = np.arange(p_total) - first[sess]
    live = is_live_s[sess]
    media = media_s[sess]

    vi = np.where(live, 0, media)  # a video index (any, for live rows: masked out below)
    d = np.where(live, np.maximum(remain[sess], 1.0), durations[vi])

    u = rng.random((p_total, 16))
    played = u[:, 0] >= np.where(k_in == 0, 0.08, 0.35)  # impressions only (reloads: often)
    mix = _DEFAULT_RATES if rates is None else rates
    rate = np.where(
        live,
        1.0,
        np.array(list(mix), dtype=float)[_choice(rng, list(mix.values()), p_total)],
    )
    # Where the viewer gives up: early drop-off, completion, or a gradual decay in between.
    early = u[:, 1] < np.where(live, 0.2, prof["early_drop"][vi])
    complete = ~early & (
        u[:, 1] < np.where(live, 0.3, prof["early_drop"][vi] + prof["completion"][vi])
    )
    leave = np.where(
        early,
        d * 0.2 * u[:, 2] ** 1.5,
        np.where(complete, _INF, d * rng.beta(1.3, 1.6, p_total)),
    )
    leave = np.where(live & ~complete, rng.lognormal(np.log(600), 1.0, p_total), leave)
    leave = np.maximum(leave, 1.0)
    skip_at = np.where(
        ~live & (u[:, 3] < prof["skip_rate"][vi]), prof["skip_from"][vi] + 3 * u[:, 4], _INF
    )
    skip_to = prof["skip_to"][vi] + rng.uniform(-2, 4, p_total)
    rew_left = np.where(~live & (u[:, 5] < prof["rewatch_rate"][vi]), 1 + (u[:, 6] < 0.3), 0)
    rew_at = prof["hot_end"][vi] + 5 * u[:, 7]
    rew_to = np.maximum(prof["hot_start"][vi] - 3 * u[:, 8], 0.0)
    pause_every = np.where(
        u[:, 9] < np.where(live, 0.15, 0.5), rng.lognormal(np.log(150), 0.8, p_total), _INF
    )
    seek_every = np.where(live, _INF, 2400.0)
    replays = np.where(live, 0, 1)
    idle = np.where(
        u[:, 10] < 0.04,
        rng.uniform(600, 14 * 3600, p_total),
        rng.lognormal(np.log(2.0), 0.8, p_total),
    )
    idle = np.where(live, rng.uniform(0.3, 2, p_total), idle)

    return _Playbacks(
        sess=sess,
        first=first,
        k_in=k_in,
        loads=loads,
        live=live,
        d=d,
        played=played,
        rate=rate,
        leave=leave,
        skip_at=skip_at,
        skip_to=skip_to,
        rew_left=rew_left,
        rew_at=rew_at,
        rew_to=rew_to,
        pause_every=pause_every,
        seek_every=seek_every,
        replays=replays,
        idle=idle,
    )


def _behave(
    rng: np.random.Generator,
    pb: _Playbacks,
    *,
    replay_rate: float,
    max_steps: int,
    stalls: float = 0.0,
    rate_changes: float = 0.0,
) -> tuple[list[Transitions], tuple[list[np.ndarray], ...], np.ndarray, np.ndarray, np.ndarray]:
    """Run the viewers step by step, every active playback at once.

    Each step, a playing viewer watches up to the first of: leaving, the dull zone (skip
    it), the end of the hot spot (scrub back to rewatch it), a pause, a random seek, the
    end. Returns the transitions of every step, the true stretches (lists of arrays: pb,
    start, end, t0, t1, rate), and per playback the end of its activity (``span``), the
    kind of its last transition and when it last stopped playing.
    """
    p_total = len(pb.sess)
    live, d, played, rate, idle = pb.live, pb.d, pb.played, pb.rate, pb.idle
    leave, skip_at, skip_to = pb.leave.copy(), pb.skip_at.copy(), pb.skip_to
    rew_left, rew_at, rew_to = pb.rew_left.copy(), pb.rew_at, pb.rew_to
    pause_every, seek_every, replays = pb.pause_every, pb.seek_every, pb.replays.copy()
    # Step 0: ready at 0 then (maybe) the first play after an idle gap.
    pos = np.zeros(p_total)
    clock = np.where(played, idle, 0.0)
    steps: list[Transitions] = [
        Transitions(
            pb=np.arange(p_total),
            kind=np.where(played, KIND["open_play"], KIND["open_only"]).astype(np.int8),
            x=np.zeros(p_total),
            y=np.zeros(p_total),
            t_stop=np.zeros(p_total),
            t_res=clock.copy(),
            t_close=np.zeros(p_total),
            duration=d,
        )
    ]
    final_kind = np.where(played, -1, KIND["open_only"]).astype(np.int8)
    span = np.where(played, clock, 0.0)  # last activity or tab close, relative to the ready
    stop_t = np.zeros(p_total)  # when playback last stopped
    truth: tuple[list[np.ndarray], ...] = ([], [], [], [], [], [])  # pb, start, end, t0, t1, rate
    active = np.flatnonzero(played)
    if stalls > 0:
        # Buffering: a share of each playing viewer's wall time passes with no progress
        # (its own generator, so that the other draws of a world stay the same).
        stall_rng = np.random.default_rng(rng.integers(2**63))
        slow = 1.0 - np.minimum(stall_rng.exponential(stalls, p_total), 0.8)
        rate = rate * np.where(live, 1.0, slow)
    # Switches to 2x and back within a stretch: a generator spawned from the world's seed,
    # so that the viewers (every other draw) stay the same with or without them.
    switch_rng = None
    if rate_changes > 0:
        seeds = rng.bit_generator.seed_seq
        assert isinstance(seeds, np.random.SeedSequence)  # default_rng's, never a legacy one
        switch_rng = np.random.default_rng(seeds.spawn(1)[0])
    for step in range(1, max_steps + 1):
        if active.size == 0:
            break
        m = active.size
        p, t, dd, r = pos[active], clock[active], d[active], rate[active]
        lv = leave[active]
        c_skip = np.where(skip_at[active] >= p, skip_at[active], _INF)
        c_rew = np.where((rew_left[active] > 0) & (rew_at[active] > p), rew_at[active], _INF)
        c_pause = p + rng.exponential(1.0, m) * pause_every[active]
        c_seek = p + rng.exponential(1.0, m) * seek_every[active]
        cand = np.stack([np.minimum(lv, dd), c_skip, c_rew, c_pause, c_seek, dd])
        what = np.argmin(cand, axis=0)
        x = np.clip(cand[what, np.arange(m)], p, dd)
        if step == max_steps:
            what = np.where(x >= dd, 5, 0)
        at_end = x >= dd
        what = np.where(at_end, 5, what)
        t_stop = t + (x - p) / r
        origin, r_true = p, r
        if switch_rng is not None:
            t_stop, origin, r_true = _switch_rates(
                switch_rng, p, x, t, t_stop, r, live[active], share=rate_changes
            )
        watched = x > p
        for store, values in zip(truth, (active, p, x, t, t_stop, r_true), strict=True):
            store.append(values[watched])

        uu = rng.random((m, 6))
        kind = np.full(m, KIND["scrub"], dtype=np.int8)
        y = x.copy()
        t_res = t_stop + 0.2 + 1.3 * uu[:, 0]  # a scrub takes a moment
        t_close = t_stop.copy()
        # 0 leave
        lv_now = what == 0
        paused_leave = lv_now & (uu[:, 1] < np.where(live[active], 0.2, 0.35))
        kind[lv_now] = KIND["leave_playing"]
        kind[paused_leave] = KIND["leave_paused"]
        linger = rng.lognormal(np.log(90), 1.2, m)
        t_close = np.where(paused_leave, t_stop + linger, t_close)
        # 1 skip the dull zone
        sk = what == 1
        y = np.where(sk, np.clip(skip_to[active], x, dd - 1), y)
        skip_at[active[sk]] = _INF
        # 2 rewatch the hot spot
        rw = what == 2
        y = np.where(rw, np.minimum(rew_to[active], x), y)
        rew_left[active[rw]] -= 1
        # 3 pause, sometimes scrubbing while paused
        pz = what == 3
        kind[pz] = KIND["pause"]
        pause_len = np.where(
            uu[:, 2] < 0.03, rng.uniform(600, 4 * 3600, m), rng.lognormal(np.log(8), 1.3, m)
        )
        jump = np.minimum(x + 5 + 0.2 * dd * uu[:, 4], dd - 1)
        moved = pz & ~live[active] & (uu[:, 3] < 0.12) & (jump > x + 2)
        y = np.where(moved, jump, y)
        t_res = np.where(pz, t_stop + pause_len, t_res)
        # 4 a random seek, forward more often than back
        sr = what == 4
        ahead = x + 10 + 0.1 * dd * uu[:, 4]
        back = np.maximum(x - 5 - 0.1 * dd * uu[:, 4], 0.0)
        can_ahead, can_back = ahead < dd - 1, back < x - 2
        fwd = can_ahead & ((uu[:, 5] < 0.6) | ~can_back)
        y = np.where(sr, np.where(fwd, ahead, back), y)
        # Nowhere to seek to (a very short video): a pause instead.
        stuck = sr & ~can_ahead & ~can_back
        kind[stuck] = KIND["pause"]
        y = np.where(stuck, x, y)
        t_res = np.where(stuck, t_stop + pause_len, t_res)
        # 5 the end
        en = what == 5
        again = en & (replays[active] > 0) & (rng.random(m) < replay_rate)
        kind[en] = KIND["end_stop"]
        kind[again] = KIND["end_replay"]
        y = np.where(en, np.where(again, 0.0, dd), y)
        x = np.where(en, dd, x)
        t_res = np.where(again, t_stop + 0.5 + 3.5 * uu[:, 0], t_res)
        t_close = np.where(en & ~again, t_stop + linger, t_close)
        replays[active[again]] -= 1
        new_leave = np.where(again, dd * np.maximum(rng.random(m), 0.05), lv)
        # A viewer who scrubbed past the point where they would have left watches a bit more.
        past = (sk | sr | moved) & (lv <= y)
        new_leave = np.where(past, y + rng.exponential(0.08, m) * dd + 1, new_leave)
        leave[active] = new_leave

        steps.append(
            Transitions(
                pb=active,
                kind=kind,
                x=x,
                y=y,
                t_stop=t_stop,
                t_res=t_res,
                t_close=t_close,
                duration=dd,
                p=p,
                t_start=t,
                origin=origin,
            )
        )
        stopping = lv_now | (en & ~again)
        final_kind[active[stopping]] = kind[stopping]
        stop_t[active[stopping]] = t_stop[stopping]
        span[active] = np.where(stopping, t_close, t_res)
        keep = ~stopping
        pos[active[keep]] = y[keep]
        clock[active[keep]] = t_res[keep]
        active = active[keep]

    return steps, truth, span, final_kind, stop_t


def _switch_rates(
    rng: np.random.Generator,
    p: np.ndarray,
    x: np.ndarray,
    t: np.ndarray,
    t_stop: np.ndarray,
    r: np.ndarray,
    live: np.ndarray,
    *,
    share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stretches ``[p, x]`` of which a middle part ``[q1, q2]`` plays at 2x: when they
    stop, the position at the switch back (the last media event before any in-play seek)
    and their mean rate."""
    m = len(p)
    span = x - p
    u = rng.random((m, 3))
    fast = ~live & (r < 2.0) & (span >= 8.0) & (u[:, 0] < share)
    q1 = p + span * (0.2 + 0.3 * u[:, 1])
    q2 = q1 + span * (0.2 + 0.2 * u[:, 2])
    saved = (q2 - q1) * (1.0 / r - 0.5)
    t_stop = np.where(fast, t_stop - saved, t_stop)
    origin = np.where(fast, q2, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_rate = np.where(fast, span / (t_stop - t), r)
    return t_stop, origin, mean_rate


def _chunk(
    rng: np.random.Generator,
    *,
    now_ns: int,
    is_live_s: np.ndarray,
    media_s: np.ndarray,
    remain: np.ndarray,
    nominal: np.ndarray,
    startup: np.ndarray,
    durations: np.ndarray,
    prof: dict[str, np.ndarray],
    reload_rate: float,
    replay_rate: float,
    q: dict[str, float],
    form: dict[str, Any],
    max_steps: int,
) -> dict[str, np.ndarray]:
    """Simulate a run of sessions: viewers step by step, then their events, then the clock.

    Returns flat arrays: events (``e_*``, times relative to now), truth (``t_*``) and per
    session ``start`` and ``end`` (relative to now); session indices are local.
    """
    n = len(is_live_s)
    pb = _playbacks(
        rng,
        is_live_s=is_live_s,
        media_s=media_s,
        remain=remain,
        durations=durations,
        prof=prof,
        reload_rate=reload_rate,
        rates=form["rates"],
    )
    steps, truth, span, final_kind, stop_t = _behave(
        rng,
        pb,
        replay_rate=replay_rate,
        max_steps=max_steps,
        stalls=form["stalls"],
        rate_changes=form["rate_changes"],
    )
    collector = form["collector"]
    sess, first, k_in, loads = pb.sess, pb.first, pb.k_in, pb.loads
    p_total = len(sess)

    # Events: each transition reserves the slots of its events right after the previous
    # transition of its playback, so the collector writes every event straight into its
    # final row: a counting sort by (playback, step, slot), no global sort.
    widths = [reserve(tr, q, rng, collector) for tr in steps]
    slots = np.zeros(p_total, dtype=np.int64)
    for tr, w in zip(steps, widths, strict=True):
        slots[tr.pb] += w
    slot_start = np.cumsum(slots) - slots
    out = EventArrays.empty(int(slots.sum()))
    run = np.zeros(p_total, dtype=np.int64)
    for tr, w in zip(steps, widths, strict=True):
        emit(tr, slot_start[tr.pb] + run[tr.pb], out, q, rng, collector)
        run[tr.pb] += w
    filled = out.type >= 0
    e_count = (
        np.add.reduceat(filled, slot_start, dtype=np.int64) if p_total else np.zeros(0, np.int64)
    )
    e_pb = np.repeat(np.arange(p_total), e_count)
    e_type, e_at, e_from, e_to, e_t, e_q = (
        v[filled] for v in (out.type, out.at, out.seek_from, out.seek_to, out.t, out.quirk)
    )
    del out, filled
    real = collector != "textbook"
    if real and COLLECTORS[collector].lose_queued and len(e_pb):
        # No unload handler: what was still queued when a playing tab closed is lost.
        closed_playing_pb = final_kind == KIND["leave_playing"]
        lost = queued_at_close(e_pb, e_type, e_t, stop_t, closed_playing_pb)
        if lost.any():
            keep_e = ~lost
            e_pb, e_type, e_at, e_from, e_to, e_t, e_q = (
                v[keep_e] for v in (e_pb, e_type, e_at, e_from, e_to, e_t, e_q)
            )
            e_count = np.bincount(e_pb, minlength=p_total).astype(np.int64)
    # When each playback's last event happens (relative to its ready; ready is never lost).
    last_t = e_t[np.cumsum(e_count) - 1] if p_total else np.zeros(0)

    # Offsets of each playback's ready from the session's loadedAt: a startup delay, then
    # for reloads the previous playback's span and a gap of minutes to days.
    gap = np.minimum(rng.lognormal(np.log(900), 2.0, p_total), 5 * _DAY)
    if form["reload_gap"] is not None:
        # The same draws, squeezed around the chosen median (a world's other draws stay).
        z = (np.log(gap) - np.log(900)) / 2.0
        gap = np.minimum(float(form["reload_gap"]) * np.exp(0.5 * z), 30 * _DAY)
    lead = np.where(k_in == 0, startup[sess], gap)
    a = np.cumsum(lead)
    b_ = np.cumsum(span) - span
    pb_off = (a - (a[first] - lead[first])[sess]) + (b_ - b_[first][sess])
    last = first + loads - 1
    ping = rng.uniform(0.0, 10.0, n)
    closed_playing = final_kind[last] == KIND["leave_playing"]
    end_rel = pb_off[last] + np.where(
        closed_playing, stop_t[last], np.maximum(last_t[last], stop_t[last]) + ping
    )
    if real:
        # The session ends at the last ping the collector received: the last event sent
        # at once (ready, pause, end), or the last timer ping while playing.
        end_rel = pb_off[last] + _last_ping(e_pb, e_type, e_t, truth, p_total)[last]
    # Video sessions end by now: those that would not are moved earlier.
    latest = -end_rel - 1.0 - rng.uniform(0, 600, n)
    start = np.where(is_live_s, nominal, np.minimum(nominal, latest))

    e_rel = (start[sess] + pb_off)[e_pb] + e_t

    # Truth: one row per stretch, same ordering.
    n_truth = int(sum(c.size for c in truth[0]))
    tr_start = _exclusive_cumsum(
        np.bincount(np.concatenate([np.zeros(0, np.int64), *truth[0]]), minlength=p_total)
    )
    t_pb = np.empty(n_truth, dtype=np.int64)
    t_s, t_e, t_0, t_1, t_r = (np.empty(n_truth) for _ in range(5))
    run[:] = 0
    for chunk, *values in zip(*truth, strict=True):
        where = tr_start[chunk] + run[chunk]
        run[chunk] += 1
        for dst, v in zip((t_pb, t_s, t_e, t_0, t_1, t_r), (chunk, *values), strict=True):
            dst[where] = v
    base = start[sess[t_pb]] + pb_off[t_pb]
    t_0, t_1 = base + t_0, base + t_1

    # Nothing happens after now (a broadcast still on air): cut events and stretches there.
    e_sess = sess[e_pb]
    keep = e_rel <= 0
    if not keep.all():
        e_sess, e_type, e_at, e_from, e_to, e_rel, e_q = (
            v[keep] for v in (e_sess, e_type, e_at, e_from, e_to, e_rel, e_q)
        )
    t_e = np.where(t_1 > 0, t_s + (0 - t_0) * t_r, t_e)
    t_1 = np.minimum(t_1, 0.0)
    keep = (t_0 < 0) & (t_e > t_s)
    if not keep.all():
        t_pb, t_s, t_e, t_0, t_1, t_r = (v[keep] for v in (t_pb, t_s, t_e, t_0, t_1, t_r))

    # The API's integer positions and whole-second emittedAt (or the SDK's floats and
    # milliseconds); exact truth times.
    sub, whole = now_ns % _NS, now_ns - now_ns % _NS
    if form["precision"] == "pings":
        ms = 1_000_000
        pos = _milli32
        e_ns = (
            now_ns - now_ns % ms + np.floor(e_rel * 1e3 + (now_ns % ms) / ms).astype(np.int64) * ms
        )
    else:
        pos = _integer32
        e_ns = np.floor(e_rel + sub / _NS).astype(np.int64) * _NS + whole
    extra: dict[str, np.ndarray] = {}
    if real:
        h_pb, h_t = _heartbeats(truth, stalls=form["stalls"])
        h_abs = (start[sess] + pb_off)[h_pb] + h_t
        h_keep = h_abs <= 0
        extra["h_sess"] = sess[h_pb[h_keep]]
        extra["h_ns"] = now_ns + np.round(h_abs[h_keep] * 1e9).astype(np.int64)
    return {
        **extra,
        "e_sess": e_sess,
        "e_type": e_type,
        "e_at": pos(e_at),
        "e_from": pos(e_from),
        "e_to": pos(e_to),
        "e_ns": e_ns,
        "e_q": e_q,
        "t_sess": sess[t_pb],
        "t_playback": k_in[t_pb],
        "t_s": t_s,
        "t_e": t_e,
        "t_0": now_ns + np.round(t_0 * 1e9).astype(np.int64),
        "t_1": now_ns + np.round(t_1 * 1e9).astype(np.int64),
        "t_r": t_r,
        "start": start,
        "end": np.minimum(start + end_rel, 0.0),
    }


def _stretch_ticks(
    truth: tuple[list[np.ndarray], ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per true stretch: its playback, and the first and last timer tick inside it (the
    client pings every ``PING_INTERVAL`` s since the ready while playing)."""
    if not truth[0]:
        z = np.zeros(0)
        return z.astype(np.int64), z, z
    t_pb = np.concatenate(truth[0])
    t0 = np.concatenate(truth[3])
    t1 = np.concatenate(truth[4])
    first = np.floor(t0 / PING_INTERVAL) + 1
    last = np.floor(t1 / PING_INTERVAL)
    return t_pb, first, last


def _last_ping(
    e_pb: np.ndarray,
    e_type: np.ndarray,
    e_t: np.ndarray,
    truth: tuple[list[np.ndarray], ...],
    p_total: int,
) -> np.ndarray:
    """When the collector heard last of each playback (relative to its ready): the last
    event sent at once (ready, pause, end) or the last timer ping while playing."""
    out = np.zeros(p_total)
    flush = (e_type == 0) | (e_type == 2) | (e_type == 6)
    np.maximum.at(out, e_pb[flush], e_t[flush])
    t_pb, first, last = _stretch_ticks(truth)
    ok = last >= first
    np.maximum.at(out, t_pb[ok], last[ok] * PING_INTERVAL)
    return out


def _heartbeats(
    truth: tuple[list[np.ndarray], ...], *, stalls: float
) -> tuple[np.ndarray, np.ndarray]:
    """Every timer ping while playing: (playback, time since its ready)."""
    t_pb, first, last = _stretch_ticks(truth)
    count = np.maximum(last - first + 1, 0).astype(np.int64)
    h_pb = np.repeat(t_pb, count)
    k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    h_t = (np.repeat(first, count) + k) * PING_INTERVAL
    order = np.lexsort((h_t, h_pb))
    return h_pb[order], h_t[order]


def _exclusive_cumsum(counts: np.ndarray) -> np.ndarray:
    return np.asarray(np.cumsum(counts) - counts)


def _frames(
    rng: np.random.Generator,
    *,
    now_ns: int,
    is_live_s: np.ndarray,
    media_s: np.ndarray,
    video_ids: list[str],
    live_ids: list[str],
    **a: np.ndarray,
) -> dict[str, pd.DataFrame]:
    """The sessions, events and truth frames from the simulated arrays."""
    n = len(is_live_s)

    # Frames.
    ids = _id_strings(rng, "ps", n)
    sid_cat = pd.CategoricalDtype(pd.Index(ids.array), ordered=False)
    vid_codes = np.where(is_live_s, -1, media_s)
    live_codes = np.where(is_live_s, media_s, -1)

    e_sess = a["e_sess"]
    events = pd.DataFrame(
        {
            "session_id": pd.Categorical.from_codes(e_sess, dtype=sid_cat),
            "type": pd.Categorical.from_codes(a["e_type"], dtype=EVENT_TYPE_DTYPE),
            "at": a["e_at"],
            "seek_from": a["e_from"],
            "seek_to": a["e_to"],
            "emitted_at": _utc(a["e_ns"]),
            "video_id": pd.Categorical.from_codes(vid_codes[e_sess], categories=video_ids),
            "live_stream_id": pd.Categorical.from_codes(live_codes[e_sess], categories=live_ids),
            "quirk": pd.Categorical.from_codes(a["e_q"], categories=list(QUIRK_CODE)),
        },
        copy=False,
    )
    assert list(events.columns[:6]) == list(EVENT_COLUMNS)

    tr_sess = a["t_sess"]
    truth_frame = pd.DataFrame(
        {
            "session_id": pd.Categorical.from_codes(tr_sess, dtype=sid_cat),
            "playback": a["t_playback"].astype(np.int64),
            "start": a["t_s"],
            "end": a["t_e"],
            "started_at": _utc(a["t_0"]),
            "ended_at": _utc(a["t_1"]),
            "estimated": np.zeros(len(tr_sess), dtype=bool),
            "video_id": pd.Categorical.from_codes(vid_codes[tr_sess], categories=video_ids),
            "live_stream_id": pd.Categorical.from_codes(live_codes[tr_sess], categories=live_ids),
            "rate": a["t_r"],
        },
        copy=False,
    )
    assert list(truth_frame.columns[:7]) == list(SEGMENT_COLUMNS)

    # loadedAt / endedAt carry milliseconds, like the legacy API's.
    ms = 1_000_000
    base, sub = now_ns - now_ns % ms, (now_ns % ms) / ms
    loaded_ns = base + np.floor(a["start"] * 1e3 + sub).astype(np.int64) * ms
    ended_ns = base + np.ceil(a["end"] * 1e3 + sub).astype(np.int64) * ms
    ended_ns = np.minimum(np.maximum(ended_ns, loaded_ns), now_ns)
    sessions_frame = _session_frame(
        rng,
        ids=ids,
        loaded_ns=loaded_ns,
        ended_ns=ended_ns,
        video_codes=vid_codes,
        live_codes=live_codes,
        video_ids=video_ids,
        live_ids=live_ids,
    )
    out = {"sessions": sessions_frame, "events": events, "truth": truth_frame}
    if "h_sess" in a:
        out["heartbeats"] = pd.DataFrame(
            {
                "session_id": pd.Categorical.from_codes(a["h_sess"], dtype=sid_cat),
                "heartbeat_at": _utc(a["h_ns"]),
            }
        )
    return out


def _milli32(x: np.ndarray) -> np.ndarray:
    """Positions as the SDK posts them: floats, here to the millisecond."""
    return (np.round(np.asarray(x, dtype=np.float64) * 1e3) / 1e3).astype(np.float32)


def _integer32(x: np.ndarray) -> np.ndarray:
    """Positions as the API sends them: rounded to whole seconds (half up), as float32."""
    out = np.add(x, 0.5, dtype=np.float64)
    np.floor(out, out=out)
    return np.asarray(out, dtype=np.float32)


def _utc(ns: np.ndarray) -> pd.Series:
    """Nanoseconds since the epoch as ``datetime64[ns, UTC]`` (no parsing, no copy)."""
    return pd.Series(np.asarray(ns, dtype=np.int64).view("M8[ns]")).dt.tz_localize("UTC")


def _session_frame(
    rng: np.random.Generator,
    *,
    ids: pd.Series,
    loaded_ns: np.ndarray,
    ended_ns: np.ndarray,
    video_codes: np.ndarray,
    live_codes: np.ndarray,
    video_ids: list[str],
    live_ids: list[str],
) -> pd.DataFrame:
    """Session rows: who watched, from where, on what; ``metadata`` dicts are shared."""
    n = len(ids)
    is_live = live_codes >= 0
    country = _choice(rng, [c[4] for c in cat.COUNTRIES], n)
    cities = [(i, city) for i, c in enumerate(cat.COUNTRIES) for city in c[3]]
    n_cities = np.array([len(c[3]) for c in cat.COUNTRIES])
    city_first = np.concatenate([[0], np.cumsum(n_cities)[:-1]])
    city = city_first[country] + (rng.random(n) * n_cities[country]).astype(np.int64)
    ref = _choice(rng, [r[4] for r in cat.REFERRERS], n)
    dev = _choice(rng, [d[4] for d in cat.DEVICE_PROFILES], n)
    os_names = [o[0] for o in cat.OPERATING_SYSTEMS]
    os_of_dev = np.array([os_names.index(d[3]) for d in cat.DEVICE_PROFILES])
    os_idx = os_of_dev[dev]
    os_version_table = [(i, v) for i, o in enumerate(os_names) for v in cat.OS_VERSIONS[o]]
    n_ver = np.array([len(cat.OS_VERSIONS[o]) for o in os_names])
    ver_first = np.concatenate([[0], np.cumsum(n_ver)[:-1]])
    os_ver = ver_first[os_idx] + (rng.random(n) * n_ver[os_idx]).astype(np.int64)
    browser_names = [b[0] for b in cat.BROWSERS]
    client = np.empty(n, dtype=np.int64)
    for i, name in enumerate(os_names):
        rows = np.flatnonzero(os_idx == i)
        options = cat.BROWSERS_BY_OS[name]
        pick = _choice(rng, [w for _, w in options], rows.size)
        client[rows] = np.array([browser_names.index(b) for b, _ in options])[pick]
    versions = [(i, v) for i, b in enumerate(cat.BROWSERS) for v in b[2]]
    n_bv = np.array([len(b[2]) for b in cat.BROWSERS])
    bv_first = np.concatenate([[0], np.cumsum(n_bv)[:-1]])
    client_ver = bv_first[client] + (rng.random(n) * n_bv[client]).astype(np.int64)

    plans = _choice(rng, [w for _, w in cat.PLANS], n)
    camps = _choice(rng, [w for _, w in cat.CAMPAIGNS], n)
    combos = np.empty(len(cat.PLANS) * len(cat.CAMPAIGNS), dtype=object)
    for i, (plan, _) in enumerate(cat.PLANS):
        for j, (camp, _) in enumerate(cat.CAMPAIGNS):
            meta = {"plan": plan}
            if camp is not None:
                meta["campaign"] = camp
            combos[i * len(cat.CAMPAIGNS) + j] = meta
    metadata = combos[plans * len(cat.CAMPAIGNS) + camps]
    metadata[is_live] = None

    def col(table: Sequence[Any], codes: np.ndarray, kind: str) -> Any:
        # Tables may repeat values ("unknown"): categories are the distinct ones.
        distinct = list(dict.fromkeys(table))
        lookup = np.array([distinct.index(v) for v in table] + [-1])
        codes = lookup[codes]
        if kind == "category":
            return pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype=object))
        if not _ARROW_STR:
            cats = pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype=object))
            return to_str(pd.Series(cats))
        # Decode through Arrow: no Python object per row.
        indices = pa.array(codes.astype(np.int32), mask=codes < 0)
        decoded = pa.DictionaryArray.from_arrays(indices, pa.array(distinct, pa.string()))
        return pd.array(decoded.cast(pa.string()), dtype=STR)

    dp = cat.DEVICE_PROFILES
    os_tab = cat.OPERATING_SYSTEMS
    frame = pd.DataFrame(
        {
            "session_id": ids,
            "loaded_at": _utc(loaded_ns),
            "ended_at": _utc(ended_ns),
            "video_id": col(video_ids, video_codes, "str"),
            "live_stream_id": col(live_ids, live_codes, "str"),
            "location_country": col([c[0] for c in cat.COUNTRIES], country, "category"),
            "location_city": col([c for _, c in cities], city, "str"),
            "referrer_url": col([r[0] for r in cat.REFERRERS], ref, "str"),
            "referrer_medium": col([r[1] for r in cat.REFERRERS], ref, "category"),
            "referrer_source": col([r[2] for r in cat.REFERRERS], ref, "str"),
            "referrer_search_term": col([r[3] for r in cat.REFERRERS], ref, "str"),
            "device_type": col([d[0] for d in dp], dev, "category"),
            "device_vendor": col([d[1] for d in dp], dev, "category"),
            "device_model": col([d[2] for d in dp], dev, "str"),
            "os_name": col([o[0] for o in os_tab], os_idx, "category"),
            "os_shortname": col([o[1] for o in os_tab], os_idx, "category"),
            "os_version": col([v for _, v in os_version_table], os_ver, "str"),
            "client_type": col(["browser"], np.zeros(n, dtype=np.int64), "category"),
            "client_name": col(browser_names, client, "category"),
            "client_version": col([v for _, v in versions], client_ver, "str"),
            "metadata": pd.Series(metadata, dtype=object),
        },
        copy=False,
    )
    return conform(frame, SESSION_COLUMNS_LIVE)


def _with_live(columns: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, dtype in columns.items():
        out[name] = dtype
        if name == "video_id":
            out["live_stream_id"] = STR
    return out


#: The sessions frame of a world: video and live sessions in one, ``live_stream_id`` right
#: after ``video_id`` (exactly one of the two is set).
SESSION_COLUMNS_LIVE: dict[str, Any] = _with_live(SESSION_COLUMNS)
