"""Ground truth of one synthetic subject, from the true (noise-free) minute grid.

Truth is judged the way a court would: from where the person really was and the order
version in force at that instant, with schedule windows built in Europe/London wall-clock
time by :mod:`tagwatch.schedule` (so the DST nights are right). The same conditions-in-
force are used to say what a noise excursion could be mistaken for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geo import Zone, zone_from_geojson
from ..schedule import schedule_windows
from .plan import MIN
from .profile import conditions_of
from .timeline import runs

__all__ = ["MIN_EXCLUSION_MIN", "MIN_CURFEW_MIN", "MIN_ATTENDED_MIN", "Active", "order_spans", "active_conditions",
           "movement_truth", "mistaken_for", "low_battery_runs"]

# Shortest true episodes that count: injected ones last far longer (8-40 min inside an
# exclusion zone, 20-120 min out during a curfew), so the exact thresholds rarely matter.
MIN_EXCLUSION_MIN = 3
MIN_CURFEW_MIN = 5
MIN_ATTENDED_MIN = 15  # minutes at the office within the window that count as attending


@dataclass(frozen=True)
class Active:
    """One zone condition of one order version, with the minutes at which it applies."""

    condition_id: str
    kind: str  # curfew | exclusion | attendance
    zone: Zone
    applies: np.ndarray  # bool per minute: version in force and inside a schedule window
    windows: list[tuple[int, int]]  # schedule windows clipped to the version (whole ones only for attendance)


def order_spans(prof, meta, end_ms: int) -> list[tuple[int, int, int, list[dict]]]:
    """[(version number, from_ms, to_ms, conditions)] of the subject's one order."""
    v = meta["variation"]
    spans = [(1, meta["o_start"], v[0] if v else end_ms, conditions_of(prof, meta, meta["o_start"], False))]
    if v:
        spans.append((2, v[0], end_ms, conditions_of(prof, meta, v[0], True)))
    return spans


def active_conditions(spans, ts: np.ndarray) -> list[Active]:
    """Every zone condition of every version, as a per-minute 'applies' mask."""
    out = []
    for _, a, b, conds in spans:
        for c in conds:
            if c["kind"] == "trail":
                continue
            if c.get("schedule"):
                wins = schedule_windows(c["schedule"], a, b, c.get("first_night_start"))
            else:
                wins = [(a, b)]
            clipped = [(max(ws, a), min(we, b)) for ws, we in wins]
            if c["kind"] == "attendance":  # a window cut by a variation is not judged
                clipped = [(ws, we) for ws, we in wins if ws >= a and we <= b]
            applies = np.zeros(ts.size, dtype=bool)
            for ws, we in clipped:
                applies[np.searchsorted(ts, ws):np.searchsorted(ts, we)] = True
            out.append(Active(c["id"], c["kind"], zone_from_geojson(c["zone"]), applies, clipped))
    return out


def movement_truth(active: list[Active], ts: np.ndarray, xy: np.ndarray) -> list[tuple]:
    """(kind, condition_id, start_ms, end_ms, description) of zone-condition violations."""
    out = []
    for c in active:
        d = c.zone.signed_distance(xy[:, 0], xy[:, 1])
        if c.kind == "exclusion":
            found = runs((d < 0) & c.applies, MIN_EXCLUSION_MIN)
            out += [("exclusion_breach", c.condition_id, int(ts[s]), int(ts[e - 1]) + MIN, "inside the exclusion zone")
                    for s, e in found]
        elif c.kind == "curfew":
            found = runs((d > 0) & c.applies, MIN_CURFEW_MIN)
            out += [("curfew_breach", c.condition_id, int(ts[s]), int(ts[e - 1]) + MIN, "away from the curfew address")
                    for s, e in found]
        elif c.kind == "attendance":
            for ws, we in c.windows:
                present = int((d[np.searchsorted(ts, ws):np.searchsorted(ts, we)] < 0).sum())
                if present < MIN_ATTENDED_MIN:
                    out.append(("attendance_missed", c.condition_id, ws, we, "did not attend"))
    return out


def mistaken_for(active: list[Active], idx: np.ndarray, obs_xy: np.ndarray) -> str | None:
    """The alert a displaced fix could wrongly raise, judged on the *observed* position.

    Inside an exclusion zone in force: ``exclusion_breach``; else outside the curfew
    address during the curfew: ``curfew_breach``; else ``None`` (harmless to the rules,
    though it can still mislead a crime-scene correlation).
    """
    for kind, alert, inside in (("exclusion", "exclusion_breach", True), ("curfew", "curfew_breach", False)):
        for c in active:
            if c.kind == kind and c.applies[idx].any():
                d = c.zone.signed_distance(obs_xy[:, 0], obs_xy[:, 1])
                if (((d < 0) if inside else (d > 0)) & c.applies[idx]).any():
                    return alert
    return None


def low_battery_runs(ts: np.ndarray, battery: np.ndarray, low: float = 20, recovered: float = 25) -> list[tuple[int, int]]:
    """[start, end) ms from the first reading under ``low`` to the first at or over ``recovered``.

    A hysteresis, vectorised: each reading sets the state (low / recovered) or keeps it,
    and the state is carried forward to the next reading that sets it. An episode still
    open at the last reading ends a minute after it.
    """
    n = ts.size
    state = np.full(n, -1, dtype=np.int8)
    state[battery >= recovered] = 0
    state[battery < low] = 1
    last_set = np.maximum.accumulate(np.where(state >= 0, np.arange(n), -1)) if n else np.array([], dtype=int)
    is_low = (last_set >= 0) & (state[np.maximum(last_set, 0)] == 1)
    return [(int(ts[s]), int(ts[e]) if e < n else int(ts[-1]) + MIN) for s, e in runs(is_low, 1)]
