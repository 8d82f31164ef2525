"""The FastAPI application: routers per resource, error mapping, the dashboard and its assets.

Front-end packages (Leaflet, Swagger UI) come from ``node_modules`` installed by ``npm ci``
at install time and are served from here: the dashboard and the API docs work with no
internet. Request logs carry method, path and status only: never a query string, which
for OsmAnd reports would hold positions (and for the event stream, the token).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from ..clock import now_ms
from ..codec import InputError
from ..data import london_boroughs, london_lsoas
from ..live.bus import EventBus
from ..live.engine import LiveEngine
from ..live.process import EngineProcess
from ..store import Store, StoreError
from .limits import BodyLimit
from ..services.devicekeys import KeyCheck
from .osmand_fast import osmand_asgi
from . import (routes_admin, routes_alerts, routes_auth, routes_evaluation, routes_events, routes_ingest, routes_matches,
               routes_orders, routes_subjects)

__all__ = ["create_app", "WebSettings", "node_modules_dir"]

log = logging.getLogger("tagwatch.api")
WEB_DIR = Path(str(files("tagwatch").joinpath("web")))


@dataclass(frozen=True)
class WebSettings:
    """``tile_url``: an XYZ tile server for sites that have one (``{z}/{x}/{y}``); none by default,
    so the base map is the shipped borough and LSOA boundaries. ``stream_heartbeat_s``: how often an
    idle event stream sends a keep-alive comment; ``stream_recheck_s``: how often an open stream
    re-checks its token (an expired token or a disabled user ends it). ``max_batch_bytes``: the
    body limit of ``POST /api/fixes`` (413 above it; ``/osmand`` and the login form take 4 KiB)."""
    tile_url: str | None = None
    tile_attribution: str = ""
    stream_heartbeat_s: float = 15.0
    stream_recheck_s: float = 60.0
    max_batch_bytes: int = 8 << 20


def node_modules_dir() -> Path | None:
    """Where ``npm ci`` put the front-end packages: $TAGWATCH_NODE_MODULES, the source checkout, or ./"""
    candidates = [os.environ.get("TAGWATCH_NODE_MODULES"), Path(__file__).resolve().parents[3] / "node_modules",
                  Path.cwd() / "node_modules"]
    for c in candidates:
        if c and (Path(c) / "leaflet" / "dist" / "leaflet.js").exists():
            return Path(c)
    return None


def create_app(store: Store, settings: WebSettings = WebSettings(), clock: Callable[[], int] = now_ms,
               live: LiveEngine | EngineProcess | None = None, bus: EventBus | None = None) -> FastAPI:
    """The web app over ``store``. ``live``: a started live engine (``tagwatch serve`` gives one);
    without it, ingest requests are committed and judged before they are answered. ``bus``: what
    that engine publishes on (the started engine's own, else the one given, else a new one)."""
    app = TagwatchAPI(title="tagwatch", version="0.1.0", docs_url=None, redoc_url=None,
                      description="Electronic monitoring: role-based access, every location read audited.")
    app.state.store, app.state.clock, app.state.settings = store, clock, settings
    app.state.live = live if live is not None else LiveEngine(store, clock, bus=bus)
    app.state.bus = app.state.live.bus
    app.state.device_keys = KeyCheck(store)  # OsmAnd device keys, verified from memory (api/device_auth.py)
    for r in (routes_auth, routes_ingest, routes_subjects, routes_orders, routes_alerts, routes_matches, routes_admin,
              routes_evaluation, routes_events):
        app.include_router(r.router)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(BodyLimit, limits={"/api/fixes": settings.max_batch_bytes})
    _errors(app)
    _headers(app, settings)
    _map_routes(app, settings)
    _static(app)
    return app


class TagwatchAPI(FastAPI):
    """FastAPI, with the device protocol ``/osmand`` answered by a lean handler ahead of the stack."""

    _fast = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] == "/osmand":
            if self._fast is None:
                async def handler(scope, receive, send):
                    await osmand_asgi(self, scope, receive, send, super(TagwatchAPI, self).__call__)
                self._fast = SecurityHeadersAndLog(handler, self.state.csp)
            return await self._fast(scope, receive, send)
        await super().__call__(scope, receive, send)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(LookupError)
    async def not_found(_request: Request, exc: LookupError):
        return JSONResponse({"detail": str(exc).strip("'\"")}, status_code=404)

    @app.exception_handler(InputError)
    @app.exception_handler(StoreError)
    @app.exception_handler(ValueError)
    async def bad_request(_request: Request, exc: ValueError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Exception)
    async def server_error(_request: Request, _exc: Exception):
        # Answered by Starlette's outermost middleware, past the header middleware: so it sets them.
        return JSONResponse({"detail": "internal error; it is logged"}, status_code=500, headers=ERROR_HEADERS)


