"""Former home of :mod:`apivideo_insights.schema`; kept only so that package modules
written against the old name (here and in branches not merged yet) keep importing.

New code imports :mod:`apivideo_insights.schema`.
"""

from __future__ import annotations

from .schema import *  # noqa: F403
from .schema import STR, __all__  # noqa: F401
