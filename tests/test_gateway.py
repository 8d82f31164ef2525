"""The GT06 TCP gateway (tagwatch.gateway): sessions over real loopback sockets, acks after the sink,
refusals counted; then into a real live engine and through the web app's POST /api/fixes.

Frames are Traccar's published captures (see tests/test_gt06.py for the source).
"""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import pytest

from tagwatch.gateway.gt06_server import Gt06Gateway, KnownDevices
from tagwatch.ingest.gt06 import ack

from served import run_async as run  # tests/served.py

LOGIN = bytes.fromhex("78780D01086471700328358100093F040D0A")  # IMEI 864717003283581, serial 9
GPS_LBS_12 = bytes.fromhex("78781f120f0a140e150bc505e51e780293a9e800540000f601006e0055da00035f240d0a")  # serial 3
REMOVING_16 = bytes.fromhex("7878251613020C12141AC5027951430C2A16F60014000900000000001A00007C550300020002F1E70D0A")
NOFIX_22 = bytes.fromhex("787822221106160a1016c60278019407c7783800040001940504700046fc01030100065f570d0a")
HEARTBEAT = bytes.fromhex("78780a13c40604000201298f5b0d0a")  # serial 0x0129
BAD_CRC = bytes.fromhex("78781F120B081D112E10CC027AC7EB0C46584900148F01CC00287D001FB8000380810D0A")
IMEI = "864717003283581"
LOGIN_ACK, GPS_ACK = ack(0x01, 9), ack(0x12, 3)


class Sink:
    def __init__(self, hold: asyncio.Event | None = None, fail: bool = False):
        self.batches: list[list[dict]] = []
        self.hold, self.fail = hold, fail

    async def __call__(self, records):
        if self.hold is not None and records[0]["device_id"] == IMEI:
            await self.hold.wait()
        if self.fail:
            raise TimeoutError("the store did not commit in time")
        self.batches.append(records)
        return {"accepted": len(records)}

    @property
    def records(self):
        return [r for b in self.batches for r in b]


