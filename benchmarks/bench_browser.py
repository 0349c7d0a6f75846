"""How far ``avi.segments`` is from what real browsers played (the real-browser suite).

Headless Debian Chromium plays an ffmpeg-made WebM through ``@api.video/player-analytics``
1.0.9 (npm) wired by our hls.js-like and video.js-like integrations (``players/page``),
posting to the sandbox's collector; seeded scripted viewers pause, scrub while paused and
while playing, drag, switch to 2x, reload, close tabs, watch to the end and replay, on a
video served at full speed (downloaded) and throttled (still downloading while it plays).
The page's own ``currentTime`` trace is the truth (:mod:`players.measure`).

The measure, per group of viewers and in all: the pass-count error
(``sandbox.world.pass_difference`` over the true watch time: the share of watched time
whose pass counts are wrong) of

* ``raw``: ``avi.read_pings`` of the sandbox's ``record=`` file, then ``avi.segments``;
* ``legacy``: the same recording as the legacy API serves it (integer positions,
  one-second times), loaded with ``api.video_sessions`` / ``api.events``;
* ``legacy-no-unload``: the legacy form without the pings sent as tabs closed or reloaded
  (api.video's hls.js plugin sends none);
* ``naive``: a replay of the legacy events in list order (the baseline).

``ratio`` is each error over the naive replay's. No target here: issue 14 sets them.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import row
from players import harness, measure


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Full: a 90 s video, 2 seeds x 4 kinds of viewers per group; quick: 24 s, 1 x 3."""
    missing = harness.requirements()
    if missing:
        raise RuntimeError("the real-browser benchmark needs: " + "; ".join(missing))
    seconds = 24 if quick else 90
    seeds = [0] if quick else [0, 1]
    kinds = ("pauser", "scrubber", "reloader") if quick else harness.KINDS
    groups = [(i, t) for i in ("hls", "videojs") for t in (False, True)]
    if not quick:
        # The hls.js mapping with destroy() on unload: what the unload pings are worth.
        groups.append(("hls-destroy", False))
    viewers = [
        v
        for integration, throttled in groups
        for seed in seeds
        for v in harness.viewers(
            seconds, integration=integration, seed=seed, kinds=kinds, throttled=throttled
        )
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="avi-bench-browser-") as tmp:
        rec = harness.record(Path(tmp) / "run", viewers, seconds=seconds, parallel=4)
        truth = measure.true_segments(rec.run.truth)
        by_form = measure.forms(
            rec.pings, duration=seconds, unloads=rec.run.unloads, workdir=Path(tmp) / "work"
        )
    n = len(viewers) // len(groups)
    for integration, throttled in [*groups, (None, None)]:
        if integration is None:
            label, got = f"all {len(viewers)} viewers", measure.errors(truth, by_form)
        else:
            condition = "still downloading" if throttled else "downloaded"
            label = f"{integration}-like, {condition}, {n} viewers"
            got = measure.errors(
                truth, by_form, video_id=harness.video_id(integration, bool(throttled))
            )
        naive = got["naive"]
        for form, value in got.items():
            rows.append(
                row(
                    "browser",
                    f"pass-count error, {label}: {measure.FORMS[form]}",
                    value,
                    "naive replay",
                    value / naive if naive > 0 else math.nan,
                    "reported (targets: issue 14)",
                    math.isfinite(value),
                )
            )
    if rec.run.errors:
        rows.append(
            row("browser", f"viewer errors: {rec.run.errors[:3]}", len(rec.run.errors),
                "none", math.nan, "none", False)
        )  # fmt: skip
    return rows
