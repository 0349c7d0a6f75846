"""The real-browser suite's tools: api.video's analytics client in headless Chromium.

``players/package.json`` pins ``@api.video/player-analytics`` (installed by ``./run`` with
``npm ci``); ``players/page/`` is the player page and our two integrations;
:mod:`players.harness` serves and drives it, :mod:`players.measure` measures what was
recorded against the page's own truth. Not part of the installed package: tests and
benchmarks import it from the repository root.
"""
