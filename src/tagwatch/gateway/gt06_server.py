"""GT06 trackers over TCP (asyncio): connections -> frames -> fix records -> a sink, acks after the commit.

The sink is an async callable taking a list of fix records: ``LiveEngine.ingest`` in ``tagwatch
serve --gt06-port`` (the same engine as the HTTP routes), or :class:`~.forward.HttpForwarder` in
``tagwatch gateway`` (``POST /api/fixes`` of the web app with a gateway user's token). Either
way, a device is acked only once the sink returned, i.e. once its fixes are committed; if the
sink fails, the connection is closed unacknowledged and the device sends them again.

Rules per connection: the peer address must be in the allow-list (default loopback only; GT06
has no secret, so the network it connects from is its credential); nothing is stored before a
login, and the login's IMEI is the device id; a connection silent for ``idle_s`` is closed; a
bad frame (start, stop, CRC, size) closes it; each connection is its own task, so a slow one
never holds up another. Everything refused is counted in :class:`GatewayStats`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..ingest import gt06

__all__ = ["Gt06Gateway", "GatewayStats", "KnownDevices", "LOOPBACK", "parse_networks"]

log = logging.getLogger("tagwatch.gateway")
LOOPBACK = ("127.0.0.0/8", "::1/128")
Sink = Callable[[list[dict]], Awaitable[Any]]
_LOGGED_ALARMS = {"sos", "power_cut", "low_battery", "removing", "tampering", "power_off"}


def parse_networks(cidrs: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR text -> networks (a bare address is a /32 or /128); ValueError names the bad one."""
    out = []
    for c in cidrs:
        try:
            out.append(ipaddress.ip_network(c.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{c!r} is not an address or CIDR network (e.g. 10.20.0.0/16)") from None
    return out


class KnownDevices:
    """Is this IMEI a registered device? A cached set, looked up again at most once a second on a miss."""

    def __init__(self, load: Callable[[], set[str]], every_s: float = 1.0) -> None:
        self.load, self.every_s = load, every_s
        self._ids: set[str] = set()
        self._at = float("-inf")

    def __call__(self, device_id: str) -> bool:
        if device_id not in self._ids and time.monotonic() - self._at >= self.every_s:
            self._ids, self._at = self.load(), time.monotonic()
        return device_id in self._ids


@dataclass
class GatewayStats:
    connections: int = 0  # accepted since start
    open: int = 0
    logins: int = 0
    messages: int = 0  # decoded messages from logged-in devices
    records: int = 0  # fix records handed to the sink and acknowledged
    refused: Counter = field(default_factory=Counter)  # peer address -> connections refused
    events: Counter = field(default_factory=Counter)  # bad_crc, bad_stop, idle_timeout, not_logged_in, ...

    def as_dict(self) -> dict:
        return {"connections": self.connections, "open": self.open, "logins": self.logins,
                "messages": self.messages, "records": self.records, "refused": dict(self.refused),
                "events": dict(self.events)}


class _Closed(Exception):
    """End this connection (the reason is already counted)."""


class Gt06Gateway:
    def __init__(self, sink: Sink, allow: Iterable[str] = LOOPBACK, idle_s: float = 600.0,
                 max_frame: int = gt06.MAX_FRAME, known: Callable[[str], bool] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), write_timeout_s: float = 30.0) -> None:
        self.sink, self.idle_s, self.max_frame, self.known, self.clock = sink, idle_s, max_frame, known, clock
        self.allow = parse_networks(allow)
        self.write_timeout_s = write_timeout_s
        self.stats = GatewayStats()

    def allowed(self, host: str) -> bool:
        try:
            addr = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if getattr(addr, "ipv4_mapped", None):
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.allow)

    async def start(self, host: str, port: int, **kw) -> asyncio.base_events.Server:
        """Listen on ``host:port`` (port 0: any free one; see ``server.sockets``)."""
        return await asyncio.start_server(self.handle, host, port, limit=self.max_frame * 4, backlog=4096, **kw)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        host = str(peer[0])
        if not self.allowed(host):
            self.stats.refused[host] += 1
            log.warning("gt06: refused a connection from %s (not in the allow-list)", host)
            await _close(writer)
            return
        self.stats.connections += 1
        self.stats.open += 1
        conn = _Connection(self, writer, host)
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(4096), self.idle_s)
                except TimeoutError:
                    self.stats.events["idle_timeout"] += 1
                    break
                if not data:
                    break
                await conn.on_data(data)
        except _Closed:
            pass
        except (ConnectionError, OSError):
            self.stats.events["connection_lost"] += 1
        finally:
            self.stats.open -= 1
            await _close(writer)


