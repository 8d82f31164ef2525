"""Fix files (CSV and JSON Lines) -> validated rows or rejects with a reason.

Columns: ``device_id, ts, lat, lon`` and optional ``accuracy_m, battery_pct, strap,
received_at``. A row with both ``lat`` and ``lon`` empty is a status report from a tag
that has no GPS position (it still counts as contact). Each bad row is rejected on its
own, with a reason code and a message; its neighbours are unaffected.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..codec import InputError, parse_ts
from .lines import Line, split_line, text_lines

__all__ = ["REQUIRED", "OPTIONAL", "FileError", "Reject", "read_records", "validate_record", "FUTURE_TOLERANCE_MS",
           "jsonl_records", "csv_records", "file_records", "blank", "number",
           "never_raises", "record_time"]

REQUIRED = ("device_id", "ts", "lat", "lon")
OPTIONAL = ("accuracy_m", "battery_pct", "strap", "received_at")
FUTURE_TOLERANCE_MS = 5 * 60 * 1000
EARLIEST_MS = 315_964_800_000  # 1980-01-06T00:00:00Z, the GPS epoch
log = logging.getLogger("tagwatch.ingest")


class FileError(ValueError):
    """The whole file cannot be read (e.g. its header lacks a required column)."""


@dataclass(frozen=True, slots=True)
class Reject:
    line_no: int | None
    raw: str
    reason: str  # "code: message"


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise FileError(f"{path}: unknown file type {suffix!r}; use .csv, .jsonl or .gpx")


def read_records(path: Path, on_read: Callable[[int], None] | None = None) -> Iterator[tuple[int, str, dict | None, str | None]]:
    """Yield ``(line_no, raw, record, error)`` for each data line of a fix file."""
    return file_records(path, _format_of(path), REQUIRED, OPTIONAL, on_read)


def file_records(path: Path, fmt: str, required: tuple[str, ...], optional: tuple[str, ...],
                 on_read: Callable[[int], None] | None = None) -> Iterator[tuple[int, str, dict | None, str | None]]:
    """Records of a CSV (``fmt`` "csv") or JSON Lines file, each line decoded on its own
    (:mod:`tagwatch.ingest.lines`); shared by fix and alcohol files."""
    lines = text_lines(path, on_read, csv_quotes=fmt == "csv")
    return csv_records(path, lines, required, optional) if fmt == "csv" else jsonl_records(lines)


def csv_records(path: Path, lines: Iterator[Line], required: tuple[str, ...],
                optional: tuple[str, ...]) -> Iterator[tuple[int, str, dict | None, str | None]]:
    """(line number, raw text, record or None, reason or None) per non-blank CSV data line.

    A header lacking a required column, or unreadable, refuses the whole file
    (:class:`FileError`); a row with the wrong number of fields, a quote that never closes or
    a byte that is not UTF-8 is rejected on its own.
    """
    first = next(lines, None)
    if first is None:
        return
    if first[2]:
        raise FileError(f"{path}: the header (line 1) cannot be read: {first[2]}")
    header = [h.strip() for h in split_line(first[1])]
    missing = [c for c in required if c not in header]
    if missing:
        raise FileError(f"{path}: header lacks required column(s) {', '.join(missing)}; "
                        f"expected {', '.join(required)} and optionally {', '.join(optional)}")
    width = len(header)
    for line_no, text, fault in lines:
        if fault:
            yield line_no, text, None, fault
            continue
        if not text.strip():
            continue
        try:
            row = split_line(text)
        except csv.Error as e:
            yield line_no, text, None, f"unparsable: {e}"
            continue
        if len(row) != width:
            yield line_no, text, None, f"unparsable: {len(row)} fields where the header has {width}"
            continue
        yield line_no, text, dict(zip(header, row, strict=True)), None


def jsonl_records(lines: Iterator[Line]) -> Iterator[tuple[int, str, dict | None, str | None]]:
    """(line number, raw text, object or None, reason or None) per non-blank line of JSON Lines."""
    for line_no, raw, fault in lines:
        if fault:
            yield line_no, raw, None, fault
            continue
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as e:
            yield line_no, raw, None, f"unparsable: not JSON ({e.msg})"
            continue
        except (ValueError, RecursionError) as e:  # an integer of over 4,300 digits; nesting too deep
            yield line_no, raw, None, f"unparsable: not JSON that can be read ({str(e)[:80] or type(e).__name__})"
            continue
        if not isinstance(rec, dict):
            yield line_no, raw, None, "unparsable: a line must be a JSON object"
            continue
        yield line_no, raw, rec, None


def blank(v: Any) -> bool:
    """A missing value: None, or text that is empty or only spaces."""
    return v is None or (isinstance(v, str) and not v.strip())


MAX_NUMBER_TEXT = 64  # characters: longer text is no coordinate, level or accuracy
_MAX_INT = 10**15  # an integer beyond this is refused before float() could overflow


def number(v: Any, name: str) -> float:
    """A finite float from ``v`` (a number or numeric text), range-checked before conversion.

    Raises :class:`InputError` naming the field for text that is too long, a bool, an integer too
    large for any field here, or anything that is not a finite number."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise InputError(f"{name} {str(v)[:40]!r} is not a number")
    if isinstance(v, int) and not -_MAX_INT <= v <= _MAX_INT:
        raise InputError(f"{name} is an integer of {v.bit_length()} bits; it is out of range")
    if isinstance(v, str) and len(v) > MAX_NUMBER_TEXT:
        raise InputError(f"{name} is {len(v)} characters long; it is not a number")
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} {v!r} is not a number") from None
    if not math.isfinite(x):
        raise InputError(f"{name} is {v!r}; it must be a finite number")
    return x


