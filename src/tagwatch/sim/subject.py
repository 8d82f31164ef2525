"""One synthetic subject: fixes with noise and tag-health events, and their ground truth."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from ..geo import to_wgs84, zone_from_geojson
from ..schedule import schedule_windows
from .crimes import subject_offence
from .profile import OFFENCES, conditions_of
from .timeline import free_slot, rasterize, runs, to_iso
from .plan import MIN, local_ms, plan_days

__all__ = ["simulate_subject"]

DAY = 86_400_000


def _versions(prof, meta, end_ms):
    """[(version, from_ms, to_ms, conditions)] of the subject's order."""
    v = meta["variation"]
    spans = [(1, meta["o_start"], v[0] if v else end_ms, conditions_of(prof, meta, meta["o_start"], False))]
    if v:
        spans.append((2, v[0], end_ms, conditions_of(prof, meta, v[0], True)))
    return spans


def _movement_truth(spans, ts, xy, sid, oid):
    """Violations of zone conditions from the true positions, version by version."""
    out = []
    for _, a, b, conds in spans:
        in_span = (ts >= a) & (ts < b)
        for c in conds:
            if c["kind"] == "trail":
                continue
            zone = zone_from_geojson(c["zone"])
            d = zone.signed_distance(xy[:, 0], xy[:, 1])
            wins = schedule_windows(c["schedule"], a, b, c.get("first_night_start")) if c.get("schedule") else [(a, b)]
            in_win = np.zeros(ts.size, dtype=bool)
            for ws, we in wins:
                in_win |= (ts >= max(ws, a)) & (ts < min(we, b))
            if c["kind"] == "exclusion":
                found = runs((d < 0) & in_win & in_span, 3)
                out += [("exclusion_breach", c["id"], ts[s], ts[e - 1] + MIN, "inside the exclusion zone") for s, e in found]
            elif c["kind"] == "curfew":
                found = runs((d > 0) & in_win & in_span, 5)
                out += [("curfew_breach", c["id"], ts[s], ts[e - 1] + MIN, "away from the curfew address") for s, e in found]
            elif c["kind"] == "attendance":
                for ws, we in wins:
                    if ws < a or we > b:
                        continue
                    present = int(((d < 0) & (ts >= ws) & (ts < we)).sum())
                    if present < 15:
                        out.append(("attendance_missed", c["id"], ws, we, "did not attend"))
    return [dict(subject_id=sid, kind=k, condition_id=cid, order_id=oid, start=to_iso(int(s)), end=to_iso(int(e)),
                 description=desc) for k, cid, s, e, desc in out]


