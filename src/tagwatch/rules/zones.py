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

__all__ = ["zone_for", "verdicts", "effective_accuracy", "rows_in_windows", "condition_windows", "condition_runs"]


@lru_cache(maxsize=65536)
def _zone_cached(key: str) -> Zone:
    return zone_from_geojson(json.loads(key))


def zone_for(condition: Condition) -> Zone:
    """The prepared zone of a condition (built once per distinct GeoJSON)."""
    return _zone_cached(json.dumps(condition.zone, sort_keys=True))


def verdicts(track: Track, rows, zone: Zone, acc_eff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inside, outside) for ``rows`` (an index array or a slice) of the track.

    *Inside*/*outside* means the whole accuracy disc (``acc_eff`` metres) is on that side
    of the boundary. A fix whose disc straddles it, or that has no position, is neither.
    Fixes far outside the zone's bounding box skip the exact test.
    """
    x, y, acc = track.x[rows], track.y[rows], acc_eff[rows]
    minx, miny, maxx, maxy = zone.bounds
    pad = float(acc.max()) if acc.size else 0.0  # one scalar pad: cheaper than per-fix bounds
    near = (x >= minx - pad) & (x <= maxx + pad) & (y >= miny - pad) & (y <= maxy + pad)
    inside = np.zeros(x.size, dtype=bool)
    outside = ~near & ~np.isnan(x)
    idx = np.flatnonzero(near)
    if idx.size:
        d = zone.signed_distance(x[idx], y[idx])
        inside[idx] = d < -acc[idx]
        outside[idx] = d > acc[idx]
    return inside, outside


def effective_accuracy(track: Track, settings: RuleSettings) -> np.ndarray:
    """The disc radius judged for each fix: reported accuracy (or the default), scaled, plus margin."""
    acc = track.accuracy_m
    acc = np.where(np.isnan(acc), settings.default_accuracy_m, acc)
    if settings.accuracy_factor != 1.0:
        acc = acc * settings.accuracy_factor
    return acc + settings.boundary_margin_m if settings.boundary_margin_m else acc


def rows_in_windows(t: np.ndarray, windows: np.ndarray):
    """Rows of sorted times ``t`` inside the ``[start, end)`` windows, and each row's window.

    Returns ``(rows, seg)``; ``rows`` is a slice when there is one window (no copy).
    """
    lo = np.searchsorted(t, windows[:, 0], side="left")
    hi = np.searchsorted(t, windows[:, 1], side="left")
    lengths = hi - lo
    if len(windows) == 1:
        return slice(int(lo[0]), int(hi[0])), np.zeros(int(lengths[0]), dtype=np.int64)
    offsets = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    rows = np.arange(int(lengths.sum()), dtype=np.int64) + offsets
    return rows, np.repeat(np.arange(len(windows), dtype=np.int64), lengths)


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
    cond: Condition, track: Track, windows: np.ndarray, as_of_ms: int, settings: RuleSettings,
    acc_eff: np.ndarray,
) -> Runs:
    """Violation episodes of one zone condition over its windows.

    Exclusion: violating = inside. Curfew: violating = outside, episodes clipped to the
    window. Attendance: each window that has ended without confirmed presence is one
    episode covering the window.
    """
    if windows.size == 0:
        return Runs.empty()
    rows, s = rows_in_windows(track.ts_ms, windows)
    seg_closed = windows[:, 1] <= as_of_ms
    inside, outside = verdicts(track, rows, zone_for(cond), acc_eff)
    t = track.ts_ms[rows]
    common = dict(min_fixes=settings.min_fixes, dwell_gap_s=settings.dwell_gap_s, exit_s=settings.exit_s)
    if cond.kind is ConditionKind.EXCLUSION:
        return find_episodes(t, inside, outside, s, seg_closed, dwell_s=settings.dwell_s, **common)
    if cond.kind is ConditionKind.CURFEW:
        return find_episodes(t, outside, inside, s, seg_closed, dwell_s=settings.dwell_s, **common)
    if cond.kind is ConditionKind.ATTENDANCE:
        present = find_episodes(t, inside, outside, s, seg_closed, dwell_s=settings.attendance_min_s,
                                **{**common, "min_fixes": 2})
        attended = np.zeros(len(windows), dtype=bool)
        attended[present.seg] = True
        missed = np.flatnonzero(seg_closed & ~attended)
        return Runs(windows[missed, 0], windows[missed, 1], windows[missed, 1], missed,
                    np.zeros(missed.size, dtype=bool))
    return Runs.empty()