async def _session(gw: Gt06Gateway, *chunks: bytes, want: int, timeout: float = 5.0) -> bytes:
    """Connect, send ``chunks`` one write each, read until ``want`` bytes or EOF."""
    server = await gw.start("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for c in chunks:
            writer.write(c)
            await writer.drain()
            await asyncio.sleep(0.01)
        got = b""
        try:
            while len(got) < want:
                try:
                    part = await asyncio.wait_for(reader.read(4096), timeout)
                except ConnectionResetError:  # closed with our bytes unread
                    break
                if not part:
                    break
                got += part
        finally:
            writer.close()
        return got
    finally:
        server.close()



def test_login_then_a_fix_split_across_writes_acks_after_the_sink():
    sink = Sink()
    gw = Gt06Gateway(sink)
    stream = LOGIN + GPS_LBS_12
    got = run(_session(gw, stream[:5], stream[5:21], stream[21:], want=len(LOGIN_ACK + GPS_ACK)))
    assert got == LOGIN_ACK + GPS_ACK
    (rec,) = sink.records
    assert rec["device_id"] == IMEI and rec["ts"] == "2015-10-20T14:21:11+00:00"
    assert rec["lat"] == pytest.approx(54.9453467) and gw.stats.logins == 1 and gw.stats.records == 1


def test_merged_frames_in_one_write():
    sink = Sink()
    gw = Gt06Gateway(sink)
    got = run(_session(gw, LOGIN + GPS_LBS_12 + HEARTBEAT + REMOVING_16, want=40))
    assert got == LOGIN_ACK + GPS_ACK + ack(0x13, 0x0129) + ack(0x16, 2)
    assert [r["strap"] for r in sink.records] == ["ok", "ok", "tamper"]


def test_a_device_that_never_logs_in_gets_nothing_stored_and_no_ack():
    sink = Sink()
    gw = Gt06Gateway(sink, idle_s=0.3)
    got = run(_session(gw, GPS_LBS_12, HEARTBEAT, want=1, timeout=2))
    assert got == b"" and sink.records == [] and gw.stats.events["not_logged_in"] == 2


def test_a_bad_frame_closes_the_connection_after_the_good_ones_before_it():
    sink = Sink()
    gw = Gt06Gateway(sink)
    got = run(_session(gw, LOGIN + GPS_LBS_12 + BAD_CRC + HEARTBEAT, want=100))
    assert got == LOGIN_ACK + GPS_ACK  # then EOF
    assert len(sink.records) == 1 and gw.stats.events["bad_crc"] == 1 and gw.stats.open == 0


def test_garbage_and_oversized_frames_are_counted():
    gw = Gt06Gateway(Sink(), max_frame=128)
    assert run(_session(gw, b"GET / HTTP/1.1\r\n\r\n", want=1)) == b""
    assert run(_session(gw, LOGIN + b"\x78\x78\xff" + b"\x00" * 50, want=100)) == LOGIN_ACK
    assert gw.stats.events["bad_start"] == 1 and gw.stats.events["oversized"] == 1


def test_a_refused_address_is_counted_and_nothing_stored():
    sink = Sink()
    gw = Gt06Gateway(sink, allow=["10.20.0.0/16"])
    assert run(_session(gw, LOGIN + GPS_LBS_12, want=1)) == b""
    assert sink.records == [] and gw.stats.refused == {"127.0.0.1": 1} and gw.stats.connections == 0
    assert Gt06Gateway(sink, allow=["10.20.0.0/16"]).allowed("10.20.3.4")
    assert not Gt06Gateway(sink).allowed("192.168.1.10") and Gt06Gateway(sink).allowed("::ffff:127.0.0.1")


def test_idle_connections_time_out():
    gw = Gt06Gateway(Sink(), idle_s=0.2)
    assert run(_session(gw, LOGIN, want=100, timeout=3)) == LOGIN_ACK
    assert gw.stats.events["idle_timeout"] == 1


def test_an_unknown_imei_is_refused_at_login():
    sink = Sink()
    gw = Gt06Gateway(sink, known=KnownDevices(lambda: {"OTHER"}))
    assert run(_session(gw, LOGIN + GPS_LBS_12, want=1)) == b""
    assert sink.records == [] and gw.stats.events["unknown_imei"] == 1


def test_no_ack_when_the_sink_fails():
    gw = Gt06Gateway(Sink(fail=True))
    assert run(_session(gw, LOGIN + GPS_LBS_12, want=100)) == b""  # login ack waits with the fix's: none
    assert gw.stats.events["sink_failed"] == 1 and gw.stats.records == 0


def test_one_slow_connection_never_blocks_another():
    async def main():
        hold = asyncio.Event()
        sink = Sink(hold=hold)
        gw = Gt06Gateway(sink)
        server = await gw.start("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        slow_r, slow_w = await asyncio.open_connection("127.0.0.1", port)
        slow_w.write(LOGIN + GPS_LBS_12)  # its sink call waits on `hold`
        other = LOGIN.replace(bytes.fromhex("0864717003283581"), bytes.fromhex("0123456789012345"))
        from tagwatch.ingest.gt06 import crc16_x25
        other = other[:-4] + crc16_x25(other[2:-4]).to_bytes(2, "big") + b"\r\n"
        fast_r, fast_w = await asyncio.open_connection("127.0.0.1", port)
        fast_w.write(other + GPS_LBS_12)
        got = await asyncio.wait_for(fast_r.readexactly(len(LOGIN_ACK + GPS_ACK)), 2)
        assert got == LOGIN_ACK + GPS_ACK and sink.records[0]["device_id"] == "123456789012345"
        hold.set()
        assert await asyncio.wait_for(slow_r.readexactly(20), 2) == LOGIN_ACK + GPS_ACK
        for w in (slow_w, fast_w):
            w.close()
        server.close()
    run(main())


# -- into the live engine, and through the web app ----------------------------------------------------
def _store_with_device(tmp_path):
    from tagwatch.model import Device, RiskLevel, Subject
    from tagwatch.store import open_store
    store = open_store(f"sqlite:///{tmp_path / 'gw.db'}")
    store.add_subject(Subject("S1", "Person S1", RiskLevel.HIGH, "", "Lewisham"), 0)
    store.add_device(Device(IMEI), 0)
    store.assign(IMEI, "S1", 0)
    return store


def _all_fixes(store):
    from sqlalchemy import select

    from tagwatch.store import schema as s
    with store.engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(s.fixes))]


def test_into_the_live_engine(tmp_path):
    from tagwatch.live.engine import LiveEngine
    store = _store_with_device(tmp_path)
    engine = LiveEngine(store)
    gw = Gt06Gateway(lambda recs: engine.ingest(recs, "gt06"), known=KnownDevices(store.device_ids))
    got = run(_session(gw, LOGIN + GPS_LBS_12 + REMOVING_16 + NOFIX_22, want=40))
    assert got == LOGIN_ACK + GPS_ACK + ack(0x16, 2) + ack(0x22, 6)
    rows = sorted(_all_fixes(store), key=lambda r: r["ts_ms"])
    assert [(datetime.fromtimestamp(r["ts_ms"] / 1000, UTC).year, r["strap"], r["lat"] is None) for r in rows] == \
        [(2015, "ok", False), (2017, "ok", True), (2019, "tamper", False)]
    assert rows[2]["battery_pct"] == 85


