"""Alcohol reading files (CSV and JSON Lines) and API rows -> validated rows or rejects.

Columns: ``device_id, ts, tac`` (transdermal alcohol concentration, g/dL) and optional
``skin_temp_c, ir_distance`` (mm), ``tamper`` (``ok``/``tamper``, or true/false, 1/0) and
``received_at``. The rules are those of GPS fixes: a reading is identified by (device,
ts); each bad row is rejected on its own with a reason code and message, its neighbours
unaffected; a file whose header lacks a required column is refused as a whole.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..codec import InputError, parse_ts
from .fixes import FileError, blank, file_records, never_raises, number, record_time

__all__ = ["REQUIRED", "OPTIONAL", "MAX_TAC_G_DL", "is_readings_header", "read_reading_records", "validate_reading"]

REQUIRED = ("device_id", "ts", "tac")
OPTIONAL = ("skin_temp_c", "ir_distance", "tamper", "received_at")
MAX_TAC_G_DL = 0.5  # above any survivable concentration: a sensor or unit error
_TAMPER = {"ok": 0, "false": 0, "0": 0, "no": 0, "tamper": 1, "true": 1, "1": 1, "yes": 1}

Record = tuple[int | None, str, dict | None, str | None]


def is_readings_header(path: Path) -> bool:
    """Whether a CSV file's header is that of alcohol readings (it has ``tac`` and no ``lat``)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        header = {h.strip() for h in next(csv.reader(f), [])}
    return "tac" in header and "lat" not in header


def read_reading_records(path: Path, on_read: Callable[[int], None] | None = None) -> Iterator[Record]:
    """Yield ``(line_no, raw, record, error)`` for each data line of a readings file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise FileError(f"{path}: unknown file type {suffix!r}; use .csv or .jsonl")
    return file_records(path, "csv" if suffix == ".csv" else "jsonl", REQUIRED, OPTIONAL, on_read)


def _number(v: Any, name: str, lo: float, hi: float, unit: str) -> float:
    x = number(v, name)
    if not lo <= x <= hi:
        raise InputError(f"{name} {v!r} is outside {lo:g}..{hi:g} {unit}")
    return x


@never_raises
def validate_reading(rec: dict, now_ms: int, alcohol_devices: set[str],
                     other_devices: set[str] = frozenset()) -> tuple[dict | None, str | None]:
    """A store row from one record, or ``(None, "code: message")``."""
    for col in REQUIRED:
        if blank(rec.get(col)):
            return None, f"missing_field: {col} is empty"
    device_id = str(rec["device_id"]).strip()
    ts_ms, error = record_time(rec["ts"], now_ms)
    if error:
        return None, error
    out = {"device_id": device_id, "ts_ms": ts_ms, "tac_g_dl": 0.0, "skin_temp_c": None, "ir_distance_mm": None,
           "tamper": 0, "received_ms": now_ms}
    try:
        out["tac_g_dl"] = _number(rec["tac"], "tac", 0.0, MAX_TAC_G_DL, "g/dL")
        if not blank(rec.get("skin_temp_c")):
            out["skin_temp_c"] = _number(rec["skin_temp_c"], "skin_temp_c", -30.0, 60.0, "degrees C")
        if not blank(rec.get("ir_distance")):
            out["ir_distance_mm"] = _number(rec["ir_distance"], "ir_distance", 0.0, 1000.0, "mm")
    except InputError as e:
        return None, f"bad_value: {e}"
    tamper = rec.get("tamper")
    if not blank(tamper):
        key = str(tamper).strip().lower()
        if key not in _TAMPER:
            return None, f"bad_value: tamper {tamper!r} must be ok or tamper (or true/false, 1/0)"
        out["tamper"] = _TAMPER[key]
    if not blank(rec.get("received_at")):
        try:
            out["received_ms"] = parse_ts(str(rec["received_at"]), "received_at")
        except InputError as e:
            return None, f"bad_timestamp: {e}"
    if device_id not in alcohol_devices:
        if device_id in other_devices:
            return None, f"wrong_device: {device_id!r} is not an alcohol tag (tagwatch devices add ID --kind alcohol)"
        return None, f"unknown_device: {device_id!r} is not registered (tagwatch devices add ID --kind alcohol)"
    return out, None
