"""Zone conditions: exclusion, curfew (inclusion zone on a timetable), attendance.

Working out *where* each fix is (inside, outside, or can't tell given its accuracy) is
kept apart from deciding *what happened*, which :mod:`tagwatch.rules.runs` does.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from ..geo import Zone, zone_from_geojson
from ..model import AlertKind, Condition, ConditionKind
from ..schedule import schedule_windows
from .runs import Runs, find_episodes
from .settings import RuleSettings
from .track import Track

__all__ = ["zone_for", "verdicts", "segment_of", "condition_windows", "condition_runs"]


@lru_cache(maxsize=65536)
def _zone_cached(key: str) -> Zone:
    return zone_from_geojson(json.loads(key))


def zone_for(condition: Condition) -> Zone:
    """The prepared zone of a condition (built once per distinct GeoJSON)."""
    return _zone_cached(json.dumps(condition.zone, sort_keys=True))


def verdicts(track: Track, rows: np.ndarray, zone: Zone, settings: RuleSettings) -> tuple[np.ndarray, np.ndarray]:
    """(inside, outside) for ``rows`` of the track: the whole accuracy disc on one side.

    A fix whose disc straddles the boundary, or that has no position, is neither.
    Fixes far outside the zone's bounding box skip the exact test.
    """
    x, y = track.x[rows], track.y[rows]
    acc = track.accuracy_m[rows]
    acc = np.where(np.isnan(acc), settings.default_accuracy_m, acc) * settings.accuracy_factor + settings.boundary_margin_m
    minx, miny, maxx, maxy = zone.bounds
    near = (x >= minx - acc) & (x <= maxx + acc) & (y >= miny - acc) & (y <= maxy + acc)
    has_pos = ~np.isnan(x)
    inside = np.zeros(rows.size, dtype=bool)
    outside = has_pos & ~near
    idx = np.flatnonzero(near)
    if idx.size:
        d = zone.signed_distance(x[idx], y[idx])
        inside[idx] = d < -acc[idx]
        outside[idx] = d > acc[idx]
    return inside, outside


def segment_of(t: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Index of the ``[start, end)`` window holding each time, or -1."""
    if windows.size == 0:
        return np.full(t.size, -1, dtype=np.int64)
    idx = np.searchsorted(windows[:, 0], t, side="right") - 1
    ok = (idx >= 0) & (t < windows[np.maximum(idx, 0), 1])
    return np.where(ok, idx, -1)


def condition_windows(cond: Condition, start_ms: int, end_ms: int) -> np.ndarray:
    """The condition's active windows within ``[start_ms, end_ms)``, as an (n, 2) array."""
    if cond.schedule:
        wins = schedule_windows(cond.schedule, start_ms, end_ms, cond.first_night_start)
        wins = [(max(a, start_ms), min(b, end_ms)) for a, b in wins]
        wins = [(a, b) for a, b in wins if b > a]
    else:
        wins = [(start_ms, end_ms)]
    return np.array(wins, dtype=np.int64).reshape(-1, 2)


ALERT_KIND = {
    ConditionKind.EXCLUSION: AlertKind.EXCLUSION_BREACH,
    ConditionKind.CURFEW: AlertKind.CURFEW_BREACH,
    ConditionKind.ATTENDANCE: AlertKind.ATTENDANCE_MISSED,
}


def condition_runs(
    cond: Condition, track: Track, windows: np.ndarray, as_of_ms: int, settings: RuleSettings
) -> Runs:
    """Violation episodes of one zone condition over its windows.

    Exclusion: violating = inside. Curfew: violating = outside, episodes clipped to the
    window. Attendance: each window that has ended without confirmed presence is one
    episode covering the window.
    """
    seg = segment_of(track.ts_ms, windows)
    rows = np.flatnonzero(seg >= 0)
    seg_closed = windows[:, 1] <= as_of_ms
    inside, outside = verdicts(track, rows, zone_for(cond), settings)
    t, s = track.ts_ms[rows], seg[rows]
    if cond.kind is ConditionKind.EXCLUSION:
        return find_episodes(t, inside, outside, s, seg_closed, dwell_s=settings.dwell_s,
                             min_fixes=settings.min_fixes, dwell_gap_s=settings.dwell_gap_s,
                             exit_s=settings.exit_s)
    if cond.kind is ConditionKind.CURFEW:
        return find_episodes(t, outside, inside, s, seg_closed, dwell_s=settings.dwell_s,
                             min_fixes=settings.min_fixes, dwell_gap_s=settings.dwell_gap_s,
                             exit_s=settings.exit_s)
    if cond.kind is ConditionKind.ATTENDANCE:
        present = find_episodes(t, inside, outside, s, seg_closed, dwell_s=settings.attendance_min_s,
                                min_fixes=2, dwell_gap_s=settings.dwell_gap_s, exit_s=settings.exit_s)
        attended = np.zeros(len(windows), dtype=bool)
        attended[present.seg] = True
        missed = np.flatnonzero(seg_closed & ~attended)
        return Runs(windows[missed, 0], windows[missed, 1], windows[missed, 1], missed,
                    np.zeros(missed.size, dtype=bool))
    return Runs.empty()
