"""Schedules of order conditions, written as courts write them, in Europe/London time.

Grammar (documented in docs/formats.md)::

    SPEC    := ENTRY (";" ENTRY)*
    ENTRY   := DAYS " " HH:MM "-" HH:MM
    DAYS    := "daily" | DAYSPEC ("," DAYSPEC)*
    DAYSPEC := DAY | DAY "-" DAY        DAY in Mon Tue Wed Thu Fri Sat Sun

The day names the day a window *starts*: ``Fri 19:00-07:00`` runs from Friday 19:00 to
Saturday 07:00. An end at or before the start crosses midnight; ``24:00`` is allowed as
an end. Windows are built in local wall-clock time and only then converted to UTC, so a
19:00-07:00 curfew lasts 11 hours on the spring-forward night and 13 on the autumn one.
A local time inside the spring gap (01:00-02:00 on the last Sunday of March) is taken as
the instant after the gap; an ambiguous autumn time as its first occurrence (BST).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "LONDON",
    "ScheduleError",
    "Schedule",
    "Entry",
    "parse_schedule",
    "schedule_windows",
    "local_to_ms",
]

LONDON = ZoneInfo("Europe/London")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ENTRY = re.compile(r"^\s*(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


class ScheduleError(ValueError):
    """A schedule string that does not follow the grammar; the message says where."""


@dataclass(frozen=True, slots=True)
class Entry:
    weekdays: frozenset[int]  # 0 = Monday, as date.weekday()
    start_min: int  # minutes after local midnight of the start day
    end_min: int  # minutes after local midnight of the start day; > start_min, <= 2 days


@dataclass(frozen=True, slots=True)
class Schedule:
    text: str
    entries: tuple[Entry, ...]


def _parse_minutes(hhmm: str, *, allow_24: bool, text: str) -> int:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ScheduleError(f"{hhmm!r} is not a valid time in schedule {text!r}")
    return hours * 60 + minutes


def _parse_days(spec: str, text: str) -> frozenset[int]:
    if spec.lower() == "daily":
        return frozenset(range(7))
    names = {d.lower(): i for i, d in enumerate(DAYS)}
    days: set[int] = set()
    for part in spec.split(","):
        ends = part.split("-")
        try:
            idx = [names[e.strip().lower()] for e in ends]
        except KeyError:
            raise ScheduleError(
                f"unknown day in {part!r} of schedule {text!r}; use Mon Tue Wed Thu Fri Sat Sun or daily"
            ) from None
        if len(idx) == 1:
            days.add(idx[0])
        elif len(idx) == 2:
            first, last = idx
            span = (last - first) % 7
            days.update((first + k) % 7 for k in range(span + 1))
        else:
            raise ScheduleError(f"bad day range {part!r} in schedule {text!r}")
    return frozenset(days)


@lru_cache(maxsize=4096)
def parse_schedule(text: str) -> Schedule:
    """Parse a schedule string, e.g. ``"Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00"``."""
    if not text or not text.strip():
        raise ScheduleError("empty schedule; give e.g. 'daily 19:00-07:00'")
    entries = []
    for raw in text.split(";"):
        if not raw.strip():
            continue
        m = _ENTRY.match(raw)
        if not m:
            raise ScheduleError(f"cannot read {raw.strip()!r} in schedule {text!r}; expected e.g. 'Mon-Fri 19:00-07:00'")
        start = _parse_minutes(m["start"], allow_24=False, text=text)
        end = _parse_minutes(m["end"], allow_24=True, text=text)
        if end <= start:
            end += 24 * 60
        entries.append(Entry(_parse_days(m["days"], text), start, end))
    return Schedule(text, tuple(entries))


def _local_ms(day: date, minute: int) -> int:
    """UTC epoch ms of local wall-clock ``minute`` after midnight of ``day``.

    Built through UTC round-trip so that times in the spring gap land after it.
    """
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    aware = naive.replace(tzinfo=LONDON, fold=0)
    # A time in the spring gap does not round-trip; fold=0 gives the pre-gap offset,
    # which lands after the gap once converted, as documented.
    return int(aware.astimezone(UTC).timestamp() * 1000)


def local_to_ms(local_iso: str) -> int:
    """UTC epoch ms of a local (Europe/London) ISO datetime without offset."""
    naive = datetime.fromisoformat(local_iso)
    if naive.tzinfo is not None:
        return int(naive.timestamp() * 1000)
    return _local_ms(naive.date(), naive.hour * 60 + naive.minute)


def schedule_windows(
    schedule: str | Schedule,
    start_ms: int,
    end_ms: int,
    first_night_start: str | None = None,
) -> list[tuple[int, int]]:
    """See :func:`_windows`; results are cached (many subjects share a timetable)."""
    text = schedule if isinstance(schedule, str) else schedule.text
    return list(_windows(text, start_ms, end_ms, first_night_start))


@lru_cache(maxsize=4096)
def _windows(
    schedule: str,
    start_ms: int,
    end_ms: int,
    first_night_start: str | None = None,
) -> tuple[tuple[int, int], ...]:
    """UTC epoch-ms windows ``[start, end)`` of ``schedule`` overlapping ``[start_ms, end_ms)``.

    Overlapping or touching windows (from two entries) are merged. ``first_night_start``
    (local ISO datetime) moves the start of the window that contains it to that time and
    drops windows that end before it: the order cannot be broken before it began.
    """
    sched = parse_schedule(schedule)
    first_day = datetime.fromtimestamp(start_ms / 1000, tz=LONDON).date() - timedelta(days=2)
    last_day = datetime.fromtimestamp(end_ms / 1000, tz=LONDON).date() + timedelta(days=1)
    windows: list[tuple[int, int]] = []
    day = first_day
    while day <= last_day:
        wd = day.weekday()
        for entry in sched.entries:
            if wd in entry.weekdays:
                ws, we = _local_ms(day, entry.start_min), _local_ms(day, entry.end_min)
                if we > start_ms and ws < end_ms and we > ws:
                    windows.append((ws, we))
        day += timedelta(days=1)
    windows.sort()
    merged: list[tuple[int, int]] = []
    for ws, we in windows:
        if merged and ws <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], we))
        else:
            merged.append((ws, we))
    if first_night_start:
        merged = _apply_first_night(merged, local_to_ms(first_night_start))
    return tuple(merged)


def _apply_first_night(windows: list[tuple[int, int]], fn: int) -> list[tuple[int, int]]:
    """The first night's window starts at ``fn``, earlier or later than the timetable."""
    kept = [(ws, we) for ws, we in windows if we > fn]
    if kept:
        ws, we = kept[0]
        fn_day = datetime.fromtimestamp(fn / 1000, tz=LONDON).date()
        ws_day = datetime.fromtimestamp(ws / 1000, tz=LONDON).date()
        if ws <= fn or fn_day == ws_day:
            kept[0] = (fn, we)
    return kept
