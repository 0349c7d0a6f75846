"""The ``avi`` command: ``avi sandbox``, ``avi report`` and ``avi demo``.

Each subcommand is a thin shell over the ``main(argv)`` of the module that does the work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

__all__ = ["main"]

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
        from .report import main as report_main

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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
