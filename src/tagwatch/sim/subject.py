"""One synthetic subject: fixes with noise and tag-health events, and their ground truth.

The order of work matters: truth from true positions first, then every later episode
(tag-health events, noise) is placed in minutes nothing else uses (``busy``, with
margins), so each truth or noise entry is about one thing and can be scored alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from ..geo import to_wgs84
from .crimes import subject_offence
from .plan import MIN, plan_days
from .profile import OFFENCES
from .tag import battery_levels, charging_minutes, displace, forgotten_days, gps_error, spike_into_zone
from .timeline import free_slot, from_iso, rasterize, to_iso
from .truth import active_conditions, low_battery_runs, mistaken_for, movement_truth, order_spans

__all__ = ["simulate_subject"]

# Expected episodes per subject-day (Poisson), and their length in minutes.
SILENT = (0.03, 40, 120)  # tag shielded or switched off: no rows at all
GSM_LONG = (0.03, 40, 90)  # out of signal, fixes stored and uploaded late: a true no_comms
GSM_SHORT = (0.3, 5, 20)  # noise: uploaded late, but within the no_comms threshold
NOFIX_LONG = (0.04, 25, 60)  # basement: status rows without a position
NOFIX_SHORT = (0.3, 3, 9)  # noise: a short GPS dropout
TAMPER = (0.012, 2, 10)
SPIKES_PER_DAY = 1.0  # multipath: 1-2 fixes 150-400 m off, understated accuracy 15-40 m
DRIFT_PER_DAY = 0.3  # urban canyon: 3-6 fixes 100-200 m off, honest accuracy covering the truth
ZONE_SPIKES_PER_DAY = 0.15  # spikes landing inside an exclusion zone (when the subject comes near one)
SWAP_RATE = 0.03


def _mark(busy: np.ndarray, ts: np.ndarray, a_ms: int, b_ms: int, margin: int = 30) -> None:
    a, b = np.searchsorted(ts, a_ms), np.searchsorted(ts, b_ms)
    busy[max(0, a - margin): b + margin] = True


def simulate_subject(prof, meta, start_ms, end_ms):
    rng, sid, i = meta["rng"], meta["sid"], meta["index"]
    oid, o_start = f"O{i + 1:04d}", meta["o_start"]
    segs = plan_days(prof, rng, o_start, end_ms)
    ts = np.arange(o_start, end_ms, MIN, dtype=np.int64)
    xy, indoor = rasterize(segs, ts)
    n, days = ts.size, ts.size / 1440
    spans = order_spans(prof, meta, end_ms)
    active = active_conditions(spans, ts)

    def violation(kind, cid, s, e, desc):
        return dict(subject_id=sid, kind=kind, condition_id=cid, order_id=oid, start=to_iso(int(s)), end=to_iso(int(e)),
                    description=desc)

    def noise_entry(kind, s, e, desc):
        return dict(subject_id=sid, kind=kind, start=to_iso(int(s)), end=to_iso(int(e)), description=desc)

    violations = [violation(*v) for v in movement_truth(active, ts, xy)]
    noise = [noise_entry(*nz) for nz in prof.noise]
    busy = np.zeros(n, dtype=bool)
    for v in violations:
        _mark(busy, ts, from_iso(v["start"]), from_iso(v["end"]))
    # Kept appointments too: a silent tag or a spike there would make an attendance
    # unprovable, a confound that one truth entry cannot describe.
    for c in active:
        for ws, we in c.windows if c.kind == "attendance" else ():
            _mark(busy, ts, ws, we)
    obs, acc = gps_error(rng, xy, indoor)

    def listed(found, what):
        """A displaced-fix excursion as noise, labelled with the alert it could be mistaken for."""
        if found is not None:
            s, k, r = found
            kind = mistaken_for(active, np.arange(s, s + k), obs[s: s + k])
            noise.append(noise_entry(kind, ts[s], ts[s + k - 1] + MIN, f"GPS {what} of {r:.0f} m over {k} fixes"))

    # The subject comes near an exclusion zone almost only on a near pass (routes keep
    # well clear), so these spikes usually ride on one: the hardest case, and still noise.
    for c in active:
        if c.kind == "exclusion":
            for _ in range(rng.poisson(ZONE_SPIKES_PER_DAY * days)):
                listed(spike_into_zone(rng, busy, xy, obs, acc, c.zone, c.applies), "spike into the exclusion zone")
    for nz in noise:
        _mark(busy, ts, from_iso(nz["start"]), from_iso(nz["end"]))

    def health(rate_lo_hi, kind, truth: bool, desc: str):
        rate, lo, hi = rate_lo_hi
        found = []
        for _ in range(rng.poisson(rate * days)):
            length = int(rng.integers(lo, hi + 1))
            s = free_slot(busy, rng, length)
            if s is None:
                continue
            found.append((s, s + length))
            if truth:
                violations.append(violation(kind, None, ts[s], ts[s + length - 1] + MIN, desc))
            else:
                noise.append(noise_entry(kind, ts[s], ts[s + length - 1] + MIN, desc))
        return found

    silent = health(SILENT, "no_comms", True, "tag silent (shielded or switched off)")
    gsm_long = health(GSM_LONG, "no_comms", True, "out of mobile signal; fixes uploaded late")
    gsm_short = health(GSM_SHORT, "no_comms", False, "short signal loss; fixes uploaded late")
    nofix_long = health(NOFIX_LONG, "no_fix", True, "no GPS position (basement) while reporting")
    nofix_short = health(NOFIX_SHORT, "no_fix", False, "short GPS dropout")
    tamper = health(TAMPER, "strap_tamper", True, "strap tampered")

    for _ in range(rng.poisson(SPIKES_PER_DAY * days)):
        listed(displace(rng, busy, xy, obs, acc, (1, 3), (150, 400), lambda r, k: rng.uniform(15, 40, k)), "spike")
    # Dwell alone would not stop drift (several fixes in a row); judging the accuracy disc does.
    for _ in range(rng.poisson(DRIFT_PER_DAY * days)):
        listed(displace(rng, busy, xy, obs, acc, (3, 7), (100, 200), lambda r, k: r + rng.uniform(40, 80, k)), "drift")

    forgot = forgotten_days(rng, ts)
    drain = rng.uniform(1.6, 2.4)  # %/h: a day's wear (about 45 %) is put back each evening
    at_home = np.hypot(*(xy - _home_at(prof, ts)).T) < 100  # the charger is at home
    battery = battery_levels(charging_minutes(rng, ts, forgot, _utc_date(o_start)) & at_home, drain)
    received = ts + rng.integers(5_000, 30_001, n)
    for a, b in gsm_long + gsm_short:  # everything stored is sent on reconnection
        received[a:b] = ts[b - 1] + MIN + 5_000
    has_pos = np.ones(n, dtype=bool)
    strap = np.full(n, "ok", dtype=object)
    keep = np.ones(n, dtype=bool)
    for (a, b), arr, value in [(r, has_pos, False) for r in nofix_long + nofix_short] + \
            [(r, strap, "tamper") for r in tamper] + [(r, keep, False) for r in silent]:
        arr[a:b] = value
    for a, b in low_battery_runs(ts[keep], battery[keep]):
        violations.append(violation("low_battery", None, a, b, "battery below 20 %"))
    dev, devices, assignments = _devices(rng, i, sid, ts, o_start)
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
    order_type = ["licence", "community", "bail"][int(rng.choice(3, p=[0.5, 0.35, 0.15]))]
    entries = {
        "subjects": [{"id": sid, "name": f"Subject {i + 1:04d}", "risk_level": risk,
                      "offence": offence, "borough": meta["borough"]}],
        "devices": [{"id": d, "kind": "gps", "model": "sim-gps-1"} for d in devices],
        "assignments": assignments,
        "orders": [{"id": oid, "subject_id": sid, "type": order_type, "start": to_iso(o_start), "end": to_iso(end_ms),
                    "versions": [{"effective_from": to_iso(a),
                                  "reason": "initial order" if v == 1 else f"variation: {meta['variation'][1]}",
                                  "conditions": conds} for v, a, b, conds in spans]}],
        "violations": violations,
        "noise": noise,
        "crimes": [crime] if crime else [],
    }
    return table, entries


def _home_at(prof, ts: np.ndarray) -> np.ndarray:
    """The home (BNG x, y) per minute: a variation can move the subject to a new address."""
    home = np.repeat(prof.home[None, :], ts.size, axis=0)
    if prof.move_ms is not None:
        home[ts >= prof.move_ms] = prof.new_home
    return home


def _utc_date(ms: int):
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def _devices(rng, i: int, sid: str, ts: np.ndarray, o_start: int):
    """Device id per minute, devices and assignments: a few tags are swapped mid-pilot."""
    n = ts.size
    dev = np.full(n, f"TAG{i + 1:05d}", dtype=object)
    devices = [f"TAG{i + 1:05d}"]
    assignments = [{"device_id": devices[0], "subject_id": sid, "from": to_iso(o_start), "to": None}]
    if rng.random() < SWAP_RATE and n > 4 * 1440:
        swap = int(ts[int(rng.integers(2 * 1440, n - 2 * 1440))])
        devices.append(f"TAG{i + 1:05d}B")
        dev[ts >= swap] = devices[1]
        assignments[0]["to"] = to_iso(swap)
        assignments.append({"device_id": devices[1], "subject_id": sid, "from": to_iso(swap), "to": None})
    return dev, devices, assignments
