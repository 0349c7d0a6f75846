"""Robust, not tuned: ``avi.segments``' error over a family of simulated worlds and over the
committed real-browser recordings, with one set of defaults.

Each world is ``sandbox.simulate`` with one thing changed: the collector profile (the
textbook legacy collector, and the real-browser profiles of ``sandbox._collector.COLLECTORS``:
hls.js-like with a downloaded or a still-downloading file, api.video's own hls.js plugin
that sends nothing on unload, video.js whose in-play seeks send nothing), the precision
(the legacy API's integers and seconds, or the SDK's floats and milliseconds with its
heartbeats), viewers who reload within seconds or come back days later, rates that are never
reported (1.5x and 2x only, or 2x for part of a stretch, which also moves the stale seek
origins), and stalls. The measure is the pass-count error
(``sandbox.world.pass_difference`` over true watch time, video sessions). Reported: each
world, the mean and the worst case (target: worst <= 2x mean: a change that helps one world
and hurts another shows here), the share of the result that is estimated, and the part of
each world's error in sessions where nothing was estimated: their events contradicted
nothing the rules check, so no rule saw anything to correct there.

The recordings in ``data/browser`` (``players.measure``) give the real-browser rows: raw
pings, the legacy form and the legacy form without unload pings, and the largest gap between
the true and the reconstructed retention curves (viewers and views per 1-s bin, legacy form;
the truth counted in passes as ``avi.segments`` counts them: ``players.measure.passes``), per
folder and pooled as :data:`POOLED` says (every recording, the hls.js-like ones, their
wanderers); and the raw pings' error per folder, and the pooled retention gaps, once
``players.measure.restore`` has put back what the events cannot tell (:data:`RESTORED`):
what is left is what the rules cost, the rest is information the stream lacks.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

import apivideo_insights as avi
from apivideo_insights.sandbox import simulate
from apivideo_insights.sandbox.world import World, pass_difference
from benchmarks import row

ROOT = Path(__file__).resolve().parents[1]
BROWSER = ROOT / "data" / "browser"

#: The family: name -> simulate() arguments beside the seed and size.
WORLDS: dict[str, dict[str, Any]] = {
    "textbook collector (default world)": {},
    "hls.js-like, legacy form": {"collector": "hlsjs"},
    "hls.js-like, raw pings + heartbeats": {"collector": "hlsjs", "precision": "pings"},
    "hls.js-like, still downloading": {"collector": "hlsjs_downloading"},
    "hls.js plugin (nothing on unload), legacy": {"collector": "hlsjs_plugin"},
    "hls.js plugin, raw pings + heartbeats": {"collector": "hlsjs_plugin", "precision": "pings"},
    "video.js (in-play seeks unsent)": {"collector": "videojs"},
    "reloads within seconds (plugin)": {
        "collector": "hlsjs_plugin",
        "reload_rate": 0.4,
        "reload_gap": 3.0,
    },
    "back days later (plugin)": {
        "collector": "hlsjs_plugin",
        "reload_rate": 0.4,
        "reload_gap": 3 * 86400.0,
    },
    "rates 1.5x-2x, never reported": {"collector": "hlsjs", "rates": {1.5: 1, 2.0: 1}},
    "2x for part of a stretch, never reported": {"collector": "hlsjs", "rate_changes": 0.3},
    "stalls (10 % of playing time)": {"collector": "hlsjs_downloading", "stalls": 0.1},
}


class _Recorded(NamedTuple):
    """One recording folder, as the pooled rows of :func:`recordings` need it."""

    passes: pd.DataFrame  # the true passes (``players.measure.passes``)
    legacy: pd.DataFrame  # the reconstruction of the legacy form
    restored: pd.DataFrame  # of the raw pings with what they cannot tell put back ("both")
    duration: float
    pages: frozenset[str]  # the page integrations behind its viewers
    kinds: frozenset[str]  # its viewers' kinds (``players.harness.KINDS``)


#: The rows of :func:`recordings` that pool folders, and the folders each pools: every one;
#: the hls.js-like ones, on a progressive file or on real hls.js (video.js's in-play seeks
#: send nothing, so its curves are wrong in ways no reconstruction can see); and the
#: hls.js-like folders of wanderers alone, whose viewers do not all act at the same second.
POOLED: dict[str, Callable[[_Recorded], bool]] = {
    "all recordings": lambda r: True,
    "hls.js-like recordings": lambda r: r.pages <= {"hls", "hlsjs"},
    "hls.js-like wanderers": lambda r: r.pages <= {"hls", "hlsjs"} and r.kinds == {"wanderer"},
}


#: The counterfactuals of the real-browser rows (``players.measure.restore`` arguments):
#: the raw pings with the seeks' true origins, with a pause as each page that was playing
#: went away, and with both.
RESTORED: dict[str, dict[str, bool]] = {
    "origins": {"unload_pauses": False},
    "unload pauses": {"origins": False},
    "both": {},
}


def with_heartbeats(world: World) -> pd.DataFrame:
    """The world's sessions with the SDK's heartbeats as ``avi.read_pings`` gives them."""
    beats = world.meta.get("heartbeats")
    if beats is None or world.meta["args"].get("precision") != "pings":
        return world.sessions
    lists = beats.groupby("session_id", observed=False)["heartbeat_at"].agg(list)
    sessions = world.sessions.copy()
    sessions["heartbeats"] = sessions["session_id"].astype(object).map(lists)
    sessions["heartbeats"] = sessions["heartbeats"].apply(
        lambda v: v if isinstance(v, list) else []
    )
    return sessions


def world_error(world: World) -> tuple[float, float, float]:
    """(pass-count error, estimated share, unseen error) of ``avi.segments`` on one world's
    video sessions. The unseen error is the part of the error in sessions where nothing was
    estimated; both are over the true watch time of all sessions."""
    out = avi.segments(world.events, sessions=with_heartbeats(world), duration=world.durations)
    truth = world.truth[world.truth["video_id"].notna()]
    out = out[out["video_id"].notna()]
    watched = float((truth["end"] - truth["start"]).sum())
    flagged = out.loc[out["estimated"].to_numpy(bool), "session_id"].astype(str).unique()
    sure_out = ~out["session_id"].astype(str).isin(flagged)
    sure_truth = ~truth["session_id"].astype(str).isin(flagged)
    unseen = pass_difference(out[sure_out], truth[sure_truth]) / watched
    return (
        pass_difference(out, truth) / watched,
        float(out.attrs["estimated_share"]),
        unseen,
    )


def family(sessions: int, seeds: tuple[int, ...] = (0, 1)) -> dict[str, tuple[float, float]]:
    """(error, unseen error) per world, each the mean over ``seeds``."""
    out = {}
    for name, kwargs in WORLDS.items():
        got = [
            world_error(simulate(seed=s, now="2026-01-01T00:00Z", sessions=sessions, **kwargs))
            for s in seeds
        ]
        out[name] = (float(np.mean([g[0] for g in got])), float(np.mean([g[2] for g in got])))
    return out


def retention_gap(truth: pd.DataFrame, seg: pd.DataFrame, duration: float) -> float:
    """Largest gap (percentage points) between the true and the reconstructed retention
    (``viewers`` share and ``views`` per viewer-session, 1-s bins).

    ``truth`` holds the true passes (``players.measure.passes``): the true intervals
    counted as ``avi.segments`` counts a pass, so that a pause and resume is one view on
    both curves."""
    cols = ["session_id", "start", "end"]
    t = avi.retention(_as_segments(truth[cols]), duration=duration)
    r = avi.retention(_as_segments(seg[cols]), duration=duration)
    n_t = truth["session_id"].nunique()
    gaps = []
    for col in ("viewers", "views"):
        a = t[col].to_numpy(float) / n_t
        b = r[col].reindex(t.index).fillna(0).to_numpy(float) / n_t
        gaps.append(float(np.max(np.abs(a - b))) * 100)
    return max(gaps)


def _as_segments(frame: pd.DataFrame) -> pd.DataFrame:
    n = len(frame)
    when = pd.Timestamp("2026-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "session_id": frame["session_id"].astype(str).to_numpy(),
            "playback": np.zeros(n, dtype=np.int64),
            "start": frame["start"].to_numpy(float),
            "end": frame["end"].to_numpy(float),
            "started_at": when,
            "ended_at": when,
            "estimated": False,
        }
    )


def recordings() -> dict[str, dict[str, float]]:
    """Errors and the retention gap on every committed real-browser recording."""
    sys.path.insert(0, str(ROOT))
    from players import harness, measure

    out: dict[str, dict[str, float]] = {}
    recorded: list[_Recorded] = []
    for folder in sorted(p for p in BROWSER.iterdir() if (p / "pings.ndjson").exists()):
        info = measure.read_truth(folder / "truth.json")
        truth = measure.true_segments(info["loads"])
        duration = float(info["duration"])
        with tempfile.TemporaryDirectory(prefix="avi-bench-worlds-") as tmp:
            rec = Path(tmp) / "pings.ndjson"
            shutil.copy(folder / "pings.ndjson", rec)  # a sandbox appends to its record
            forms = measure.forms(
                rec, duration=duration, unloads=info["unloads"], workdir=Path(tmp) / "w"
            )
            events, sessions = avi.read_pings(rec)
        errs = measure.errors(truth, forms)
        restored: dict[str, pd.DataFrame] = {}
        for name, kwargs in RESTORED.items():
            put_back = measure.restore(events, info["loads"], info["unloads"], **kwargs)
            restored[name] = avi.segments(put_back, duration=duration, sessions=sessions)
            errs[f"restored {name}"] = measure.error(truth, restored[name])
        true_passes = measure.passes(truth)
        errs["retention_gap"] = retention_gap(true_passes, forms["legacy"], duration)
        errs["estimated_share"] = float(forms["legacy"].attrs["estimated_share"])
        errs["viewers"] = float(truth["session_id"].nunique())
        out[folder.name] = errs
        viewers = info["viewers"]
        recorded.append(
            _Recorded(
                true_passes,
                forms["legacy"],
                restored["both"],
                duration,
                # hls-destroy is the hls.js page too, with destroy() on unload.
                frozenset(
                    harness.INTEGRATIONS[v["integration"]]["integration"] for v in viewers.values()
                ),
                frozenset(name.rsplit("-", 1)[1] for name in viewers),
            )
        )
    if len({r.duration for r in recorded}) == 1:
        for name, takes in POOLED.items():
            group = [r for r in recorded if takes(r)]
            if not group:
                continue
            truth = pd.concat([r.passes for r in group], ignore_index=True)
            seg = pd.concat([r.legacy for r in group], ignore_index=True)
            put_back = pd.concat([r.restored for r in group], ignore_index=True)
            out[name] = {
                "retention_gap": retention_gap(truth, seg, group[0].duration),
                "retention_gap_restored": retention_gap(truth, put_back, group[0].duration),
                "viewers": float(truth["session_id"].nunique()),
            }
    return out


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    sessions = 800 if quick else 4000
    both = family(sessions, seeds=(0,) if quick else (0, 1))
    errs = {name: e for name, (e, _) in both.items()}
    mean = float(np.mean(list(errs.values())))
    worst_name = max(errs, key=lambda k: errs[k])
    worst = errs[worst_name]
    for name, e in errs.items():
        rows.append(
            row("worlds", f"error: {name}", e, f"family mean {mean:.4f}", e / mean, "info", True)
        )
    for name, (e, unseen) in both.items():
        rows.append(
            row(
                "worlds",
                f"error where nothing was estimated: {name}",
                unseen,
                f"its error {e:.4f}",
                unseen / e if e else float("nan"),
                "info",
                True,
            )
        )
    # Issue 14 asks for the simulator <= 2 % (the default world: the segments rows) and for
    # the family's mean and worst case to be reported: the mean has no target of its own.
    rows.append(
        row(
            "worlds",
            f"error, mean over {len(errs)} worlds ({sessions:,} sessions each)",
            mean,
            f"default world {errs['textbook collector (default world)']:.4f}",
            mean / errs["textbook collector (default world)"],
            "reported",
            True,
        )
    )
    rows.append(
        row(
            "worlds",
            f"error, worst case ({worst_name})",
            worst,
            f"family mean {mean:.4f}",
            worst / mean,
            "worst <= 2x mean",
            worst <= 2 * mean,
        )
    )
    unseen = both[worst_name][1]
    rows.append(
        row(
            "worlds",
            f"error of the worst case where nothing was estimated ({worst_name}): "
            "events that contradict nothing",
            unseen,
            f"family mean {mean:.4f}",
            unseen / mean,
            "info: over 2x, correcting what the events contradict cannot meet the line above",
            True,
        )
    )
    if not BROWSER.exists():
        return rows
    targets = {"raw": 0.03, "legacy": 0.08, "legacy-no-unload": 0.12}
    for folder, e in recordings().items():
        if folder in POOLED:
            rows.append(
                row(
                    "worlds: real browser",
                    f"{folder} ({e['viewers']:.0f} viewers): largest retention gap "
                    "(pp, legacy, 1-s bins)",
                    e["retention_gap"],
                    "5 pp",
                    e["retention_gap"] / 5,
                    "<= 5 pp",
                    e["retention_gap"] <= 5,
                )
            )
            rows.append(
                row(
                    "worlds: real browser",
                    f"{folder} ({e['viewers']:.0f} viewers): largest retention gap, raw, with "
                    "what the events cannot tell put back (pp, 1-s bins)",
                    e["retention_gap_restored"],
                    f"legacy as sent {e['retention_gap']:.1f} pp",
                    e["retention_gap_restored"] / 5,
                    "info",
                    True,
                )
            )
            continue
        for form, limit in targets.items():
            rows.append(
                row(
                    "worlds: real browser",
                    f"{folder}: error, {form}",
                    e[form],
                    f"naive replay {e['naive']:.3f}",
                    e[form] / limit,
                    f"<= {limit:.0%}",
                    e[form] <= limit,
                )
            )
        restored = {name: e[f"restored {name}"] for name in RESTORED}
        rows.append(
            row(
                "worlds: real browser",
                f"{folder}: error, raw, with what the events cannot tell put back "
                "(players.measure.restore: true seek origins, a pause on unload)",
                restored["both"],
                f"as sent {e['raw']:.3f}; origins only {restored['origins']:.3f}; "
                f"unload pauses only {restored['unload pauses']:.3f}",
                restored["both"] / e["raw"],
                "info",
                True,
            )
        )
        rows.append(
            row(
                "worlds: real browser",
                f"{folder}: largest retention gap (pp, legacy, 1-s bins, "
                f"{e['viewers']:.0f} viewers; share estimated {e['estimated_share']:.0%})",
                e["retention_gap"],
                "5 pp",
                e["retention_gap"] / 5,
                "<= 5 pp",
                e["retention_gap"] <= 5,
            )
        )
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r)
