"""Many connections' records -> few sink calls: what arrives while a call is in flight goes in the next.

Each GT06 connection hands over a few records at a time; calling the live engine (or the web app)
once per connection would pay a request's fixed cost (futures, a queue slot, a group's bookkeeping;
an HTTP round trip) for each. :class:`Coalescer` keeps at most ``parallel`` calls in flight and puts
everything that arrived meanwhile, up to ``max_records``, into the next one. Every caller is answered
with the result (or the exception) of the call that carried its records, so a device is still acked
only after its own records were committed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Coalescer"]


class Coalescer:
    def __init__(self, sink: Callable[[list[dict]], Awaitable[Any]], max_records: int = 5_000,
                 parallel: int = 2) -> None:
        self.sink, self.max_records, self.parallel = sink, max_records, parallel
        self._pending: deque[tuple[list[dict], asyncio.Future]] = deque()
        self._active = 0
        self.calls = 0

    async def __call__(self, records: list[dict]) -> Any:
        fut = asyncio.get_running_loop().create_future()
        self._pending.append((records, fut))
        if self._active < self.parallel:
            self._active += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = [self._pending.popleft()]
                n = len(batch[0][0])
                while self._pending and n + len(self._pending[0][0]) <= self.max_records:
                    item = self._pending.popleft()
                    batch.append(item)
                    n += len(item[0])
                self.calls += 1
                try:
                    result = await self.sink([r for recs, _ in batch for r in recs])
                except Exception as e:  # noqa: BLE001 - each waiter hears of it, none is acked
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(e)
                    continue
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(result)
        finally:
            self._active -= 1
