"""GPX 1.0/1.1 tracks (phone tracker apps, vendor exports) -> fix records.

GPX carries no tag id, so the caller names the device. Track points become records
for the same per-row validator as CSV and JSON Lines; a point without a time, or with a
time that has no UTC offset, is rejected with that reason like any other row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gpxpy
import gpxpy.gpx

from .fixes import FileError

__all__ = ["read_gpx_records"]


def read_gpx_records(path: Path, device_id: str | None) -> Iterator[tuple[int | None, str, dict | None, str | None]]:
    if not device_id:
        raise FileError(f"{path}: a GPX file carries no device id; give it with --device")
    try:
        with open(path, encoding="utf-8") as f:
            doc = gpxpy.parse(f)
    except (gpxpy.gpx.GPXException, ValueError) as e:
        raise FileError(f"{path}: not a readable GPX file ({e})") from None
    k = 0
    for track in doc.tracks:
        for segment in track.segments:
            for p in segment.points:
                k += 1
                raw = f"trkpt {k}: lat={p.latitude} lon={p.longitude} time={p.time.isoformat() if p.time else ''}"
                yield None, raw, {"device_id": device_id, "ts": p.time.isoformat() if p.time else "",
                                  "lat": p.latitude, "lon": p.longitude}, None
