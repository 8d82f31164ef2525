"""The event bus: what the live engine tells people, fanned out to every open stream.

The engine publishes from its own threads; each subscriber (one server-sent events stream)
reads from an asyncio queue on the web server's event loop. A subscriber that falls behind
by more than ``maxsize`` events is not allowed to slow the engine down: its queue is dropped
and it receives one ``resync`` event, after which the page reloads what it shows.

Events are plain dicts with a ``type``:

- ``alert``: ``{"type": "alert", "change": "new" | "updated" | "retracted", "alert": {...}}`` where
  ``alert`` is the alert row as ``GET /api/alerts/{id}`` gives it (``subject_id`` included);
- ``position``: ``{"type": "position", "subject_id", "device_id", "ts_ms", "lat", "lon",
  "accuracy_m", "battery_pct", "strap"}``, the newest positioned fix of a subject;
- ``resync``: the subscriber missed events.

Scoping (who may see which event) is the subscriber's job: the bus carries everything.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EventBus", "Subscription"]

Event = dict[str, Any]


@dataclass(eq=False)
class Subscription:
    """One reader of the bus: events that pass ``accept`` arrive on ``queue``."""
    loop: asyncio.AbstractEventLoop
    accept: Callable[[Event], bool]
    maxsize: int
    queue: asyncio.Queue = field(init=False)
    id: int = 0
    lagging: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.maxsize + 1)

    def _offer(self, event: Event) -> None:  # runs on the subscriber's loop
        if self.lagging:
            return
        if self.queue.qsize() >= self.maxsize:
            self.lagging = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait({"type": "resync"})
            return
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        event = await self.queue.get()
        if event.get("type") == "resync":
            self.lagging = False
        return event


class EventBus:
    """Thread-safe publish; asyncio subscribers."""

    def __init__(self) -> None:
        self._subs: dict[int, Subscription] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.published = 0

    def subscribe(self, accept: Callable[[Event], bool] = lambda _e: True, maxsize: int = 1000,
                  loop: asyncio.AbstractEventLoop | None = None) -> Subscription:
        """Call from the event loop that will read the subscription."""
        sub = Subscription(loop or asyncio.get_running_loop(), accept, maxsize)
        with self._lock:
            sub.id = next(self._ids)
            self._subs[sub.id] = sub
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.pop(sub.id, None)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every subscriber that accepts it; never blocks the caller."""
        self.published += 1
        with self._lock:
            subs = list(self._subs.values())
        for sub in subs:
            try:
                if not sub.accept(event):
                    continue
                sub.loop.call_soon_threadsafe(sub._offer, event)
            except RuntimeError:  # the subscriber's loop has closed
                self.unsubscribe(sub)
