"""A small asyncio HTTP/1.1 load generator for bench/bench_live.py: keep-alive raw sockets, no library.

- :class:`Pool` of keep-alive connections (one request at a time on each, as a tracker does);
- :func:`paced`: open-loop requests at a target rate (wrk cannot pace). Latency is measured
  from each request's *intended* send time, so a server that falls behind is not flattered
  by the client waiting for it (no coordinated omission); the service time (from the write
  to the ack) is kept too;
- :func:`closed_loop`: ``concurrency`` workers each sending as soon as the last ack came;
- :class:`AlertWatch`: alerts as the server announces them, from the server-sent events of
  ``GET /api/events`` or, where the server has no event stream, from polling ``GET /api/alerts``.

A Python client costs far more CPU per request than wrk (RECIPES.md: a threaded one topped out
near 2,100 requests/s here); the harness reports this process's CPU from /proc beside every
paced figure so that a run where the client is the bottleneck is visible.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def mem_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process in KiB, from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


class HttpError(Exception):
    pass


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; responses must carry Content-Length (uvicorn's do)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._try_parse()

    def _try_parse(self) -> None:
        if not self.waiter or self.waiter.done():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        close = False
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "connection" and v.strip().lower() == "close":
                close = True
        if len(self.buf) < end + 4 + length:
            return
        body = bytes(self.buf[end + 4:end + 4 + length])
        del self.buf[:end + 4 + length]
        if close:
            self.closed = True
        self.waiter.set_result((status, body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self) -> None:
        if self.transport:
            self.transport.close()


class Pool:
    """Up to ``size`` keep-alive connections to host:port, opened on demand."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: asyncio.Queue[_Conn] = asyncio.Queue()
        self.sem = asyncio.Semaphore(size)
        self.all: set[_Conn] = set()

    async def _get(self) -> _Conn:
        while not self.idle.empty():
            c = self.idle.get_nowait()
            if not c.closed:
                return c
            self.all.discard(c)
        loop = asyncio.get_running_loop()
        _, c = await loop.create_connection(_Conn, self.host, self.port)
        self.all.add(c)
        return c

    async def send(self, build: Callable[[], bytes], on_write: Callable[[], None] | None = None,
                   timeout: float | None = None) -> tuple[int, bytes]:
        """Send the request ``build()`` makes (built once a connection is free) and return (status, body)."""
        async with self.sem:
            c = await self._get()
            ok = False
            try:
                data = build()
                if on_write:
                    on_write()
                res = await asyncio.wait_for(c.request(data), timeout)
                ok = True
                return res
            finally:
                if ok and not c.closed:
                    self.idle.put_nowait(c)
                else:
                    c.close()
                    self.all.discard(c)

    def close(self) -> None:
        for c in list(self.all):
            c.close()
        self.all.clear()


