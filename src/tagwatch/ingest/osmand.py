"""The OsmAnd protocol (Traccar Client, OsmAnd): one position per HTTP request -> a fix record.

Two forms are accepted, as Traccar's own server does:

- query or form parameters: ``id`` (or ``deviceid``), ``lat``, ``lon`` (or
  ``location=lat,lon``), ``timestamp`` (epoch seconds, epoch milliseconds, or ISO 8601
  with an offset), ``accuracy`` (metres), ``batt`` (percent), and others we ignore
  (speed, bearing, altitude, hdop, charge, valid);
- the JSON body of Traccar Client 9+: ``{"device_id", "location": {"timestamp",
  "coords": {"latitude", "longitude", "accuracy"}, "battery": {"level": 0..1}}}``.

The result is the record that :func:`tagwatch.ingest.fixes.validate_record` judges, so
an OsmAnd report is accepted or rejected for the same reasons as a line of a CSV file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..codec import InputError
from .fixes import MAX_NUMBER_TEXT, number

__all__ = ["record_from_params", "record_from_json", "report_from"]

_SECONDS_LIMIT = 100_000_000_000  # below: epoch seconds; above: epoch milliseconds
_MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last instant ISO 8601 can write


def _timestamp(value: Any) -> str | None:
    """ISO text for the record from epoch seconds/ms or ISO text (None: use the arrival time).

    An epoch number is range-checked (1970..9999) before it becomes a date; one outside that
    range, or text that is no number, is passed on as text for the validator to reject
    (``bad_timestamp``)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()[:MAX_NUMBER_TEXT + 1]
    try:
        n = number(value if isinstance(value, (int, float)) and not isinstance(value, bool) else text, "timestamp")
    except InputError:
        return text  # ISO (the validator insists on an offset), or a number it will refuse
    ms = n if n >= _SECONDS_LIMIT else n * 1000
    if not 0 <= ms <= _MAX_EPOCH_MS:
        return text
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def record_from_params(params: Mapping[str, str], received_iso: str) -> dict[str, Any]:
    """A fix record from OsmAnd query/form parameters."""
    lat, lon = params.get("lat"), params.get("lon")
    if (lat is None or lon is None) and params.get("location"):
        lat, _, lon = params["location"].partition(",")
    return {"device_id": params.get("id") or params.get("deviceid") or "",
            "ts": _timestamp(params.get("timestamp")) or received_iso,
            "lat": lat, "lon": lon, "accuracy_m": params.get("accuracy"),
            "battery_pct": params.get("batt")}


def _object(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one (its fields are then missing)."""
    return value if isinstance(value, Mapping) else {}


def _battery_pct(level: Any) -> Any:
    """Percent from Traccar's level 0..1 (negative: unknown). A level that is no number is passed
    on as it came, for the validator to reject with a reason (``bad_value``)."""
    if level is None:
        return None
    try:
        x = number(level, "battery level")
    except InputError:
        return level
    return None if x < 0 else round(x * 100, 1)


def record_from_json(body: Mapping[str, Any], received_iso: str) -> dict[str, Any]:
    """A fix record from Traccar Client's JSON body; a ``location``, ``coords`` or ``battery`` that
    is not an object counts as missing (the validator then names what is lacking)."""
    loc = _object(body.get("location"))
    coords = _object(loc.get("coords"))
    return {"device_id": str(body.get("device_id") or ""),
            "ts": _timestamp(loc.get("timestamp")) or received_iso,
            "lat": coords.get("latitude"), "lon": coords.get("longitude"), "accuracy_m": coords.get("accuracy"),
            "battery_pct": _battery_pct(_object(loc.get("battery")).get("level"))}


def report_from(params: Mapping[str, str], received_iso: str,
                json_body: bytes | str | None = None) -> tuple[dict[str, Any], str | None]:
    """(record, device key) of one report: from its parameters (query and form), or from its JSON
    body when it has one (the key may then also be in the body)."""
    if json_body is None:
        return record_from_params(params, received_iso), params.get("key")
    try:
        doc = json.loads(json_body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return {"device_id": "", "ts": received_iso}, params.get("key")
    return record_from_json(doc, received_iso), params.get("key") or doc.get("key")
