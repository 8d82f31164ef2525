"""Use cases: the only place that wires the store to the pure core.

The CLI (and later the web API) call these and nothing else; each takes the clock as
an argument (``now_ms``) so that tests and simulations control time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from .codec import Enrolment, parse_ts
from .geo import to_bng
from .ingest.columnar import read_csv_batches
from .ingest.fixes import Reject, read_records, validate_record
from .ingest.gpx import read_gpx_records
from .model import GPS_ALERT_KINDS, Episode
from .rules import DEFAULT_SETTINGS, RuleSettings, evaluate_subject
from .store import Store, StoreError

__all__ = ["IngestReport", "EvalReport", "EnrolReport", "enrol", "ingest_files", "ingest_records",
           "store_fix_columns", "evaluate", "subjects_touched", "episodes_with", "get_settings", "set_settings",
           "parse_ts", "StoreError", "ingest_live"]

DAY_MS = 86_400_000
BATCH = 20_000


# -- settings ---------------------------------------------------------------------------------
def get_settings(store: Store) -> RuleSettings:
    text = store.get_meta("rules")
    return DEFAULT_SETTINGS if text is None else DEFAULT_SETTINGS.with_overrides(**json.loads(text))


def set_settings(store: Store, **overrides: float) -> RuleSettings:
    """Change rule settings for this store (kept in it, so every evaluation is reproducible)."""
    current = json.loads(store.get_meta("rules") or "{}")
    merged = get_settings(store).with_overrides(**overrides)
    current.update({k: getattr(merged, k) for k in overrides})
    store.set_meta("rules", json.dumps(current, sort_keys=True))
    return merged


# -- enrolment ---------------------------------------------------------------------------------
@dataclass
class EnrolReport:
    added: dict[str, int] = field(default_factory=lambda: {"subjects": 0, "devices": 0, "assignments": 0, "orders": 0})
    skipped: dict[str, int] = field(default_factory=lambda: {"subjects": 0, "devices": 0, "assignments": 0, "orders": 0})


def enrol(store: Store, doc: Enrolment, now_ms: int) -> EnrolReport:
    """Bulk-enrol; entries whose id is already stored are skipped, so a re-load is harmless."""
    rep = EnrolReport()
    have_subjects = {s.id for s in store.subjects()}
    have_devices = store.device_ids()
    have_orders = {o.id for o in store.orders()}
    have_assign = {(a.device_id, a.subject_id, a.from_ms) for a in store.assignments()}
    for s in doc.subjects:
        _count(rep, "subjects", s.id in have_subjects) or store.add_subject(s, now_ms)
    for d in doc.devices:
        _count(rep, "devices", d.id in have_devices) or store.add_device(d, now_ms)
    for a in sorted(doc.assignments, key=lambda a: a.from_ms):
        _count(rep, "assignments", (a.device_id, a.subject_id, a.from_ms) in have_assign) or store.assign(
            a.device_id, a.subject_id, a.from_ms, a.to_ms)
    for o in doc.orders:
        _count(rep, "orders", o.id in have_orders) or store.add_order(o, now_ms)
    return rep


def _count(rep: EnrolReport, what: str, exists: bool) -> bool:
    (rep.skipped if exists else rep.added)[what] += 1
    return exists


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
            store_fix_columns(store, _columns(good), report)
            good = []
        if len(bad) >= BATCH:
            _store_rejects(store, bad, source, now_ms)
            bad = []
    store_fix_columns(store, _columns(good), report)
    _store_rejects(store, bad, source, now_ms)
    return report


def _columns(rows: list[dict]) -> dict[str, np.ndarray]:
    nan = float("nan")
    cols = {k: [r[k] for r in rows] for k in ("device_id", "ts_ms", "strap", "received_ms")}
    for k in ("lat", "lon", "accuracy_m", "battery_pct"):
        cols[k] = [nan if r[k] is None else r[k] for r in rows]
    return {k: np.asarray(v, dtype=object if k in ("device_id", "strap") else None) for k, v in cols.items()}


def store_fix_columns(store: Store, cols: dict[str, np.ndarray], report: IngestReport) -> None:
    """Project positions to BNG metres once, store, and note what evaluation must revisit."""
    n = len(cols.get("ts_ms", ()))
    if n == 0:
        return
    lat, lon = cols["lat"].astype(np.float64), cols["lon"].astype(np.float64)
    x, y = to_bng(lon, lat)
    no_position = np.isnan(lat)  # pyproj maps NaN to inf; keep "no position" as NaN
    cols = {**cols, "x": np.where(no_position, np.nan, x), "y": np.where(no_position, np.nan, y)}
    table = pa.table({"d": cols["device_id"].astype(str), "t": cols["ts_ms"].astype(np.int64)})
    for r in table.group_by("d").aggregate([("t", "min")]).to_pylist():
        dev, t = r["d"], r["t_min"]
        prev = report.touched.get(dev)
        report.touched[dev] = t if prev is None else min(prev, t)
    new = store.insert_fix_columns(cols)
    report.accepted += new
    report.duplicates += n - new


def _store_rejects(store: Store, rejects: list[Reject], source: str, now_ms: int) -> None:
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


# -- evaluation ------------------------------------------------------------------------------------
@dataclass
class EvalReport:
    subjects: int = 0
    new: int = 0
    updated: int = 0
    retracted: int = 0
    unchanged: int = 0


def subjects_touched(store: Store, touched: dict[str, int]) -> dict[str, int]:
    """Subject -> earliest time to re-examine, from device -> earliest new fix."""
    out: dict[str, int] = {}
    for a in store.assignments():
        t = touched.get(a.device_id)
        if t is None or (a.to_ms is not None and a.to_ms <= t):
            continue
        out[a.subject_id] = min(out.get(a.subject_id, t), max(t, a.from_ms))
    return out


def evaluate(store: Store, as_of_ms: int, now_ms: int, since: dict[str, int] | None = None,
             settings: RuleSettings | None = None,
             on_subject: Callable[[str], None] | None = None) -> EvalReport:
    """Re-evaluate subjects and reconcile their alerts.

    ``since`` maps subject -> earliest fix time that changed; only the alerts from a day
    before it are reconsidered. Without it every subject is evaluated over its whole
    history. Both give the same alerts (tests/test_incremental.py checks this).
    """
    settings = settings or get_settings(store)
    report = EvalReport()
    subject_ids = sorted(since) if since is not None else [s.id for s in store.subjects()]
    for sid in subject_ids:
        counts = _evaluate_one(store, sid, as_of_ms, now_ms, None if since is None else since[sid], settings)
        report.subjects += 1
        for k, v in counts.items():
            setattr(report, k, getattr(report, k) + v)
        if on_subject:
            on_subject(sid)
    return report


def episodes_with(store: Store, as_of_ms: int, settings: RuleSettings) -> list[Episode]:
    """What the rules would find with other settings, without touching stored alerts."""
    out = []
    for subj in store.subjects():
        track = store.load_track(subj.id, None, as_of_ms + 1)
        out.extend(evaluate_subject(subj.id, store.orders(subj.id), track, as_of_ms, settings))
    return out


def _evaluate_one(store: Store, sid: str, as_of_ms: int, now_ms: int, changed_ms: int | None,
                  settings: RuleSettings) -> dict[str, int]:
    orders = store.orders(sid)
    if changed_ms is None:
        track = store.load_track(sid, None, as_of_ms + 1)
        episodes = evaluate_subject(sid, orders, track, as_of_ms, settings)
        return store.reconcile_alerts(sid, None, episodes, now_ms, GPS_ALERT_KINDS)
    since = changed_ms - DAY_MS
    for _ in range(4):
        since = store.alert_scope_start(sid, since)
        load_from = since - DAY_MS
        track = store.load_track(sid, load_from, as_of_ms + 1)
        episodes = evaluate_subject(sid, orders, track, as_of_ms, settings, data_from_ms=load_from)
        crossing = [e.start_ms for e in episodes
                    if e.start_ms < since and (e.end_ms is None or e.end_ms >= since)]
        if not crossing:
            episodes = [e for e in episodes if e.start_ms >= since]
            return store.reconcile_alerts(sid, since, episodes, now_ms, GPS_ALERT_KINDS)
        since = min(crossing) - DAY_MS
    # A run reaching far back: judge the whole history instead.
    return _evaluate_one(store, sid, as_of_ms, now_ms, None, settings)



# -- live ingest (the web service) -------------------------------------------------------------------
def ingest_live(store: Store, records: list[dict], source: str, now_ms: int) -> tuple[IngestReport, EvalReport | None]:
    """Validate and store fixes that arrived over HTTP, then re-evaluate the subjects they touch.

    Returns once the fixes are committed (the caller acknowledges them only then).
    Rejected records are stored with their reason, as for files.
    """
    from .service_correlate import recheck_after_ingest
    items = [(n, json.dumps(r, sort_keys=True, default=str)[:2000], r if isinstance(r, dict) else None,
              None if isinstance(r, dict) else "unparsable: a fix must be a JSON object")
             for n, r in enumerate(records, start=1)]
    report = ingest_records(store, items, source, now_ms)
    if not report.touched:
        return report, None
    since = subjects_touched(store, report.touched)
    ev = evaluate(store, now_ms, now_ms, since)
    recheck_after_ingest(store, since, now_ms)
    return report, ev
