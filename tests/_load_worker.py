"""A load in its own process, for tests/test_interruption.py (killed, or run twice at once).

Usage: ``APIVIDEO_API_KEY=... python tests/_load_worker.py BASE_URL CACHE VIDEO_ID PERIOD
PAGE_SIZE OUT``. Loads the video's sessions and their events through the cache file and
writes to ``OUT`` (JSON) the session ids, the events as records, and the requests sent.
The key comes from the environment, never from the command line.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    base_url, cache, video_id, period, page_size, out = argv
    import apivideo_insights as avi

    t0 = time.monotonic()
    api = avi.connect(
        base_url=base_url,
        cache=cache,
        page_size=int(page_size),
        max_workers=4,
        progress=False,
        timeout=10,
    )
    try:
        sessions = api.video_sessions(video_id, period=period)
        events = api.events(sessions)
        sent = api.requests_sent
    finally:
        api.close()
    frame = events[["session_id", "type", "at", "seek_from", "seek_to", "emitted_at"]].copy()
    frame["session_id"] = frame["session_id"].astype(str)
    frame["type"] = frame["type"].astype(str)
    frame["emitted_at"] = frame["emitted_at"].map(lambda t: t.isoformat())
    result = {
        "sessions": sorted(sessions["session_id"].astype(str)),
        "events": json.loads(frame.to_json(orient="records")),
        "requests_sent": sent,
        "dropped": {**sessions.attrs.get("dropped", {}), **events.attrs.get("dropped", {})},
        "seconds": time.monotonic() - t0,
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
