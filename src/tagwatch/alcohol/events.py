"""Drinking events from the transdermal alcohol curve, never from one reading.

A candidate is a run of readings above ``zero_g_dl`` that reaches ``threshold_g_dl``. It is
confirmed when it lasts ``min_readings`` readings, rises from the last zero reading to its
peak at a rate within the absorption bounds, and falls from the peak to half of it at a
rate within the elimination bounds. The confirmation time is the reading that completes
the fall: until then the event is ``pending``. A run that fails only because a one-reading
spike (hand gel on top of a real curve) is its peak is judged again without the spike. Each rejected candidate keeps its reason, so
an operator can see why a hand-gel spike or a drifting sensor did not alert.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .settings import AlcoholSettings

__all__ = ["Curve", "examine_curves", "drinking_events", "CONFIRMED", "PENDING"]

HOUR_MS = 3_600_000
CONFIRMED = "confirmed"
PENDING = "pending"  # the fall from the peak has not been seen yet


@dataclass(frozen=True, slots=True)
class Curve:
    start_ms: int  # first reading above zero
    peak_ms: int
    peak_g_dl: float
    end_ms: int | None  # first reading back at zero; None while still above
    confirm_ms: int | None  # the reading that completed the evidence (confirmed only)
    n_readings: int  # readings above zero
    rise_g_dl_h: float | None  # None: the curve starts with the data (rise not seen)
    fall_g_dl_h: float | None  # None: not yet fallen to half the peak
    verdict: str  # confirmed | pending | too_short | rise_too_fast | rise_too_slow | fall_too_fast | fall_too_slow

    @property
    def confirmed(self) -> bool:
        return self.verdict == CONFIRMED


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.r_[False, mask, False].astype(np.int8)
    d = np.diff(m)
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def examine_curves(ts_ms: np.ndarray, tac_g_dl: np.ndarray, s: AlcoholSettings) -> list[Curve]:
    """Every candidate curve reaching the threshold, with its verdict (readings sorted by time)."""
    t = np.asarray(ts_ms, dtype=np.int64)
    v = np.asarray(tac_g_dl, dtype=np.float64)
    if t.size == 0:
        return []
    starts, ends = _runs(v > s.zero_g_dl)
    if starts.size == 0:
        return []
    out = []
    smooth = None
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        seg = v[a:b]
        if seg.max() < s.threshold_g_dl:
            continue
        curve = _judge(t, v, a, b, a + int(np.argmax(seg)), s)
        if not curve.confirmed and curve.verdict != PENDING and b - a >= s.min_readings:
            # Hand gel on top of a real curve: its one-reading spike would be the peak and fail
            # the rates. Judge the run again with single-reading spikes set between their neighbours.
            smooth = _despiked(v, s.spike_g_dl) if smooth is None else smooth
            seg2 = smooth[a:b]
            if seg2.max() >= s.threshold_g_dl:
                again = _judge(t, smooth, a, b, a + int(np.argmax(seg2)), s)
                curve = again if again.confirmed else curve
        out.append(curve)
    return out


def _despiked(v: np.ndarray, jump: float) -> np.ndarray:
    """Readings more than ``jump`` above both neighbours replaced by the mean of the two."""
    out = v.copy()
    if v.size >= 3:
        mid, left, right = v[1:-1], v[:-2], v[2:]
        spike = (mid - left > jump) & (mid - right > jump)
        out[1:-1] = np.where(spike, (left + right) / 2, mid)
    return out


def _judge(t: np.ndarray, v: np.ndarray, a: int, b: int, k: int, s: AlcoholSettings) -> Curve:
    peak = float(v[k])
    pre = a - 1 if a > 0 else None
    post = b if b < t.size else None
    rise = None
    if pre is not None:
        rise = (peak - float(v[pre])) / float((t[k] - t[pre]) / HOUR_MS)
    elif k > a:
        rise = (peak - float(v[a])) / float((t[k] - t[a]) / HOUR_MS)
    half = np.flatnonzero(v[k + 1:b] <= peak / 2)
    j = k + 1 + int(half[0]) if half.size else post
    fall = None if j is None else (peak - float(v[j])) / float((t[j] - t[k]) / HOUR_MS)
    if b - a < s.min_readings:
        verdict = "too_short" if post is not None else PENDING
    elif rise is not None and rise > s.absorption_max_g_dl_h:
        verdict = "rise_too_fast"
    elif rise is not None and rise < s.absorption_min_g_dl_h:
        verdict = "rise_too_slow"
    elif fall is None:
        verdict = PENDING
    elif fall > s.elimination_max_g_dl_h:
        verdict = "fall_too_fast"
    elif fall < s.elimination_min_g_dl_h:
        verdict = "fall_too_slow"
    else:
        verdict = CONFIRMED
    return Curve(int(t[a]), int(t[k]), peak, None if post is None else int(t[post]),
                 int(t[j]) if verdict == CONFIRMED else None, b - a, rise, fall, verdict)


def drinking_events(ts_ms: np.ndarray, tac_g_dl: np.ndarray, s: AlcoholSettings) -> list[Curve]:
    """The confirmed drinking events."""
    return [c for c in examine_curves(ts_ms, tac_g_dl, s) if c.confirmed]
