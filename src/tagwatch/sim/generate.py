"""Synthetic pilot with ground truth: enrolment, one fix a minute, noise, truth.

Each subject has its own random generator seeded from (seed, subject index), so the
output for a seed does not depend on iteration order. Ground truth is computed from
the true (noise-free) positions and the order version in force, in local time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..geo import to_wgs84, zone_from_geojson
from ..schedule import schedule_windows
from .geography import BOROUGHS, borough_centre, point_zone, probation_office, street_zone
from .plan import MIN, Profile, local_ms, plan_days

__all__ = ["SimSummary", "simulate"]

VERSION = "tagwatch-sim 1"
OFFENCES = ["possession of a bladed article", "robbery", "wounding with intent", "burglary",
            "assault occasioning actual bodily harm", "threats to kill"]
CURFEWS = ["Mon-Sun 19:00-07:00", "Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00", "Mon-Sun 20:00-06:00"]
ATTEND = [(1, 10 * 60, "Tue 10:00-11:00"), (3, 14 * 60, "Thu 14:00-15:00")]


@dataclass
class SimSummary:
    n_subjects: int
    n_devices: int
    n_orders: int
    n_fixes: int
    n_violations: int
    n_noise: int
    start: datetime
    end: datetime
    as_of: datetime
    out_dir: Path


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


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


def _subject(i: int, seed: int, start_ms: int, end_ms: int, start_day: date, days: int):
    rng = np.random.default_rng([seed, i])
    sid, borough = f"S{i + 1:04d}", list(BOROUGHS)[i % 4]
    home = _away(rng, borough_centre(borough), 0, 2500)
    places = [_away(rng, home, 500, 3000) for _ in range(3)]
    friend = _away(rng, home, 900, 2500)
    office = probation_office(borough)
    curfew = CURFEWS[int(rng.choice(3, p=[0.6, 0.3, 0.1]))]
    attend = ATTEND[int(rng.integers(2))] if rng.random() < 0.6 else None
    # Order period: most start with the pilot, some are released a few days in.
    late_start = rng.random() < 0.15
    o_start = local_ms(start_day, (int(rng.integers(1, 5)) * 24 + 12) * 60) if late_start else start_ms
    first_night = None
    if late_start:
        fn_day = datetime.fromtimestamp(o_start / 1000, UTC).date()
        first_night = f"{fn_day.isoformat()}T21:00"
    # Variation: new hours, a new exclusion zone, or a new address.
    variation = None
    if rng.random() < 0.2:
        v_day = start_day.fromordinal(start_day.toordinal() + int(rng.integers(5, max(6, days - 3))))
        variation = (local_ms(v_day, 12 * 60), ["hours", "zone", "address"][int(rng.integers(3))])
        if variation[0] <= o_start + 86_400_000 or variation[0] >= end_ms - 86_400_000:
            variation = None
    new_home = _away(rng, home, 600, 2000) if variation and variation[1] == "address" else None
    # Exclusion zone, well away from every normal route.
    excl = None
    wants_excl = rng.random() < 0.7 or (variation and variation[1] == "zone")
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
                   move_ms=variation[0] if new_home is not None else None)
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
    meta = dict(sid=sid, borough=borough, curfew=curfew, attend=attend, o_start=o_start, first_night=first_night,
                variation=variation, excl=excl, new_home=new_home, rng=rng)
    return prof, meta


def _conditions(prof: Profile, meta: dict, version_from: int, later: bool) -> list[dict]:
    v = meta["variation"]
    home = prof.new_home if (later and v and v[1] == "address") else prof.home
    schedule = "Mon-Sun 21:00-06:00" if (later and v and v[1] == "hours") else meta["curfew"]
    conds = [{"id": "home-curfew", "kind": "curfew", "zone": point_zone(home, 100.0), "schedule": schedule}]
    if meta["first_night"] and not later:
        conds[0]["first_night_start"] = meta["first_night"]
    if meta["excl"] and (later or not (v and v[1] == "zone")):
        conds.append({"id": "victim-address", "kind": "exclusion", "zone": meta["excl"][3], "schedule": None})
    if meta["attend"]:
        conds.append({"id": "probation", "kind": "attendance", "zone": point_zone(prof.office, 100.0),
                      "schedule": meta["attend"][2]})
    if not (meta["excl"] or meta["attend"]) and meta["rng"].random() < 0.5:
        conds.append({"id": "trail", "kind": "trail"})
    return conds


def _rasterize(segs, ts):
    t0 = np.array([s.t0 for s in segs], dtype=np.int64)
    k = np.clip(np.searchsorted(t0, ts, side="right") - 1, 0, len(segs) - 1)
    a = np.array([s.a for s in segs]), np.array([s.b for s in segs])
    t1 = np.array([s.t1 for s in segs], dtype=np.int64)
    frac = np.clip((ts - t0[k]) / np.maximum(t1[k] - t0[k], 1), 0, 1)
    xy = a[0][k] + (a[1][k] - a[0][k]) * frac[:, None]
    indoor = np.array([s.indoor for s in segs])[k]
    return xy, indoor


def _free(busy: np.ndarray, rng, length: int, margin: int = 30) -> int | None:
    """A random start index where ``length`` minutes (plus margins) are not busy."""
    n = busy.size
    for _ in range(40):
        s = int(rng.integers(margin, max(margin + 1, n - length - margin)))
        if not busy[max(0, s - margin): s + length + margin].any():
            busy[s: s + length] = True
            return s
    return None


def _runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    m = np.r_[False, mask, False].astype(np.int8)
    starts, ends = np.flatnonzero(np.diff(m) == 1), np.flatnonzero(np.diff(m) == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends) if e - s >= min_len]


def simulate(out_dir: Path, n_subjects: int = 100, days: int = 14, seed: int = 0,
             start: date = date(2026, 3, 20), progress: Callable[[int, int], None] | None = None) -> SimSummary:
    """Write a synthetic pilot directory (docs/formats.md) and return what it holds."""
    from .subject import simulate_subject  # the per-subject work
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start_ms = local_ms(start, 0)
    end_ms = local_ms(start.fromordinal(start.toordinal() + days), 0)
    enrol = {"format": "tagwatch-enrolment/1", "subjects": [], "devices": [], "assignments": [], "orders": []}
    truth = {"format": "tagwatch-truth/1", "as_of": _iso(end_ms), "violations": [], "noise": []}
    tables = []
    for i in range(n_subjects):
        prof, meta = _subject(i, seed, start_ms, end_ms, start, days)
        table, entries = simulate_subject(prof, meta, start_ms, end_ms)
        tables.append(table)
        for key in ("subjects", "devices", "assignments", "orders"):
            enrol[key].extend(entries[key])
        truth["violations"].extend(entries["violations"])
        truth["noise"].extend(entries["noise"])
        if progress:
            progress(i + 1, n_subjects)
    truth["subject_days"] = round(sum((_ms(o["end"]) - _ms(o["start"])) / 86_400_000 for o in enrol["orders"]), 3)
    fixes = pa.concat_tables(tables).sort_by([("received_ms", "ascending"), ("ts_ms", "ascending")])
    _write_fixes(fixes, out_dir / "fixes.csv")
    (out_dir / "enrolment.json").write_text(json.dumps(enrol, indent=1))
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1))
    pilot = {"format": "tagwatch-pilot/1", "seed": seed, "n_subjects": n_subjects, "days": days,
             "start": _iso(start_ms), "end": _iso(end_ms), "as_of": _iso(end_ms), "timezone": "Europe/London",
             "generator": VERSION}
    (out_dir / "pilot.json").write_text(json.dumps(pilot, indent=1))
    return SimSummary(n_subjects, len(enrol["devices"]), len(enrol["orders"]), fixes.num_rows,
                      len(truth["violations"]), len(truth["noise"]), datetime.fromtimestamp(start_ms / 1000, UTC),
                      datetime.fromtimestamp(end_ms / 1000, UTC), datetime.fromtimestamp(end_ms / 1000, UTC), out_dir)


def _write_fixes(t: pa.Table, path: Path) -> None:
    def stamp(col):
        return pc.strftime(pc.cast(pc.divide(t[col], 1000), pa.timestamp("s", tz="UTC")),
                           format="%Y-%m-%dT%H:%M:%S+00:00")

    def fixed(col, digits):
        vals = t[col].to_numpy(zero_copy_only=False)
        text = np.char.mod(f"%.{digits}f", np.nan_to_num(vals))
        return pa.array(np.where(np.isnan(vals), "", text))

    out = pa.table({
        "device_id": t["device_id"], "ts": stamp("ts_ms"), "lat": fixed("lat", 6), "lon": fixed("lon", 6),
        "accuracy_m": fixed("accuracy_m", 1), "battery_pct": pc.cast(t["battery_pct"], pa.string()),
        "strap": t["strap"], "received_at": stamp("received_ms"),
    })
    with open(path, "wb") as f:
        f.write((",".join(out.column_names) + "\n").encode())
        pcsv.write_csv(out, f, write_options=pcsv.WriteOptions(include_header=False, quoting_style="none"))
