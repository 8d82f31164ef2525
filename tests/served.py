"""Helpers for tests of the served app: uvicorn on a free port, a server-sent events client, the
events the live engine publishes on its bus, and logging in from a browser page. Fixtures built
on them are in conftest.py."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest


def run_async(coro):
    """``asyncio.run`` in a thread of its own: a test may run where a loop is already running
    (Playwright's sync API leaves one in the worker's main thread)."""
    import concurrent.futures
    import asyncio
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(app):
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields the server with ``url``
    and ``stop()`` (open event streams are cut after 1 s, as a stopped server cuts them)."""
    import uvicorn
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                        access_log=False, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    srv.url = f"http://127.0.0.1:{srv.config.port}"

    def stop():
        srv.should_exit = True
        thread.join(timeout=10)
    srv.stop = stop
    try:
        yield srv
    finally:
        stop()



@contextmanager
def serve_world(world, store, app, password: str):
    """Serve ``app`` (on ``store``, with the web world of conftest) and add to ``world``: ``url``,
    ``app``, ``store``, ``server``, ``token(username)``, ``publish(event)`` on the app's bus with
    ``position(...)`` and ``alert(row, change, ...)`` to build events, and ``alert_rows`` (S1's and
    S2's alert as GET /api/alerts/{id} gives it)."""
    import httpx
    with serve_app(app) as srv:
        def token(username: str) -> str:
            r = httpx.post(srv.url + "/api/auth/token", data={"username": username, "password": password})
            assert r.status_code == 200, r.text
            return r.json()["access_token"]
        mon = {"Authorization": f"Bearer {token('mon')}"}
        world.alert_rows = {sid: httpx.get(f"{srv.url}/api/alerts/{aid}", headers=mon).json()
                            for sid, aid in world.alerts.items()}
        world.url, world.app, world.store, world.server, world.token = srv.url, app, store, srv, token
        world.publish, world.position, world.alert = app.state.bus.publish, position_event, alert_event
        yield world

class SSEReader:
    """A client of ``GET /api/events`` over real HTTP, read in a thread: ``status`` once answered,
    parsed events (``{"id", "event", "data"}``) on a queue, comments kept, ``ended`` when it stops."""

    def __init__(self, url: str, params: dict | None = None, headers: dict | None = None):
        self.url, self.params, self.headers = url, params, headers
        self.status: int | None = None
        self.body = ""
        self.comments: list[str] = []
        self.events: queue.Queue = queue.Queue()
        self.answered, self.ended = threading.Event(), threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.answered.wait(10), "the event stream did not answer"

    def _run(self) -> None:
        import httpx
        try:
            with httpx.stream("GET", self.url, params=self.params, headers=self.headers, timeout=30) as r:
                self.status = r.status_code
                if r.status_code != 200:
                    self.body = r.read().decode()
                    return
                fields: dict[str, str] = {}
                for line in r.iter_lines():
                    self.answered.set()  # the first line comes after the subscription is made
                    if self._closing:
                        return
                    if not line:
                        if "event" in fields:
                            self.events.put({"id": int(fields["id"]), "event": fields["event"],
                                             "data": json.loads(fields["data"])})
                        fields = {}
                    elif line.startswith(":"):
                        self.comments.append(line[1:].strip())
                    else:
                        key, _, value = line.partition(":")
                        fields[key] = value[1:] if value.startswith(" ") else value
        finally:
            self.answered.set()
            self.ended.set()

    def next(self, timeout: float = 5) -> dict:
        return self.events.get(timeout=timeout)

    def until(self, event_type: str, timeout: float = 5) -> list[dict]:
        """Events received before the next one of ``event_type`` (which is dropped)."""
        out = []
        while (e := self.next(timeout))["event"] != event_type:
            out.append(e)
        return out

    def close(self) -> None:
        self._closing = True  # the thread leaves at the next line (a keep-alive at the latest)


def position_event(subject_id: str, device_id: str, ts_ms: int, lat: float, lon: float, accuracy_m: float = 8.0,
                   battery_pct: float | None = 80.0, strap: str | None = "ok") -> dict:
    """A ``position`` event as the live engine publishes it (tagwatch.live.bus)."""
    return {"type": "position", "subject_id": subject_id, "device_id": device_id, "ts_ms": ts_ms, "lat": lat,
            "lon": lon, "accuracy_m": accuracy_m, "battery_pct": battery_pct, "strap": strap}


def alert_event(row: dict, change: str = "new", **changes) -> dict:
    """An ``alert`` event carrying ``row`` (as GET /api/alerts/{id} gives it, ``events`` left out), changed."""
    alert = {k: v for k, v in row.items() if k != "events"}
    alert.update(changes)
    return {"type": "alert", "change": change, "alert": alert}


E2E_PURPOSE = "end-to-end test of the dashboard"


def e2e_skips() -> list:
    """The browser tests' pytestmark: Debian's Chromium and npm's Leaflet are needed."""
    from tagwatch.api.app import node_modules_dir
    return [pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                               reason="apt-get install -y chromium (.ci/run does)"),
            pytest.mark.skipif(node_modules_dir() is None,
                               reason="npm ci has not installed Leaflet (make install-test does)")]


def login(page, url: str, username: str, password: str = "correct horse battery") -> None:
    """Log in on the dashboard's page and wait for the header to name the user."""
    page.goto(url + "/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#who:has-text('" + username + "')")


def state_purpose(page, purpose: str = E2E_PURPOSE) -> None:
    """Answer the page's question of why locations are viewed."""
    page.fill("#purpose-first", purpose)
    page.click("form button[type=submit]")
