"""The live path against a real server: no acknowledged fix is lost on kill -9; overload answers 503.

``tagwatch serve`` runs as its own process on a real SQLite file and a real PostgreSQL; clients
post OsmAnd reports concurrently and note every one the server acknowledged; the server is
killed with SIGKILL mid-stream; every acknowledged fix must be in the store afterwards.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tagwatch.codec import conditions_checked
from tagwatch.model import Device, Order, OrderType, OrderVersion, Subject
from tagwatch.services.devicekeys import digest
from tagwatch.store import open_store

T_ENROL = 1_774_000_800_000
TAGS = [f"TAG{i:03d}" for i in range(12)]
KEYS = {dev: f"key-of-{dev}" for dev in TAGS}  # each device's OsmAnd key (set as its digest at enrolment)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _enrol(url: str, b) -> None:
    store = open_store(url)
    for i, dev in enumerate(TAGS):
        sid = f"S{i:03d}"
        store.add_subject(Subject(sid), T_ENROL)
        store.add_device(Device(dev), T_ENROL)
        store.set_device_key(dev, digest(KEYS[dev]), T_ENROL)
        store.assign(dev, sid, T_ENROL)
        conds = conditions_checked([{"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, 0)}])
        store.add_order(Order(f"O{sid}", sid, OrderType.LICENCE, T_ENROL, None,
                              (OrderVersion(f"O{sid}", 1, T_ENROL, conds),)), T_ENROL)
    store.engine.dispose()


def _wait_listening(port: int, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read().decode(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not start listening")


def _client(port: int, dev: str, start_s: int, acked: list, stop: threading.Event) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t = start_s
    while not stop.is_set():
        try:
            conn.request("GET", f"/osmand?id={dev}&key={KEYS[dev]}&lat=51.45&lon=-0.02&timestamp={t}&accuracy=10&batt=80")
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            return  # the server is gone
        if resp.status == 200 and body == b"OK":
            acked.append((dev, t * 1000))
        t += 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_during_streamed_ingest_loses_no_acknowledged_fix(tmp_path, b, backend, request):
    url = (f"sqlite:///{tmp_path / 'kill.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres").new_database())
    _enrol(url, b)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from tagwatch.cli import app; app()", "serve", "--db", url,
                             "--port", str(port), "--tick-s", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        _wait_listening(port, proc)
        acked: list[tuple[str, int]] = []
        stop = threading.Event()
        start_s = int(time.time()) - 3000
        clients = [threading.Thread(target=_client, args=(port, dev, start_s, acked, stop)) for dev in TAGS]
        for c in clients:
            c.start()
        time.sleep(3)
        n_before_kill = len(acked)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        stop.set()
        for c in clients:
            c.join(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert n_before_kill > 100, "the clients got too few acknowledgements for the test to mean anything"
    store = open_store(url)
    with store.engine.connect() as c:
        from sqlalchemy import select

        from tagwatch.store import schema as s
        stored = {tuple(r) for r in c.execute(select(s.fixes.c.device_id, s.fixes.c.ts_ms))}
    lost = [k for k in acked if k not in stored]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged fixes lost, e.g. {lost[:3]}"


def test_overload_answers_503_with_retry_after_never_a_hang(tmp_path, b, monkeypatch):
    """With the disk stalled and the queue full, a new request is refused at once; the queued one
    is stored and acknowledged when the disk comes back."""
    import httpx
    import uvicorn

    from tagwatch.api import create_app
    from tagwatch.live.engine import LiveEngine, LiveSettings

    url = f"sqlite:///{tmp_path / 'busy.db'}"
    _enrol(url, b)
    store = open_store(url, durable=True)
    disk_back = threading.Event()
    real_insert = store.insert_fix_rows_new

    def stalled_insert(cols):
        disk_back.wait(30)  # a stalled disk: the commit does not come back
        return real_insert(cols)

    monkeypatch.setattr(store, "insert_fix_rows_new", stalled_insert)
    engine = LiveEngine(store, settings=LiveSettings(max_pending_records=1))
    engine.start()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, live=engine), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        first: dict = {}
        ts = int(time.time()) - 60

        def post_first():
            first["r"] = httpx.get(f"http://127.0.0.1:{port}/osmand",
                                   params={"id": TAGS[0], "key": KEYS[TAGS[0]], "lat": 51.45, "lon": -0.02, "timestamp": ts}, timeout=30)
        waiting = threading.Thread(target=post_first)
        waiting.start()
        while engine.writer.pending < 1:
            time.sleep(0.01)
        refused = [httpx.get(f"http://127.0.0.1:{port}/osmand", timeout=5,
                             params={"id": dev, "key": KEYS[dev], "lat": 51.45, "lon": -0.02, "timestamp": ts}) for dev in TAGS[1:5]]
        assert {r.status_code for r in refused} == {503}
        assert all(r.headers["Retry-After"].isdigit() for r in refused)
        assert first == {}  # the queued request is still waiting for its commit
        disk_back.set()
        waiting.join(timeout=30)
        assert first["r"].status_code == 200 and first["r"].text == "OK"
    finally:
        disk_back.set()
        server.should_exit = True
        engine.stop()


def test_the_engine_process_acknowledges_after_commit_and_streams_events_back(tmp_path, b):
    """EngineProcess (what tagwatch serve runs): fixes confirming a breach, sent down the pipe, are
    acknowledged with their counts, and the breach and the position come back on the web side's bus."""
    import asyncio

    from tagwatch.live.process import EngineProcess
    from tagwatch.model import iso

    url = f"sqlite:///{tmp_path / 'proc.db'}"
    _enrol(url, b)
    engine = EngineProcess(url)
    engine.start()
    try:
        async def run():
            sub = engine.bus.subscribe()
            now = int(time.time() * 1000)
            lon, lat = b.offset(1000, 0)  # inside the exclusion zone of conftest's builders
            fixes = [{"device_id": TAGS[0], "ts": iso(now - m * 60_000), "lat": round(lat, 6), "lon": round(lon, 6),
                      "accuracy_m": 5} for m in (4, 3, 2, 1)]
            rep = await engine.ingest(fixes + [fixes[0], {"device_id": "NOPE", "ts": iso(now)}], "test")
            assert (rep.accepted, rep.duplicates, rep.rejected) == (4, 1, 1)
            seen = []
            while not any(e["type"] == "alert" for e in seen):
                seen.append(await asyncio.wait_for(sub.get(), 10))
            return seen
        out: dict = {}
        # In a thread of its own: a browser test earlier in the worker may leave an event loop running here.
        worker = threading.Thread(target=lambda: out.update(events=asyncio.run(run())))
        worker.start()
        worker.join(60)
        events = out["events"]
    finally:
        engine.stop()
    position = next(e for e in events if e["type"] == "position")
    alert = next(e for e in events if e["type"] == "alert")
    assert position["subject_id"] == "S000" and alert["change"] == "new"
    assert (alert["alert"]["kind"], alert["alert"]["subject_id"]) == ("exclusion_breach", "S000")
    assert [a["kind"] for a in open_store(url).alerts(subject_id="S000")] == ["exclusion_breach"]