def test_gateway_apart_forwards_to_post_api_fixes(tmp_path):
    from served import serve_app

    from tagwatch.api import create_app
    from tagwatch.gateway.forward import HttpForwarder
    from tagwatch.live.engine import LiveEngine
    from tagwatch.services import users
    import httpx
    store = _store_with_device(tmp_path)
    users.add_user(store, "gw", "gateway password", "gateway", 0)
    engine = LiveEngine(store)
    engine.start(monitor=False)
    try:
        with serve_app(create_app(store, live=engine)) as srv:
            r = httpx.post(srv.url + "/api/auth/token", data={"username": "gw", "password": "gateway password"})
            token_file = tmp_path / "token"
            token_file.write_text(r.json()["access_token"] + "\n")
            forward = HttpForwarder(srv.url, token_file)  # its queue is bound to the loop of its first call
            gw = Gt06Gateway(forward)
            got = run(_session(gw, LOGIN + GPS_LBS_12, want=len(LOGIN_ACK + GPS_ACK)))
            assert got == LOGIN_ACK + GPS_ACK
            assert [r["ts_ms"] for r in _all_fixes(store)] == [1445350871000]
            token_file.write_text("not a token")
            assert run(_session(Gt06Gateway(HttpForwarder(srv.url, token_file)), LOGIN + REMOVING_16,
                                want=100)) == b""  # 401: the device is not acked
    finally:
        engine.stop()


def test_serve_runs_gt06_beside_the_web_app(tmp_path):
    """`tagwatch serve --gt06-port` as a process: a GT06 fix reaches the store through its engine."""
    import subprocess
    import sys
    import time

    from served import free_port
    store = _store_with_device(tmp_path)
    web_port, gt06_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from tagwatch.cli import app; app()", "serve", "--port", str(web_port),
                             "--gt06-port", str(gt06_port), "--no-monitor", "--db", f"sqlite:///{tmp_path / 'gw.db'}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                sock = socket.create_connection(("127.0.0.1", gt06_port), timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError(proc.stderr.read1().decode() if proc.poll() is not None else "no GT06 listener")
        sock.settimeout(10)
        sock.sendall(LOGIN + GPS_LBS_12)
        got = b""
        while len(got) < 20:
            got += sock.recv(100)
        assert got == LOGIN_ACK + GPS_ACK
        sock.close()
        assert [r["ts_ms"] for r in _all_fixes(store)] == [1445350871000]
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_the_coalescer_puts_concurrent_callers_in_one_sink_call_and_fails_them_together():
    from tagwatch.gateway.coalesce import Coalescer

    async def main():
        calls = []

        async def sink(records):
            calls.append(len(records))
            await asyncio.sleep(0.01)
            if any(r.get("boom") for r in records):
                raise TimeoutError("no commit")
            return len(records)
        c = Coalescer(sink, max_records=100, parallel=1)
        got = await asyncio.gather(*(c([{"i": i}]) for i in range(50)))
        assert got == [50] * 50 and calls == [50]  # all arrived before the first call: one call
        first = asyncio.ensure_future(c([{"i": 0}]))
        await asyncio.sleep(0.001)  # in flight: the next ones wait and go together
        more = await asyncio.gather(*(c([{"i": i}]) for i in range(120)))
        assert await first == 1 and calls[1:] == [1, 100, 20] and set(more) == {100, 20}
        results = await asyncio.gather(c([{"i": 1}]), c([{"boom": True}]), c([{"i": 2}]), return_exceptions=True)
        assert all(isinstance(r, TimeoutError) for r in results)  # one call carried them: none is acked
    run(main())


def test_fuzzed_streams_through_the_gateway_store_no_garbage():
    """10,000 judged mutated frames (Traccar's captures with bytes changed, the CRC made right again half the
    time) sent by logged-in devices: the gateway never crashes, and every record it hands on is one
    the validator accepts as a sane fix or rejects with a reason."""
    import random

    from tagwatch.ingest.fixes import validate_record
    from tagwatch.ingest.gt06 import crc16_x25
    rng = random.Random(1515)
    real = [GPS_LBS_12, REMOVING_16, NOFIX_22, HEARTBEAT]
    stored = []
    now_ms = int(datetime.now(UTC).timestamp() * 1000)

    async def sink(records):
        for rec in records:
            row, reason = validate_record(rec, now_ms, {IMEI})
            assert (row is None) != (reason is None)
            if row is not None:
                stored.append(row)

    def mutated() -> bytes:
        data = bytearray(rng.choice(real))
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.getrandbits(8)
        if rng.random() < 0.5:
            data[-4:-2] = crc16_x25(bytes(data[2:-4])).to_bytes(2, "big")
        return bytes(data)

    async def main():
        gw = Gt06Gateway(sink, idle_s=2)
        server = await gw.start("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        def seen():  # frames the gateway judged: decoded from a logged-in device, or refused by reason
            return gw.stats.messages + sum(n for k, n in gw.stats.events.items() if not k.startswith("alarm_"))
        while seen() < 10_000:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(LOGIN + b"".join(mutated() for _ in range(20)))  # a bad frame ends the rest
            try:
                while await asyncio.wait_for(reader.read(65536), 2):
                    pass
            except (ConnectionResetError, TimeoutError):
                pass
            writer.close()
        server.close()
        return gw
    gw = run(main())
    assert gw.stats.open == 0 and gw.stats.logins > 0 and sum(gw.stats.events.values()) > 0
    for row in stored:
        assert row["device_id"] == IMEI and row["ts_ms"] <= now_ms + 300_000
        assert row["lat"] is None or (-90 <= row["lat"] <= 90 and -180 <= row["lon"] <= 180)
