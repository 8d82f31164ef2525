"""Monitored days in Europe/London time, and whether each was compliant.

A day is a local calendar day: 24 hours, or 23 and 25 on the days the clocks change. The
monitored part of a day is where an alcohol condition was in force, within the period
asked about and up to the horizon. A monitored day is compliant when no confirmed
drinking event, obstruction, strap tamper or missed-readings gap overlaps its monitored part.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from ..model import AlertKind, Episode
from ..schedule import LONDON
from .evaluate import Period
from .settings import AlcoholSettings

__all__ = ["london_days", "Day", "judge_days", "merge_windows"]


def _midnight(d: date) -> int:
    return int(datetime.combine(d, time(), tzinfo=LONDON).timestamp() * 1000)


def london_days(start_ms: int, end_ms: int) -> Iterator[tuple[date, int, int]]:
    """``(local date, start ms, end ms)`` of every Europe/London day overlapping [start, end)."""
    if end_ms <= start_ms:
        return
    d = datetime.fromtimestamp(start_ms / 1000, LONDON).date()
    while True:
        ds, de = _midnight(d), _midnight(d + timedelta(days=1))
        if ds >= end_ms:
            return
        yield d, ds, de
        d += timedelta(days=1)


def merge_windows(windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(w for w in windows if w[1] > w[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    order_id: str
    start_ms: int  # the monitored part of the day
    end_ms: int
    hours: float  # length of the local day: 23, 24 or 25
    readings: int
    expected: float  # readings the tag should have taken in the monitored part
    drinking: bool
    integrity: bool  # obstruction or strap tamper
    gap: bool  # readings missed for longer than allowed

    @property
    def compliant(self) -> bool:
        return not (self.drinking or self.integrity or self.gap)


_INTEGRITY = (AlertKind.ALCOHOL_OBSTRUCTION, AlertKind.ALCOHOL_TAMPER)


def judge_days(periods: Sequence[Period], reading_ts_ms: np.ndarray, episodes: Sequence[Episode],
               from_ms: int, to_ms: int, as_of_ms: int, settings: AlcoholSettings) -> list[Day]:
    """Every monitored day of one subject in [from_ms, to_ms), up to the horizon."""
    hi = min(to_ms, as_of_ms)
    ts = np.asarray(reading_ts_ms, dtype=np.int64)
    spans = {k: [(e.start_ms, e.end_ms) for e in episodes if e.kind is k] for k in AlertKind}
    out: list[Day] = []
    by_order: dict[str, list[tuple[int, int]]] = {}
    for p in periods:
        by_order.setdefault(p.order_id, []).append((max(p.start_ms, from_ms), min(p.end_ms, hi)))
    for order_id, windows in by_order.items():
        for a, b in merge_windows(windows):
            for d, ds, de in london_days(a, b):
                ws, we = max(ds, a), min(de, b)
                n = int(np.searchsorted(ts, we) - np.searchsorted(ts, ws))

                def hit(kinds, ws=ws, we=we) -> bool:
                    return any(s < we and (e is None or e > ws) for k in kinds for s, e in spans[k])

                out.append(Day(d, order_id, ws, we, (de - ds) / 3_600_000, n, (we - ws) / (settings.interval_s * 1000),
                               hit((AlertKind.ALCOHOL_DRINKING,)), hit(_INTEGRITY),
                               hit((AlertKind.ALCOHOL_NO_READINGS,))))
    return out
