"""Generate notebooks/*.ipynb (outputs empty) with nbformat."""

import sys
from pathlib import Path
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "notebooks")

PARAMS = """\
# Parameters. Leave both None to run against a local simulated api.video (the sandbox).
# For your own project: API_KEY = os.environ["APIVIDEO_API_KEY"] (never paste a key here),
# and BASE_URL = "https://sandbox.api.video" or "https://ws.api.video".
API_KEY = None
BASE_URL = None"""

SETUP = """\
import atexit
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import apivideo_insights as avi

pd.set_option("display.max_columns", 12)
pd.set_option("display.width", 140)

if API_KEY is None and BASE_URL is None:
    # A local api.video-compatible server on 127.0.0.1 with a simulated project. It lives
    # as long as this kernel (stopped at exit), so cells can be re-run after "Run All".
    sandbox = avi.sandbox.serve().start()
    atexit.register(sandbox.stop)
    API_KEY, BASE_URL = sandbox.api_key, sandbox.base_url
# progress=False: no progress bars, so that the exported HTML holds no stale bars.
api = avi.connect(API_KEY, base_url=BASE_URL, cache=None, progress=False)"""

# The last cell of every notebook: the sandbox is not stopped by a cell, so that a live
# kernel keeps working after "Run All" (the dashboard's callbacks load through it).
SANDBOX_NOTE = (
    "md",
    "The local sandbox lives as long as the kernel and stops when the kernel does; "
    "`sandbox.stop()` stops it sooner (later loads then fail with a message saying so).",
)

#: Cells that only work with a live frontend (widgets); nbclient skips this tag, JupyterLab
#: runs them.
LIVE_ONLY = "skip-execution"


def nb(cells):
    book = new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    book.metadata["language_info"] = {"name": "python"}
    out = []
    for kind, src, *tags in cells:
        cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
        if tags:
            cell.metadata["tags"] = list(tags)
        out.append(cell)
    book.cells = out
    for i, cell in enumerate(book.cells):
        cell["id"] = f"cell-{i:02d}"
    return book


QUICKSTART = [
    (
        "md",
        "# Quickstart: api.video as DataFrames\n\n"
        "Connect, list videos, load one video's player sessions and events, reconstruct what "
        "each viewer watched, and draw the retention curve and heatmap. The first cell holds the "
        "parameters; with both left as `None` the notebook serves a simulated project locally.",
    ),
    ("code", PARAMS, "parameters"),
    ("code", SETUP),
    (
        "md",
        "## Videos\n\n`api.videos()` pages through `GET /videos` and returns one row per video.",
    ),
    (
        "code",
        'videos = api.videos()\nvideos[["video_id", "title", "tags", "published_at"]].head(10)',
    ),
    (
        "md",
        "## One video's sessions and events\n\nWe take the first video and load its player "
        "sessions (the legacy `/analytics/videos/{id}` endpoint) and their events.",
    ),
    (
        "code",
        'video_id = videos["video_id"].iloc[0]\n'
        'duration = float(api.video_status(video_id)["duration"].iloc[0])\n'
        "sessions = api.video_sessions(video_id)\n"
        'print(f"{videos.title.iloc[0]!r}: {duration:.0f} s, {len(sessions)} sessions")\n'
        "sessions.head()",
    ),
    ("code", "events = api.events(sessions)\nevents.head(10)"),
    (
        "md",
        "## What was watched\n\n`avi.segments` turns events into watched segments: one row per "
        "continuous stretch of media, with the wall-clock times it was watched.",
    ),
    ("code", "segs = avi.segments(events, duration=duration, sessions=sessions)\nsegs.head()"),
    ("md", "## Retention and heatmap"),
    ("code", "curve = avi.retention(segs, duration=duration, bin_size=5)\ncurve.head()"),
    (
        "code",
        "fig, ax = plt.subplots(figsize=(9, 4))\navi.plot_retention(curve, ax=ax)\n"
        'ax.set_title("Retention")\nplt.show()',
    ),
    (
        "code",
        "hm = avi.heatmap(segs, duration=duration, bin_size=5)\n"
        "fig, ax = plt.subplots(figsize=(9, 4))\navi.plot_heatmap(hm, ax=ax)\nplt.show()",
    ),
    ("md", "## Engagement summary"),
    ("code", "avi.engagement(segs, duration=duration, sessions=sessions, events=events).T"),
    (
        "md",
        "## A self-contained HTML report\n\n`avi.report` writes one HTML file (inline CSS, "
        "images as data URIs, no scripts) that can be mailed or attached to a ticket.",
    ),
    (
        "code",
        'path = avi.report(api, Path(tempfile.mkdtemp()) / "report.html", videos=[video_id])\n'
        'print(path.name, f"{path.stat().st_size / 1e3:.0f} kB")',
    ),
    SANDBOX_NOTE,
]

