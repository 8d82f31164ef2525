"""Tag-health rules: strap tamper, low battery, no fix, no communication.

Each returns ``(start, end, confirm, open)`` arrays in epoch ms; ``end`` is meaningful
only where ``open`` is False. All are pure functions of the track and the horizon.
"""

from __future__ import annotations

import numpy as np

from .settings import RuleSettings
from .track import Track

__all__ = ["tamper_runs", "battery_runs", "no_fix_runs", "no_comms_runs"]

Spans = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _flag_runs(t: np.ndarray, on: np.ndarray, off: np.ndarray) -> Spans:
    """Episodes that start at an ``on`` report and end at the next ``off`` report.

    Reports that are neither keep the previous state (this is the hysteresis band).
    """
    if not on.any():  # the usual case: nothing to find, skip the passes below
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0, dtype=bool)
    state = np.where(on, 1, np.where(off, 0, -1))
    known = np.flatnonzero(state >= 0)
    if known.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0, dtype=bool)
    ks, kt = state[known], t[known]
    prev = np.r_[0, ks[:-1]]
    starts = np.flatnonzero((ks == 1) & (prev == 0))
    stops = np.flatnonzero((ks == 0) & (prev == 1))
    # Each start pairs with the first stop after it, if any.
    pos = np.searchsorted(stops, starts)
    is_open = pos >= stops.size
    end = kt[starts].copy()
    end[~is_open] = kt[stops[pos[~is_open]]]
    return kt[starts], end, kt[starts], is_open


def tamper_runs(track: Track, rows: np.ndarray) -> Spans:
    """From the first report of a tampered strap to the first report of it intact."""
    tam = track.tamper[rows]
    return _flag_runs(track.ts_ms[rows], tam, ~tam)


def battery_runs(track: Track, rows: np.ndarray, settings: RuleSettings) -> Spans:
    b = track.battery_pct[rows]
    low = b < settings.low_battery_pct  # NaN compares False: unknown readings change nothing
    ok = b >= settings.battery_recovered_pct
    return _flag_runs(track.ts_ms[rows], low, ok)


def _gaps(anchors: np.ndarray, threshold_ms: int, as_of_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaps longer than the threshold between sorted anchor times, and after the last."""
    nxt = np.r_[anchors[1:], as_of_ms + 1]
    long_gap = (nxt - anchors) > threshold_ms
    return anchors[long_gap] + threshold_ms, nxt[long_gap], nxt[long_gap] > as_of_ms


def no_fix_runs(track: Track, rows: np.ndarray, settings: RuleSettings, as_of_ms: int) -> Spans:
    """No position for more than ``no_fix_s`` while the tag still sends reports.

    Starts ``no_fix_s`` after the last position, is confirmed by the first report
    without a position after that, and ends at the next position.
    """
    t = track.ts_ms[rows]
    pos_t = t[track.has_position[rows]]
    if pos_t.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0, dtype=bool)
    start, end, is_open = _gaps(pos_t, settings.no_fix_s * 1000, as_of_ms)
    i = np.searchsorted(t, start, side="left")
    reported = (i < t.size) & (t[np.minimum(i, t.size - 1)] < np.where(is_open, as_of_ms + 1, end))
    confirm = t[np.minimum(i, t.size - 1)]
    return start[reported], end[reported], confirm[reported], is_open[reported]


def no_comms_runs(received: np.ndarray, anchors: np.ndarray, settings: RuleSettings, as_of_ms: int) -> Spans:
    """Nothing received for more than ``no_comms_s`` (monitoring starts count as contact)."""
    # received is sorted; merge the few anchors in (duplicates only make zero-length gaps).
    times = np.insert(received, np.searchsorted(received, anchors), anchors)
    if times.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0, dtype=bool)
    start, end, is_open = _gaps(times, settings.no_comms_s * 1000, as_of_ms)
    return start, end, start, is_open