class _Connection:
    """One device's session: its framer, its IMEI once logged in."""

    def __init__(self, gw: Gt06Gateway, writer: asyncio.StreamWriter, host: str) -> None:
        self.gw, self.writer, self.host = gw, writer, host
        self.framer = gt06.Framer(gw.max_frame)
        self.imei: str | None = None
        self.tz_minutes: int | None = None

    async def on_data(self, data: bytes) -> None:
        fatal: gt06.FrameError | None = None
        try:
            frames = self.framer.feed(data)
        except gt06.FrameError as e:
            frames, fatal = e.frames, e
        records: list[dict] = []
        replies: list[bytes] = []
        for frame in frames:
            self._message(frame, records, replies)
        if records:
            try:
                await self.gw.sink(records)
            except Exception as e:  # Overloaded, a timeout, the web app unreachable: no ack, the device resends
                self.gw.stats.events["sink_failed"] += 1
                log.warning("gt06: %s: %d records not acknowledged (%s)", self.imei, len(records), e)
                raise _Closed from None
            self.gw.stats.records += len(records)
        if replies:
            self.writer.write(b"".join(replies))
            try:
                await asyncio.wait_for(self.writer.drain(), self.gw.write_timeout_s)
            except TimeoutError:
                self.gw.stats.events["write_timeout"] += 1
                raise _Closed from None
        if fatal is not None:
            self.gw.stats.events[fatal.code] += 1
            log.warning("gt06: closing %s (%s): %s", self.imei or "a device not logged in", self.host, fatal)
            raise _Closed

    def _message(self, frame: gt06.Frame, records: list[dict], replies: list[bytes]) -> None:
        stats = self.gw.stats
        try:
            msg = gt06.decode(frame)
        except gt06.FrameError as e:  # well framed, bad content: the stream is still in step
            stats.events[f"message_{e.code}"] += 1
            return
        if isinstance(msg, gt06.Login):
            if self.gw.known is not None and not self.gw.known(msg.imei):
                stats.events["unknown_imei"] += 1
                log.warning("gt06: login from %s by IMEI %s, which is not a registered device", self.host, msg.imei)
                raise _Closed
            self.imei, self.tz_minutes = msg.imei, msg.tz_minutes
            stats.logins += 1
            replies.append(gt06.ack(gt06.LOGIN, msg.serial))
            return
        if self.imei is None:
            stats.events["not_logged_in"] += 1  # nothing stored, nothing acked
            return
        stats.messages += 1
        if isinstance(msg, gt06.TimeRequest):
            replies.append(gt06.time_reply(msg.serial, self.gw.clock()))
        elif isinstance(msg, (gt06.Location, gt06.StatusMessage)):
            rec = gt06.to_record(msg, self.imei, self.gw.clock(), self.tz_minutes)
            for alarm in rec["alarms"]:
                stats.events[f"alarm_{alarm}"] += 1
                if alarm in _LOGGED_ALARMS:
                    log.warning("gt06: %s reports %s at %s", self.imei, alarm, rec["ts"])
            records.append(rec)
            replies.append(gt06.ack(frame.protocol, msg.serial))
        else:
            stats.events["ignored_protocol"] += 1


async def _close(writer: asyncio.StreamWriter) -> None:
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 5)
    except (ConnectionError, OSError, TimeoutError):
        pass