RETENTION = [
    (
        "md",
        "# Retention curves and heatmaps\n\n"
        "How far viewers get, where they drop off, what they skip and what they watch again; "
        "split by device and marked with the video's chapters.",
    ),
    ("code", PARAMS, "parameters"),
    ("code", SETUP),
    ("md", "We pick the most watched video among those that have chapters."),
    (
        "code",
        "videos = api.videos()\n"
        'chapter_files = {v: api.chapters(v) for v in videos["video_id"]}\n'
        'candidates = [v for v, f in chapter_files.items() if len(f)] or list(videos["video_id"])\n'
        "counts = {v: len(api.video_sessions(v)) for v in candidates}\n"
        "video_id = max(counts, key=counts.get)\n"
        'title = videos.set_index("video_id").loc[video_id, "title"]\n'
        'duration = float(api.video_status(video_id)["duration"].iloc[0])\n'
        "sessions = api.video_sessions(video_id)\n"
        "events = api.events(sessions)\n"
        "segs = avi.segments(events, duration=duration, sessions=sessions)\n"
        'print(f"{title!r}: {duration:.0f} s, {len(sessions)} sessions, {len(segs)} segments")',
    ),
    ("md", "## Chapters\n\nChapters come as WebVTT files; `avi.read_chapters` parses them."),
    (
        "code",
        "chapters = None\n"
        "files = chapter_files[video_id]\n"
        "if len(files):\n"
        '    language = files["language"].iloc[0]\n'
        '    if "sandbox" in globals():\n'
        "        # The local sandbox keeps its WebVTT files in memory.\n"
        "        vtt = sandbox.world.chapter_vtt[(video_id, language)]\n"
        "    else:\n"
        "        import requests\n"
        '        vtt = requests.get(files["src"].iloc[0], timeout=10).text\n'
        "    chapters = avi.read_chapters(vtt)\n"
        "chapters",
    ),
    (
        "md",
        "## Retention, with rewatches\n\nThe solid line is the share of viewers who watched each "
        "moment; the dashed line counts every pass (rewatches included), so the band between "
        "them is rewatching. The largest drop-offs are annotated.",
    ),
    (
        "code",
        "curve = avi.retention(segs, duration=duration, bins=100)\n"
        "fig, ax = plt.subplots(figsize=(10, 4))\n"
        "avi.plot_retention(curve, ax=ax, chapters=chapters)\nplt.show()",
    ),
    ("md", "## Cohorts: by device"),
    (
        "code",
        'by_device = avi.retention(segs, duration=duration, bin_size=10, by="device_type", sessions=sessions)\n'
        "fig, ax = plt.subplots(figsize=(10, 4))\n"
        "avi.plot_retention(by_device, ax=ax, rewatch=False)\nplt.show()",
    ),
    (
        "code",
        'avi.engagement(segs, by="device_type", duration=duration, sessions=sessions, '
        "events=events)",
    ),
    (
        "md",
        "## Heatmap: one row per session\n\nGrey is skipped, green watched once, orange and red "
        "watched again. Ordering by the first skip shows the drop-off staircase; ordering by "
        "where viewers started shows who skipped the intro.",
    ),
    (
        "code",
        "hm = avi.heatmap(segs, duration=duration, bin_size=5)\n"
        "fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))\n"
        'avi.plot_heatmap(hm, ax=axes[0], order="first_skip", legend=False)\n'
        'avi.plot_heatmap(hm, ax=axes[1], order="start")\n'
        'axes[0].set_title("by first skip")\naxes[1].set_title("by first position watched")\n'
        "plt.show()",
    ),
    ("md", "## Chapter engagement"),
    (
        "code",
        "if chapters is not None:\n"
        "    display(avi.chapter_engagement(segs, chapters, sessions=sessions))",
    ),
    (
        "md",
        "## Interactive\n\nIn a live notebook (JupyterLab, with ipywidgets), the next cell "
        "shows the same views with pickers for the video, period (default: the last 30 days), "
        "bins, cohort and view, loading each video through `api` as you pick it. Static runs "
        "(`./run main`) skip the cell (tagged `skip-execution`): exported HTML cannot run "
        "widget callbacks.",
    ),
    ("code", "ui = avi.dashboard(api)\nui", LIVE_ONLY),
    SANDBOX_NOTE,
]

