"""The HTTP stack's ceiling: a bare Starlette app on uvicorn answering what tagwatch answers, doing nothing.

``GET/POST /osmand`` -> ``OK``; ``POST /api/fixes`` -> ``{"accepted": N}`` (the body is parsed
to count the fixes, nothing is validated or stored). Run with the same uvicorn options as
``tagwatch serve`` (one worker, access log off):

    python bench/live/bare_app.py --port 8766
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def osmand(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("OK")


async def fixes(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({"accepted": len(body.get("fixes", ()))})


async def config(_request: Request) -> JSONResponse:
    return JSONResponse({"bare": True})


app = Starlette(routes=[Route("/osmand", osmand, methods=["GET", "POST"]),
                        Route("/api/fixes", fixes, methods=["POST"]),
                        Route("/api/map/config", config, methods=["GET"])])

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8766)
    a = ap.parse_args()
    # The options of tagwatch.cli.web.serve_store.
    uvicorn.run(app, host=a.host, port=a.port, access_log=False, log_level="info")
