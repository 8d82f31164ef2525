"""Use cases: ingest fixes from files and from the web service, validated row by row or in Arrow batches.

Every rejected row is stored with its reason; a fix is identified by (device, ts), so a re-sent
batch changes nothing. Each function takes the clock as an argument (``now_ms``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..geo import to_bng
from ..ingest.columnar import read_csv_batches
from ..ingest.fixes import Reject, read_records, validate_record
from ..ingest.gpx import read_gpx_records
from ..store import Store
from .correlation import recheck_after_ingest
from .evaluation import EvalReport, evaluate, subjects_touched

__all__ = ["IngestReport", "IngestOutcome", "ingest_files", "ingest_records", "store_fix_columns", "ingest_live",
           "ingest_and_evaluate", "fix_columns", "with_bng", "note_touched", "http_records", "store_rejects"]

BATCH = 20_000


# -- ingest --------------------------------------------------------------------------------------
@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    # device -> earliest fix time seen in this ingest: what evaluation must look at again
    touched: dict[str, int] = field(default_factory=dict)

    def add_reject(self, reason: str) -> None:
        self.rejected += 1
        code = reason.split(":", 1)[0]
        self.reasons[code] = self.reasons.get(code, 0) + 1


def ingest_records(store: Store, records: Iterable[tuple[int | None, str, dict | None, str | None]],
                   source: str, now_ms: int, report: IngestReport | None = None,
                   known: set[str] | None = None) -> IngestReport:
    """Validate records one by one and store them; rejects keep their reason and raw text."""
    report = report or IngestReport()
    known = store.device_ids() if known is None else known
    good: list[dict] = []
    bad: list[Reject] = []
    for line_no, raw, rec, error in records:
        row, reason = (None, error) if error else validate_record(rec, now_ms, known)
        if row is None:
            bad.append(Reject(line_no, raw[:2000], reason))
            report.add_reject(reason)
        else:
            good.append(row)
        if len(good) >= BATCH:
            store_fix_columns(store, fix_columns(good), report)
            good = []
        if len(bad) >= BATCH:
            store_rejects(store, bad, source, now_ms)
            bad = []
    store_fix_columns(store, fix_columns(good), report)
    store_rejects(store, bad, source, now_ms)
    return report


def fix_columns(rows: list[dict]) -> dict[str, np.ndarray]:
    """Validated rows (``validate_record``'s) as numpy columns; NaN for missing numbers."""
    nan = float("nan")
    cols = {k: [r[k] for r in rows] for k in ("device_id", "ts_ms", "strap", "received_ms")}
    for k in ("lat", "lon", "accuracy_m", "battery_pct"):
        cols[k] = [nan if r[k] is None else r[k] for r in rows]
    return {k: np.asarray(v, dtype=object if k in ("device_id", "strap") else None) for k, v in cols.items()}


def with_bng(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns with BNG metres ``x``/``y`` added: projected once, at ingest (NaN: no position)."""
    lat, lon = cols["lat"].astype(np.float64), cols["lon"].astype(np.float64)
    x, y = to_bng(lon, lat)
    no_position = np.isnan(lat)  # pyproj maps NaN to inf; keep "no position" as NaN
    return {**cols, "x": np.where(no_position, np.nan, x), "y": np.where(no_position, np.nan, y)}


def note_touched(report: IngestReport, cols: dict[str, np.ndarray]) -> None:
    """Record, per device, the earliest fix time in ``cols``: what evaluation must look at again."""
    if len(cols.get("ts_ms", ())) == 0:
        return
    table = pa.table({"d": cols["device_id"].astype(str), "t": cols["ts_ms"].astype(np.int64)})
    for r in table.group_by("d").aggregate([("t", "min")]).to_pylist():
        dev, t = r["d"], r["t_min"]
        prev = report.touched.get(dev)
        report.touched[dev] = t if prev is None else min(prev, t)


def store_fix_columns(store: Store, cols: dict[str, np.ndarray], report: IngestReport) -> None:
    """Project positions to BNG metres once, store, and note what evaluation must revisit."""
    n = len(cols.get("ts_ms", ()))
    if n == 0:
        return
    cols = with_bng(cols)
    note_touched(report, cols)
    new = store.insert_fix_columns(cols)
    report.accepted += new
    report.duplicates += n - new


def store_rejects(store: Store, rejects: list[Reject], source: str, now_ms: int) -> None:
    store.add_rejects({"source": source, "line_no": r.line_no, "raw": r.raw, "reason": r.reason,
                       "received_ms": now_ms} for r in rejects)


def ingest_files(store: Store, paths: Sequence[Path], now_ms: int,
                 on_read: Callable[[int], None] | None = None, device_id: str | None = None) -> IngestReport:
    """Ingest CSV (columnar fast path), JSON Lines and GPX files (GPX needs ``device_id``)."""
    report = IngestReport()
    known = store.device_ids()
    for path in map(Path, paths):
        if path.suffix.lower() == ".csv":
            for batch in read_csv_batches(path, now_ms, known, on_read):
                store_fix_columns(store, batch.good, report)
                ingest_records(store, batch.doubtful, str(path), now_ms, report, known)
        elif path.suffix.lower() == ".gpx":
            ingest_records(store, read_gpx_records(path, device_id), str(path), now_ms, report, known)
            if on_read:
                on_read(path.stat().st_size)
        else:
            ingest_records(store, read_records(path, on_read), str(path), now_ms, report, known)
    return report


# -- live ingest (the web service) -------------------------------------------------------------------
def ingest_live(store: Store, records: list, source: str, now_ms: int) -> tuple[IngestReport, EvalReport | None]:
    """Validate and store fixes that arrived over HTTP, then re-evaluate the subjects they touch.

    The synchronous path (tests, scripts); ``tagwatch serve`` goes through the live engine
    (``tagwatch.live``), which commits concurrent requests together and evaluates off the
    request path. Rejected records are stored with their reason, as for files.
    """
    report = ingest_records(store, http_records(records), source, now_ms)
    if not report.touched:
        return report, None
    since = subjects_touched(store, report.touched)
    ev = evaluate(store, now_ms, now_ms, since)
    recheck_after_ingest(store, since, now_ms)
    return report, ev


def http_records(records: list) -> list[tuple[int, str, dict | None, str | None]]:
    """Records from a JSON body as the validator takes them: (number, raw text, record, error)."""
    return [(n, json.dumps(r, sort_keys=True, default=str)[:2000], r if isinstance(r, dict) else None,
             None if isinstance(r, dict) else "unparsable: a fix must be a JSON object")
            for n, r in enumerate(records, start=1)]


# -- files, then the subjects they touch (the CLI's ingest and load) ----------------------------------
@dataclass
class IngestOutcome:
    """What one ingest of files did: the rows, the re-evaluation and the crime re-check."""
    ingest: IngestReport
    evaluation: EvalReport | None = None
    recheck: dict | None = None


def ingest_and_evaluate(store: Store, files: Sequence[Path], now_ms: int, as_of_ms: int | None = None,
                        evaluate_after: bool = True, device_id: str | None = None,
                        on_read: Callable[[int], None] | None = None,
                        on_evaluate: Callable[[int], Callable[[str], None] | None] | None = None) -> IngestOutcome:
    """Ingest fix files, re-evaluate the subjects the new fixes touch, and re-check them against crimes.

    ``on_read(n_bytes)`` reports reading progress; ``on_evaluate(n_subjects)`` is called before the
    evaluation starts and may return a per-subject callback (for a progress bar).
    """
    rep = ingest_files(store, files, now_ms, on_read=on_read, device_id=device_id)
    out = IngestOutcome(rep)
    if not (evaluate_after and rep.touched):
        return out
    since = subjects_touched(store, rep.touched)
    on_subject = on_evaluate(len(since)) if on_evaluate else None
    out.evaluation = evaluate(store, now_ms if as_of_ms is None else as_of_ms, now_ms, since, on_subject=on_subject)
    out.recheck = recheck_after_ingest(store, since, now_ms)
    return out