def _battery(rng, ts, xy, home_at, forgot_days, start_day_ms):
    """Drains 1.6-2.4 %/h; charges to full at home in the evening unless forgotten."""
    drain = rng.uniform(1.6, 2.4) / 60
    charging = np.zeros(ts.size, dtype=bool)
    day0 = datetime.fromtimestamp(start_day_ms / 1000, UTC).date()
    for k in range((ts[-1] - ts[0]) // DAY + 2):
        d = day0.fromordinal(day0.toordinal() + k)
        if d in forgot_days:
            continue
        cs = local_ms(d, rng.uniform(20.0, 21.5) * 60)
        charging |= (ts >= cs) & (ts < cs + 150 * MIN)
    home = home_at(ts)
    charging &= np.hypot(*(xy - home).T) < 100
    b, out = 100.0, np.empty(ts.size)
    for i, ch in enumerate(charging.tolist()):
        b = min(100.0, b + 1.0) if ch else max(3.0, b - drain)
        out[i] = b
    return np.round(out)


def _low_battery_truth(ts, bat):
    out, start = [], None
    for t, v in zip(ts.tolist(), bat.tolist()):
        if start is None and v < 20:
            start = t
        elif start is not None and v >= 25:
            out.append((start, t))
            start = None
    if start is not None:
        out.append((start, int(ts[-1]) + MIN))
    return out


def simulate_subject(prof, meta, start_ms, end_ms):
    rng, sid, i = meta["rng"], meta["sid"], int(meta["sid"][1:]) - 1
    oid, o_start = f"O{i + 1:04d}", meta["o_start"]
    segs = plan_days(prof, rng, o_start, end_ms)
    ts = np.arange(o_start, end_ms, MIN, dtype=np.int64)
    xy, indoor = rasterize(segs, ts)
    n, days = ts.size, ts.size / 1440
    spans = _versions(prof, meta, end_ms)
    violations = _movement_truth(spans, ts, xy, sid, oid)
    noise = [dict(subject_id=sid, kind=k, start=to_iso(s), end=to_iso(e), description=d) for k, s, e, d in prof.noise]
    busy = np.zeros(n, dtype=bool)
    for v in violations + noise:
        a, b = (np.searchsorted(ts, int(datetime.fromisoformat(v[k]).timestamp() * 1000)) for k in ("start", "end"))
        busy[max(0, a - 30): b + 30] = True

    def health(kind, rate, lo, hi, truth: bool, desc: str):
        found = []
        for _ in range(rng.poisson(rate * days)):
            length = int(rng.integers(lo, hi + 1))
            s = free_slot(busy, rng, length)
            if s is not None:
                found.append((s, s + length))
                entry = dict(subject_id=sid, kind=kind, start=to_iso(int(ts[s])), end=to_iso(int(ts[s + length - 1]) + MIN),
                             description=desc)
                (violations if truth else noise).append({**entry, "condition_id": None, "order_id": oid} if truth else entry)
        return found

    silent = health("no_comms", 0.03, 40, 120, True, "tag silent (shielded or switched off)")
    gsm_long = health("no_comms", 0.03, 40, 90, True, "out of mobile signal; fixes uploaded late")
    gsm_short = health("no_comms", 0.3, 5, 20, False, "short signal loss; fixes uploaded late")
    nofix_long = health("no_fix", 0.04, 25, 60, True, "no GPS position (basement) while reporting")
    nofix_short = health("no_fix", 0.3, 3, 9, False, "short GPS dropout")
    tamper = health("strap_tamper", 0.012, 2, 10, True, "strap tampered")
    # GPS noise: 3-10 m outdoors, 10-25 m indoors; accuracy about 2 sigma.
    sigma = np.where(indoor, rng.uniform(10, 25, n), rng.uniform(3, 10, n))
    obs = xy + rng.normal(0, 1, (n, 2)) * sigma[:, None]
    acc = np.clip(2 * sigma * rng.uniform(0.8, 1.25, n), 5, 50)
    def displace(rate, n_fixes, metres, accuracy, what):
        """Noise that moves a few consecutive fixes away from the true position."""
        for _ in range(rng.poisson(rate * days)):
            k = int(rng.integers(*n_fixes))
            s = free_slot(busy, rng, k, margin=10)
            if s is None:
                continue
            ang, r = rng.uniform(0, 2 * np.pi), rng.uniform(*metres)
            obs[s: s + k] = xy[s: s + k] + r * np.array([np.cos(ang), np.sin(ang)]) + rng.normal(0, 10, (k, 2))
            acc[s: s + k] = accuracy(r, k)
            noise.append(dict(subject_id=sid, kind="curfew_breach", start=to_iso(int(ts[s])),
                              end=to_iso(int(ts[s + k - 1]) + MIN), description=f"GPS {what} of {r:.0f} m over {k} fixes"))

    # Multipath spikes: one or two fixes thrown 150-400 m with an understated accuracy.
    displace(1.0, (1, 3), (150, 400), lambda r, k: rng.uniform(15, 40, k), "spike")
    # Sustained drift (urban canyon, indoors by a window): 3-6 fixes 100-200 m off, with an
    # honest accuracy that covers the true position. Dwell alone would not stop these;
    # judging the accuracy disc does.
    displace(0.3, (3, 7), (100, 200), lambda r, k: r + rng.uniform(40, 80, k), "drift")
    home_pos = prof.home
    move = prof.move_ms

    def home_at(t):
        h = np.repeat(home_pos[None, :], t.size, axis=0)
        if move is not None:
            h[t >= move] = prof.new_home
        return h

    # Sorted: iterating a set of dates would follow the per-process hash seed.
    forgot = {d for d in sorted({datetime.fromtimestamp(t / 1000, UTC).date() for t in ts[::1440].tolist()})
              if rng.random() < 0.06}
    battery = _battery(rng, ts, xy, home_at, forgot, o_start)
    received = ts + rng.integers(5_000, 30_001, n)
    for a, b in gsm_long + gsm_short:
        received[a:b] = ts[b - 1] + MIN + 5_000
    has_pos = np.ones(n, dtype=bool)
    for a, b in nofix_long + nofix_short:
        has_pos[a:b] = False
    strap = np.full(n, "ok", dtype=object)
    for a, b in tamper:
        strap[a:b] = "tamper"
    keep = np.ones(n, dtype=bool)
    for a, b in silent:
        keep[a:b] = False
    for a, b in _low_battery_truth(ts[keep], battery[keep]):
        violations.append(dict(subject_id=sid, kind="low_battery", condition_id=None, order_id=oid,
                               start=to_iso(a), end=to_iso(b), description="battery below 20 %"))
    # Devices: a few tags are swapped mid-pilot.
    dev = np.full(n, f"TAG{i + 1:05d}", dtype=object)
    devices = [f"TAG{i + 1:05d}"]
    assignments = [{"device_id": devices[0], "subject_id": sid, "from": to_iso(o_start), "to": None}]
    if rng.random() < 0.03 and n > 4 * 1440:
        swap = int(ts[int(rng.integers(2 * 1440, n - 2 * 1440))])
        devices.append(f"TAG{i + 1:05d}B")
        dev[ts >= swap] = devices[1]
        assignments[0]["to"] = to_iso(swap)
        assignments.append({"device_id": devices[1], "subject_id": sid, "from": to_iso(swap), "to": None})
    lon, lat = to_wgs84(obs[:, 0], obs[:, 1])
    table = pa.table({
        "device_id": pa.array(dev[keep], pa.string()),
        "ts_ms": ts[keep],
        "lat": np.where(has_pos, lat, np.nan)[keep],
        "lon": np.where(has_pos, lon, np.nan)[keep],
        "accuracy_m": np.where(has_pos, acc, np.nan)[keep],
        "battery_pct": battery[keep].astype(np.int64),
        "strap": pa.array(strap[keep], pa.string()),
        "received_ms": received[keep],
    })
    risk = ["low", "medium", "high"][int(rng.choice(3, p=[0.15, 0.45, 0.4]))]
    offence = OFFENCES[int(rng.integers(len(OFFENCES)))]
    # An offence where the subject truly was, outdoors, while the tag was reporting (own generator).
    crime = subject_offence(meta["seed"], meta["index"], sid, offence, ts[keep], xy[keep], ~indoor[keep])
    entries = {
        "subjects": [{"id": sid, "name": f"Subject {i + 1:04d}", "risk_level": risk,
                      "offence": offence, "borough": meta["borough"]}],
        "devices": [{"id": d, "kind": "gps", "model": "sim-gps-1"} for d in devices],
        "assignments": assignments,
        "orders": [{"id": oid, "subject_id": sid, "type": ["licence", "community", "bail"][int(rng.choice(3, p=[0.5, 0.35, 0.15]))],
                    "start": to_iso(o_start), "end": to_iso(end_ms),
                    "versions": [{"effective_from": to_iso(a), "reason": "initial order" if v == 1 else f"variation: {meta['variation'][1]}",
                                  "conditions": conds} for v, a, b, conds in spans]}],
        "violations": violations,
        "noise": noise,
        "crimes": [crime] if crime else [],
    }
    return table, entries
