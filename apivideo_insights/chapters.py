"""Chapters: parse WebVTT chapter tracks, and measure how each chapter was watched.

api.video serves chapters as WebVTT files (``GET /videos/{id}/chapters`` lists them; each
item's ``src`` is the ``.vtt``). :func:`read_chapters` parses such a file's text without any
network access; :func:`chapter_engagement` crosses chapters with watched segments.
"""

from __future__ import annotations

import io
import os
import re
from typing import IO, TypeAlias, cast

import numpy as np
import pandas as pd

from . import _bins, _cohorts
from ._docstrings import fill
from .schema import CHAPTER_COLUMNS, conform, empty_frame

#: What :func:`read_chapters` reads: WebVTT text or bytes, a path, an open file, a frame.
ChapterSource: TypeAlias = str | bytes | os.PathLike[str] | IO[str] | IO[bytes] | pd.DataFrame

__all__ = ["chapter_engagement", "read_chapters"]

#: A chapter counts as completed by a viewer who covered at least this share of it.
COMPLETION_SHARE = 0.9

_TIMING = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)\s*-->\s*"
    r"(?P<end>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)"
)


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    value = 0.0
    for part in parts:
        value = value * 60 + float(part)
    return value


def _parse_vtt(text: str) -> pd.DataFrame:
    text = text.lstrip("\ufeff")
    if not text.lstrip().startswith("WEBVTT") and "-->" not in text:
        raise ValueError(
            "this is not WebVTT text (no 'WEBVTT' header and no 'start --> end' cue timings); "
            "pass the chapter file's text, a path to it, or a frame of start, end, title."
        )
    rows = []
    blocks = re.split(r"\r?\n\s*\r?\n", text.replace("\r\n", "\n"))
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((i for i, line in enumerate(lines) if _TIMING.match(line)), None)
        if timing is None:
            continue  # header, NOTE, STYLE, REGION blocks
        m = _TIMING.match(lines[timing])
        assert m is not None
        title = " ".join(line.strip() for line in lines[timing + 1 :])
        rows.append({"chapter": title, "start": _seconds(m["start"]), "end": _seconds(m["end"])})
    if not rows:
        return empty_frame(CHAPTER_COLUMNS)
    return conform(pd.DataFrame(rows), CHAPTER_COLUMNS)


def read_chapters(source: ChapterSource) -> pd.DataFrame:
    """Chapters from WebVTT (text, bytes, path or open file) or from a frame.

    Parameters
    ----------
    source : str, bytes, os.PathLike, file-like or DataFrame
        WebVTT text (starting with ``WEBVTT``), a path to a ``.vtt`` file, an open text or
        binary file, or a DataFrame with ``start``, ``end`` and ``title`` (or ``chapter``).
        URLs are not fetched: download the ``src`` of ``api.chapters(video_id)`` first.

    Returns
    -------
    DataFrame
        Columns ``chapter`` (title; cue text lines joined by a space), ``start``, ``end``
        (media seconds), sorted by start, with a RangeIndex.

    Examples
    --------
    >>> import apivideo_insights as avi
    >>> avi.read_chapters("WEBVTT\\n\\n00:00.000 --> 00:30.000\\nIntro\\n\\n"
    ...                   "00:30.000 --> 01:05.500\\nDemo\\n")
      chapter  start   end
    0   Intro    0.0  30.0
    1    Demo   30.0  65.5
    """
    if isinstance(source, pd.DataFrame):
        frame = source
        if "chapter" not in frame.columns and "title" in frame.columns:
            frame = frame.rename(columns={"title": "chapter"})
        _bins.check_frame(
            frame,
            "chapters",
            ["start", "end"],
            hint="Give a frame with start and end in seconds, and a title or chapter column.",
        )
        if "chapter" not in frame.columns:
            frame = frame.assign(chapter=[f"Chapter {i + 1}" for i in range(len(frame))])
        out = conform(frame, CHAPTER_COLUMNS)
    elif isinstance(source, bytes):
        out = _parse_vtt(source.decode("utf-8-sig"))
    elif isinstance(source, io.IOBase) or hasattr(source, "read"):
        raw = cast("IO[str] | IO[bytes]", source).read()
        out = _parse_vtt(raw.decode("utf-8-sig") if isinstance(raw, bytes) else str(raw))
    elif isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if isinstance(source, str) and re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
            raise ValueError(
                f"read_chapters does not fetch URLs ({text[:80]!r}); download the .vtt first "
                "(e.g. requests.get(src).text) and pass its text."
            )
        if isinstance(source, str) and ("-->" in text or text.lstrip().startswith("WEBVTT")):
            out = _parse_vtt(text)
        elif os.path.exists(text):
            with open(text, encoding="utf-8-sig") as fh:
                out = _parse_vtt(fh.read())
        else:
            raise ValueError(
                f"{text[:80]!r} is neither WebVTT text nor an existing file; pass the .vtt "
                "text, a path to it, or a frame of start, end, title."
            )
    else:
        raise TypeError(
            f"read_chapters takes WebVTT text, bytes, a path, a file or a DataFrame, not "
            f"{type(source).__name__}."
        )
    bad = ~(out["end"] > out["start"])
    if bad.any():
        raise ValueError(
            f"chapters {out.loc[bad, 'chapter'].tolist()[:5]} end before they start; "
            "fix the cue timings (end must be after start)."
        )
    return out.sort_values("start", kind="stable").reset_index(drop=True)


