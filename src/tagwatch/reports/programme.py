"""The programme report: what a tagging programme did, month by month, from tagwatch's own data.

Pure functions over plain rows (:class:`ProgrammeData`); loading them from the store is
:mod:`tagwatch.services.programme`. Months and days are Europe/London calendar months and
days. The report is a list of sections, each a function registered in :data:`SECTIONS`, so
other parts of tagwatch (e.g. sobriety tags' AAMR figures) add sections without touching
this module: ``register_section("aamr", "Sobriety tags", fn)``. Definitions:
docs/analytics.md (Programme report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from ..model import AlertKind

__all__ = ["LONDON", "VIOLATION_KINDS", "ProgrammeData", "Series", "Section", "SECTIONS", "register_section",
           "month_bounds", "monitored_days", "build_report", "ProgrammeReport"]

LONDON = ZoneInfo("Europe/London")
# Alerts that mean the order was not complied with (health alerts - battery, no fix, no
# contact - are about the equipment, not the person's compliance).
VIOLATION_KINDS = ("exclusion_breach", "curfew_breach", "attendance_missed", "strap_tamper")
OUTCOMES = ("charged", "convicted", "no further action", "eliminated")


@dataclass
class ProgrammeData:
    as_of_ms: int  # the horizon: orders still running count up to here
    subjects: dict[str, str]  # subject id -> borough
    orders: list[dict]  # id, subject_id, start_ms, end_ms (effective), ended_ms, end_reason, variations_ms
    alerts: list[dict]  # id, subject_id, kind, start_ms, end_ms, created_ms (retracted ones left out)
    alert_events: list[dict]  # alert_id, ts_ms, action
    matches: list[dict]  # id, subject_id, closest_ms, significant (latest run per crime and subject)
    shared_ids: set[int] = field(default_factory=set)
    outcomes: list[dict] = field(default_factory=list)  # match_id, outcome, outcome_on (the current one per match)
    # Rows that other parts load for their own sections, by name (e.g. "alcohol_days"); every row has a
    # subject_id, so a borough's report keeps only its subjects' rows.
    extra: dict[str, list[dict]] = field(default_factory=dict)


@dataclass
class Series:
    key: str
    label: str
    unit: str
    values: list[float | None]
    total: float | None = None  # over the whole period (None where a total means nothing, e.g. a median)


@dataclass
class Section:
    key: str
    title: str
    compute: Callable[[ProgrammeData, list[str], dict], list[Series]]


SECTIONS: dict[str, Section] = {}


def register_section(key: str, title: str, compute: Callable[[ProgrammeData, list[str], dict], list[Series]]) -> None:
    """Add a section to every programme report; ``compute(data, months, shared)`` returns its series.
    ``shared`` holds what earlier sections worked out (e.g. ``person_days``) for later ones."""
    SECTIONS[key] = Section(key, title, compute)


def month_bounds(month: str) -> tuple[int, int]:
    """Epoch ms of local midnight on the 1st of ``month`` and of the next month (Europe/London)."""
    y, m = map(int, month.split("-"))
    a = datetime(y, m, 1, tzinfo=LONDON)
    b = datetime(y + (m == 12), 1 if m == 12 else m + 1, 1, tzinfo=LONDON)
    return int(a.timestamp() * 1000), int(b.timestamp() * 1000)


def _month_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, LONDON).strftime("%Y-%m")


def _union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def monitored_days(intervals: Iterable[tuple[int, int]]) -> dict[date, float]:
    """For one person: each local calendar day -> the fraction of that day (23, 24 or 25 hours long)
    under an order. Overlapping orders count once."""
    out: dict[date, float] = {}
    for a, b in _union(intervals):
        day = datetime.fromtimestamp(a / 1000, LONDON).date()
        while True:
            d0 = int(datetime(day.year, day.month, day.day, tzinfo=LONDON).timestamp() * 1000)
            nxt = day + timedelta(days=1)
            d1 = int(datetime(nxt.year, nxt.month, nxt.day, tzinfo=LONDON).timestamp() * 1000)
            if d0 >= b:
                break
            overlap = min(b, d1) - max(a, d0)
            if overlap > 0:
                out[day] = out.get(day, 0.0) + overlap / (d1 - d0)
            day = nxt
    return out


def _day_span(a_ms: int, b_ms: int) -> list[date]:
    """Local days touched by [a, b] (an instant touches its own day)."""
    d = datetime.fromtimestamp(a_ms / 1000, LONDON).date()
    last = datetime.fromtimestamp(max(a_ms, b_ms - 1 if b_ms > a_ms else b_ms) / 1000, LONDON).date()
    out = []
    while d <= last:
        out.append(d)
        d += timedelta(days=1)
    return out


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


# -- sections ----------------------------------------------------------------------------------------
def _caseload(data: ProgrammeData, months: list[str], shared: dict) -> list[Series]:
    days_by_subject = {}
    for o in data.orders:
        end = o["end_ms"] if o["end_ms"] is not None else data.as_of_ms
        days_by_subject.setdefault(o["subject_id"], []).append((o["start_ms"], min(end, data.as_of_ms)))
    per_subject = {s: monitored_days(iv) for s, iv in days_by_subject.items()}
    shared["monitored"] = per_subject
    pdays = {m: 0.0 for m in months}
    people = {m: set() for m in months}
    for s, days in per_subject.items():
        for d, frac in days.items():
            m = d.strftime("%Y-%m")
            if m in pdays:
                pdays[m] += frac
                people[m].add(s)
    shared["person_days"] = pdays

    def count(pred) -> list[float]:
        out = dict.fromkeys(months, 0)
        for o in data.orders:
            for t in pred(o):
                if t is not None and t <= data.as_of_ms and _month_of(t) in out:
                    out[_month_of(t)] += 1
        return [out[m] for m in months]

    def reason(o, *starts, contains=()):
        r = (o["end_reason"] or "").lower()
        return o["ended_ms"] is not None and (r.startswith(starts) or any(c in r for c in contains))

    series = [
        Series("people_on_tag", "People on tag", "people", [len(people[m]) for m in months],
               len(set().union(*people.values())) if people else 0),
        Series("orders_started", "Orders started", "orders", count(lambda o: [o["start_ms"]])),
        Series("orders_ended", "Orders ended", "orders", count(lambda o: [o["end_ms"]])),
        Series("orders_varied", "Orders varied", "variations", count(lambda o: o["variations_ms"])),
        Series("orders_revoked", "Orders revoked", "orders",
               count(lambda o: [o["ended_ms"]] if reason(o, "revoked") else [])),
        Series("recalls", "Recalls (orders ended by breach)", "orders",
               count(lambda o: [o["ended_ms"]] if reason(o, "recall", contains=("breach",)) else [])),
        Series("person_days", "Monitored person-days", "person-days", [round(pdays[m], 6) for m in months]),
    ]
    for s in series:
        if s.total is None:
            s.total = float(sum(s.values))
    return series


def _compliance(data: ProgrammeData, months: list[str], shared: dict) -> list[Series]:
    broken: set[tuple[str, date]] = set()
    for a in data.alerts:
        if a["kind"] in VIOLATION_KINDS:
            end = a["end_ms"] if a["end_ms"] is not None else data.as_of_ms
            broken.update((a["subject_id"], d) for d in _day_span(a["start_ms"], end))
    ok = dict.fromkeys(months, 0.0)
    for s, days in shared["monitored"].items():
        for d, frac in days.items():
            m = d.strftime("%Y-%m")
            if m in ok and (s, d) not in broken:
                ok[m] += frac
    pdays = shared["person_days"]
    rate = [ok[m] / pdays[m] if pdays[m] else None for m in months]
    total = sum(pdays.values())
    return [Series("compliant_person_days", "Person-days with no violation", "person-days",
                   [round(ok[m], 6) for m in months], sum(ok.values())),
            Series("compliance_rate", "Compliance rate", "share of person-days", rate,
                   sum(ok.values()) / total if total else None)]


def _alerts(data: ProgrammeData, months: list[str], shared: dict) -> list[Series]:
    pdays = shared["person_days"]
    kinds = sorted({str(k) for k in AlertKind} | {a["kind"] for a in data.alerts})
    by = {k: dict.fromkeys(months, 0) for k in kinds}
    first: dict[tuple[int, str], int] = {}
    for e in sorted(data.alert_events, key=lambda e: e["ts_ms"]):
        first.setdefault((e["alert_id"], e["action"]), e["ts_ms"])
    ack = {m: [] for m in months}
    close = {m: [] for m in months}
    for a in data.alerts:
        m = _month_of(a["start_ms"])
        if m not in pdays:
            continue
        by[a["kind"]][m] += 1
        if (a["id"], "acknowledge") in first:
            ack[m].append((first[(a["id"], "acknowledge")] - a["created_ms"]) / 60_000)
        if (a["id"], "close") in first:
            close[m].append((first[(a["id"], "close")] - a["created_ms"]) / 60_000)
    total_days = sum(pdays.values())
    out = []
    for k in kinds:
        n = sum(by[k].values())
        out.append(Series(f"alerts_{k}", f"Alerts: {k.replace('_', ' ')}", "alerts", [by[k][m] for m in months], n))
        out.append(Series(f"alerts_{k}_per_person_day", f"Alerts per person-day: {k.replace('_', ' ')}",
                          "per person-day", [by[k][m] / pdays[m] if pdays[m] else None for m in months],
                          n / total_days if total_days else None))
    all_ack = [v for m in months for v in ack[m]]
    all_close = [v for m in months for v in close[m]]
    for key, label, vals, everything in (("ack", "acknowledgement", ack, all_ack), ("close", "closure", close, all_close)):
        out.append(Series(f"{key}_median_min", f"Time from alert to {label}: median", "minutes",
                          [_percentile(vals[m], 50) for m in months], _percentile(everything, 50)))
        out.append(Series(f"{key}_p90_min", f"Time from alert to {label}: 90th percentile", "minutes",
                          [_percentile(vals[m], 90) for m in months], _percentile(everything, 90)))
    return out


def _matches(data: ProgrammeData, months: list[str], shared: dict) -> list[Series]:
    def by_month(rows, when) -> list[float]:
        out = dict.fromkeys(months, 0)
        for r in rows:
            m = when(r)
            if m in out:
                out[m] += 1
        return [out[m] for m in months]

    m_of = lambda r: _month_of(r["closest_ms"])  # noqa: E731
    series = [Series("matches", "Matches", "matches", by_month(data.matches, m_of)),
              Series("significant_matches", "Significant matches", "matches",
                     by_month([r for r in data.matches if r["significant"]], m_of)),
              Series("shared_matches", "Shared matches", "matches",
                     by_month([r for r in data.matches if r["id"] in data.shared_ids], m_of))]
    for outcome in OUTCOMES:
        series.append(Series(f"outcome_{outcome.replace(' ', '_')}", f"Outcomes: {outcome}", "matches",
                             by_month([o for o in data.outcomes if o["outcome"] == outcome],
                                      lambda o: o["outcome_on"][:7])))
    for s in series:
        s.total = float(sum(s.values))
    return series


register_section("caseload", "Caseload and orders", _caseload)
register_section("compliance", "Compliance", _compliance)
register_section("alerts", "Alerts and how fast they were worked", _alerts)
register_section("matches", "Crime-scene correlation: matches, sharing and outcomes", _matches)


@dataclass
class ProgrammeReport:
    months: list[str]
    borough: str | None
    sections: list[tuple[Section, list[Series]]]

    def series(self) -> dict[str, Series]:
        return {s.key: s for _, ss in self.sections for s in ss}

    def to_dict(self) -> dict:
        return {"months": self.months, "borough": self.borough,
                "sections": [{"key": sec.key, "title": sec.title,
                              "series": [{"key": s.key, "label": s.label, "unit": s.unit, "values": s.values,
                                          "total": s.total} for s in ss]} for sec, ss in self.sections]}


def build_report(data: ProgrammeData, months: list[str], borough: str | None = None) -> ProgrammeReport:
    """Every registered section, in registration order, over ``months`` (YYYY-MM, Europe/London)."""
    if borough:
        keep = {s for s, b in data.subjects.items() if b.lower() == borough.lower()}
        data = ProgrammeData(data.as_of_ms, {s: data.subjects[s] for s in keep},
                             [o for o in data.orders if o["subject_id"] in keep],
                             [a for a in data.alerts if a["subject_id"] in keep],
                             data.alert_events, [m for m in data.matches if m["subject_id"] in keep],
                             data.shared_ids, [o for o in data.outcomes
                                               if o["match_id"] in {m["id"] for m in data.matches
                                                                    if m["subject_id"] in keep}],
                             {k: [r for r in rows if r["subject_id"] in keep] for k, rows in data.extra.items()})
    shared: dict = {}
    return ProgrammeReport(months, borough, [(sec, sec.compute(data, months, shared)) for sec in SECTIONS.values()])
