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

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["record_from_params", "record_from_json"]

_SECONDS_LIMIT = 100_000_000_000  # below: epoch seconds; above: epoch milliseconds


def _timestamp(value: Any) -> str | None:
    """ISO text for the record from epoch seconds/ms or ISO text (None: use the arrival time)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        n = float(text)
    except ValueError:
        return text  # ISO; the validator insists on an offset
    ms = n if n >= _SECONDS_LIMIT else n * 1000
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


def record_from_json(body: Mapping[str, Any], received_iso: str) -> dict[str, Any]:
    """A fix record from Traccar Client's JSON body."""
    loc = body.get("location") or {}
    coords = loc.get("coords") or {}
    battery = (loc.get("battery") or {}).get("level")
    return {"device_id": str(body.get("device_id") or ""),
            "ts": _timestamp(loc.get("timestamp")) or received_iso,
            "lat": coords.get("latitude"), "lon": coords.get("longitude"), "accuracy_m": coords.get("accuracy"),
            "battery_pct": None if battery is None or battery < 0 else round(float(battery) * 100, 1)}
