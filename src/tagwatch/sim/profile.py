"""Who each synthetic subject is: home, places, order, conditions and injected behaviour."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from .geography import BOROUGHS, borough_centre, point_zone, probation_office, street_zone
from .plan import Profile, local_ms

__all__ = ["OFFENCES", "make_subject", "conditions_of"]

OFFENCES = ["possession of a bladed article", "robbery", "wounding with intent", "burglary",
            "assault occasioning actual bodily harm", "threats to kill"]
CURFEWS = ["Mon-Sun 19:00-07:00", "Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00", "Mon-Sun 20:00-06:00"]
ATTEND = [(1, 10 * 60, "Tue 10:00-11:00"), (3, 14 * 60, "Thu 14:00-15:00")]


def _away(rng, origin, lo, hi) -> np.ndarray:
    ang, r = rng.uniform(0, 2 * np.pi), rng.uniform(lo, hi)
    return origin + r * np.array([np.cos(ang), np.sin(ang)])


def _seg_dist(p, a, b) -> float:
    ab, ap = b - a, p - a
    t = np.clip(np.dot(ap, ab) / max(np.dot(ab, ab), 1e-9), 0, 1)
    return float(np.hypot(*(ap - t * ab)))


def _clear_of(centre, clearance, points) -> bool:
    pts = list(points)
    return all(_seg_dist(centre, a, b) > clearance for i, a in enumerate(pts) for b in pts[i + 1:])


def make_subject(i: int, seed: int, start_ms: int, end_ms: int, start_day: date, days: int):
    rng = np.random.default_rng([seed, i])
    sid, borough = f"S{i + 1:04d}", list(BOROUGHS)[i % 4]
    home = _away(rng, borough_centre(borough), 0, 2500)
    places = [_away(rng, home, 500, 3000) for _ in range(4)]  # work or college, shops, gym, family
    friend = _away(rng, home, 900, 2500)
    office = probation_office(borough)
    walk_mps = float(rng.uniform(1.2, 1.6))
    curfew = CURFEWS[int(rng.choice(3, p=[0.6, 0.3, 0.1]))]
    # A few orders only record the trail (no curfew, zone or appointment).
    trail_only = rng.random() < 0.04
    attend = ATTEND[int(rng.integers(2))] if rng.random() < 0.6 and not trail_only else None
    # Order period: most start with the pilot, some are released a few days in.
    late_start = rng.random() < 0.15
    # 1-4 days in, but at least a day before the pilot ends (no late start in a pilot under 3 days).
    delay_days = min(int(rng.integers(1, 5)), days - 2) if late_start else 0
    late_start = delay_days >= 1
    o_start = local_ms(start_day, (delay_days * 24 + 12) * 60) if late_start else start_ms
    first_night = None
    if late_start:
        fn_day = datetime.fromtimestamp(o_start / 1000, UTC).date()
        first_night = f"{fn_day.isoformat()}T21:00"
    # Variation: new hours, a new exclusion zone, or a new address.
    variation = None
    if rng.random() < 0.2 and not trail_only:
        v_day = start_day.fromordinal(start_day.toordinal() + int(rng.integers(5, max(6, days - 3))))
        variation = (local_ms(v_day, 12 * 60), ["hours", "zone", "address"][int(rng.integers(3))])
        if variation[0] <= o_start + 86_400_000 or variation[0] >= end_ms - 86_400_000:
            variation = None
    new_home = _away(rng, home, 600, 2000) if variation and variation[1] == "address" else None
    # Exclusion zone, well away from every normal route.
    excl = None
    wants_excl = not trail_only and (rng.random() < 0.7 or (variation and variation[1] == "zone"))
    if wants_excl:
        street = rng.random() < 0.3
        radius = 150.0 if street else float(rng.uniform(150, 300))
        route_points = [home, *places, friend, office] + ([new_home] if new_home is not None else [])
        for _ in range(60):
            c = _away(rng, home, 1500, 3500)
            if _clear_of(c, radius + 250, route_points) and all(np.hypot(*(c - q)) > radius + 400 for q in route_points):
                heading = float(rng.uniform(0, np.pi))
                zone = street_zone(c, heading) if street else point_zone(c, radius)
                excl = (c, radius, street, zone)
                break
    strict_start = 19 * 60 if curfew.startswith("Mon-Sun 19") or "Mon-Fri 19" in curfew else 20 * 60
    prof = Profile(home=home, places=places, friend=friend, office=office if attend else None,
                   attendance=(attend[0], attend[1]) if attend else None,
                   excl_centre=excl[0] if excl else None, excl_radius=(30.0 if excl and excl[2] else (excl[1] if excl else 0.0)),
                   excl_from_ms=variation[0] if (excl and variation and variation[1] == "zone") else None,
                   curfew_start_min=strict_start, new_home=new_home,
                   move_ms=variation[0] if new_home is not None else None, walk_mps=walk_mps)
    # Injected behaviour, by local date (only days inside the order).
    all_days = [start_day.fromordinal(start_day.toordinal() + k) for k in range(days)]
    order_days = [d for d in all_days if local_ms(d, 0) >= o_start - 86_400_000 + 1 and local_ms(d, 24 * 60) <= end_ms]
    for d in order_days:
        if excl and rng.random() < 0.09 and (prof.excl_from_ms is None or local_ms(d, 8 * 60) > prof.excl_from_ms):
            prof.exclusion_days.add(d)
        if rng.random() < 0.05:
            prof.late_days.add(d)
        elif rng.random() < 0.04 or (d == date(2026, 3, 28) and i % 12 == 0):
            prof.night_days.add(d)
        if attend and d.weekday() == attend[0] and rng.random() < 0.2:
            prof.missed_days.add(d)
        if excl and not excl[2] and d not in prof.exclusion_days and rng.random() < 0.12:
            prof.pass_days.add(d)
    # Decided once, so every version of the order lists the same trail condition.
    trail = trail_only or (not (excl or attend) and rng.random() < 0.5)
    meta = dict(seed=seed, index=i, sid=sid, borough=borough, curfew=None if trail_only else curfew, attend=attend,
                o_start=o_start, first_night=first_night, variation=variation, excl=excl, new_home=new_home,
                trail=trail, rng=rng)
    return prof, meta


def conditions_of(prof: Profile, meta: dict, version_from: int, later: bool) -> list[dict]:
    v = meta["variation"]
    home = prof.new_home if (later and v and v[1] == "address") else prof.home
    schedule = "Mon-Sun 21:00-06:00" if (later and v and v[1] == "hours") else meta["curfew"]
    conds = [{"id": "home-curfew", "kind": "curfew", "zone": point_zone(home, 100.0), "schedule": schedule}]
    if meta["curfew"] is None:
        conds = []
    elif meta["first_night"] and not later:
        conds[0]["first_night_start"] = meta["first_night"]
    if meta["excl"] and (later or not (v and v[1] == "zone")):
        conds.append({"id": "victim-address", "kind": "exclusion", "zone": meta["excl"][3], "schedule": None})
    if meta["attend"]:
        conds.append({"id": "probation", "kind": "attendance", "zone": point_zone(prof.office, 100.0),
                      "schedule": meta["attend"][2]})
    if meta["trail"]:
        conds.append({"id": "trail", "kind": "trail"})
    return conds
