"""``/osmand`` served by a lean ASGI handler, ahead of the web framework's routing and middleware.

Devices report many times a second in all; the dashboard's routes need FastAPI's dependency
injection, the device protocol does not (Traccar likewise serves its protocols apart from its
web app). Measured on the 2-core machine, FastAPI's stack cost about three times the handler's
own work per report. The handler speaks exactly what the routed ``/osmand`` does (same parsers,
same engine, same answers: ``OK``, 400 with the reason, 503 with ``Retry-After``) and goes through
the same security-header and request-log wrapper; a multipart form, which Traccar never sends, is
passed on to the routed handler. Both refuse a report without its device's key (401) and any
request from a browser (403), through :mod:`.device_auth`.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from ..ingest.osmand import report_from
from ..live.writer import Overloaded
from ..model import iso
from .device_auth import REFUSED_BROWSER, REFUSED_KEY, device_authorised, from_a_browser

__all__ = ["osmand_asgi", "MAX_BODY"]

log = logging.getLogger("tagwatch.api")
MAX_BODY = 4_096  # an OsmAnd report is a few hundred bytes (the same limit as api/limits.py)


async def _text(send, status: int, text: str, headers: tuple = ()) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def _body(receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return None
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not msg.get("more_body"):
            return b"".join(chunks)


async def osmand_asgi(app, scope, receive, send, fallback) -> None:
    """Answer one OsmAnd report; ``fallback`` (the routed app) takes what this does not speak."""
    method = scope["method"]
    headers = dict(scope.get("headers") or ())
    ctype = headers.get(b"content-type", b"").decode("latin-1")
    if method not in ("GET", "POST") or ctype.startswith("multipart/"):
        return await fallback(scope, receive, send)
    if from_a_browser(h.decode("latin-1") for h in headers):
        return await _text(send, 403, REFUSED_BROWSER)
    now = app.state.clock()
    params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    json_body = None
    if method == "POST":
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY:  # refused before reading anything
            return await _text(send, 413, "a report is at most 4 KiB")
        body = await _body(receive)
        if body is None:
            return await _text(send, 413, "a report is at most 4 KiB")
        if ctype.startswith("application/json"):
            json_body = body
        else:
            params.update(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    record, key = report_from(params, iso(now), json_body)
    if not device_authorised(app.state.device_keys, record, key, (scope.get("client") or ("?",))[0]):
        return await _text(send, 401, REFUSED_KEY)
    try:
        rep = await app.state.live.ingest([record], "osmand")
    except Overloaded as e:
        return await _text(send, 503, str(e), ((b"retry-after", str(e.retry_after_s).encode()),))
    except TimeoutError:
        return await _text(send, 503, "the store did not commit in time; retry", ((b"retry-after", b"5"),))
    if rep.rejected:
        # Traccar answers 400 to a report it cannot use; the reason is kept in the rejects.
        return await _text(send, 400, next(iter(rep.reasons)))
    await _text(send, 200, "OK")
