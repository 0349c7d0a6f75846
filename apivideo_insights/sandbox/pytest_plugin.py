"""pytest plugin (registered through the ``pytest11`` entry point): sandbox fixtures.

Fixtures
--------
sandbox_world
    Session scope: ``simulate(seed=0, now=SANDBOX_NOW)``, the same world in every run.
sandbox
    A started :class:`~apivideo_insights.sandbox.server.Sandbox` serving
    ``sandbox_world`` (function scope: start-up costs a few milliseconds, the world's
    indexes are built once and shared).
sandbox_server
    A factory for tests that need knobs: ``sandbox_server(latency=0.05,
    faults={"error_rate": 0.2}, rate_limit=10, token_ttl=1, world=...)`` returns a started
    server; every server it made is stopped at the end of the test.

>>> def test_videos(sandbox):                                       # doctest: +SKIP
...     api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None)
...     assert len(api.videos()) == len(sandbox.world.videos)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import Sandbox
    from .world import World

__all__ = ["SANDBOX_NOW", "sandbox", "sandbox_server", "sandbox_world"]

#: The fixed clock of ``sandbox_world``: ``/data`` windows and periods are relative to it.
SANDBOX_NOW = "2024-06-01T12:00:00+00:00"


@pytest.fixture(scope="session")
def sandbox_world() -> World:
    """A seeded simulated world with a fixed ``now`` (:data:`SANDBOX_NOW`)."""
    from .simulate import simulate

    return simulate(seed=0, now=SANDBOX_NOW)


@pytest.fixture
def sandbox(sandbox_world: World) -> Iterator[Sandbox]:
    """A running sandbox server on ``sandbox_world``, no latency, faults or rate limit."""
    from .server import serve

    with serve(sandbox_world) as server:
        yield server


@pytest.fixture
def sandbox_server(sandbox_world: World) -> Iterator[Callable[..., Sandbox]]:
    """Factory: ``sandbox_server(**knobs)`` starts a server with :func:`serve`'s knobs."""
    from .server import serve

    started: list[Sandbox] = []

    def make(**knobs: Any) -> Sandbox:
        world = knobs.pop("world", sandbox_world)
        server = serve(world, **knobs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
