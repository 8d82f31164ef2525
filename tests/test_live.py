"""The live engine gives exactly the alerts of a batch evaluation of the same data.

Fixes of two subjects (breaches, drift, a GPS dropout, tamper, a GSM outage uploaded late,
re-sent duplicates, an order variation mid-stream) go through the engine's group-commit path
in random batches, in order or shuffled, with the clock moving on between batches (and past
the last fix, so the clock rules must fire with no data). The alerts the engine leaves must be
those ``tagwatch evaluate`` gives on the final data at the final time, alert by alert.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagwatch.codec import conditions_checked, parse_ts
from tagwatch.live.engine import LiveEngine, LiveSettings
from tagwatch.model import Device, Order, OrderType, OrderVersion, Subject, iso
from tagwatch.services import evaluation
from tagwatch.services.ingest import http_records, ingest_records
from tagwatch.store import open_store

T0 = 1_774_000_800_000  # 2026-03-20T10:00:00Z
MIN = 60_000
N = 12 * 60  # minutes of data per subject
SUBJECTS = (("S1", "TAG1", 0.0), ("S2", "TAG2", -3000.0))


class Clock:
    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def enrolled(path: Path, b):
    store = open_store(f"sqlite:///{path}")
    for sid, dev, dy in SUBJECTS:
        store.add_subject(Subject(sid), T0)
        store.add_device(Device(dev), T0)
        store.assign(dev, sid, T0)
        conds = [{"id": "home", "kind": "curfew", "zone": b.circle(100, 0, dy), "schedule": "daily 19:00-07:00"},
                 {"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, dy)}]
        varied = [{**conds[0], "schedule": "daily 21:00-06:00"}, conds[1]]
        versions = (OrderVersion(f"O{sid}", 1, T0, conditions_checked(conds)),)
        if sid == "S1":  # varied at 18:00, before the evening's curfew
            versions += (OrderVersion(f"O{sid}", 2, T0 + 8 * 60 * MIN, conditions_checked(varied)),)
        store.add_order(Order(f"O{sid}", sid, OrderType.LICENCE, T0, None, versions), T0)
    return store


def scenario(b, excursions, spikes, outage, dropout, tamper_at):
    rows = []
    for sid, dev, dy in SUBJECTS:
        for m in range(N):
            t = T0 + m * MIN
            east = next((dist for start, length, dist, who in excursions if who == sid and start <= m < start + length), 0.0)
            if (sid, m) in spikes:
                east = 1000.0
            has_pos = not (dropout[0] <= m < dropout[0] + dropout[1])
            late = sid == "S1" and outage[0] <= m < outage[0] + outage[1]
            received = T0 + (outage[0] + outage[1]) * MIN + 20_000 if late else t + 15_000
            lon, lat = b.offset(east, dy)
            rows.append({"device_id": dev, "ts": iso(t), "lat": round(lat, 6) if has_pos else None,
                         "lon": round(lon, 6) if has_pos else None, "accuracy_m": 12,
                         "battery_pct": max(5, 100 - m // 8),
                         "strap": "tamper" if tamper_at is not None and m in (tamper_at, tamper_at + 1) else "ok",
                         "received_at": iso(received)})
    return rows


def alert_set(store):
    return sorted((a["subject_id"], a["kind"], a["order_version"], a["condition_id"], a["start_ms"], a["end_ms"],
                   a["confirmed_ms"]) for a in store.alerts())


excursion = st.tuples(st.integers(0, N - 1), st.integers(1, 90), st.sampled_from([300.0, 1000.0]),
                      st.sampled_from(["S1", "S2"]))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(excursions=st.lists(excursion, max_size=5),
       spikes=st.sets(st.tuples(st.sampled_from(["S1", "S2"]), st.integers(0, N - 1)), max_size=5),
       outage=st.tuples(st.integers(0, N - 1), st.integers(0, 80)),
       dropout=st.tuples(st.integers(0, N - 1), st.integers(0, 40)),
       tamper_at=st.one_of(st.none(), st.integers(0, N - 2)),
       shuffled=st.booleans(), n_batches=st.integers(1, 12), resend=st.integers(0, 30),
       silence_min=st.sampled_from([0, 20, 45, 180]), seed=st.integers(0, 2**32 - 1))
def test_streamed_arrivals_give_the_batch_alerts(b, excursions, spikes, outage, dropout, tamper_at, shuffled,
                                                 n_batches, resend, silence_min, seed):
    rows = scenario(b, excursions, spikes, outage, dropout, tamper_at)
    rnd = random.Random(seed)
    last_rx = max(parse_ts(r["received_at"]) for r in rows)
    as_of = last_rx + silence_min * MIN
    with tempfile.TemporaryDirectory() as tmp:
        ref = enrolled(Path(tmp) / "ref.db", b)
        ingest_records(ref, http_records(rows), "all", now_ms=as_of)
        evaluation.set_settings(ref, no_comms_s=1800)
        evaluation.evaluate(ref, as_of, now_ms=as_of)
        expected = alert_set(ref)

        store = enrolled(Path(tmp) / "live.db", b)
        evaluation.set_settings(store, no_comms_s=1800)
        clock = Clock(T0)
        engine = LiveEngine(store, clock, LiveSettings(burst_quiet_s=0, sweep_s=10**9))
        arrivals = sorted(rows, key=lambda r: parse_ts(r["received_at"]))
        if shuffled:
            rnd.shuffle(arrivals)
        arrivals += rnd.sample(rows, resend)  # a gateway re-sending what it is not sure was stored
        cuts = sorted(rnd.sample(range(1, len(arrivals)), min(n_batches, len(arrivals)) - 1))
        for batch in (arrivals[a:z] for a, z in zip([0, *cuts], [*cuts, len(arrivals)])):
            clock.t = max(clock.t, *(parse_ts(r["received_at"]) for r in batch))
            engine.ingest_now(batch, "stream")
            engine.cycle()
            if rnd.random() < 0.3:  # time passes with no data: the clock rules look
                clock.t = min(as_of, clock.t + rnd.randrange(1, 40) * MIN)
                engine.cycle()
        while clock.t < as_of:  # the monitor's ticks after the last report
            clock.t = min(as_of, clock.t + 5 * MIN)
            engine.cycle()
        assert alert_set(store) == expected
    assert expected or not (excursions or tamper_at is not None or silence_min > 30)
