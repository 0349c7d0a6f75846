"""``python -m apivideo_insights.sandbox``: serve a simulated api.video until Ctrl-C.

Same options as ``avi sandbox`` (see ``--help``).
"""

from __future__ import annotations

from .server import main

if __name__ == "__main__":
    raise SystemExit(main())
