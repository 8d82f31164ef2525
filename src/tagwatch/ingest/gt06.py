"""The GT06 (Concox) binary tracker protocol: bytes -> frames -> messages -> fix records, and the acks.

Pure: no sockets, no clock (the arrival time is an argument). :mod:`tagwatch.gateway.gt06_server`
runs it over TCP.

Frame: ``78 78 | len(1) | protocol(1) | content | serial(2) | crc(2) | 0D 0A`` (or ``79 79`` with a
2-byte length). The length counts protocol, content, serial and CRC. The CRC is CRC-16/X-25 over
the length field through the serial number, big-endian. Unlike Traccar we check it, and we trust
the length: a frame whose stop bits are not where the length puts them, whose CRC is wrong, or
that is longer than ``max_frame`` is a :class:`FrameError` from :class:`Framer`, and the gateway
closes the connection. A well-framed message whose content is too short for its type (Traccar's
test frame ``787805120099abec0d0a``, a 0x12 with no content) raises :class:`FrameError` from
:func:`decode`: the stream is still in step, so the gateway counts it, skips it, and stays.

Messages decoded: login (0x01: the IMEI, which is the tagwatch device id: register a GT06 tracker
with ``tagwatch devices add <IMEI>``), GPS (0x10), GPS+LBS (0x12, 0x22), GPS+LBS+status (0x16,
0x26), status/heartbeat (0x13) and the time request (0x8A). Others are recognised as frames and
ignored (no ack, nothing stored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["crc16_x25", "FrameError", "Frame", "Framer", "Login", "Location", "Status", "StatusMessage", "TimeRequest",
           "Other",
           "decode", "ack", "time_reply", "to_record", "encode_frame", "LOCATION_TYPES", "TAMPER_ALARMS"]

MAX_FRAME = 1024
LOGIN, STATUS, TIME_REQUEST = 0x01, 0x13, 0x8A
LOCATION_TYPES = frozenset({0x10, 0x12, 0x22, 0x16, 0x26})
_WITH_STATUS = frozenset({0x16, 0x26})
_GPS_BLOCK = 18


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc16_x25(data: bytes) -> int:
    """CRC-16/X-25 (reflected 0x1021, init and final XOR 0xFFFF); ``crc16_x25(b"123456789") == 0x906E``."""
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFF


class FrameError(ValueError):
    """Bytes that are not a well-formed GT06 frame; ``code`` is a short reason for the counters."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.frames: list[Frame] = []  # from Framer.feed: the good frames read before the bad one


@dataclass(frozen=True, slots=True)
class Frame:
    protocol: int
    content: bytes  # between the protocol number and the serial number
    serial: int


class Framer:
    """Cuts a TCP byte stream into frames: several per read, or one split across reads."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """The complete frames now buffered.

        Raises :class:`FrameError` (drop the connection) with the good frames that came before the
        bad one in ``error.frames``.
        """
        out: list[Frame] = []
        try:
            self._cut(data, out)
        except FrameError as e:
            e.frames = out
            raise
        return out

    def _cut(self, data: bytes, out: list[Frame]) -> None:
        buf = self._buf
        buf += data
        while len(buf) >= 2:
            start = bytes(buf[:2])
            if start == b"\x78\x78":
                head, total = 3, (buf[2] + 5 if len(buf) >= 3 else None)
            elif start == b"\x79\x79":
                head, total = 4, (int.from_bytes(buf[2:4], "big") + 6 if len(buf) >= 4 else None)
            else:
                raise FrameError("bad_start", f"frame starts with {start.hex()}, not 7878 or 7979")
            if total is None:
                break
            if total > self.max_frame:
                raise FrameError("oversized", f"a {total}-byte frame; at most {self.max_frame}")
            if total < head + 1 + 2 + 2 + 2:
                raise FrameError("too_short", f"length {total - head - 2} cannot hold protocol, serial and CRC")
            if len(buf) < total:
                break
            frame = bytes(buf[:total])
            del buf[:total]
            out.append(_parse(frame, head))


def _parse(frame: bytes, head: int) -> Frame:
    if frame[-2:] != b"\r\n":
        raise FrameError("bad_stop", f"no 0D0A where the length ends the frame ({frame[-2:].hex()})")
    want, got = crc16_x25(frame[2:-4]), int.from_bytes(frame[-4:-2], "big")
    if want != got:
        raise FrameError("bad_crc", f"CRC {got:04x}, computed {want:04x}")
    return Frame(frame[head], frame[head + 1:-6], int.from_bytes(frame[-6:-4], "big"))


def encode_frame(protocol: int, content: bytes, serial: int) -> bytes:
    """A ``78 78`` frame (``79 79`` when the content needs a 2-byte length) with its CRC."""
    n = 1 + len(content) + 4
    if n <= 0xFF:
        body = bytes([n, protocol]) + content + serial.to_bytes(2, "big")
        start = b"\x78\x78"
    else:
        body = n.to_bytes(2, "big") + bytes([protocol]) + content + serial.to_bytes(2, "big")
        start = b"\x79\x79"
    return start + body + crc16_x25(body).to_bytes(2, "big") + b"\r\n"


def ack(protocol: int, serial: int) -> bytes:
    """The server's reply to a login, status or location message: its protocol and serial number."""
    return encode_frame(protocol, b"", serial)