LIVE = [
    (
        "md",
        "# Live streams: concurrent viewers\n\nLive sessions have no media position worth "
        "binning; what matters is how many people were watching at once.",
    ),
    ("code", PARAMS, "parameters"),
    ("code", SETUP),
    (
        "code",
        'streams = api.live_streams()\nstreams[[c for c in ("live_stream_id", "name", "broadcasting") if c in streams]]',
    ),
    (
        "code",
        'live = pd.concat([api.live_stream_sessions(s) for s in streams["live_stream_id"]],\n'
        "                 ignore_index=True)\n"
        'print(f"{len(live)} live sessions")\nlive.head()',
    ),
    (
        "md",
        "## Concurrent viewers, minute by minute\n\n`avi.concurrency` counts the sessions "
        "open in each minute. Over a month, minutes are too thin to see: we first look at each "
        "day's peak, then zoom in on the six hours around the busiest minute.",
    ),
    (
        "code",
        'curves = {s: avi.concurrency(part, freq="1min")\n'
        '          for s, part in live.groupby("live_stream_id") if len(part)}\n'
        'names = streams.set_index("live_stream_id")["name"]\n'
        'daily = pd.DataFrame({names.get(s, s): c["viewers"].resample("1D").max()\n'
        "                      for s, c in curves.items()})\n"
        "fig, ax = plt.subplots(figsize=(10, 3))\n"
        'avi.plot_steps(daily, ax=ax, freq="1D", ylabel="daily peak viewers")\nplt.show()',
    ),
    (
        "code",
        "fig, axes = plt.subplots(len(curves), 1, figsize=(10, 3.2 * len(curves)), squeeze=False)\n"
        "for ax, (s, curve) in zip(axes[:, 0], curves.items()):\n"
        '    at = curve["viewers"].idxmax()\n'
        "    around = curve[at - pd.Timedelta(hours=3) : at + pd.Timedelta(hours=3)]\n"
        "    avi.plot_concurrency(around, ax=ax)\n"
        '    ax.set_title(str(names.get(s, s)).replace("$", r"\\$"))\n'
        "fig.tight_layout()\nplt.show()",
    ),
    (
        "code",
        'pd.DataFrame({s: {"peak": c["viewers"].max(), "average": c["viewers"].mean(),\n'
        '                  "sessions": int((live["live_stream_id"] == s).sum())}\n'
        "              for s, c in curves.items()}).T",
    ),
    ("md", "## Where live viewers were"),
    (
        "code",
        'live.groupby(["live_stream_id", "location_country"], observed=True).size()'
        ".unstack(fill_value=0)",
    ),
    SANDBOX_NOTE,
]

DATA = [
    (
        "md",
        "# Today's analytics: the `/data` endpoints\n\napi.video's current analytics are "
        "aggregates: totals, breakdowns by dimension and time series. The toolkit returns "
        "each as a DataFrame.",
    ),
    ("code", PARAMS, "parameters"),
    ("code", SETUP),
    ("md", "## Totals"),
    (
        "code",
        'pd.concat([api.metrics("play", "count"), api.metrics("impression", "count"),\n'
        '           api.metrics("play", "rate"), api.metrics("watch-time", "sum")],\n'
        "          ignore_index=True)",
    ),
    (
        "code",
        'pd.concat([api.metrics("play", "count", device_type=d).assign(device_type=d)\n'
        '           for d in ["computer", "phone", "tablet"]], ignore_index=True)',
    ),
    ("md", "## Breakdowns"),
    ("code", 'by_country = api.breakdown("play", "country")\nby_country.head(10)'),
    (
        "code",
        'by_device = api.breakdown("play", "device-type")\n'
        "fig, ax = plt.subplots(figsize=(7, 3))\n"
        'by_device.set_index("dimension_value")["metric_value"].sort_values().plot.barh(ax=ax)\n'
        'ax.set_xlabel("plays")\nplt.show()',
    ),
    ("md", "## Over time"),
    ("code", 'plays = api.timeseries("play", interval="hour")\nplays.tail()'),
    (
        "code",
        "fig, ax = plt.subplots(figsize=(10, 3))\n"
        'per_hour = plays.set_index("emitted_at")["metric_value"]\n'
        'avi.plot_steps(per_hour, ax=ax, freq="1h", label="plays", ylabel="plays per hour")\n'
        "plt.show()",
    ),
    SANDBOX_NOTE,
]

