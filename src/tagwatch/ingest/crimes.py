"""Crime reports in: the police crime-mapping batch format and tagwatch's own CSV.

Police batch (CSV, no header, 13 columns): ``force, crime_type, description, batch_id,
crime_ref, from, to, easting, northing, lat, lon, datum, crime_text``; times
``yyyyMMddHHmmss`` in UTC; exactly one coordinate pair (OSGB36 easting/northing or
WGS84 lat/lon); one force and one batch id per file, the batch id starting with the
force code and a date. Every row is accepted or rejected with a named reason, and the
batch is successful, partial or failed. police.uk street-level files are refused: they
are monthly and snapped to anonymised points, so they can never place a person at a crime.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..codec import InputError, parse_ts
from ..geo import to_bng, to_wgs84

__all__ = ["CRIME_TYPES", "MAX_WINDOW_MS", "Crime", "CrimeBatch", "read_crime_file"]

CRIME_TYPES = {
    "RB": "robbery",
    "BIAD": "burglary in a dwelling",
    "AB": "attempted burglary",
    "BOTD": "burglary other than a dwelling",
    "TOMV": "theft of a motor vehicle",
    "TFMV": "theft from a motor vehicle",
    "TFP": "theft from the person",
}
MAX_WINDOW_MS = 12 * 3_600_000
BATCH_COLUMNS = ("force", "crime_type", "description", "batch_id", "crime_ref", "from", "to", "easting",
                 "northing", "lat", "lon", "datum", "crime_text")
POLICE_UK_HEADER = {"Crime ID", "Month", "Reported by", "Falls within", "LSOA code"}
# Great Britain on the National Grid, generously: anything outside is a typo or a swap.
GB_EASTING, GB_NORTHING = (0, 700_000), (0, 1_300_000)
_UNDECODED = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a byte that is not UTF-8


@dataclass(frozen=True, slots=True)
class Crime:
    force: str
    crime_ref: str
    crime_type: str
    from_ms: int
    to_ms: int
    x: float  # BNG metres
    y: float
    lat: float
    lon: float
    location_accuracy_m: float = 0.0
    description: str = ""
    batch_id: str = ""


@dataclass
class CrimeBatch:
    source: str
    format: str  # police-batch | tagwatch-csv
    force: str = ""
    batch_id: str = ""
    crimes: list[Crime] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw, "code: message")

    @property
    def outcome(self) -> str:
        if not self.rejects:
            return "successful"
        return "partial" if self.crimes else "failed"


def _csv_rows(path: Path) -> tuple[list[tuple[int, list[str]]], list[tuple[int, str, str]]]:
    """The non-blank rows, and a reject for each row no CSV reader can take (a field over the
    csv module's 131,072-character limit, a byte that is not UTF-8): the reader goes on after it."""
    rows, bad = [], []
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f)
        for i in itertools.count(1):
            try:
                r = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                bad.append((i, "", f"unparsable: {e}"))
                continue
            if any(_UNDECODED.search(c) for c in r):
                bad.append((i, ",".join(r).encode("utf-8", "surrogateescape").decode("utf-8", "replace")[:2000],
                            "bad_encoding: the row holds a byte that is not UTF-8"))
            elif any(c.strip() for c in r):
                rows.append((i, r))
    return rows, bad


def read_crime_file(path: Path) -> CrimeBatch:
    """Crimes and rejects from a police batch or a tagwatch crime CSV (:class:`InputError`: no rows)."""
    batch = _read_crime_rows(path, *_csv_rows(path))
    batch.rejects.sort(key=lambda r: r[0])
    return batch


def _read_crime_rows(path: Path, rows, bad) -> CrimeBatch:
    if not rows:
        raise InputError(f"{path}: the file holds no rows" + (f" that can be read ({bad[0][2]})" if bad else ""))
    if bad and bad[0][0] == 1:
        raise InputError(f"{path}: line 1 cannot be read: {bad[0][2]}")
    first = [c.strip() for c in rows[0][1]]
    if POLICE_UK_HEADER <= set(first):
        raise InputError(
            f"{path} is a police.uk street-level file: those are monthly and snapped to anonymised map points, "
            "so tagwatch never uses them to place a person at a crime. Use the force's crime-mapping batch "
            "or tagwatch's crime CSV (docs/correlation.md); area statistics from police.uk belong to "
            "`tagwatch areas import`.")
    if first[:2] == ["crime_id", "crime_type"] or "crime_id" in first:
        batch = _tagwatch_csv(path, first, rows[1:])
    else:
        batch = _police_batch(path, rows)
    batch.rejects.extend(bad)
    return batch


def _police_batch(path: Path, rows) -> CrimeBatch:
    batch = CrimeBatch(str(path), "police-batch")
    good = [r for _, r in rows if len(r) == len(BATCH_COLUMNS)]
    batch.force = good[0][0].strip() if good else ""
    batch.batch_id = good[0][3].strip() if good else ""
    batch_ok = bool(re.fullmatch(rf"{re.escape(batch.force)}[-_]?\d{{8}}.*", batch.batch_id)) and bool(batch.force)
    seen: set[str] = set()
    for line, raw, rec in _records(rows, BATCH_COLUMNS, batch):
        reason = _batch_row_problem(rec, batch, batch_ok, seen)
        if reason:
            batch.rejects.append((line, raw, reason))
            continue
        try:
            batch.crimes.append(_batch_crime(rec))
            seen.add(rec["crime_ref"])
        except InputError as e:
            batch.rejects.append((line, raw, str(e)))
    return batch