ERROR_HEADERS = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _headers(app: FastAPI, settings: WebSettings) -> None:
    tiles = ""
    if settings.tile_url:
        from urllib.parse import urlsplit
        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        tiles = f" {parts.scheme}://{parts.netloc}"

    app.state.csp = (f"default-src 'self'; img-src 'self' data:{tiles}; style-src 'self' 'unsafe-inline'; "
                     "frame-ancestors 'none'")
    app.add_middleware(SecurityHeadersAndLog, csp=app.state.csp)


class SecurityHeadersAndLog:
    """Pure ASGI middleware (no per-request task or body buffering, unlike ``@app.middleware``):
    security headers on every response, and one structured log line per request without its
    query string (which for OsmAnd reports holds positions)."""

    def __init__(self, app, csp: str) -> None:
        self.app = app
        self.csp = [(b"content-security-policy", csp.encode())]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        path: str = scope["path"]
        extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
        if not path.startswith("/docs"):
            extra += self.csp
        if path.startswith("/api/"):
            extra.append((b"cache-control", b"no-store"))
        status = [500]

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log.info(json.dumps({"event": "request", "method": scope["method"], "path": path, "status": status[0],
                                 "ms": round((time.perf_counter() - t0) * 1000, 1)}))


def _map_routes(app: FastAPI, settings: WebSettings) -> None:
    boroughs = json.dumps(london_boroughs())
    all_lsoas: list[str] = []  # 1.6 MB, serialised once on first use

    @app.get("/api/map/config", tags=["map"])
    def map_config():
        """Base-map settings: the optional tile server and the view to open on."""
        return {"tile_url": settings.tile_url, "tile_attribution": settings.tile_attribution,
                "centre": [51.47, -0.08], "zoom": 11, "lsoa_min_zoom": 13,
                "attribution": "Boundaries: ONS, OGL v3; contains OS data (c) Crown copyright 2019"}

    @app.get("/api/map/boroughs", tags=["map"])
    def map_boroughs():
        """London borough boundaries (GeoJSON, ONS, Open Government Licence)."""
        return Response(boroughs, media_type="application/geo+json")

    @app.get("/api/map/lsoas", tags=["map"])
    def map_lsoas(borough: str | None = None):
        """London LSOA boundaries (GeoJSON), optionally of one borough."""
        if borough:
            fc = london_lsoas()
            fc = {**fc, "features": [f for f in fc["features"] if f["properties"].get("borough") == borough]}
            return Response(json.dumps(fc), media_type="application/geo+json")
        if not all_lsoas:
            all_lsoas.append(json.dumps(london_lsoas()))
        return Response(all_lsoas[0], media_type="application/geo+json")


def _static(app: FastAPI) -> None:
    nm = node_modules_dir()
    if nm is not None:
        app.mount("/static/leaflet", StaticFiles(directory=nm / "leaflet" / "dist"), name="leaflet")
        if (nm / "swagger-ui-dist").exists():
            app.mount("/static/swagger", StaticFiles(directory=nm / "swagger-ui-dist"), name="swagger")
    else:
        log.warning(json.dumps({"event": "no_front_end_packages",
                                "hint": "run npm ci in the source checkout (make install) for the map and API docs"}))
    app.mount("/static/app", StaticFiles(directory=WEB_DIR), name="app")

    @app.get("/docs", include_in_schema=False)
    def docs():
        """Interactive API docs (Swagger UI served from node_modules, no CDN)."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title="tagwatch API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/app/favicon.svg")

    @app.get("/", include_in_schema=False)
    def dashboard():
        """The dashboard (a single page; it logs in and calls the API)."""
        return FileResponse(WEB_DIR / "index.html")