def time_reply(serial: int, now: datetime) -> bytes:
    """The reply to a time request (0x8A): the current UTC time as YY MM DD hh mm ss."""
    t = now.astimezone(UTC)
    return encode_frame(TIME_REQUEST, bytes([t.year - 2000, t.month, t.day, t.hour, t.minute, t.second]), serial)


# -- messages ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Login:
    serial: int
    imei: str
    tz_minutes: int | None = None  # from the 0x11-length login's timezone word, when present


@dataclass(frozen=True, slots=True)
class Status:
    """The terminal-information block (0x13 alone; also inside 0x16/0x26)."""
    battery_pct: int | None = None
    alarms: frozenset[str] = frozenset()
    charging: bool = False
    gsm: int | None = None


@dataclass(frozen=True, slots=True)
class Location:
    protocol: int
    serial: int
    fix_time: datetime  # as the device sent it (UTC unless the login gave a timezone)
    valid: bool  # the GPS-fixed bit: clear -> not a position
    lat: float
    lon: float
    satellites: int
    speed_kmh: int
    course: int
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class StatusMessage:
    serial: int
    status: Status


@dataclass(frozen=True, slots=True)
class TimeRequest:
    serial: int


@dataclass(frozen=True, slots=True)
class Other:
    protocol: int
    serial: int
    content: bytes = field(repr=False, default=b"")


# terminal-information bits 3-5 and the alarm byte of the status block (standard models)
_TERMINAL_ALARMS = {1: "vibration", 2: "power_cut", 3: "low_battery", 4: "sos", 6: "geofence", 7: "removing"}
_ALARM_BYTE = {0x01: "sos", 0x02: "power_cut", 0x03: "vibration", 0x04: "geofence_enter", 0x05: "geofence_exit",
               0x06: "overspeed", 0x09: "vibration", 0x0C: "tampering", 0x0E: "low_battery", 0x0F: "low_battery",
               0x11: "power_off", 0x13: "tampering", 0x14: "door", 0x18: "removing", 0x19: "low_battery",
               0x25: "tampering"}
TAMPER_ALARMS = frozenset({"removing", "tampering"})


def _imei(raw: bytes) -> str:
    digits = raw.hex()
    if not digits.isdigit():
        raise FrameError("bad_imei", f"login IMEI {digits!r} is not BCD digits")
    return digits[1:] if len(digits) == 16 and digits[0] == "0" else digits


