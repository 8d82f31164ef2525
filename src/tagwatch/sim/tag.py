"""What the tag reports rather than what happened: GPS error, spikes, battery.

Everything here works on a subject's whole minute grid at once (numpy arrays, BNG
metres); the only Python loops are over episodes (a few per subject-day), never fixes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from .plan import MIN, local_ms
from .timeline import free_slot, free_slot_where

__all__ = ["gps_error", "displace", "spike_into_zone", "charging_minutes", "battery_levels", "forgotten_days"]


def gps_error(rng, xy: np.ndarray, indoor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed positions and reported accuracy.

    Error is 2D normal with sigma 3-10 m outdoors and 10-25 m indoors; the receiver
    reports about two sigma (a ~86 % radius), jittered and clipped to 5-50 m.
    """
    n = xy.shape[0]
    sigma = np.where(indoor, rng.uniform(10, 25, n), rng.uniform(3, 10, n))
    obs = xy + rng.normal(0, 1, (n, 2)) * sigma[:, None]
    acc = np.clip(2 * sigma * rng.uniform(0.8, 1.25, n), 5, 50)
    return obs, acc


def displace(rng, busy, xy, obs, acc, n_fixes: tuple[int, int], metres: tuple[float, float], accuracy) -> tuple | None:
    """Throw a few consecutive fixes ``metres`` away in a random direction.

    Returns (start index, fixes, metres) or None when no free slot was found.
    ``accuracy(r, k)`` gives the accuracy the receiver reports for them: understated
    for multipath spikes, honest for sustained drift.
    """
    k = int(rng.integers(*n_fixes))
    s = free_slot(busy, rng, k, margin=10)
    if s is None:
        return None
    ang, r = rng.uniform(0, 2 * np.pi), rng.uniform(*metres)
    obs[s: s + k] = xy[s: s + k] + r * np.array([np.cos(ang), np.sin(ang)]) + rng.normal(0, 10, (k, 2))
    acc[s: s + k] = accuracy(r, k)
    return s, k, float(r)


def spike_into_zone(rng, busy, xy, obs, acc, zone, applies: np.ndarray, near_m: tuple[float, float] = (20, 300)):
    """A multipath spike of 1-2 fixes that lands inside ``zone`` while it applies.

    The subject is truly ``near_m`` outside the zone's edge; the spike lands just deep
    enough inside that its understated accuracy disc (15-40 m) is inside too where the
    zone is wide enough (a street zone is only 60 m across). Returns (start, fixes, metres)
    or None when the subject never comes near enough.
    """
    d = zone.signed_distance(xy[:, 0], xy[:, 1])
    k = int(rng.integers(1, 3))
    s = free_slot_where(applies & (d > near_m[0]) & (d < near_m[1]), busy, rng, k)
    if s is None:
        return None
    claimed = rng.uniform(15, 40, k)
    centre = np.array(zone.centre if zone.centre is not None else zone.geometry.centroid.coords[0])
    p = xy[s]
    line = centre + np.linspace(0, 1, 201)[:, None] * (p - centre)  # from the middle out to the subject
    depth = -zone.signed_distance(line[:, 0], line[:, 1])
    need = min(float(claimed.max()) + 5, 0.8 * float(depth.max()))
    target = line[np.flatnonzero(depth >= need).max()]
    obs[s: s + k] = target + rng.normal(0, 3, (k, 2))
    acc[s: s + k] = claimed
    return s, k, float(np.hypot(*(target - p)))


def charging_minutes(rng, ts: np.ndarray, forgot_days: set[date], first_day: date) -> np.ndarray:
    """Minutes the charger is plugged in: 150 minutes from 20:00-21:30 local, unless forgotten."""
    charging = np.zeros(ts.size, dtype=bool)
    for k in range(int(ts[-1] - ts[0]) // 86_400_000 + 2):
        d = first_day.fromordinal(first_day.toordinal() + k)
        if d in forgot_days:
            continue
        cs = local_ms(d, rng.uniform(20.0, 21.5) * 60)
        charging[np.searchsorted(ts, cs): np.searchsorted(ts, cs + 150 * MIN)] = True
    return charging


def battery_levels(charging: np.ndarray, drain_pct_per_h: float, charge_pct_per_min: float = 1.0,
                   start: float = 100.0, floor: float = 3.0) -> np.ndarray:
    """Battery % per minute: linear drain, linear charge, clipped at ``floor`` and 100.

    Solved run by run (a run = minutes of constant charging state), so the cost is per
    plug-in, not per minute. A tag never reads 0: it reports until the floor.
    """
    n = charging.size
    bounds = np.r_[0, np.flatnonzero(np.diff(charging.astype(np.int8))) + 1, n]
    out = np.empty(n)
    level = start
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        steps = np.arange(1, b - a + 1)
        if charging[a]:
            out[a:b] = np.minimum(100.0, level + steps * charge_pct_per_min)
        else:
            out[a:b] = np.maximum(floor, level - steps * drain_pct_per_h / 60)
        level = float(out[b - 1])
    return np.round(out)


def forgotten_days(rng, ts: np.ndarray, rate: float = 0.06) -> set[date]:
    """Days the subject forgets to charge (UTC dates of the grid; sorted before drawing)."""
    days = sorted({datetime.fromtimestamp(t / 1000, UTC).date() for t in ts[::1440].tolist()})
    return {d for d in days if rng.random() < rate}
