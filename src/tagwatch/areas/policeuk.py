"""police.uk street-level CSV files -> validated columns, or rows rejected with a reason.

The real header: ``Crime ID, Month, Reported by, Falls within, Longitude, Latitude,
Location, LSOA code, LSOA name, Crime type, Last outcome category, Context``. Files are
read column-wise with pyarrow and checked with vectorised expressions; only rejected rows
are turned back into text. A row without coordinates is kept (police.uk leaves them blank
when it could not map a crime); a row with one coordinate, an unparsable one, or one
outside the UK is rejected. Anti-social behaviour rows carry no crime ID: that is normal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..codec import InputError
from .categories import POLICE_UK_CATEGORIES

__all__ = ["HEADER", "COLUMNS", "PoliceUkFile", "read_police_uk"]

HEADER = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code",
          "LSOA name", "Crime type", "Last outcome category", "Context")
# Stored column names, in the order of HEADER.
COLUMNS = ("crime_id", "month", "reported_by", "falls_within", "lon", "lat", "location", "lsoa_code", "lsoa_name",
           "crime_type", "outcome", "context")
# The United Kingdom, generously (police.uk covers England, Wales and Northern Ireland).
UK_LON, UK_LAT = (-8.7, 2.0), (49.8, 61.0)
_NUMBER = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"


@dataclass
class PoliceUkFile:
    source: str
    table: pa.Table  # accepted rows, COLUMNS; lon/lat float64 (null: no location), empty text -> null
    rejects: list[tuple[int | None, str, str]] = field(default_factory=list)  # (line, raw, "code: message")

    @property
    def n_rows(self) -> int:
        return self.table.num_rows

    def months(self) -> list[tuple[str, str]]:
        """The (reported_by, month) pairs the accepted rows cover."""
        forces, months = pc.unique(self.table["reported_by"]), pc.unique(self.table["month"])
        if len(forces) <= 1 or len(months) <= 1:  # the usual case: one force, one month; no group-by needed
            return sorted((f, m) for f in forces.to_pylist() for m in months.to_pylist())
        pairs = self.table.select(["reported_by", "month"]).group_by(["reported_by", "month"]).aggregate([])
        return sorted(zip(pairs["reported_by"].to_pylist(), pairs["month"].to_pylist(), strict=True))

    def no_location_by_lsoa(self) -> dict[str, int]:
        """Rows kept without coordinates, counted by LSOA code ('' when police.uk gave none)."""
        t = self.table.filter(pc.is_null(self.table["lon"]))
        codes = pc.fill_null(t["lsoa_code"], "")
        counts = pc.value_counts(codes)
        return {v["values"].as_py(): v["counts"].as_py() for v in counts}


def read_police_uk(path: Path) -> PoliceUkFile:
    """Read and check one street-level file; raises InputError if it is not one at all."""
    path = Path(path)
    wrong_width: list[tuple[int | None, str, str]] = []

    def on_bad_row(row) -> str:
        wrong_width.append((row.number, row.text or "",
                            f"wrong_field_count: {row.actual_columns} fields where {row.expected_columns} are expected"))
        return "skip"

    try:
        with open(path, "rb") as f:
            first = f.readline().decode("utf-8-sig", errors="replace").strip()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    names = [n.strip().strip('"') for n in first.split(",")]
    if tuple(names) != HEADER:
        missing = [h for h in HEADER if h not in names]
        raise InputError(f"{path}: not a police.uk street-level file: the header must be "
                         f"{', '.join(HEADER)}" + (f" (missing: {', '.join(missing)})" if missing else ""))
    try:
        raw = pcsv.read_csv(
            path,
            # One thread: the invalid-row handler then knows line numbers (and 2 cores gain little here).
            read_options=pcsv.ReadOptions(column_names=list(COLUMNS), skip_rows=1, use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=on_bad_row),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in COLUMNS},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot be read as CSV: {e}") from None
    out = PoliceUkFile(str(path), raw)
    lines = _line_numbers(raw.num_rows, [n for n, _, _ in wrong_width])
    code, messages = _row_problems(raw)
    bad = np.flatnonzero(code)
    if bad.size:
        texts = _row_texts(raw.take(pa.array(bad)))
        out.rejects.extend((int(lines[i]), text, messages[code[i] - 1]) for i, text in zip(bad, texts, strict=True))
    out.rejects.extend(wrong_width)
    out.rejects.sort(key=lambda r: (r[0] is None, r[0] or 0))
    good = raw.filter(pa.array(code == 0))
    out.table = _typed(good)
    return out


def _line_numbers(n_kept: int, skipped: list[int | None]) -> np.ndarray:
    """File line of each kept row (the header is line 1), given the lines pyarrow skipped."""
    skipped_lines = np.array(sorted(s for s in skipped if s is not None), dtype=np.int64)
    all_lines = np.arange(2, 2 + n_kept + skipped_lines.size, dtype=np.int64)
    return np.setdiff1d(all_lines, skipped_lines, assume_unique=True)[:n_kept]


def _blank(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0))


def _row_problems(t: pa.Table) -> tuple[np.ndarray, list[str]]:
    """Per row, 0 when good or 1 + the index of its reason in the list; the first problem found wins."""
    n = t.num_rows
    code = np.zeros(n, dtype=np.int8)
    messages: list[str] = []

    def flag(mask: np.ndarray, text: str) -> None:
        messages.append(text)
        code[(code == 0) & mask] = len(messages)

    flag(~np.asarray(pc.match_substring_regex(t["month"], r"^\d{4}-(0[1-9]|1[0-2])$")),
         "bad_month: Month must be YYYY-MM")
    flag(_blank(t["reported_by"]), "missing_force: Reported by is empty")
    flag(~np.asarray(pc.is_in(t["crime_type"], value_set=pa.array(POLICE_UK_CATEGORIES))),
         "unknown_crime_type: Crime type is not a police.uk category")
    lon_blank, lat_blank = _blank(t["lon"]), _blank(t["lat"])
    flag(lon_blank != lat_blank, "bad_coordinates: only one of Longitude and Latitude is given")
    lon_num = np.asarray(pc.match_substring_regex(t["lon"], _NUMBER))
    lat_num = np.asarray(pc.match_substring_regex(t["lat"], _NUMBER))
    flag(~lon_blank & ~lat_blank & ~(lon_num & lat_num), "bad_coordinates: Longitude/Latitude is not a number")
    ok = lon_num & lat_num
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if ok.any():
        idx = pa.array(np.flatnonzero(ok))
        lon[ok] = np.asarray(pc.cast(pc.utf8_trim_whitespace(t["lon"].take(idx)), pa.float64()))
        lat[ok] = np.asarray(pc.cast(pc.utf8_trim_whitespace(t["lat"].take(idx)), pa.float64()))
    outside = ok & ~((lon >= UK_LON[0]) & (lon <= UK_LON[1]) & (lat >= UK_LAT[0]) & (lat <= UK_LAT[1]))
    flag(outside, "bad_coordinates: the point is outside the United Kingdom")
    code_blank = _blank(t["lsoa_code"])
    flag(~code_blank & ~np.asarray(pc.match_substring_regex(t["lsoa_code"], r"^[EW]0[0-9]{7}$")),
         "bad_lsoa_code: LSOA code must look like E01011234")
    return code, messages


def _typed(t: pa.Table) -> pa.Table:
    """Accepted rows with numbers as numbers and empty text as null."""
    cols = {}
    for name in COLUMNS:
        col = pc.utf8_trim_whitespace(t[name])
        empty = pc.equal(pc.utf8_length(col), 0)
        if name in ("lon", "lat"):
            cols[name] = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), col), pa.float64())
        else:
            cols[name] = pc.if_else(empty, pa.scalar(None, pa.string()), col)
    return pa.table(cols)


def _row_texts(t: pa.Table) -> list[str]:
    rows = zip(*(t[c].to_pylist() for c in COLUMNS), strict=True)
    return [",".join(_quote(v) for v in r) for r in rows]


def _quote(v: str) -> str:
    return f'"{v}"' if ("," in v or '"' in v) else v