def record_time(value: Any, now_ms: int) -> tuple[int, str | None]:
    """``(epoch ms, None)`` of a record's ``ts``, or ``(0, "code: message")``: ISO 8601 with an
    offset, from 1980-01-06 (GPS time began) to 5 minutes past the server clock."""
    text = str(value)
    if len(text) > MAX_NUMBER_TEXT:
        return 0, f"bad_timestamp: ts is {len(text)} characters long; it is not ISO 8601"
    try:
        ts_ms = parse_ts(text)
    except InputError as e:
        return 0, ("naive_timestamp: " if "no UTC offset" in str(e) else "bad_timestamp: ") + str(e)
    if ts_ms > now_ms + FUTURE_TOLERANCE_MS:
        return 0, "future_timestamp: ts is more than 5 minutes ahead of the server clock"
    if ts_ms < EARLIEST_MS:
        return 0, f"bad_timestamp: ts {str(value)[:40]!r} is before 1980-01-06, when GPS time began"
    return ts_ms, None


def never_raises(judge: Callable[..., tuple[dict | None, str | None]]) -> Callable[..., tuple[dict | None, str | None]]:
    """Wrap a record validator so that it answers for every input instead of raising: a record
    that trips an unforeseen error is rejected as ``unparsable`` (and logged), so one odd record
    can never fail the batch, the file or the group commit it arrived with."""
    @functools.wraps(judge)
    def judged(rec, *args, **kwargs):
        try:
            return judge(rec, *args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the judge of untrusted input must answer, not raise
            log.warning("record rejected on an unexpected %s", type(e).__name__)
            return None, f"unparsable: the record could not be read ({type(e).__name__})"
    return judged


@never_raises
def validate_record(rec: dict, now_ms: int, known_devices: set[str]) -> tuple[dict | None, str | None]:
    """A store row (without x/y) from one record, or ``(None, "code: message")``; never raises."""
    for col in ("device_id", "ts"):
        if blank(rec.get(col)):
            return None, f"missing_field: {col} is empty"
    device_id = str(rec["device_id"]).strip()
    ts_ms, error = record_time(rec["ts"], now_ms)
    if error:
        return None, error
    lat, lon = rec.get("lat"), rec.get("lon")
    if blank(lat) and blank(lon):
        lat = lon = None  # a status report without a position
    else:
        try:
            lat, lon = number(lat, "lat"), number(lon, "lon")
        except InputError as e:
            return None, f"bad_coordinates: {e}"
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None, f"bad_coordinates: ({lat}, {lon}) is outside -90..90, -180..180"
    out = {"device_id": device_id, "ts_ms": ts_ms, "lat": lat, "lon": lon,
           "accuracy_m": None, "battery_pct": None, "strap": "ok", "received_ms": now_ms}
    try:
        if not blank(rec.get("accuracy_m")) and lat is not None:
            acc = number(rec["accuracy_m"], "accuracy_m")
            if acc < 0:
                raise InputError(f"accuracy_m {acc} is negative")
            out["accuracy_m"] = acc
        if not blank(rec.get("battery_pct")):
            bat = number(rec["battery_pct"], "battery_pct")
            if not 0 <= bat <= 100:
                raise InputError(f"battery_pct {bat} is outside 0..100")
            out["battery_pct"] = bat
    except InputError as e:
        return None, f"bad_value: {e}"
    if not blank(rec.get("strap")):
        strap = str(rec["strap"]).strip().lower()
        if strap not in ("ok", "tamper"):
            return None, f"bad_value: strap {rec['strap']!r} must be ok or tamper"
        out["strap"] = strap
    if not blank(rec.get("received_at")):
        try:
            out["received_ms"] = parse_ts(str(rec["received_at"]), "received_at")
        except InputError as e:
            return None, f"bad_timestamp: {e}"
    if device_id not in known_devices:
        return None, f"unknown_device: {device_id!r} is not registered (tagwatch devices add)"
    return out, None