def record_players():
    """05: api.video's analytics client in a real browser, recorded by the sandbox."""
    return [
        (
            "md",
            "# Record real players into the sandbox\n\n"
            "api.video's analytics client for web players, `@api.video/player-analytics` 1.x, "
            "POSTs every player event to the `pingUrl` you give it. The sandbox is such a "
            "collector: `avi.sandbox.serve(record=path)` answers `POST /vod` and `/live` from "
            "pages on any origin and appends every ping to an NDJSON file.\n\n"
            "Here headless Chromium plays a short test video through the real client (installed "
            "from npm into `players/` by `./run`), with a few scripted viewers; the page also "
            "records its own truth. Without Chromium, ffmpeg or the npm package, the notebook "
            "reads the run recorded in `data/browser/` instead.",
        ),
        ("code", PARAMS, "parameters"),
        (
            "code",
            SETUP.split("if API_KEY is None")[0]
            + "import shutil\nimport sys\n\n"
            "# The real-browser harness lives in the repository (players/), not in the package.\n"
            "ROOT = Path.cwd().resolve().parent\n"
            "sys.path.insert(0, str(ROOT))\n"
            "from players import harness, measure",
        ),
        ("md", "## Record a few viewers\n\nEach viewer pauses, scrubs, reloads or closes its tab "
               "on its own seeded script (`harness.viewers`)."),
        (
            "code",
            "workdir = Path(tempfile.mkdtemp())\n"
            "missing = harness.requirements()\n"
            "if not missing:\n"
            "    DURATION = 24.0\n"
            '    group = harness.viewers(DURATION, integration="hls", seed=3)\n'
            '    rec = harness.record(workdir / "run", group, seconds=int(DURATION), parallel=3,\n'
            "                         time_limit=90)\n"
            "    pings, truth_file = rec.pings, rec.truth\n"
            '    print(f"{len(group)} viewers recorded in {rec.run.seconds:.0f} s")\n'
            "else:\n"
            '    print("Using the recorded run in data/browser/hls:", "; ".join(missing))\n'
            "    DURATION = 90.0\n"
            '    pings = shutil.copy(ROOT / "data/browser/hls/pings.ndjson", workdir)\n'
            '    truth_file = ROOT / "data/browser/hls/truth.json"',
        ),
        ("md", "## What the collector kept\n\n`avi.read_pings` reads the file: the SDK's float "
               "positions and millisecond times, and per session the page loads and the 10-s "
               "heartbeats."),
        (
            "code",
            "events, sessions = avi.read_pings(pings)\n"
            'sessions[["session_id", "loaded_at", "ended_at", "page_loads", "pings"]]',
        ),
        ("code", 'events.head(12)'),
        ("md", "## As the legacy API served it\n\nA sandbox started on the same `record=` file "
               "serves the sessions and events through `/analytics`, with integer positions and "
               "one-second times, as api.video did."),
        (
            "code",
            "with avi.sandbox.serve(record=pings) as sb:\n"
            "    api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None, progress=False)\n"
            '    every = "2000-01-01/2100-01-01"  # any period holding today\n'
            "    legacy_sessions = pd.concat([api.video_sessions(v, period=every)\n"
            '                                 for v in sessions["video_id"].unique()])\n'
            "    legacy_events = api.events(legacy_sessions)\n"
            "legacy_events.head(12)",
        ),
        ("md", "## Retention: reconstructed and true\n\nThe page's own trace gives the true "
               "watched intervals; `avi.segments` reconstructs them from the pings."),
        (
            "code",
            "truth = measure.true_segments(measure.read_truth(truth_file)[\"loads\"])\n"
            "raw = avi.segments(events, duration=DURATION, sessions=sessions)\n"
            "legacy = avi.segments(legacy_events, duration=DURATION, sessions=legacy_sessions)\n"
            "fig, ax = plt.subplots(figsize=(10, 3.5))\n"
            'runs = [("truth (the page)", truth), ("raw pings", raw), ("legacy form", legacy)]\n'
            "for label, seg in runs:\n"
            "    curve = avi.retention(seg, duration=DURATION)\n"
            "    avi.plot_retention(curve, ax=ax, rewatch=False, annotate_dropoffs=0,\n"
            "                       label=label)\n"
            "ax.legend()\nplt.show()",
        ),
        (
            "code",
            "pd.Series({form: measure.error(truth, seg) for form, seg in\n"
            '           [("raw pings", raw), ("legacy form", legacy)]},\n'
            '          name="pass-count error (share of true watch time)").to_frame()',
        ),
    ]


for name, cells in [
    ("01-quickstart", QUICKSTART),
    ("02-retention-and-heatmaps", RETENTION),
    ("03-live-streams", LIVE),
    ("04-data-metrics", DATA),
    ("05-record-players", record_players()),
]:
    book = nb(cells)
    nbformat.validate(book)
    nbformat.write(book, OUT / f"{name}.ipynb")
    print("wrote", OUT / f"{name}.ipynb")
