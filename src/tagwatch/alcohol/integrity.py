"""Integrity of an alcohol tag's record: obstruction, strap tamper, missed readings.

Each function returns ``(start, end, confirm, open)`` arrays in epoch ms (``end`` is
meaningful only where ``open`` is False), like the GPS tag-health rules.
"""

from __future__ import annotations

import numpy as np

from .readings import Readings
from .settings import AlcoholSettings

__all__ = ["obstruction_runs", "tamper_runs", "gap_runs", "Spans"]

Spans = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _empty() -> Spans:
    z = np.zeros(0, dtype=np.int64)
    return z, z.copy(), z.copy(), np.zeros(0, dtype=bool)


def _flag_runs(t: np.ndarray, flag: np.ndarray, min_readings: int) -> Spans:
    """Runs of at least ``min_readings`` consecutive flagged readings, ended by the next unflagged one."""
    if not flag.any():
        return _empty()
    m = np.r_[False, flag, False].astype(np.int8)
    d = np.diff(m)
    a, b = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    keep = (b - a) >= min_readings
    a, b = a[keep], b[keep]
    is_open = b >= t.size
    end = np.where(is_open, t[a], t[np.minimum(b, t.size - 1)])
    return t[a], end, t[a + min_readings - 1], is_open


def obstruction_runs(r: Readings, s: AlcoholSettings) -> Spans:
    """Something between sensor and skin: skin temperature or infrared distance out of range."""
    return _flag_runs(r.ts_ms, r.obstructed(s), s.obstruction_min_readings)


def tamper_runs(r: Readings) -> Spans:
    """From the first reading with the strap reporting tamper to the first with it intact."""
    return _flag_runs(r.ts_ms, r.tamper, 1)


def gap_runs(ts_ms: np.ndarray, period_start_ms: int, period_end_ms: int, as_of_ms: int,
             s: AlcoholSettings) -> Spans:
    """Missed readings within one monitoring period: no reading for longer than ``no_readings_s``.

    The period's start counts as a reading (the tag is fitted then). A gap still open at the
    horizon is judged only once ``upload_grace_s`` has passed, since readings arrive in uploads;
    a gap running into the period's end closes there.
    """
    limit = s.no_readings_s * 1000
    hi = min(period_end_ms, as_of_ms)
    t = np.asarray(ts_ms, dtype=np.int64)
    t = t[(t >= period_start_ms) & (t < hi)]
    marks = np.r_[np.int64(period_start_ms), t]
    gaps = np.diff(marks)
    idx = np.flatnonzero(gaps > limit)
    start, end = marks[idx], marks[idx + 1]
    confirm = start + limit
    is_open = np.zeros(idx.size, dtype=bool)
    last = int(marks[-1])
    if period_end_ms <= as_of_ms:
        if period_end_ms - last > limit:
            start, end = np.r_[start, last], np.r_[end, period_end_ms]
            confirm, is_open = np.r_[confirm, last + limit], np.r_[is_open, False]
    elif as_of_ms - last > s.upload_grace_s * 1000:
        start, end = np.r_[start, last], np.r_[end, last]
        confirm, is_open = np.r_[confirm, last + s.upload_grace_s * 1000], np.r_[is_open, True]
    return start.astype(np.int64), end.astype(np.int64), confirm.astype(np.int64), is_open
