"""Benchmark: GT06 messages/s through `tagwatch serve --gt06-port` with many open TCP connections,
beside the OsmAnd figure on the same server (issue 15).

A store with N registered, assigned devices (IMEIs); `tagwatch serve --gt06-port` started as a
process on it (SQLite, durable commits, the live engine and its clock rules on); then a load
generator in this process (asyncio, uvloop) opens N connections, logs each device in, and has every
connection send GPS+LBS (0x12) messages one at a time, each waiting for its ack (which the gateway
sends only after the commit), for --seconds. Messages/s = acks received / elapsed; ack latency
percentiles too. Then the same for OsmAnd: --osmand-clients keep-alive HTTP connections sending
`GET /osmand?id=..&key=..` reports. Server and load generator share the machine's cores.

    .venv/bin/python bench/bench_gt06.py [--connections 10000] [--active N] [--seconds 20] [--osmand-clients 200]

``--active N``: all connections open and logged in, only N of them sending (the latency at a lower rate).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from tagwatch.ingest.gt06 import encode_frame
from tagwatch.services.devicekeys import digest
from tagwatch.store import open_store
from tagwatch.store import schema as s

T0 = int(time.time()) - 6 * 3600  # fix times start 6 h back: unique per message, never in the future


def imei(i: int) -> str:
    return f"86{i:013d}"


def build(db: str, n: int) -> None:
    store = open_store(db)
    with store.engine.begin() as c:
        c.execute(insert(s.subjects), [{"id": f"S{i}", "name": "", "risk_level": "medium", "offence": "",
                                        "borough": "", "created_ms": 0} for i in range(n)])
        c.execute(insert(s.devices), [{"id": imei(i), "kind": "gps", "model": "GT06N", "created_ms": 0}
                                      for i in range(n)])
        c.execute(insert(s.assignments), [{"device_id": imei(i), "subject_id": f"S{i}", "from_ms": 0}
                                          for i in range(n)])
        c.execute(insert(s.device_keys), [{"device_id": imei(i), "key_sha256": digest(f"k{i}"), "issued_ms": 0,
                                           "generation": 1} for i in range(n)])
    store.engine.dispose()


def login_frame(i: int) -> bytes:
    return encode_frame(0x01, bytes.fromhex("0" + imei(i)), 1)


def gps_frame(t: int, serial: int) -> bytes:
    tm = time.gmtime(t)
    when = bytes([tm.tm_year - 2000, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec])
    lat, lon = int(51.45 * 1_800_000), int(0.02 * 1_800_000)
    flags = 0x1000 | 0x0400 | 0x0800  # fixed, north, west
    gps = when + bytes([0xC9]) + lat.to_bytes(4, "big") + lon.to_bytes(4, "big") + bytes([12]) + flags.to_bytes(2, "big")
    return encode_frame(0x12, gps + bytes.fromhex("00ea0a00d8b8003332"[:16]), serial & 0xFFFF)


async def gt06_load(port: int, n: int, seconds: float, active: int) -> dict:
    conns: list = [None] * n
    sem = asyncio.Semaphore(500)

    async def connect(i: int) -> None:
        async with sem:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(login_frame(i))
            await r.readexactly(10)
            conns[i] = (r, w)
    t_open = time.perf_counter()
    await asyncio.gather(*(connect(i) for i in range(n)))
    opened_s = time.perf_counter() - t_open
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def device(i: int) -> None:
        r, w = conns[i]
        seq = 0
        while time.perf_counter() < stop_at:
            seq += 1
            t = time.perf_counter()
            w.write(gps_frame(T0 + seq, seq))
            await r.readexactly(10)
            latencies.append(time.perf_counter() - t)
    t_run = time.perf_counter()
    await asyncio.gather(*(device(i) for i in range(active)))  # the others stay open, logged in, silent
    elapsed = time.perf_counter() - t_run
    for _, w in conns:
        w.close()
    lat = np.array(latencies) * 1000
    return {"connections": n, "active": active, "open_s": opened_s, "messages": len(latencies), "elapsed_s": elapsed,
            "per_s": len(latencies) / elapsed, "p50_ms": float(np.percentile(lat, 50)),
            "p99_ms": float(np.percentile(lat, 99))}


async def osmand_load(port: int, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    statuses: dict[int, int] = {}

    async def client(i: int) -> None:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        seq = 0
        while time.perf_counter() < stop_at:
            seq += 1
            t = time.perf_counter()
            w.write(f"GET /osmand?id={imei(i)}&key=k{i}&lat=51.45&lon=-0.02&timestamp={T0 - 100_000 + seq}"
                    f"&accuracy=8 HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await r.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
            await r.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(time.perf_counter() - t)
        w.close()
    t_run = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - t_run
    lat = np.array(latencies) * 1000
    return {"clients": clients, "requests": len(latencies), "per_s": len(latencies) / elapsed, "statuses": statuses,
            "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not listen")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--active", type=int, default=None, help="connections that send (default: all)")
    ap.add_argument("--osmand-clients", type=int, default=200)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + 1000)), hard))
    tmp = Path(tempfile.mkdtemp(prefix="bench-gt06-"))
    db = f"sqlite:///{tmp / 'gt06.db'}"
    t = time.perf_counter()
    build(db, args.connections)
    print(f"store: {args.connections} devices in {time.perf_counter() - t:.1f} s; cores: {os.cpu_count()} "
          "(shared by the server and this load generator)")
    web, gt06 = _free_port(), _free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from tagwatch.cli import app; app()", "serve", "--db", db,
                             "--port", str(web), "--gt06-port", str(gt06)],
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
    try:
        _wait(web, proc)
        _wait(gt06, proc)
        import uvloop
        g = uvloop.run(gt06_load(gt06, args.connections, args.seconds, args.active or args.connections))
        print(f"GT06: {g['connections']} connections opened and logged in in {g['open_s']:.1f} s, "
              f"{g['active']} sending; "
              f"{g['messages']} messages in {g['elapsed_s']:.1f} s = {g['per_s']:,.0f} msg/s acked after commit; "
              f"ack latency p50 {g['p50_ms']:.0f} ms, p99 {g['p99_ms']:.0f} ms")
        if args.osmand_clients:
            o = uvloop.run(osmand_load(web, args.osmand_clients, args.seconds))
            print(f"OsmAnd: {o['clients']} keep-alive clients, {o['requests']} reports = {o['per_s']:,.0f} req/s "
                  f"(statuses {o['statuses']}); p50 {o['p50_ms']:.0f} ms, p99 {o['p99_ms']:.0f} ms")
        store = open_store(db)
        print(f"stored fixes: {store.count('fixes')}")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