def _records(rows, names, batch: CrimeBatch):
    """``(line, raw, record)`` for rows of the right width; the others are rejected here."""
    for line, r in rows:
        raw = ",".join(r)
        if len(r) != len(names):
            batch.rejects.append((line, raw, f"wrong_field_count: {len(r)} fields where {len(names)} are expected"))
            continue
        yield line, raw, dict(zip(names, (c.strip() for c in r)))


def _batch_row_problem(rec, batch, batch_ok, seen) -> str | None:
    if not batch_ok:
        return (f"bad_batch_id: {batch.batch_id!r} must start with the force code {batch.force!r} "
                "and a date (yyyyMMdd)")
    if rec["force"] != batch.force:
        return f"force_mismatch: {rec['force']!r} in a batch of {batch.force!r} (one force per file)"
    if rec["batch_id"] != batch.batch_id:
        return f"batch_mismatch: {rec['batch_id']!r} in batch {batch.batch_id!r} (one batch id per file)"
    if rec["crime_type"] not in CRIME_TYPES:
        return f"unknown_crime_type: {rec['crime_type']!r}; expected one of {', '.join(CRIME_TYPES)}"
    if not rec["crime_ref"]:
        return "missing_crime_ref: every crime needs the force's reference"
    if rec["crime_ref"] in seen:
        return f"duplicate_in_batch: {rec['crime_ref']!r} appears twice in this batch"
    return None


def _batch_time(text: str, what: str) -> int:
    try:
        return int(datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise InputError(f"bad_time: {what} {text!r} is not yyyyMMddHHmmss (UTC)") from None


def _num(text: str) -> float | None:
    if not text:
        return None
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"bad_coordinates: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"bad_coordinates: {text!r} is not a finite number")
    return v


def _window(from_ms: int, to_ms: int) -> None:
    if to_ms < from_ms:
        raise InputError("window_reversed: 'to' is before 'from'")
    if to_ms - from_ms > MAX_WINDOW_MS:
        raise InputError(f"window_too_long: {(to_ms - from_ms) / 3_600_000:.1f} h; at most 12 h")


def _batch_crime(rec: dict) -> Crime:
    from_ms, to_ms = _batch_time(rec["from"], "from"), _batch_time(rec["to"], "to")
    _window(from_ms, to_ms)
    e, n, lat, lon = (_num(rec[k]) for k in ("easting", "northing", "lat", "lon"))
    grid, wgs = e is not None or n is not None, lat is not None or lon is not None
    if grid == wgs:
        raise InputError("bad_coordinates: give exactly one pair, OSGB36 easting/northing or WGS84 lat/lon"
                         if grid else "no_coordinates: neither easting/northing nor lat/lon")
    if grid:
        if e is None or n is None or not (GB_EASTING[0] <= e <= GB_EASTING[1] and GB_NORTHING[0] <= n <= GB_NORTHING[1]):
            raise InputError(f"bad_coordinates: easting/northing ({e}, {n}) is not on the British National Grid")
        x, y = e, n
        lon_, lat_ = (float(v) for v in to_wgs84(x, y))
    else:
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"bad_coordinates: ({lat}, {lon}) is not a lat/lon pair")
        lat_, lon_ = lat, lon
        x, y = (float(v) for v in to_bng(lon, lat))
    return Crime(rec["force"], rec["crime_ref"], rec["crime_type"], from_ms, to_ms, x, y, lat_, lon_,
                 0.0, rec["description"], rec["batch_id"])


def _tagwatch_csv(path: Path, header: list[str], rows) -> CrimeBatch:
    batch = CrimeBatch(str(path), "tagwatch-csv", force="local")
    missing = [c for c in ("crime_id", "crime_type", "lat", "lon", "from", "to") if c not in header]
    if missing:
        raise InputError(f"{path}: header lacks {', '.join(missing)}")
    seen: set[str] = set()
    for line, raw, rec in _records(rows, header, batch):
        try:
            if not rec["crime_id"]:
                raise InputError("missing_crime_ref: crime_id is empty")
            if rec["crime_id"] in seen:
                raise InputError(f"duplicate_in_batch: {rec['crime_id']!r} appears twice in this file")
            try:
                from_ms, to_ms = parse_ts(rec["from"], "from"), parse_ts(rec["to"], "to")
            except InputError as e:
                raise InputError(f"bad_time: {e}") from None
            _window(from_ms, to_ms)
            lat, lon = _num(rec["lat"]), _num(rec["lon"])
            if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError(f"bad_coordinates: ({rec['lat']}, {rec['lon']}) is not a lat/lon pair")
            acc = _num(rec.get("location_accuracy_m", "")) or 0.0
            if acc < 0:
                raise InputError("bad_coordinates: location_accuracy_m is negative")
            x, y = (float(v) for v in to_bng(lon, lat))
            batch.crimes.append(Crime("local", rec["crime_id"], rec["crime_type"], from_ms, to_ms, x, y, lat, lon,
                                      acc, "", ""))
            seen.add(rec["crime_id"])
        except InputError as e:
            batch.rejects.append((line, raw, str(e)))
    return batch