@fill
def chapter_engagement(
    segments: pd.DataFrame,
    chapters: ChapterSource,
    *,
    sessions: pd.DataFrame | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """How each chapter was watched: reach, completion, views and watch time.

    Parameters
    ----------
    segments : DataFrame
        Watched segments of the chapters' video (:func:`apivideo_insights.segments`).
    chapters : DataFrame or str
        :func:`read_chapters` output, or anything it accepts.
    {params[sessions]}
    by : str, optional
        Cohort column: one block of chapters per cohort.

    Returns
    -------
    DataFrame
        One row per chapter, indexed by ``chapter`` (or ``(cohort, chapter)``), columns:

        * ``start``, ``end``: the chapter's bounds (media seconds);
        * ``viewers``: sessions that watched any part of it (positive overlap);
        * ``reach``: ``viewers`` / sessions that watched anything (of the cohort);
        * ``completion``: share of those sessions whose unique coverage of the chapter is at
          least 90 % of its length (rewatches count once; the 10 % slack absorbs the
          one-second rounding of player positions);
        * ``views``: segments overlapping the chapter (passes, rewatches included);
        * ``watch_time``: Σ of the overlaps, media seconds.

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> seg = pd.DataFrame({{"session_id": ["a", "b"], "start": [0.0, 0.0],
    ...                     "end": [60.0, 20.0]}})
    >>> ch = pd.DataFrame({{"title": ["Intro", "Demo"], "start": [0.0, 30.0],
    ...                    "end": [30.0, 60.0]}})
    >>> cols = ["viewers", "reach", "completion", "watch_time"]
    >>> avi.chapter_engagement(seg, ch)[cols]  # doctest: +NORMALIZE_WHITESPACE
             viewers  reach  completion  watch_time
    chapter
    Intro          2    1.0         0.5        50.0
    Demo           1    0.5         0.5        30.0
    """
    _bins.check_frame(segments, "segments")
    ch = read_chapters(chapters)
    coh = _cohorts.cohorts(segments, by, sessions)
    sess, labels = _bins.session_codes(segments)
    nsess = max(len(labels), 1)
    start = segments["start"].to_numpy(dtype="float64", na_value=np.nan)
    end = segments["end"].to_numpy(dtype="float64", na_value=np.nan)
    ok = (coh.codes >= 0) & (end > start)
    g = coh.codes[ok]
    s, e = start[ok], end[ok]
    pair = g * nsess + sess[ok]
    pairs, pidx = np.unique(pair, return_inverse=True)
    ngroups = len(coh.labels)
    audience = np.bincount(pairs // nsess, minlength=ngroups).astype("float64")
    pair_group = pairs // nsess
    rows = []
    for c_start, c_end, title in zip(ch["start"], ch["end"], ch["chapter"], strict=True):
        cs = np.clip(s, c_start, c_end)
        ce = np.clip(e, c_start, c_end)
        overlap = ce - cs
        touched = overlap > 0
        covered = _bins.union_lengths(cs[touched], ce[touched], pidx[touched], len(pairs))
        watched = covered > 0
        complete = covered >= COMPLETION_SHARE * (c_end - c_start) - 1e-9
        viewers = np.bincount(pair_group[watched], minlength=ngroups)
        done = np.bincount(pair_group[complete & watched], minlength=ngroups)
        views = np.bincount(g[touched], minlength=ngroups)
        time = np.bincount(g[touched], weights=overlap[touched], minlength=ngroups)
        for k in range(ngroups):
            rows.append(
                {
                    "cohort": coh.labels[k],
                    "chapter": title,
                    "start": float(c_start),
                    "end": float(c_end),
                    "viewers": int(viewers[k]),
                    "reach": viewers[k] / audience[k] if audience[k] else np.nan,
                    "completion": done[k] / audience[k] if audience[k] else np.nan,
                    "views": int(views[k]),
                    "watch_time": float(time[k]),
                }
            )
    columns = ["start", "end", "viewers", "reach", "completion", "views", "watch_time"]
    frame = pd.DataFrame(rows, columns=["cohort", "chapter", *columns])
    frame = frame.astype(
        {
            "start": "float64",
            "end": "float64",
            "viewers": "int64",
            "reach": "float64",
            "completion": "float64",
            "views": "int64",
            "watch_time": "float64",
        }
    )
    if by is None:
        out = frame.drop(columns="cohort").set_index("chapter")
    else:
        frame = frame.rename(columns={"cohort": by}).sort_values(by, kind="stable")
        out = frame.set_index([by, "chapter"])
    out.attrs["segments_without_cohort"] = coh.missing
    out.attrs["completion_share"] = COMPLETION_SHARE
    return out
