"""Request body limits, enforced before a route reads the body (pure ASGI, one dict look-up a request).

A body over its path's limit is answered 413 at once: from ``Content-Length`` without reading
a byte, or, for a chunked body, as soon as the bytes read pass the limit (only bodies under
the limit are buffered, so the buffer is bounded too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

__all__ = ["BodyLimit", "DEFAULT_LIMITS"]

KIB, MIB = 1024, 1024 * 1024
# Anonymous routes get small limits: an OsmAnd report is a few hundred bytes, a login form less.
DEFAULT_LIMITS = {"/osmand": 4 * KIB, "/api/auth/token": 4 * KIB, "/api/fixes": 8 * MIB}
OTHER_LIMIT = 4 * MIB  # every other route (orders with large zone polygons included)


class BodyLimit:
    def __init__(self, app, limits: Mapping[str, int] | None = None, other: int = OTHER_LIMIT) -> None:
        self.app, self.limits, self.other = app, {**DEFAULT_LIMITS, **(limits or {})}, other

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.limits.get(scope["path"], self.other)
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                return await _too_large(send, limit)
            return await self.app(scope, receive, send)
        # No length given (chunked): read up to the limit, then hand the body on.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await _too_large(send, limit)
            if not message.get("more_body"):
                break
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await self.app(scope, replay, send)


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is over this route's limit of {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
