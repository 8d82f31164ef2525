"""The wall clock, read only at the edges (CLI commands, the web service's ``NowDep``).

Use cases and the pure core take ``now_ms`` as an argument instead, so tests control time.
"""

from __future__ import annotations

import time

__all__ = ["now_ms"]


def now_ms() -> int:
    """Milliseconds since the Unix epoch, UTC."""
    return int(time.time() * 1000)
