"""Use cases of alcohol monitoring: ingest readings, evaluate, report (AAMR).

The CLI and the web API call these; each takes the clock as an argument (``now_ms``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from ..alcohol import (DEFAULT_ALCOHOL_SETTINGS, AamrReport, AlcoholSettings, Day, Readings, SubjectVerdict,
                      aamr_report, alcohol_periods, judge_days, judge_subject)
from ..ingest.alcohol import read_reading_records, validate_reading
from ..ingest.fixes import Reject
from ..model import ALCOHOL_ALERT_KINDS, AlertKind, ConditionKind
from ..store import Store
from ..store.alcohol import READING_COLUMNS
from .evaluation import EvalReport, subjects_touched
from .ingest import IngestReport

__all__ = ["ingest_alcohol_rows", "ingest_alcohol_files", "evaluate_alcohol", "alcohol_subjects", "subject_verdict",
           "subject_days", "aamr", "programme_rows", "get_alcohol_settings", "set_alcohol_settings"]

BATCH = 20_000
META_KEY = "alcohol_rules"


# -- settings -------------------------------------------------------------------------------------------
def get_alcohol_settings(store: Store) -> AlcoholSettings:
    text = store.get_meta(META_KEY)
    return DEFAULT_ALCOHOL_SETTINGS if text is None else DEFAULT_ALCOHOL_SETTINGS.with_overrides(**json.loads(text))


def set_alcohol_settings(store: Store, **overrides: float) -> AlcoholSettings:
    """Change alcohol rule settings for this store (kept in it, so evaluations are reproducible)."""
    current = json.loads(store.get_meta(META_KEY) or "{}")
    merged = get_alcohol_settings(store).with_overrides(**overrides)
    current.update({k: getattr(merged, k) for k in overrides})
    store.set_meta(META_KEY, json.dumps(current, sort_keys=True))
    return merged


# -- ingest ---------------------------------------------------------------------------------------------
def _device_sets(store: Store) -> tuple[set[str], set[str]]:
    devices = store.devices()
    return {d.id for d in devices if d.kind == "alcohol"}, {d.id for d in devices if d.kind != "alcohol"}


def _ingest_records(store: Store, records: Iterable[tuple[int | None, str, dict | None, str | None]], source: str,
                    now_ms: int, report: IngestReport) -> IngestReport:
    alcohol, other = _device_sets(store)
    good: list[dict] = []
    bad: list[Reject] = []

    def flush() -> None:
        _store_readings(store, good, report)
        store.add_rejects({"source": source, "line_no": r.line_no, "raw": r.raw, "reason": r.reason,
                           "received_ms": now_ms} for r in bad)
        good.clear()
        bad.clear()

    for line_no, raw, rec, error in records:
        row, reason = (None, error) if error else validate_reading(rec, now_ms, alcohol, other)
        if row is None:
            bad.append(Reject(line_no, raw[:2000], reason))
            report.add_reject(reason)
        else:
            good.append(row)
        if len(good) >= BATCH or len(bad) >= BATCH:
            flush()
    flush()
    return report


def _store_readings(store: Store, rows: list[dict], report: IngestReport) -> None:
    if not rows:
        return
    cols = {k: np.array([r[k] for r in rows], dtype=object if k == "device_id" else None) for k in READING_COLUMNS}
    for k in ("skin_temp_c", "ir_distance_mm"):
        cols[k] = np.array([np.nan if r[k] is None else r[k] for r in rows], dtype=np.float64)
    for r in rows:
        prev = report.touched.get(r["device_id"])
        report.touched[r["device_id"]] = r["ts_ms"] if prev is None else min(prev, r["ts_ms"])
    new = store.insert_reading_columns(cols)
    report.accepted += new
    report.duplicates += len(rows) - new


def ingest_alcohol_rows(store: Store, rows: Iterable[dict], now_ms: int, source: str = "api",
                        evaluate: bool = True) -> IngestReport:
    """Ingest readings given as dicts (``device_id, ts, tac`` and the optional columns).

    The web API's entry point: the same validation, idempotency and rejects as files
    (a reject's ``line_no`` is the row's position, from 1). With ``evaluate`` the
    subjects the readings touch are re-evaluated as of ``now_ms``. Returns the counts
    (``accepted``, ``duplicates``, ``rejected``, ``reasons``).
    """
    records = ((i, json.dumps(r, default=str, sort_keys=True) if isinstance(r, dict) else str(r),
                r if isinstance(r, dict) else None, None if isinstance(r, dict) else "unparsable: a row must be an object")
               for i, r in enumerate(rows, start=1))
    report = _ingest_records(store, records, source, now_ms, IngestReport())
    if evaluate and report.touched:
        evaluate_alcohol(store, now_ms, now_ms, sorted(subjects_touched(store, report.touched)))
    return report


def ingest_alcohol_files(store: Store, paths: Sequence[Path], now_ms: int,
                         on_read: Callable[[int], None] | None = None) -> IngestReport:
    """Ingest reading files (CSV or JSON Lines); evaluation is the caller's next step."""
    report = IngestReport()
    for path in map(Path, paths):
        _ingest_records(store, read_reading_records(path, on_read), str(path), now_ms, report)
    return report


# -- evaluation -----------------------------------------------------------------------------------------
def alcohol_subjects(store: Store) -> list[str]:
    """Subjects with an order that has (or had) an alcohol-abstinence condition."""
    return sorted({o.subject_id for o in store.orders()
                   if any(c.kind is ConditionKind.ALCOHOL_ABSTINENCE for v in o.versions for c in v.conditions)})


