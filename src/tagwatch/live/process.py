"""The live engine in a process of its own, beside the web server's.

On a machine with two cores, the web server (HTTP parsing, routing, the event streams) and the
engine (group commit, evaluation) each need most of a core; in one Python process they share one
interpreter lock, and the writer's commits queue behind HTTP work. :class:`EngineProcess` runs
the :class:`~tagwatch.live.engine.LiveEngine` in a child process and talks to it over a pipe:
requests go down, each request's IngestReport comes back after its commit, and the engine's
events come back to the web process's bus. The contract for callers is the engine's own
(``submit``/``ingest``, ``bus``, ``running``): the web app does not know which it has.

If the web process dies (even by SIGKILL), the child sees the pipe close, commits what it holds
and exits; a request is acknowledged only once the child has committed it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing as mp
import threading
from concurrent.futures import Future
from dataclasses import asdict

from .bus import EventBus
from .engine import LiveSettings
from .writer import Overloaded

__all__ = ["EngineProcess"]

log = logging.getLogger("tagwatch.live")


class EngineProcess:
    def __init__(self, db_url: str, settings: LiveSettings = LiveSettings(), monitor: bool = True,
                 bus: EventBus | None = None) -> None:
        self.db_url, self.settings, self.monitor = db_url, settings, monitor
        self.bus = bus or EventBus()
        self._ids = itertools.count(1)
        self._futures: dict[int, tuple[Future, int]] = {}
        self._pending = 0
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._proc = None
        self._conn = None
        self._reader: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def start(self, monitor: bool | None = None) -> None:
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(target=_serve_engine, name="tagwatch-engine", daemon=False,
                                 args=(self.db_url, asdict(self.settings), self.monitor if monitor is None else monitor,
                                       there))
        self._proc.start()
        there.close()
        self._conn = here
        ready = here.recv()  # the child has opened the store and loaded the enrolment
        if ready != "ready":
            raise RuntimeError(f"the live engine did not start: {ready}")
        self._reader = threading.Thread(target=self._read, name="tagwatch-engine-pipe", daemon=True)
        self._reader.start()

    def stop(self) -> None:
        if self._conn is not None:
            with self._send_lock:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
        if self._proc is not None:
            self._proc.join(timeout=60)
            self._proc = None

    def submit(self, records: list, source: str) -> Future:
        n = max(1, len(records))
        with self._lock:
            if self._pending + n > self.settings.max_pending_records and self._pending > 0:
                raise Overloaded()
            self._pending += n
            rid = next(self._ids)
            fut: Future = Future()
            self._futures[rid] = (fut, n)
        with self._send_lock:
            self._conn.send((rid, records, source))
        return fut

    async def ingest(self, records: list, source: str, timeout_s: float = 30.0):
        return await asyncio.wait_for(asyncio.wrap_future(self.submit(records, source)), timeout_s)

    def _read(self) -> None:
        from ..services.ingest import IngestReport
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                break
            kind = msg[0]
            if kind == "event":
                self.bus.publish(msg[1])
                continue
            rid, payload = msg[1], msg[2]
            with self._lock:
                fut, n = self._futures.pop(rid)
                self._pending -= n
            if kind == "ack":
                fut.set_result(IngestReport(**payload))
            else:
                fut.set_exception(Overloaded() if payload == "overloaded" else RuntimeError(payload))
        with self._lock:  # the engine is gone: nothing still waiting was committed
            for fut, _ in self._futures.values():
                fut.set_exception(RuntimeError("the live engine stopped"))
            self._futures.clear()


class _ForwardingBus(EventBus):
    """The child's bus: every event goes up the pipe to the web process's bus."""

    def __init__(self, send) -> None:
        super().__init__()
        self._send = send

    def publish(self, event) -> None:
        self.published += 1
        self._send(("event", event))


def _serve_engine(db_url: str, settings: dict, monitor: bool, conn) -> None:
    from ..store import open_store
    from .engine import LiveEngine
    lock = threading.Lock()

    def send(msg) -> None:
        with lock:
            conn.send(msg)
    try:
        engine = LiveEngine(open_store(db_url, durable=True), settings=LiveSettings(**settings),
                            bus=_ForwardingBus(send))
        engine.start(monitor=monitor)
    except Exception as e:  # say why, then stop
        conn.send(f"{type(e).__name__}: {e}")
        return
    conn.send("ready")

    def answer(rid: int, fut: Future) -> None:
        e = fut.exception()
        if e is None:
            rep = fut.result()
            send(("ack", rid, {"accepted": rep.accepted, "duplicates": rep.duplicates, "rejected": rep.rejected,
                               "reasons": rep.reasons}))
        else:
            send(("error", rid, "overloaded" if isinstance(e, Overloaded) else f"{type(e).__name__}: {e}"))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the web process is gone: commit what is queued, then stop
            break
        if msg is None:
            break
        rid, records, source = msg
        try:
            fut = engine.writer.submit(records, source)
        except Overloaded:
            send(("error", rid, "overloaded"))
            continue
        fut.add_done_callback(lambda f, rid=rid: answer(rid, f))
    engine.stop()