def get_request(host: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def post_json_request(host: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


# -- runs ---------------------------------------------------------------------------------------
@dataclass
class RunResult:
    scheduled: int = 0          # requests the schedule asked for (paced) or started (closed loop)
    acked: int = 0              # 2xx answers
    non_2xx: int = 0
    failed: int = 0             # connection errors and timeouts
    unfinished: int = 0         # still waiting when the run was cut off
    wall_s: float = 0.0         # from the first intended send to the last answer (or the cut-off)
    latency_s: list[float] = field(default_factory=list)   # from the intended send time (paced) / the write
    service_s: list[float] = field(default_factory=list)   # from the write to the answer
    client_cpu_s: float = 0.0
    items: int = 0              # fixes acknowledged (batches: fixes per 2xx answer)

    def percentile(self, q: float, from_intended: bool = True) -> float | None:
        """The q-th percentile over all scheduled requests; those never acked count as infinitely slow
        (None then means the percentile lies among them)."""
        xs = sorted(self.latency_s if from_intended else self.service_s)
        n = self.scheduled if from_intended else len(xs)
        if n == 0:
            return None
        k = max(0, math.ceil(q / 100 * n) - 1)
        return xs[k] if k < len(xs) else None


async def paced(pool: Pool, build: Callable[[], bytes], rate: float, duration_s: float, drain_s: float,
                timeout_s: float = 60.0, stop: asyncio.Event | None = None) -> RunResult:
    """Open loop: request i is due at start + i/rate for ``duration_s``; then wait up to ``drain_s``."""
    loop = asyncio.get_running_loop()
    res = RunResult()
    cpu0 = cpu_s()
    start = loop.time()
    pending: set[asyncio.Task] = set()
    last_answer = [start]

    async def one(t_due: float) -> None:
        t_write = [0.0]

        def wrote() -> None:
            t_write[0] = loop.time()
        try:
            status, _ = await pool.send(build, wrote, timeout_s)
        except (OSError, HttpError, asyncio.TimeoutError):
            res.failed += 1
            return
        t = loop.time()
        last_answer[0] = max(last_answer[0], t)
        if 200 <= status < 300:
            res.acked += 1
            res.latency_s.append(t - t_due)
            res.service_s.append(t - t_write[0])
        else:
            res.non_2xx += 1

    i = 0
    end = start + duration_s
    while not (stop and stop.is_set()):
        now = loop.time()
        while start + i / rate <= now and start + i / rate < end:
            task = asyncio.ensure_future(one(start + i / rate))
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
        nxt = start + i / rate
        if nxt >= end:
            break
        await asyncio.sleep(max(0.0, nxt - loop.time()))
    res.scheduled = i
    if pending:
        await asyncio.wait(pending, timeout=drain_s)
    res.unfinished = sum(1 for t in pending if not t.done())
    for t in pending:
        t.cancel()
    res.wall_s = (loop.time() if res.unfinished else last_answer[0]) - start
    res.client_cpu_s = cpu_s() - cpu0
    return res


async def closed_loop(pool: Pool, build: Callable[[], bytes], concurrency: int, duration_s: float,
                      timeout_s: float, count: Callable[[bytes], int] | None = None) -> RunResult:
    """``concurrency`` senders, each sending again on each answer, starting new requests for ``duration_s``;
    a request in flight at the end is waited for up to ``timeout_s`` from its write."""
    loop = asyncio.get_running_loop()
    res = RunResult()
    cpu0 = cpu_s()
    start = loop.time()
    last_answer = [start]

    async def worker() -> None:
        while loop.time() < start + duration_s:
            res.scheduled += 1
            t0 = [loop.time()]

            def wrote() -> None:
                t0[0] = loop.time()
            try:
                status, body = await pool.send(build, wrote, timeout_s)
            except asyncio.TimeoutError:
                res.unfinished += 1
                return
            except (OSError, HttpError):
                res.failed += 1
                continue
            t = loop.time()
            last_answer[0] = max(last_answer[0], t)
            if 200 <= status < 300:
                res.acked += 1
                res.latency_s.append(t - t0[0])
                res.service_s.append(t - t0[0])
                res.items += count(body) if count else 1
            else:
                res.non_2xx += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    res.wall_s = (loop.time() if res.unfinished else last_answer[0]) - start
    res.client_cpu_s = cpu_s() - cpu0
    return res


# -- alerts as they reach a monitoring client -------------------------------------------------------
class AlertWatch:
    """Every alert the server announces, with the time it reached us (``time.monotonic``).

    ``mode`` is ``"sse"`` (``GET /api/events``) or ``"poll"`` (``GET /api/alerts`` every
    ``poll_s``, when the server answers the event stream with anything but an event stream).
    """

    def __init__(self, host: str, port: int, token: str, poll_kinds: tuple[str, ...], poll_s: float = 1.0) -> None:
        self.host, self.port, self.token = host, port, token
        self.poll_kinds, self.poll_s = poll_kinds, poll_s
        self.mode = "starting"
        self.sse_status: str = ""
        self.seen: dict[Any, tuple[float, dict]] = {}   # alert key -> (monotonic time first seen, alert)
        self.events = 0
        self.polls = 0
        self.poll_s_taken: list[float] = []
        self.waiters: list[tuple[Callable[[dict], bool], asyncio.Future]] = []
        self.task: asyncio.Task | None = None

    def _note(self, alert: dict, t: float) -> None:
        key = alert.get("id") or (alert.get("kind"), alert.get("subject_id"), alert.get("start_ms"))
        if key in self.seen:
            return
        self.seen[key] = (t, alert)
        for pred, fut in list(self.waiters):
            if not fut.done() and pred(alert):
                fut.set_result((t, alert))

    async def wait_for(self, pred: Callable[[dict], bool], timeout_s: float) -> tuple[float, dict] | None:
        for t, a in self.seen.values():
            if pred(a):
                return t, a
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append((pred, fut))
        try:
            return await asyncio.wait_for(fut, timeout_s)
        except asyncio.TimeoutError:
            return None
        finally:
            self.waiters.remove((pred, fut))

    async def start(self) -> None:
        ready = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self._run(ready))
        await ready

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass

    async def _run(self, ready: asyncio.Future) -> None:
        try:
            ok = await self._sse(ready)
        except (OSError, HttpError, ValueError) as e:
            self.sse_status = f"error: {e}"
            ok = False
        if not ok:
            self.mode = "poll"
            if not ready.done():
                ready.set_result(None)
            await self._poll()

    async def _sse(self, ready: asyncio.Future) -> bool:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(get_request(self.host, f"/api/events?token={self.token}&purpose=bench",
                                 {"Accept": "text/event-stream"}))
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        if status != 200 or not hdrs.get("content-type", "").startswith("text/event-stream"):
            self.sse_status = f"HTTP {status} {hdrs.get('content-type', '')}"
            writer.close()
            return False
        self.mode = "sse"
        self.sse_status = "HTTP 200 text/event-stream"
        ready.set_result(None)
        chunked = hdrs.get("transfer-encoding", "").lower() == "chunked"
        text = ""
        try:
            while True:
                if chunked:
                    size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        return True
                    data = await reader.readexactly(size + 2)
                    piece = data[:-2]
                else:
                    piece = await reader.read(65536)
                    if not piece:
                        return True
                text += piece.decode("utf-8").replace("\r\n", "\n")
                while "\n\n" in text:
                    block, text = text.split("\n\n", 1)
                    self._sse_event(block, time.monotonic())
        finally:
            writer.close()

    def _sse_event(self, block: str, t: float) -> None:
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            k, _, v = line.partition(":")
            v = v[1:] if v.startswith(" ") else v
            if k == "event":
                name = v
            elif k == "data":
                data.append(v)
        if not data:
            return
        self.events += 1
        try:
            payload = json.loads("\n".join(data))
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        if name == "alert" or payload.get("type") == "alert":
            alert = payload.get("alert", payload)
            if isinstance(alert, dict) and payload.get("change", "new") != "retracted":
                self._note(alert, t)

    async def _poll(self) -> None:
        pool = Pool(self.host, self.port, len(self.poll_kinds))
        hdr = {"Authorization": f"Bearer {self.token}"}
        loop = asyncio.get_running_loop()

        async def one(kind: str) -> None:
            while True:
                t0 = loop.time()
                try:
                    status, body = await pool.send(lambda: get_request(
                        self.host, f"/api/alerts?kind={kind}&limit=5000", hdr), timeout=120)
                except (OSError, HttpError, asyncio.TimeoutError):
                    await asyncio.sleep(self.poll_s)
                    continue
                t = time.monotonic()
                self.polls += 1
                self.poll_s_taken.append(loop.time() - t0)
                if status == 200:
                    for a in json.loads(body):
                        self._note(a, t)
                await asyncio.sleep(max(0.0, t0 + self.poll_s - loop.time()))
        try:
            await asyncio.gather(*(one(k) for k in self.poll_kinds))
        finally:
            pool.close()