def _tz_minutes(word: int) -> int:
    hhmm = word >> 4
    minutes = (hhmm // 100) * 60 + hhmm % 100
    return -minutes if word & 0x08 else minutes


def _status(b: bytes) -> Status:
    terminal, voltage, gsm, alarm = b[0], b[1], b[2], b[3]
    alarms = {_TERMINAL_ALARMS.get((terminal >> 3) & 0x07), _ALARM_BYTE.get(alarm)} - {None}
    battery = voltage * 100 // 6 if voltage <= 6 else (voltage if voltage <= 100 else None)
    return Status(battery, frozenset(alarms), bool(terminal & 0x04), gsm)


def _location(protocol: int, serial: int, c: bytes) -> Location:
    if len(c) < _GPS_BLOCK:
        raise FrameError("truncated", f"protocol {protocol:#04x} with {len(c)} content bytes; the GPS block is 18")
    yy, mo, dd, hh, mi, ss = c[0:6]
    try:
        when = datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=UTC)
    except ValueError:
        raise FrameError("bad_time", f"fix time {c[0:6].hex()} is not a date") from None
    lat = int.from_bytes(c[7:11], "big") / 1_800_000
    lon = int.from_bytes(c[11:15], "big") / 1_800_000
    flags = int.from_bytes(c[16:18], "big")
    lat = lat if flags & 0x0400 else -lat  # bit 10: north
    lon = -lon if flags & 0x0800 else lon  # bit 11: west
    status = None
    if protocol in _WITH_STATUS:
        at = _GPS_BLOCK
        if len(c) <= at:
            raise FrameError("truncated", f"protocol {protocol:#04x} lacks its cell block")
        at += max(c[at], 1)  # the cell block's length counts its own length byte
        if len(c) < at + 4:
            raise FrameError("truncated", f"protocol {protocol:#04x} lacks its status block")
        status = _status(c[at:at + 4])
    return Location(protocol, serial, when, bool(flags & 0x1000), lat, lon, c[6] & 0x0F, c[15], flags & 0x03FF,
                    status)


def decode(frame: Frame) -> Login | Location | StatusMessage | TimeRequest | Other:
    """A message from a frame (raises :class:`FrameError` when the content is too short or wrong)."""
    p, c, serial = frame.protocol, frame.content, frame.serial
    if p == LOGIN:
        if len(c) < 8:
            raise FrameError("truncated", f"login with {len(c)} content bytes; the IMEI is 8")
        tz = _tz_minutes(int.from_bytes(c[10:12], "big")) if len(c) >= 12 else None
        return Login(serial, _imei(c[:8]), tz)
    if p in LOCATION_TYPES:
        return _location(p, serial, c)
    if p == STATUS:
        if len(c) < 4:
            raise FrameError("truncated", f"status with {len(c)} content bytes; the block is 5")
        # the standard 5-byte block; vendor variants of other lengths are contact only
        return StatusMessage(serial, _status(c) if len(c) in (5, 6) else Status())
    if p == TIME_REQUEST:
        return TimeRequest(serial)
    return Other(p, serial, c)


def to_record(msg: Location | StatusMessage, imei: str, received: datetime,
              tz_minutes: int | None = None) -> dict:
    """The fix record :func:`tagwatch.ingest.fixes.validate_record` judges.

    A location with the GPS-fixed bit clear is a report without a position (contact, battery,
    strap), as is a heartbeat (stamped with its arrival: it carries no time). Removal/tamper
    alarms set ``strap=tamper``; the other alarms (``alarms``), speed, course and satellites ride
    along for the gateway's log and counters (the fixes table has no column for them).
    """
    st = msg.status
    rec: dict = {"device_id": imei, "lat": None, "lon": None,
                 "battery_pct": st.battery_pct if st else None,
                 "strap": "tamper" if st and st.alarms & TAMPER_ALARMS else "ok",
                 "alarms": sorted(st.alarms) if st else []}
    if isinstance(msg, Location):
        when = msg.fix_time - timedelta(minutes=tz_minutes or 0)
        rec.update(ts=when.isoformat(), speed_kmh=msg.speed_kmh, course=msg.course, satellites=msg.satellites)
        if msg.valid:
            rec.update(lat=round(msg.lat, 7), lon=round(msg.lon, 7))
    else:
        rec["ts"] = received.astimezone(UTC).isoformat()
    return rec
