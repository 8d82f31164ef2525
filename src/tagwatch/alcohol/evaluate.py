"""Alcohol-abstinence conditions against a subject's readings: episodes for the alerts.

Pure: orders, readings, the horizon and the settings in; episodes out. Each episode
belongs to the order version in force when it starts, like the GPS rules' episodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..model import AlertKind, ConditionKind, Episode, Order
from ..rules.engine import version_spans
from .events import Curve, examine_curves
from .integrity import Spans, gap_runs, obstruction_runs, tamper_runs
from .readings import Readings
from .settings import DEFAULT_ALCOHOL_SETTINGS, AlcoholSettings

__all__ = ["Period", "alcohol_periods", "monitored", "SubjectVerdict", "judge_subject", "evaluate_alcohol"]


@dataclass(frozen=True, slots=True)
class Period:
    """An order version with an alcohol-abstinence condition, in force over [start_ms, end_ms)."""

    order_id: str
    version: int
    condition_id: str
    start_ms: int
    end_ms: int  # a very large number when open-ended


def alcohol_periods(orders: Sequence[Order]) -> list[Period]:
    out = []
    for span in version_spans(orders):
        version = next(v for v in span.order.versions if v.version == span.version)
        for c in version.conditions:
            if c.kind is ConditionKind.ALCOHOL_ABSTINENCE:
                out.append(Period(span.order.id, span.version, c.id, span.start_ms, span.end_ms))
                break
    return sorted(out, key=lambda p: p.start_ms)


def monitored(readings: Readings, periods: Sequence[Period]) -> np.ndarray:
    """Readings taken while an alcohol condition was in force."""
    keep = np.zeros(len(readings), dtype=bool)
    for p in periods:
        keep |= (readings.ts_ms >= p.start_ms) & (readings.ts_ms < p.end_ms)
    return keep


@dataclass(frozen=True)
class SubjectVerdict:
    """What the alcohol rules find for one subject as known at the horizon."""

    periods: list[Period]
    readings: Readings  # the monitored readings up to the horizon
    curves: list[Curve]  # every candidate curve, confirmed or not, with its verdict
    episodes: list[Episode]


def judge_subject(subject_id: str, orders: Sequence[Order], readings: Readings, as_of_ms: int,
                  settings: AlcoholSettings = DEFAULT_ALCOHOL_SETTINGS) -> SubjectVerdict:
    periods = alcohol_periods(orders)
    r = readings.take(monitored(readings, periods) & (readings.ts_ms <= as_of_ms))
    # An obstructed or tampered reading says nothing about alcohol: the curve is judged without it.
    clean = ~(r.obstructed(settings) | r.tamper)
    curves = examine_curves(r.ts_ms[clean], r.tac_g_dl[clean], settings)
    out: list[Episode] = []

    def add(kind: AlertKind, spans: Spans) -> None:
        for s, e, c, o in zip(*(x.tolist() for x in spans), strict=True):
            p = _period_at(periods, s)
            if p is None or c > as_of_ms:
                continue
            if o and p.end_ms <= as_of_ms:
                o, e = False, p.end_ms  # monitoring ended while it was going on
            elif not o:
                e = min(e, p.end_ms)
            out.append(Episode(kind, subject_id, s, None if o else e, c, p.order_id, p.version, p.condition_id,
                               r.device_at(s)))

    confirmed = [c for c in curves if c.confirmed]
    add(AlertKind.ALCOHOL_DRINKING, (
        np.array([c.start_ms for c in confirmed], dtype=np.int64),
        np.array([c.end_ms if c.end_ms is not None else c.start_ms for c in confirmed], dtype=np.int64),
        np.array([c.confirm_ms for c in confirmed], dtype=np.int64),
        np.array([c.end_ms is None for c in confirmed], dtype=bool)))
    add(AlertKind.ALCOHOL_OBSTRUCTION, obstruction_runs(r, settings))
    add(AlertKind.ALCOHOL_TAMPER, tamper_runs(r))
    for p in periods:
        if p.start_ms <= as_of_ms:
            add(AlertKind.ALCOHOL_NO_READINGS, gap_runs(r.ts_ms, p.start_ms, p.end_ms, as_of_ms, settings))
    out.sort(key=lambda e: (e.start_ms, e.kind))
    return SubjectVerdict(periods, r, curves, out)


def evaluate_alcohol(subject_id: str, orders: Sequence[Order], readings: Readings, as_of_ms: int,
                     settings: AlcoholSettings = DEFAULT_ALCOHOL_SETTINGS) -> list[Episode]:
    """The alcohol episodes (drinking, obstruction, tamper, missed readings) of one subject."""
    return judge_subject(subject_id, orders, readings, as_of_ms, settings).episodes


def _period_at(periods: Sequence[Period], t_ms: int) -> Period | None:
    for p in periods:
        if p.start_ms <= t_ms < p.end_ms:
            return p
    return None
