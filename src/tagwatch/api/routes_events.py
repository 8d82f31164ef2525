"""The live event stream: alerts and positions pushed to the dashboard as server-sent events.

Each connection subscribes to the live engine's bus (``app.state.bus``) with an ``accept``
that lets through only what the caller may see (``services.streams.EventScope``), and
unsubscribes when the client goes away or the stream ends. The token may come as ``?token=``
because a browser's EventSource cannot send an Authorization header; request logs never
carry query strings. The token is re-checked every ``stream_recheck_s``: an expired token or
a disabled user ends the stream. An idle stream sends a ``: keepalive`` comment every
``stream_heartbeat_s``, which keeps proxies from closing it and finds a dead client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..services import streams
from ..services.users import User
from .deps import (MONITORING_PROBATION, OptionalPurpose, StreamToken, allow, require_purpose, stream_user,
                   visible_subjects)

router = APIRouter(prefix="/api", tags=["events"])
StreamUser = Annotated[User, Depends(allow(*MONITORING_PROBATION, user_from=stream_user))]
RETRY_MS = 3000  # the reconnection delay EventSource uses by itself (the dashboard backs off on its own)


def sse(event_id: int, event: dict[str, Any]) -> str:
    """One event in the text/event-stream format: ``id``, ``event`` (the type) and one ``data`` line of JSON."""
    return f"id: {event_id}\nevent: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _types(text: str) -> tuple[str, ...]:
    types = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    unknown = [t for t in types if t not in streams.EVENT_TYPES]
    if unknown or not types:
        raise ValueError(f"types: {', '.join(unknown) or 'none given'}; use a comma-separated subset of "
                         + ",".join(streams.EVENT_TYPES))
    return types


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "An endless event stream."}})
async def events(request: Request, user: StreamUser, token: StreamToken, purpose: OptionalPurpose,
                 types: Annotated[str, Query(description="Comma-separated: alert, position.")] = "alert,position"):
    """Alerts and positions the caller may see, as they happen (server-sent events; audited once if positions)."""
    state = request.app.state
    scope = streams.EventScope(visible_subjects(state.store, user), _types(types))
    if scope.positions:
        require_purpose(purpose)
    await run_in_threadpool(streams.audit_stream, state.store, user, scope, purpose, state.clock())
    # The app's GZipMiddleware leaves text/event-stream alone (Starlette 0.46 and later); X-Accel-Buffering
    # asks nginx not to buffer it either. The first chunk goes at once, so the headers do too.
    return StreamingResponse(_stream(state, token or "", user, scope, purpose), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})


async def _stream(state: Any, token: str, user: User, scope: streams.EventScope, purpose: str) -> AsyncIterator[str]:
    """Events as they come, keep-alives when idle; ends when the token stops being valid."""
    loop = asyncio.get_running_loop()
    heartbeat, recheck = state.settings.stream_heartbeat_s, state.settings.stream_recheck_s
    sub = state.bus.subscribe(scope)
    getter: asyncio.Future | None = None
    try:
        yield f"retry: {RETRY_MS}\n: stream open\n\n"
        count, beat_at, check_at = 0, loop.time() + heartbeat, loop.time() + recheck
        getter = asyncio.ensure_future(sub.get())
        while True:
            done, _ = await asyncio.wait({getter}, timeout=max(0.0, min(beat_at, check_at) - loop.time()))
            if done:
                count += 1
                yield sse(count, getter.result())
                getter = asyncio.ensure_future(sub.get())
                beat_at = loop.time() + heartbeat
            if loop.time() >= check_at:
                user = await run_in_threadpool(streams.recheck, state.store, token, state.clock())
                if user is None:
                    yield ": token no longer valid; log in again\n\n"
                    return
                await _rescope(state, user, scope, purpose)
                check_at = loop.time() + recheck
            if loop.time() >= beat_at:
                yield ": keepalive\n\n"
                beat_at = loop.time() + heartbeat
    finally:
        if getter is not None:
            getter.cancel()
        state.bus.unsubscribe(sub)


async def _rescope(state: Any, user: User, scope: streams.EventScope, purpose: str) -> None:
    """A probation officer's caseload changed while the stream was open: follow it (audited)."""
    if scope.rescope(visible_subjects(state.store, user)):
        await run_in_threadpool(streams.audit_stream, state.store, user, scope, purpose, state.clock(), True)