def _readings_of(store: Store, subject_id: str) -> Readings:
    spans = [(a.device_id, a.from_ms, a.to_ms) for a in store.assignments(subject_id)]
    cols = store.load_readings(spans)
    return Readings.from_columns(cols["ts_ms"], cols["tac_g_dl"], cols["skin_temp_c"], cols["ir_distance_mm"],
                                 cols["tamper"], cols["received_ms"], cols["device"], cols["device_ids"] or ("",))


def subject_verdict(store: Store, subject_id: str, as_of_ms: int,
                    settings: AlcoholSettings | None = None) -> SubjectVerdict:
    """Everything the alcohol rules find for one subject (curves with verdicts, episodes)."""
    settings = settings or get_alcohol_settings(store)
    return judge_subject(subject_id, store.orders(subject_id), _readings_of(store, subject_id), as_of_ms, settings)


def subject_days(store: Store, subject_id: str, from_ms: int | None, to_ms: int | None, as_of_ms: int,
                 settings: AlcoholSettings | None = None) -> list[Day]:
    """One subject's monitored days in [from, to) (default: all of them up to the horizon)."""
    if subject_id not in alcohol_subjects(store):
        raise LookupError(f"subject {subject_id!r} has no alcohol-abstinence order")
    settings = settings or get_alcohol_settings(store)
    v = subject_verdict(store, subject_id, as_of_ms, settings)
    lo = from_ms if from_ms is not None else min(p.start_ms for p in v.periods)
    return judge_days(v.periods, v.readings.ts_ms, v.episodes, lo, as_of_ms if to_ms is None else to_ms, as_of_ms,
                      settings)


def evaluate_alcohol(store: Store, as_of_ms: int, now_ms: int, subject_ids: Sequence[str] | None = None,
                     settings: AlcoholSettings | None = None,
                     on_subject: Callable[[str], None] | None = None) -> EvalReport:
    """Re-judge subjects' whole alcohol history and reconcile their alcohol alerts.

    A subject's readings are a few thousand per order, so the whole history is judged each
    time: a late upload gives the same alerts as one in time.
    """
    settings = settings or get_alcohol_settings(store)
    report = EvalReport()
    wanted = set(alcohol_subjects(store))
    for sid in (sorted(wanted) if subject_ids is None else [s for s in subject_ids if s in wanted]):
        verdict = subject_verdict(store, sid, as_of_ms, settings)
        counts = store.reconcile_alerts(sid, None, verdict.episodes, now_ms, ALCOHOL_ALERT_KINDS)
        report.subjects += 1
        for k, v in counts.items():
            setattr(report, k, getattr(report, k) + v)
        if on_subject:
            on_subject(sid)
    return report


# -- report ---------------------------------------------------------------------------------------------
def aamr(store: Store, from_ms: int | None, to_ms: int | None, as_of_ms: int,
         settings: AlcoholSettings | None = None) -> tuple[AamrReport, dict[str, SubjectVerdict]]:
    """The AAMR compliance report for [from, to) as known at ``as_of_ms`` (default period:
    the first alcohol order's start to the horizon), with each subject's verdict for plots."""
    settings = settings or get_alcohol_settings(store)
    subjects = []
    verdicts: dict[str, SubjectVerdict] = {}
    first = None
    for sid in alcohol_subjects(store):
        orders = store.orders(sid)
        verdict = judge_subject(sid, orders, _readings_of(store, sid), as_of_ms, settings)
        verdicts[sid] = verdict
        subjects.append((sid, orders, verdict))
        starts = [p.start_ms for p in alcohol_periods(orders)]
        if starts:
            first = min(starts) if first is None else min(first, min(starts))
    lo = from_ms if from_ms is not None else (first if first is not None else as_of_ms)
    hi = to_ms if to_ms is not None else as_of_ms
    return aamr_report(subjects, lo, hi, as_of_ms, settings), verdicts


def programme_rows(store: Store, as_of_ms: int, settings: AlcoholSettings | None = None) -> dict[str, list[dict]]:
    """Sobriety tags' rows for the programme report (reports/programme_aamr.py), up to the horizon:
    ``alcohol_days``, every order's monitored Europe/London days as the AAMR report judges them,
    and ``alcohol_events``, confirmed drinking events, obstructions and strap tampers. Empty when
    the store holds no alcohol readings."""
    if not store.count("alcohol_readings"):
        return {}
    settings = settings or get_alcohol_settings(store)
    kinds = (AlertKind.ALCOHOL_DRINKING, AlertKind.ALCOHOL_OBSTRUCTION, AlertKind.ALCOHOL_TAMPER)
    days: list[dict] = []
    events: list[dict] = []
    for sid in alcohol_subjects(store):
        v = subject_verdict(store, sid, as_of_ms, settings)
        if not v.periods:
            continue
        first = min(p.start_ms for p in v.periods)
        days += [{"subject_id": sid, "order_id": d.order_id, "date": d.date.isoformat(), "compliant": d.compliant,
                  "readings": d.readings}
                 for d in judge_days(v.periods, v.readings.ts_ms, v.episodes, first, as_of_ms, as_of_ms, settings)]
        events += [{"subject_id": sid, "order_id": e.order_id, "kind": str(e.kind), "start_ms": e.start_ms}
                   for e in v.episodes if e.kind in kinds and e.start_ms < as_of_ms]
    return {"alcohol_days": days, "alcohol_events": events}
