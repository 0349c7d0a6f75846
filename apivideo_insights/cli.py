"""The ``avi`` command, every subcommand: ``avi sandbox``, ``avi report`` and ``avi demo``.

Each subcommand is a ``main(argv) -> exit status``: ``avi report``'s is here
(:func:`report_main`), the others are thin shells over the module that does the work
(the sandbox server, the demo).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main", "report_main"]

_USAGE = """usage: avi {sandbox,report,demo} [options]

  sandbox   serve a simulated api.video on 127.0.0.1 until stopped (prints the URL and key)
  report    write one self-contained HTML report from api.video or the sandbox
  demo      the main job: start the sandbox, show its videos and sessions, write reports/

Run 'avi COMMAND --help' for a command's options."""


def _command(name: str) -> Callable[[Sequence[str]], int] | None:
    if name == "sandbox":
        from .sandbox.server import main as sandbox_main

        return sandbox_main
    if name == "report":
        return report_main
    if name == "demo":
        from ._demo import main as demo_main

        return demo_main
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``avi`` command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_USAGE)
        return 0 if args else 2
    command = _command(args[0])
    if command is None:
        print(f"avi: unknown command {args[0]!r}\n\n{_USAGE}", file=sys.stderr)
        return 2
    return int(command(args[1:]) or 0)


# ---------------------------------------------------------------------------------------
# avi report
# ---------------------------------------------------------------------------------------


def _report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="avi report",
        description=(
            "Write one self-contained HTML report. The API key is read from "
            "$APIVIDEO_API_KEY (never from the command line). With no key and no base URL, "
            "a local sandbox is started and reported on."
        ),
    )
    p.add_argument("--out", default="report.html", help="HTML file to write (report.html)")
    p.add_argument("--base-url", default=None, help="API base URL (default $APIVIDEO_BASE_URL)")
    p.add_argument(
        "--sandbox-local",
        action="store_true",
        help="report on a local simulated sandbox (ignores the key and base URL)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the local sandbox's world")
    p.add_argument("--period", default=None, help="analytics period, e.g. 2024-01-01/2024-01-31")
    p.add_argument(
        "--video", action="append", default=None, metavar="ID", help="only this video (repeatable)"
    )
    p.add_argument("--bin-size", type=float, default=None, help="bin width in seconds")
    p.add_argument("--title", default="Video analytics report")
    p.add_argument(
        "--cohort",
        default="device_type",
        help="session column to compare cohorts by ('none' for none)",
    )
    p.add_argument("--max-videos", type=int, default=10)
    p.add_argument("--no-live", action="store_true", help="leave live streams out")
    p.add_argument("--no-cache", action="store_true", help="do not use the HTTP cache")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    return p


def report_main(argv: Sequence[str] | None = None) -> int:
    """``avi report``: write a report from api.video, a sandbox, or a local simulated one."""
    from .client import connect
    from .exceptions import InsightsError
    from .report import report
    from .sandbox import serve, simulate

    args = _report_parser().parse_args(argv)
    key = os.environ.get("APIVIDEO_API_KEY") or None
    base_url = args.base_url or os.environ.get("APIVIDEO_BASE_URL") or None
    local = args.sandbox_local or (key is None and base_url is None)
    options: dict[str, Any] = {
        "videos": args.video,
        "period": args.period,
        "bin_size": args.bin_size,
        "title": args.title,
        "cohort": None if args.cohort.lower() == "none" else args.cohort,
        "live": not args.no_live,
        "max_videos": args.max_videos,
    }
    try:
        if local:
            print("No API key or base URL: reporting on a local sandbox.", file=sys.stderr)
            with serve(simulate(seed=args.seed)) as sb:
                api = connect(sb.api_key, base_url=sb.base_url, cache=None, progress=args.progress)
                path = report(api, args.out, **options)
        else:
            kwargs: dict[str, Any] = {"base_url": base_url, "progress": args.progress}
            if args.no_cache:
                kwargs["cache"] = None
            api = connect(key, **kwargs)
            path = report(api, args.out, **options)
    except (ValueError, TypeError) as exc:
        print(f"avi report: {exc}", file=sys.stderr)
        return 2
    except InsightsError as exc:
        print(f"avi report: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
