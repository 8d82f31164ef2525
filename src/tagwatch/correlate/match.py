"""Exact, explainable matching of one track against one crime site (docs/correlation.md).

The track is the fixes plus the straight segment between consecutive fixes at most
``max_gap_s`` apart, travelled at constant speed. A subject matches a crime when that
path comes within ``radius_m`` (widened by the crime's own location accuracy) of the
crime location at some time in ``[from - buffer, to + buffer]``. Segment geometry is
solved in closed form (a quadratic in time), not sampled, so a match found only
between two fixes is exact. A gap longer than ``max_gap_s`` whose two ends could both
reach the crime site within the window at ``max_speed_mps`` is a weaker
``unaccounted_gap`` match. Pure functions over numpy columns; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

__all__ = ["ENGINE_VERSION", "Evidence", "CrimeSite", "MatchParams", "TrackMatch", "match_track"]

ENGINE_VERSION = "tagwatch-correlate 3"  # 2: specificity and routine presence; 3: gaps last seen near the site


class Evidence(StrEnum):
    FIX = "fix"  # a fix within the radius in the window
    SEGMENT = "segment"  # only the path between two fixes comes within the radius
    UNACCOUNTED_GAP = "unaccounted_gap"  # a gap the person could have used to be there


@dataclass(frozen=True, slots=True)
class CrimeSite:
    x: float  # BNG metres
    y: float
    from_ms: int
    to_ms: int
    location_accuracy_m: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchParams:
    radius_m: float = 100.0
    buffer_s: float = 900.0
    max_gap_s: float = 600.0
    max_speed_mps: float = 12.0  # a bus or a bicycle in London traffic, generously
    # An unaccounted gap needs one end (last or next seen) at most this far from the site; at
    # max_speed_mps an hour's gap "reaches" all London, which would tie everyone to everything.
    gap_near_m: float = 2000.0


@dataclass(frozen=True, slots=True)
class TrackMatch:
    evidence: Evidence
    closest_m: float  # closest the path came (for a gap: the nearer end of the gap)
    closest_ms: int
    first_within_ms: int | None  # None for an unaccounted gap
    last_within_ms: int | None
    within_s: float  # total time the path was within the radius, in the window
    speed_mps: float | None  # along the segment at the closest approach
    heading_deg: float | None  # compass bearing of that segment (0 = grid north)


def match_track(ts_ms: np.ndarray, x: np.ndarray, y: np.ndarray, crime: CrimeSite,
                params: MatchParams = MatchParams()) -> TrackMatch | None:
    """The match of one track (sorted fixes with positions) against one crime, or None."""
    w0 = crime.from_ms - int(params.buffer_s * 1000)
    w1 = crime.to_ms + int(params.buffer_s * 1000)
    gap_ms = int(params.max_gap_s * 1000)
    r = params.radius_m + crime.location_accuracy_m
    # Only fixes that can touch the window: one beyond each end for the segments and gaps.
    lo = max(int(np.searchsorted(ts_ms, w0, side="left")) - 1, 0)
    hi = min(int(np.searchsorted(ts_ms, w1, side="right")) + 1, ts_ms.size)
    t = ts_ms[lo:hi].astype(np.float64)
    dx, dy = x[lo:hi] - crime.x, y[lo:hi] - crime.y
    if t.size == 0:
        return None
    dist = np.hypot(dx, dy)
    in_w = (t >= w0) & (t <= w1)
    fix_hit = in_w & (dist <= r)
    seg = _segments(t, dx, dy, w0, w1, gap_ms, r)
    if fix_hit.any() or seg["hit"].any():
        return _path_match(t, dist, in_w, fix_hit, seg)
    return _gap_match(t, dist, w0, w1, gap_ms, r, params.max_speed_mps, params.gap_near_m)


def _segments(t, dx, dy, w0, w1, gap_ms, r) -> dict[str, np.ndarray]:
    """Closest approach and time within ``r`` of each segment's part inside the window."""
    t0, t1 = t[:-1], t[1:]
    ok = (t1 - t0 <= gap_ms) & (t1 > t0)
    s, e = np.maximum(t0, w0), np.minimum(t1, w1)
    ok &= s <= e
    dur = np.where(ok, t1 - t0, 1.0)
    vx, vy = (dx[1:] - dx[:-1]) / dur, (dy[1:] - dy[:-1]) / dur  # metres per ms
    # Position relative to the crime at the segment part's start s: w + v * tau, tau in [0, e - s]
    wx, wy = dx[:-1] + vx * (s - t0), dy[:-1] + vy * (s - t0)
    a = vx * vx + vy * vy
    b = wx * vx + wy * vy
    c = wx * wx + wy * wy - r * r
    span = np.where(ok, e - s, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_min = np.where(a > 0, np.clip(-b / a, 0.0, span), 0.0)
        disc = b * b - a * c
        root = np.sqrt(np.maximum(disc, 0.0))
        enter = np.where(a > 0, (-b - root) / a, np.where(c <= 0, 0.0, np.inf))
        leave = np.where(a > 0, (-b + root) / a, np.where(c <= 0, span, -np.inf))
    enter = np.where((a > 0) & (disc < 0), np.inf, enter)
    enter, leave = np.maximum(enter, 0.0), np.minimum(leave, span)
    hit = ok & (enter <= leave)
    closest = np.hypot(wx + vx * tau_min, wy + vy * tau_min)
    return {"ok": ok, "hit": hit, "start": s, "enter": s + enter, "leave": s + leave,
            "closest": np.where(ok, closest, np.inf), "closest_t": s + tau_min,
            "speed": np.hypot(vx, vy) * 1000.0, "heading": np.degrees(np.arctan2(vx, vy)) % 360.0}


def _path_match(t, dist, in_w, fix_hit, seg) -> TrackMatch:
    hit = seg["hit"]
    within_s = float(np.sum(seg["leave"][hit] - seg["enter"][hit])) / 1000.0
    firsts = np.r_[t[fix_hit], seg["enter"][hit]]
    lasts = np.r_[t[fix_hit], seg["leave"][hit]]
    # Closest approach over the path in the window: fixes in the window and segment parts.
    fix_d = np.where(in_w, dist, np.inf)
    i_fix, i_seg = int(np.argmin(fix_d)), int(np.argmin(seg["closest"])) if seg["closest"].size else -1
    use_seg = i_seg >= 0 and seg["closest"][i_seg] < fix_d[i_fix]
    if use_seg:
        closest, closest_t = float(seg["closest"][i_seg]), float(seg["closest_t"][i_seg])
        speed, heading = float(seg["speed"][i_seg]), float(seg["heading"][i_seg])
    else:
        closest, closest_t = float(fix_d[i_fix]), float(t[i_fix])
        near = [k for k in (i_fix - 1, i_fix) if 0 <= k < seg["ok"].size and seg["ok"][k]]
        speed = float(seg["speed"][near[0]]) if near else None
        heading = float(seg["heading"][near[0]]) if near else None
    return TrackMatch(Evidence.FIX if fix_hit.any() else Evidence.SEGMENT, closest, int(round(closest_t)),
                      int(round(firsts.min())), int(round(lasts.max())), within_s, speed, heading)


def _gap_match(t, dist, w0, w1, gap_ms, r, vmax, near_m) -> TrackMatch | None:
    """A long gap overlapping the window whose ends could both reach the site in time, one end near it."""
    t0, t1 = t[:-1], t[1:]
    d0, d1 = dist[:-1], dist[1:]
    vmax_ms = vmax / 1000.0
    # Earliest arrival within r after leaving the first end; latest departure to reach the second.
    arrive = t0 + np.maximum(d0 - r, 0.0) / vmax_ms
    depart = t1 - np.maximum(d1 - r, 0.0) / vmax_ms
    ok = (t1 - t0 > gap_ms) & (np.maximum(arrive, w0) <= np.minimum(depart, w1)) & (np.minimum(d0, d1) <= near_m)
    if not ok.any():
        return None
    k = int(np.flatnonzero(ok)[np.argmin(np.minimum(d0, d1)[ok])])
    near_first = d0[k] <= d1[k]
    return TrackMatch(Evidence.UNACCOUNTED_GAP, float(min(d0[k], d1[k])), int(t0[k] if near_first else t1[k]),
                      None, None, 0.0, None, None)
