"""Use cases: proven offences and cohort files in, the matched reoffending comparison out.

The arithmetic is the pure core :mod:`tagwatch.reoffending`; this module loads plain rows from the
store, turns them into :class:`~tagwatch.reoffending.Person` objects and hands them over.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from ..codec import InputError
from ..ingest.offences import read_cohort, read_offences
from ..reoffending import Offence, Person, ReoffendingResult, compare, measurable, measure
from ..store import Store

__all__ = ["ImportReport", "import_offences", "import_cohort", "study_people", "reoffending_study", "programme_rows"]


@dataclass
class ImportReport:
    source: str
    rows: int
    new: int
    rejected: int
    reasons: dict[str, int]


def _import(store: Store, path: Path, now_ms: int, read, put) -> ImportReport:
    rows, bad = read(path)
    new = put(rows)
    store.add_rejects({"source": str(path), "line_no": r.line_no, "raw": r.raw, "reason": r.reason,
                       "received_ms": now_ms} for r in bad)
    return ImportReport(str(path), len(rows) + len(bad), new, len(bad),
                        dict(Counter(r.reason.split(":")[0] for r in bad)))


def import_offences(store: Store, path: Path, now_ms: int) -> ImportReport:
    """Proven offences from a CSV file; bad rows go to ``rejects``; an offence stored before is skipped."""
    return _import(store, path, now_ms, read_offences,
                   lambda rows: store.add_proven_offences([{**r, "source": str(path)} for r in rows]))


def import_cohort(store: Store, path: Path, now_ms: int) -> ImportReport:
    """People of the study (tagged and comparison pool) from a CSV file; a person again replaces their row."""
    return _import(store, path, now_ms, read_cohort,
                   lambda rows: store.put_cohort_people([{**r, "source": str(path)} for r in rows]))


def _month(v: str | None, what: str) -> str | None:
    if v is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v):
        raise InputError(f"{what} {v!r}: write a month as YYYY-MM")
    return v


def study_people(store: Store, start: str | None = None, end: str | None = None,
                 programme: str | None = None) -> list[Person]:
    """The comparison pool and the tagged people (of ``programme``: gps or alcohol; default both) whose start
    date falls in the months ``start``..``end`` (YYYY-MM, inclusive), each with their proven offences."""
    start, end = _month(start, "--from"), _month(end, "--to")
    if programme not in (None, "gps", "alcohol"):
        raise InputError(f"--programme {programme!r}: gps or alcohol")
    offences: dict[str, list[Offence]] = {}
    for o in store.proven_offences():
        offences.setdefault(o["person_id"], []).append(Offence(date.fromisoformat(o["offence_date"]),
                                                               date.fromisoformat(o["disposal_date"]),
                                                               o["disposal"], o["offence_type"]))
    out = []
    for r in store.cohort_people():
        month = r["start_date"][:7]
        if (start and month < start) or (end and month > end):
            continue
        if r["grp"] != "comparison" and programme and r["grp"] != programme:
            continue
        cov = {k: r[k] for k in ("age", "male", "prior_offences", "ogrs", "index_offence")}
        out.append(Person(r["person_id"], date.fromisoformat(r["start_date"]), r["grp"] != "comparison", cov,
                          offences.get(r["person_id"], [])))
    return out


def reoffending_study(store: Store, as_of: date, start: str | None = None, end: str | None = None,
                      programme: str | None = None, replace: bool = False) -> ReoffendingResult:
    """The matched comparison (see :func:`tagwatch.reoffending.compare`); refuses without a cohort."""
    people = study_people(store, start, end, programme)
    if not people:
        raise InputError("no cohort stored for these months: import one with `tagwatch cohort import FILE`")
    return compare(people, as_of, replace)


def programme_rows(store: Store, as_of_ms: int) -> dict[str, list[dict]]:
    """The programme report's rows: one per tagged person of the cohort, with their start date, whether
    their follow-up and waiting period have ended by ``as_of_ms``, and their measure (under ``subject_id``,
    the person id, so a borough's report keeps those who are its subjects)."""
    as_of = datetime.fromtimestamp(as_of_ms / 1000, UTC).date()
    rows = []
    for p in study_people(store):
        if p.tagged:
            ok = measurable(p, as_of)
            out = measure(p) if ok else None
            rows.append({"subject_id": p.person_id, "start_date": p.start.isoformat(), "measurable": ok,
                         "reoffended": bool(out and out.reoffended), "frequency": out.frequency if out else 0})
    return {"reoffending_tagged": rows} if rows else {}
