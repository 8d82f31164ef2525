"""Fast path for CSV fix files: parse and validate whole batches with Arrow.

The per-row validator (:func:`tagwatch.ingest.fixes.validate_record`) stays the single
source of truth for *why* a row is bad: any row the vectorised checks doubt, and every
row of a batch whose time stamps do not all parse, goes through it. Clean batches, the
usual case, never touch Python per row except to hand the rows to the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .fixes import FUTURE_TOLERANCE_MS, OPTIONAL, REQUIRED, FileError
from .lines import CleanCsv, line_fault, split_line

__all__ = ["CsvBatch", "read_csv_batches"]

BLOCK_BYTES = 4 << 20


@dataclass
class CsvBatch:
    good: dict[str, np.ndarray]  # validated columns (see FIX_COLUMNS in the store), possibly empty
    doubtful: list[tuple[int, str, dict | None, str | None]]  # for the per-row validator


def _header(path: Path) -> list[str]:
    with open(path, "rb") as f:
        text, fault = line_fault(f.readline(), csv_quotes=True)
    if fault:
        raise FileError(f"{path}: the header (line 1) cannot be read: {fault}")
    header = [h.strip() for h in split_line(text)]
    missing = [c for c in REQUIRED if c not in header]
    if missing and "tac" in header:
        raise FileError(f"{path}: these are alcohol readings (a tac column, no lat/lon): use tagwatch alcohol ingest")
    if missing:
        raise FileError(f"{path}: header lacks required column(s) {', '.join(missing)}; "
                        f"expected {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}")
    return header


def read_csv_batches(path: Path, now_ms: int, known_devices: set[str],
                     on_read: Callable[[int], None] | None = None) -> Iterator[CsvBatch]:
    header = _header(path)
    skipped: list[tuple[int, str]] = []

    def invalid(row) -> str:
        skipped.append((row.number, row.text))
        return "skip"

    clean = CleanCsv(path)
    blanked: set[int] = set()  # lines CleanCsv blanked (and rejected): Arrow sees them empty
    reader = pcsv.open_csv(
        clean,
        read_options=pcsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES, column_names=header, skip_rows=1),
        parse_options=pcsv.ParseOptions(invalid_row_handler=invalid, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in header}, strings_can_be_null=False),
    )
    size, done, next_line = path.stat().st_size, 0, 2
    known = pa.array(sorted(known_devices), type=pa.string())
    for batch in reader:
        bad_rows = [(n, t) for n, t in skipped if t.strip()]  # blank lines are not rows
        skipped_numbers = np.array([n for n, _ in skipped], dtype=np.int64)
        skipped.clear()
        lines = _line_numbers(next_line, batch.num_rows, skipped_numbers)
        next_line = int(lines[-1]) + 1 if batch.num_rows else next_line + skipped_numbers.size
        out = _validate(batch, lines, now_ms, known)
        out.doubtful.extend((n, t, None, f"unparsable: {len(t.split(','))} fields where the header has "
                                         f"{len(header)}") for n, t in bad_rows)
        blanked.update(n for n, _, _ in clean.rejects)
        out.doubtful = [r for r in out.doubtful if r[0] not in blanked]
        out.doubtful.extend((n, t, None, fault) for n, t, fault in clean.rejects)
        clean.rejects.clear()
        yield out
        if on_read:
            step = min(BLOCK_BYTES, size - done)
            done += step
            on_read(step)
    clean.close()
    if clean.rejects:  # blanked lines after the last row Arrow returned
        yield CsvBatch({}, [(n, t, None, fault) for n, t, fault in clean.rejects])
    if on_read and done < size:
        on_read(size - done)


def _line_numbers(start: int, n: int, skipped: np.ndarray) -> np.ndarray:
    """Line numbers of the ``n`` rows read from ``start`` on, leaving out skipped lines."""
    nums = np.arange(start, start + n + skipped.size, dtype=np.int64)
    return nums[~np.isin(nums, skipped)][:n]


def _floats(col: pa.Array) -> pa.Array:
    return pc.cast(pc.if_else(pc.equal(pc.utf8_trim_whitespace(col), ""), None, col), pa.float64())


def _validate(batch: pa.RecordBatch, lines: np.ndarray, now_ms: int, known: pa.Array) -> CsvBatch:
    cols = {name: batch.column(name) for name in batch.schema.names}
    n = batch.num_rows
    empty = pa.array([""] * n, type=pa.string())
    try:
        ts = pc.cast(pc.utf8_trim_whitespace(cols["ts"]), pa.timestamp("ms", tz="UTC")).cast(pa.int64())
        rx = cols.get("received_at", empty)
        rx = pc.cast(pc.if_else(pc.equal(rx, ""), None, rx), pa.timestamp("ms", tz="UTC")).cast(pa.int64())
        lat, lon = _floats(cols["lat"]), _floats(cols["lon"])
        acc, bat = _floats(cols.get("accuracy_m", empty)), _floats(cols.get("battery_pct", empty))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return CsvBatch({}, _rows(batch, lines, np.ones(n, dtype=bool)))  # let the row validator say why
    device = pc.utf8_trim_whitespace(cols["device_id"])
    strap = pc.utf8_lower(pc.utf8_trim_whitespace(cols.get("strap", empty)))
    ts_np = ts.to_numpy(zero_copy_only=False)
    lat_np = lat.to_numpy(zero_copy_only=False)
    lon_np = lon.to_numpy(zero_copy_only=False)
    acc_np = acc.to_numpy(zero_copy_only=False)
    bat_np = bat.to_numpy(zero_copy_only=False)
    # Both coordinates empty: a status report without a position (NaN text is not empty).
    status = ~pc.is_valid(lat).to_numpy(zero_copy_only=False) & ~pc.is_valid(lon).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        coords_ok = (np.abs(lat_np) <= 90) & (np.abs(lon_np) <= 180)  # NaN fails
        acc_ok = ~pc.is_valid(acc).to_numpy(zero_copy_only=False) | (acc_np >= 0)
        bat_ok = ~pc.is_valid(bat).to_numpy(zero_copy_only=False) | ((bat_np >= 0) & (bat_np <= 100))
    ok = ((coords_ok | status) & acc_ok & bat_ok
          & pc.is_in(device, value_set=known).to_numpy(zero_copy_only=False)
          & pc.is_in(strap, value_set=pa.array(["", "ok", "tamper"])).to_numpy(zero_copy_only=False)
          & (ts_np <= now_ms + FUTURE_TOLERANCE_MS))
    rx_np = rx.fill_null(now_ms).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(ok)
    good = {
        "device_id": np.asarray(device.to_numpy(zero_copy_only=False), dtype=object)[idx],
        "ts_ms": ts_np[idx],
        "lat": np.where(status, np.nan, lat_np)[idx],
        "lon": np.where(status, np.nan, lon_np)[idx],
        "accuracy_m": np.where(status, np.nan, acc_np)[idx],
        "battery_pct": bat_np[idx],
        "strap": np.where(np.asarray(strap.to_numpy(zero_copy_only=False), dtype=object) == "tamper",
                          "tamper", "ok")[idx],
        "received_ms": rx_np[idx],
    }
    return CsvBatch(good, _rows(batch, lines, ~ok))


def _rows(batch: pa.RecordBatch, lines: np.ndarray, which: np.ndarray) -> list[tuple[int, str, dict, None]]:
    idx = np.flatnonzero(which)
    if idx.size == 0:
        return []
    sub = batch.take(pa.array(idx))
    names = sub.schema.names
    records = sub.to_pylist()
    return [(int(lines[i]), ",".join(r[c] for c in names), r, None) for i, r in zip(idx, records)]
