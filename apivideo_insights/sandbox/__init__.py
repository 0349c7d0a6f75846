"""A local api.video-compatible server and the simulated world it serves.

>>> import apivideo_insights as avi
>>> world = avi.sandbox.simulate(seed=0)                     # doctest: +SKIP
>>> with avi.sandbox.serve(world) as sb:                     # doctest: +SKIP
...     api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None)
...     api.videos().head()
"""

from __future__ import annotations

from .server import serve
from .simulate import simulate
from .world import World

__all__ = ["World", "serve", "simulate"]
