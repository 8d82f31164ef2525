"""Synthetic alcohol-abstinence (AAMR) orders: transdermal readings every 30 minutes, with truth.

Each subject wears an alcohol tag for an order of 30-120 days imposed during the pilot (more
of them later on, as a new pilot ramps up). A few subjects lapse and drink; their sessions
give a blood alcohol curve (absorption from the gut, zero-order elimination) that reaches
the skin delayed, smoothed and attenuated (the transdermal curve). Every tag also sees what
must not confirm: hand-gel spikes, slow sensor drift and single out-of-range sensor
readings; and rarely what must alert: obstruction, strap tamper, hours of missed readings.
Readings reach the server in a nightly upload from the home base station (so they arrive
late, some a day late). Each subject has its own random generator (seed, 50, index), so a
seed gives the same readings whatever the order of work, and the GPS pilot is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from ..schedule import LONDON
from .plan import local_ms
from .timeline import free_slot, to_iso

__all__ = ["AlcoholSim", "simulate_alcohol", "tac_curve", "BOROUGHS"]

BOROUGHS = ("Croydon", "Lambeth", "Southwark", "Sutton")  # the London AAMR pilot's South London LJA
OFFENCES = ["drink driving", "assault", "criminal damage", "drunk and disorderly", "public order offence",
            "theft from a shop"]
READ_MS = 1_800_000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
ZERO_G_DL = 0.005  # the truth of an event: where the noise-free curve is above this
RAMP_POW = 1.0  # orders imposed at a rate rising linearly as the pilot ramps up (density ~ time ** RAMP_POW)
LAPSE_P = 0.1  # share of subjects who drink during the order (one in ten lapses)
GEL_PER_DAY = 0.1  # alcohol on the sensor from outside: one reading (sometimes two) high
DRIFT_PER_DAY = 1 / 60  # slow sensor drift over 1.5-3 days
GLITCH_PER_DAY = 0.05  # a single out-of-range infrared or temperature reading
OBSTRUCT_PER_DAY = 1 / 200  # 2-12 hours of something between sensor and skin
TAMPER_PER_DAY = 1 / 600  # the strap reports tamper for 1-4 readings
GAP_PER_DAY = 1 / 250  # 3-20 hours of missed readings (tag fault, shielding)
MISS_P = 0.004  # a single missed reading
UPLOAD_FAIL_P = 0.03  # the nightly upload fails; the next night's carries the readings


@dataclass
class AlcoholSim:
    subjects: list = field(default_factory=list)
    devices: list = field(default_factory=list)
    assignments: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    violations: list = field(default_factory=list)
    noise: list = field(default_factory=list)
    tables: list = field(default_factory=list)

    @property
    def n_readings(self) -> int:
        return sum(t.num_rows for t in self.tables)

    def table(self) -> pa.Table:
        return pa.concat_tables(self.tables) if self.tables else _empty_table()


def tac_curve(rng: np.random.Generator, peak_g_dl: float, step_h: float = 1 / 12, hours: float = 48.0):
    """A drinking session's transdermal curve on a grid from the first drink (h, g/dL).

    Blood alcohol: the session's dose taken evenly over 1-4 hours, absorbed first-order
    (rate 2-6 /h), eliminated at 0.012-0.022 g/dL/h (zero order). The skin sees it after a
    0.5-1 h delay, smoothed with a 1-2 h time constant and scaled by 0.7-1.0, so the
    transdermal peak comes 1.5-3 h after the blood peak. The dose is scaled until the
    transdermal peak is ``peak_g_dl``.
    """
    drink_h, ka = rng.uniform(1, 4), rng.uniform(2, 6)
    beta, lag_h, tau_h, scale = rng.uniform(0.012, 0.022), rng.uniform(0.5, 1.0), rng.uniform(1, 2), rng.uniform(0.7, 1)
    grid = np.arange(0, hours, step_h)
    n = grid.size
    absorb = 1 - np.exp(-ka * step_h)
    smooth = 1 - np.exp(-step_h / tau_h)
    lag = int(round(lag_h / step_h))
    gut_kernel = (1 - absorb) ** np.arange(n)
    skin_kernel = (1 - smooth) ** np.arange(n)

    def run(dose: float) -> np.ndarray:
        intake = np.where(grid < drink_h, dose / drink_h * step_h, 0.0)
        absorbed = absorb * np.convolve(intake, gut_kernel)[:n]
        # Zero-order elimination never below zero: W_i = max(0, W_i-1 + x_i), solved with a running minimum.
        total = np.cumsum(absorbed - beta * step_h)
        bac = total - np.minimum(0.0, np.minimum.accumulate(total))
        delayed = np.r_[np.zeros(lag), bac[: n - lag]] * scale
        return smooth * np.convolve(delayed, skin_kernel)[:n]

    lo, hi = 0.0, peak_g_dl / scale + beta * drink_h
    while run(hi).max() < peak_g_dl:
        hi *= 2
    for _ in range(40):  # the peak grows with the dose: bisect for it
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if run(mid).max() < peak_g_dl else (lo, mid)
    tac = run(hi)
    return grid, tac, {"drink_h": drink_h, "elimination_g_dl_h": beta * scale, "lag_h": lag_h, "tau_h": tau_h}


def _empty_table() -> pa.Table:
    return pa.table({"device_id": pa.array([], pa.string()), "ts_ms": pa.array([], pa.int64()),
                     "tac": pa.array([], pa.float64()), "skin_temp_c": pa.array([], pa.float64()),
                     "ir_distance_mm": pa.array([], pa.float64()), "tamper": pa.array([], pa.bool_()),
                     "received_ms": pa.array([], pa.int64())})


def _local_date(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, LONDON).date()


def simulate_alcohol(n: int, seed: int, start_ms: int, end_ms: int, lapse_p: float = LAPSE_P) -> AlcoholSim:
    """``n`` subjects on alcohol-abstinence orders imposed in [start_ms, end_ms).

    ``lapse_p`` is the share of subjects who drink (tests raise it to get more events).
    """
    out = AlcoholSim()
    for i in range(n):
        _subject(out, i, seed, start_ms, end_ms, lapse_p)
    return out


def _subject(out: AlcoholSim, i: int, seed: int, start_ms: int, end_ms: int, lapse_p: float) -> None:
    rng = np.random.default_rng([seed, 50, i])
    sid, dev, oid = f"A{i + 1:04d}", f"CAM{i + 1:05d}", f"AAMR{i + 1:04d}"
    first_day = _local_date(start_ms)
    n_days = max(1, (end_ms - start_ms) // DAY_MS)
    day = first_day + timedelta(days=int(n_days * rng.random() ** (1 / (1 + RAMP_POW))))
    fit_min = float(rng.uniform(10 * 60, 16 * 60))
    o_start = max(start_ms, local_ms(day, fit_min)) // 1000 * 1000
    length_days = int(rng.integers(30, 121))
    o_end = local_ms(day + timedelta(days=length_days), fit_min) // 1000 * 1000
    stop = min(o_end, end_ms)
    out.subjects.append({"id": sid, "name": f"Subject {sid}", "risk_level": ["low", "medium", "high"][int(rng.choice(3, p=[0.4, 0.45, 0.15]))],
                         "offence": OFFENCES[int(rng.integers(len(OFFENCES)))], "borough": BOROUGHS[i % len(BOROUGHS)]})
    out.devices.append({"id": dev, "kind": "alcohol", "model": "sim-cam-1"})
    out.assignments.append({"device_id": dev, "subject_id": sid, "from": to_iso(o_start), "to": None})
    out.orders.append({"id": oid, "subject_id": sid, "type": "community", "start": to_iso(o_start), "end": to_iso(o_end),
                       "versions": [{"effective_from": to_iso(o_start), "reason": "alcohol abstinence monitoring requirement",
                                     "conditions": [{"id": "aamr", "kind": "alcohol_abstinence"}]}]})
    ts = o_start + 1000 * int(rng.integers(60, 20 * 60)) + np.arange(0, max(0, stop - o_start), READ_MS, dtype=np.int64)
    ts = ts[ts < stop]
    n = ts.size
    if n == 0:
        return
    span_days = n * READ_MS / DAY_MS
    busy = np.zeros(n, dtype=bool)
    true_tac = np.zeros(n)
    obs_extra = np.zeros(n)
    keep = np.ones(n, dtype=bool)
    tamper = np.zeros(n, dtype=bool)
    obstructed = np.zeros(n, dtype=bool)
    ir = rng.uniform(2.0, 5.0) + rng.normal(0, 0.2, n)
    temp = rng.normal(31.5, 0.6, n) + 0.8 * np.sin(2 * np.pi * ((ts % DAY_MS) / DAY_MS - 0.3))

    def violation(kind, a, b, desc):
        out.violations.append({"subject_id": sid, "kind": kind, "condition_id": "aamr", "order_id": oid,
                               "start": to_iso(int(a)), "end": to_iso(int(b)), "description": desc})

    def noise(kind, a, b, desc):
        out.noise.append({"subject_id": sid, "kind": kind, "start": to_iso(int(a)), "end": to_iso(int(b)),
                          "description": desc})

    # Drinking sessions of a lapsing subject: mostly evenings, some afternoons.
    if rng.random() < lapse_p:
        rate = rng.uniform(1 / 30, 1 / 10) if rng.random() < 0.5 else rng.uniform(1 / 8, 1 / 3)
        for _ in range(rng.poisson(rate * span_days)):
            d = _local_date(int(ts[0])) + timedelta(days=int(rng.integers(0, max(1, int(span_days)))))
            hour = rng.uniform(18, 23) if rng.random() < 0.7 else rng.uniform(12, 18)
            t0 = local_ms(d, hour * 60)
            peak = float(np.clip(np.exp(rng.normal(np.log(0.05), 0.45)), 0.025, 0.15))
            grid, tac, meta = tac_curve(rng, peak)
            above = np.flatnonzero(tac > ZERO_G_DL)
            a_ms, b_ms = t0 + int(grid[above[0]] * HOUR_MS), t0 + int(grid[above[-1]] * HOUR_MS)
            i0, i1 = int(np.searchsorted(ts, a_ms)), int(np.searchsorted(ts, b_ms))
            if i0 < 8 or i1 + 8 >= n or busy[i0 - 8: i1 + 8].any():
                continue  # not wholly inside the order, or too near another episode: not drunk
            busy[i0 - 8: i1 + 8] = True
            true_tac += np.interp((ts - t0) / HOUR_MS, grid, tac, left=0.0, right=0.0)
            violation("alcohol_drinking", a_ms, b_ms, f"drank for {meta['drink_h']:.1f} h from {to_iso(t0)}; true "
                      f"TAC peak {peak:.3f} g/dL, falling {meta['elimination_g_dl_h']:.3f} g/dL/h")
    # Slow sensor drift: a hump of 0.012-0.03 g/dL rising and falling over 18-36 hours each.
    for _ in range(rng.poisson(DRIFT_PER_DAY * span_days)):
        up, down = rng.uniform(18, 36), rng.uniform(18, 36)
        k = int((up + down) * 2)
        s = free_slot(busy, rng, k, margin=8)
        if s is None:
            continue
        h = (ts[s: s + k] - ts[s]) / HOUR_MS
        amp = rng.uniform(0.012, 0.03)
        hump = np.where(h < up, (1 - np.cos(np.pi * h / up)) / 2, (1 + np.cos(np.pi * np.clip(h - up, 0, down) / down)) / 2)
        obs_extra[s: s + k] += amp * hump
        noise("alcohol_drinking", ts[s], ts[min(s + k, n - 1)], f"slow sensor drift to {amp:.3f} g/dL")
    # Hand gel or another ethanol product on the sensor: one or two high readings.
    for _ in range(rng.poisson(GEL_PER_DAY * span_days)):
        k = 2 if rng.random() < 0.3 else 1
        s = free_slot(busy, rng, k, margin=6)
        if s is None:
            continue
        level = rng.uniform(0.02, 0.12)
        obs_extra[s] += level
        if k == 2:
            obs_extra[s + 1] += level * rng.uniform(0.2, 0.5)
        noise("alcohol_drinking", ts[s] - 60_000, ts[s + k - 1] + 60_000, f"environmental alcohol spike {level:.3f} g/dL")
    # Obstruction: something between sensor and skin; the sensor then reads no alcohol.
    for _ in range(rng.poisson(OBSTRUCT_PER_DAY * span_days)):
        k = int(rng.integers(4, 25))
        s = free_slot(busy, rng, k, margin=6)
        if s is None:
            continue
        obstructed[s: s + k] = True
        if rng.random() < 0.5:
            ir[s: s + k] = rng.uniform(0.1, 0.7, k)
            what = "an object against the sensor window (infrared distance under 1 mm)"
        else:
            temp[s: s + k] = rng.uniform(16, 23, k)
            what = "the sensor insulated from the skin (skin temperature under 25 C)"
        violation("alcohol_obstruction", ts[s], ts[s + k], what)
    for _ in range(rng.poisson(TAMPER_PER_DAY * span_days)):
        k = int(rng.integers(1, 5))
        s = free_slot(busy, rng, k, margin=6)
        if s is not None:
            tamper[s: s + k] = True
            violation("alcohol_tamper", ts[s], ts[s + k], "strap tampered")
    for _ in range(rng.poisson(GAP_PER_DAY * span_days)):
        k = int(rng.integers(6, 41))
        s = free_slot(busy, rng, k, margin=6)
        if s is not None:
            keep[s: s + k] = False
            violation("alcohol_no_readings", ts[s - 1], ts[s + k], f"{k} readings missed (tag fault or shielded)")
    # Single glitches and single missed readings: must not alert.
    for _ in range(rng.poisson(GLITCH_PER_DAY * span_days)):
        s = free_slot(busy, rng, 1, margin=3)
        if s is not None:
            ir[s] = rng.uniform(0.1, 0.7)
            noise("alcohol_obstruction", ts[s] - 60_000, ts[s] + 60_000, "one infrared reading out of range")
    keep &= ~((rng.random(n) < MISS_P) & ~busy)
    obs = true_tac * (1 + rng.normal(0, 0.03, n)) + obs_extra + rng.normal(0, 0.0012, n)
    obs = np.where(obstructed, np.abs(rng.normal(0, 0.0008, n)), obs)
    obs = np.round(np.clip(obs, 0, None), 3)
    received = _received(rng, ts, end_ms)
    out.tables.append(pa.table({
        "device_id": pa.array([dev] * int(keep.sum()), pa.string()), "ts_ms": ts[keep], "tac": obs[keep],
        "skin_temp_c": np.round(temp, 1)[keep], "ir_distance_mm": np.round(np.clip(ir, 0, None), 1)[keep],
        "tamper": tamper[keep], "received_ms": received[keep]}))


def _received(rng: np.random.Generator, ts: np.ndarray, end_ms: int) -> np.ndarray:
    """Nightly uploads from the base station at home (local 01:00-05:00); a few fail."""
    first, last = _local_date(int(ts[0])), _local_date(int(ts[-1])) + timedelta(days=2)
    minute = float(rng.uniform(60, 300))
    nights = [local_ms(first + timedelta(days=k), minute) for k in range((last - first).days + 1)]
    uploads = np.array([t for t in nights if rng.random() >= UPLOAD_FAIL_P], dtype=np.int64)
    k = np.searchsorted(uploads, ts, side="right")
    at = np.where(k < uploads.size, uploads[np.minimum(k, uploads.size - 1)], end_ms)
    return np.minimum(at + rng.integers(30_000, 600_000, ts.size), max(end_ms, int(ts[-1]) + 1)).astype(np.int64)


