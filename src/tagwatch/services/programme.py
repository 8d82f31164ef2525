"""Use case: the programme report (loads plain rows from the store; the arithmetic is reports/programme.py)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select

from ..codec import InputError
from ..reports import programme_aamr  # noqa: F401  (registers the sobriety tags' section)
from ..reports import programme_reoffending  # noqa: F401  (registers the reoffending section)
from ..reports.programme import LONDON, ProgrammeData, ProgrammeReport, build_report
from .alcohol import programme_rows
from .reoffending import programme_rows as reoffending_rows
from ..store import Store
from ..store import schema as s

__all__ = ["data_horizon_ms", "evaluator_data", "load_programme_data", "programme_report", "report_months"]


def data_horizon_ms(store: Store) -> int | None:
    """The time of the latest fix or alcohol reading (None: the store holds neither)."""
    with store.engine.connect() as c:
        latest = [c.execute(select(func.max(t.c.ts_ms))).scalar_one() for t in (s.fixes, s.alcohol_readings)]
    return max((t for t in latest if t is not None), default=None)


def load_programme_data(store: Store, as_of_ms: int | None = None) -> ProgrammeData:
    """Everything the report needs, as plain rows. ``as_of_ms`` defaults to the data's horizon
    (:func:`data_horizon_ms`), so a loaded pilot is not stretched to today."""
    if as_of_ms is None:
        as_of_ms = data_horizon_ms(store)
    with store.engine.connect() as c:
        events = [dict(r) for r in c.execute(select(s.alert_events.c.alert_id, s.alert_events.c.ts_ms,
                                                    s.alert_events.c.action)).mappings()]
        rows = [dict(r) for r in c.execute(select(s.matches.c.id, s.matches.c.run_id, s.matches.c.force,
                                                  s.matches.c.crime_ref, s.matches.c.subject_id,
                                                  s.matches.c.closest_ms, s.matches.c.significant)).mappings()]
    if as_of_ms is None:
        raise InputError("the store holds no fixes or alcohol readings: give --as-of")
    orders = [{"id": o.id, "subject_id": o.subject_id, "start_ms": o.start_ms, "end_ms": o.effective_end_ms(),
               "ended_ms": o.ended_ms, "end_reason": o.end_reason,
               "variations_ms": [v.effective_from_ms for v in o.versions if v.version > 1]} for o in store.orders()]
    alerts = [{k: a[k] for k in ("id", "subject_id", "kind", "start_ms", "end_ms", "created_ms")}
              for a in store.alerts()]
    # A crime and a subject can be matched by several runs: the latest run's match stands for the pair,
    # and a decision or outcome recorded on any of the pair's matches counts for it.
    key = {r["id"]: (r["force"], r["crime_ref"], r["subject_id"]) for r in rows}
    latest: dict[tuple, dict] = {}
    for r in sorted(rows, key=lambda r: (r["run_id"], r["id"])):
        latest[key[r["id"]]] = r
    shared_keys = {key[i] for i in store.shared_match_ids() if i in key}
    current: dict[tuple, dict] = {}
    for o in store.match_outcomes():
        if o["match_id"] in key:
            current[key[o["match_id"]]] = o
    matches = [{"id": r["id"], "subject_id": r["subject_id"], "closest_ms": r["closest_ms"],
                "significant": bool(r["significant"])} for r in latest.values()]
    return ProgrammeData(as_of_ms, {sub.id: sub.borough for sub in store.subjects()}, orders, alerts, events, matches,
                         {latest[k]["id"] for k in shared_keys},
                         [{"match_id": latest[k]["id"], "outcome": o["outcome"], "outcome_on": o["outcome_on"]}
                          for k, o in current.items()],
                         programme_rows(store, as_of_ms) | reoffending_rows(store, as_of_ms))


def report_months(data: ProgrammeData, start: str | None, end: str | None) -> list[str]:
    for v, what in ((start, "--from"), (end, "--to")):
        if v is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v):
            raise InputError(f"{what} {v!r}: write a month as YYYY-MM")
    first = start or (min((o["start_ms"] for o in data.orders), default=data.as_of_ms))
    if not isinstance(first, str):
        first = datetime.fromtimestamp(first / 1000, LONDON).strftime("%Y-%m")
    last = end or datetime.fromtimestamp(data.as_of_ms / 1000, LONDON).strftime("%Y-%m")
    if last < first:
        raise InputError(f"--to {last} is before --from {first}")
    from ..areas.trends import month_range
    return month_range(first, last)


def programme_report(store: Store, start: str | None = None, end: str | None = None, borough: str | None = None,
                     as_of_ms: int | None = None) -> ProgrammeReport:
    data = load_programme_data(store, as_of_ms)
    return build_report(data, report_months(data, start, end), borough)


def evaluator_data(store: Store, start: str | None = None, end: str | None = None, borough: str | None = None,
                   pilot: list[str] | None = None, pilot_start: str | None = None,
                   baseline_year: int | None = None, now_ms: int | None = None) -> dict:
    """The evaluator page's data (aggregates only): the programme report and, when police.uk months are
    imported, the safety index, neighbourhood crime by borough (change against a baseline year and a
    forecast) and, with ``pilot`` boroughs and ``pilot_start`` (YYYY-MM), the pilot's effect. For the web
    route; the figures are those of ``tagwatch report programme`` and ``tagwatch report areas``. With ``now_ms``
    and a cohort imported, also proven reoffending against a matched group (``tagwatch report reoffending``,
    as of that day; aggregates: group sizes, balance, effects, curves)."""
    from ..areas.trends import forecast as forecast_series
    from ..reports.evaluator import evaluator_view
    from .areas import borough_series, community_safety_index, pilot_effect
    if bool(pilot) != bool(pilot_start):
        raise InputError("pilot boroughs and the pilot's first month (pilot_start) go together")
    for v, what in ((start, "from"), (end, "to"), (pilot_start, "pilot_start")):
        if v is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v):
            raise InputError(f"{what} {v!r}: write a month as YYYY-MM")
    # No programme figures before there are orders and data (a fix or a reading) to count them up to.
    has_data = bool(store.orders()) and data_horizon_ms(store) is not None
    programme = programme_report(store, start, end, borough) if has_data else None
    reoffending = None
    if now_ms is not None and store.cohort_people():
        from datetime import UTC, datetime

        from .reoffending import reoffending_study
        reoffending = reoffending_study(store, datetime.fromtimestamp(now_ms / 1000, UTC).date(), start, end)
    if not store.area_months_stored():
        return evaluator_view(programme, reoffending=reoffending)
    ai = community_safety_index(store)
    series = borough_series(store)
    effect = pilot_effect(series, pilot, pilot_start) if pilot else None
    fc, note = None, ""
    try:
        fc = forecast_series(series.months, series.total().sum(axis=0))
    except ValueError as e:
        note = f"No forecast: {e}."
    return evaluator_view(programme, ai.result, ai.names, series, effect, index_months=ai.months, forecast=fc,
                          forecast_note=note, pilot=pilot or [], pilot_start=pilot_start, baseline_year=baseline_year,
                          reoffending=reoffending)
