"""A subject's days as timed segments (stay or travel), with injected violations.

Everything is in BNG metres and UTC epoch ms; local (Europe/London) clock times are
converted per day, so plans are right across the DST change. The plan is what really
happened; fixes, noise and ground truth are derived from it in :mod:`.generate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from ..schedule import LONDON

__all__ = ["Segment", "Profile", "plan_days", "local_ms", "MIN"]

MIN = 60_000


@dataclass(frozen=True, slots=True)
class Segment:
    t0: int
    t1: int
    a: tuple[float, float]
    b: tuple[float, float]
    indoor: bool


@dataclass
class Profile:
    """Who a synthetic subject is and where their life happens."""

    home: np.ndarray
    places: list[np.ndarray]
    friend: np.ndarray
    office: np.ndarray | None
    attendance: tuple[int, int] | None  # (weekday, local start minute) of a 60-minute window
    excl_centre: np.ndarray | None
    excl_radius: float
    excl_from_ms: int | None  # the zone applies from this time (a variation can add it)
    curfew_start_min: int  # the strictest local curfew start of any version (minutes)
    new_home: np.ndarray | None = None
    move_ms: int | None = None
    walk_mps: float = 1.4  # this person's walking pace (1.2-1.6 m/s)
    # Injected behaviour (filled by generate): local dates
    exclusion_days: set = field(default_factory=set)
    late_days: set = field(default_factory=set)
    night_days: set = field(default_factory=set)
    missed_days: set = field(default_factory=set)
    pass_days: set = field(default_factory=set)
    injected: list = field(default_factory=list)  # (kind, start_ms, end_ms, note)
    noise: list = field(default_factory=list)  # (kind, start_ms, end_ms, note)


def local_ms(day: date, minute: float) -> int:
    naive = datetime.combine(day, time()) + timedelta(minutes=float(minute))
    return int(naive.replace(tzinfo=LONDON).timestamp() * 1000)


WALK_MAX_M = 1200  # longer legs are taken by bus
BUS_MPS = (5.0, 9.0)  # average bus speed including stops and waits


class _Day:
    def __init__(self, rng, segs: list[Segment], t: int, pos: np.ndarray, walk_mps: float = 1.4):
        self.rng, self.segs, self.t, self.pos, self.walk_mps = rng, segs, t, pos, walk_mps

    def _speed(self, dist: float) -> float:
        return self.walk_mps if dist < WALK_MAX_M else float(self.rng.uniform(*BUS_MPS))

    def stay_until(self, t_end: int, indoor: bool = True) -> None:
        if t_end > self.t:
            p = (float(self.pos[0]), float(self.pos[1]))
            self.segs.append(Segment(self.t, t_end, p, p, indoor))
            self.t = t_end

    def go(self, dest: np.ndarray) -> None:
        dist = float(np.hypot(*(dest - self.pos)))
        dur = int(dist / self._speed(dist) * 1000) if dist > 0 else 0
        if dur:
            self.segs.append(Segment(self.t, self.t + dur, (float(self.pos[0]), float(self.pos[1])),
                                     (float(dest[0]), float(dest[1])), False))
        self.t += dur
        self.pos = np.asarray(dest, dtype=float)

    def travel_ms(self, a: np.ndarray, b: np.ndarray) -> int:
        """The longest the leg can take (slowest bus), so plans built on it are never late."""
        dist = float(np.hypot(*(b - a)))
        return int(dist / self.walk_mps * 1000) if dist < WALK_MAX_M else int(dist / BUS_MPS[0] * 1000)


def plan_days(p: Profile, rng: np.random.Generator, start_ms: int, end_ms: int) -> list[Segment]:
    """Segments covering [start_ms, end_ms): home nights, days out, injected episodes."""
    segs: list[Segment] = []
    first = datetime.fromtimestamp(start_ms / 1000, LONDON).date()
    last = datetime.fromtimestamp(end_ms / 1000, LONDON).date()
    day_ = _Day(rng, segs, start_ms, p.home.copy(), p.walk_mps)
    d = first
    while d <= last:
        home = p.new_home if (p.move_ms is not None and local_ms(d, 12 * 60) >= p.move_ms) else p.home
        _one_day(p, rng, day_, d, home)
        d += timedelta(days=1)
    out = [s for s in segs if s.t1 > start_ms and s.t0 < end_ms]
    if out[-1].t1 < end_ms:
        a = out[-1].b
        out.append(Segment(out[-1].t1, end_ms, a, a, True))
    return out


def _one_day(p: Profile, rng, day_: _Day, d: date, home: np.ndarray) -> None:
    curfew_at = local_ms(d, p.curfew_start_min)
    leave = local_ms(d, rng.uniform(7.75, 10.5) * 60)
    stops: list[tuple[np.ndarray, int | None, int]] = []  # (where, arrive-by ms or None, dwell ms)
    if p.attendance and d.weekday() == p.attendance[0] and d not in p.missed_days:
        ws = local_ms(d, p.attendance[1])
        stops.append((p.office, ws - 10 * MIN, 50 * MIN))
        leave = min(leave, ws - 10 * MIN - day_.travel_ms(home, p.office) - 5 * MIN)
    if p.attendance and d.weekday() == p.attendance[0] and d in p.missed_days:
        ws = local_ms(d, p.attendance[1])
        p.injected.append(("attendance_missed", ws, ws + 60 * MIN, "skipped the appointment"))
    k = int(rng.integers(1, len(p.places) + 1))
    for i in rng.choice(len(p.places), size=k, replace=False):
        stops.append((p.places[i], None, int(rng.uniform(30, 150) * MIN)))
    if d in p.exclusion_days and p.excl_centre is not None:
        off = rng.normal(0, 0.15 * p.excl_radius, 2)
        # Never the last stop: a late evening is then spent at an ordinary place, so the
        # breach lasts the 8-40 minutes drawn here and no longer.
        stops.insert(len(stops) // 2, (p.excl_centre + off, None, int(rng.uniform(8, 40) * MIN)))
    # At home until leaving (the night before ends here).
    day_.stay_until(max(leave, day_.t))
    for where, arrive_by, dwell in stops:
        if arrive_by is not None:
            day_.stay_until(arrive_by - day_.travel_ms(day_.pos, where))
        is_excl = p.excl_centre is not None and np.hypot(*(where - p.excl_centre)) < p.excl_radius
        day_.go(where)
        t_in = day_.t
        back_by = curfew_at - int(rng.uniform(25, 50) * MIN) - day_.travel_ms(where, home)
        if d not in p.late_days and not is_excl:  # the breach is not cut short; later stops are
            dwell = min(dwell, max(0, back_by - day_.t))
        day_.stay_until(day_.t + dwell, indoor=not is_excl)
        if is_excl:
            p.injected.append(("exclusion_breach", t_in, day_.t, "entered the exclusion zone"))
    if d in p.pass_days and p.excl_centre is not None:
        _near_pass(p, rng, day_, home, curfew_at)
    if d in p.late_days:
        day_.stay_until(curfew_at + int(rng.uniform(20, 120) * MIN) - day_.travel_ms(day_.pos, home))
    else:
        day_.stay_until(min(day_.t, curfew_at - 20 * MIN - day_.travel_ms(day_.pos, home)))
    day_.go(home)
    if d in p.night_days:
        out_at = local_ms(d, rng.uniform(22.5, 24.8) * 60)
        day_.stay_until(out_at)
        day_.go(p.friend)
        day_.stay_until(day_.t + int(rng.uniform(30, 90) * MIN))
        day_.go(home)


def _near_pass(p: Profile, rng, day_: _Day, home: np.ndarray, curfew_at: int) -> None:
    """Walk to within 20-60 m of the zone's edge and back: must not alert.

    The walk is radial (straight towards the zone's centre, stopping short), so the true
    path never enters the zone. Skipped when it would make the subject late home: the
    pass is noise and must not cause a curfew breach of its own.
    """
    v = day_.pos - p.excl_centre
    u = v / max(float(np.hypot(*v)), 1.0)
    gap = float(rng.uniform(20, 60))
    edge_point = p.excl_centre + u * (p.excl_radius + gap)
    start = day_.pos.copy()
    needed = 2 * day_.travel_ms(start, edge_point) + day_.travel_ms(start, home) + 30 * MIN
    if day_.t + needed > curfew_at:
        return
    day_.go(edge_point)
    t_at = day_.t // MIN * MIN  # whole minutes, like the fixes
    day_.go(start)
    p.noise.append(("exclusion_breach", t_at - 5 * MIN, t_at + 5 * MIN, f"walked past {gap:.0f} m outside the zone"))
