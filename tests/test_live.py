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

import pytest
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


# -- the clock rules: alerts with no data, on the engine's own ticks ---------------------------------
TICK = 15_000


def _reports(b, dev, start_ms, end_ms, where=(0.0, 0.0)):
    lon, lat = b.offset(*where)
    return [{"device_id": dev, "ts": iso(t), "lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": 10,
             "received_at": iso(t + 5_000)} for t in range(start_ms, end_ms, MIN)]


def _world(tmp_path, b, conditions, order_start=T0, order_end=None, name="w"):
    store = open_store(f"sqlite:///{tmp_path / name}.db")
    store.add_subject(Subject("S1"), T0)
    store.add_device(Device("TAG1"), T0)
    store.assign("TAG1", "S1", T0 - 3_600_000)
    store.add_order(Order("O1", "S1", OrderType.LICENCE, order_start, order_end,
                          (OrderVersion("O1", 1, order_start, conditions_checked(conditions)),)), T0)
    evaluation.set_settings(store, no_comms_s=600)
    return store


CLOCK_CASES = {
    # the tag falls silent at 10:30: no_comms 10 minutes after its last arrival
    "no_comms": (lambda b: [{"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, 0)}],
                 T0, None, T0 + 30 * MIN, T0 + 60 * MIN, "no_comms"),
    # an appointment 10:00-11:00 at the office 2 km away; the tag reports from home until 11:00, then nothing
    "attendance_missed": (lambda b: [{"id": "office", "kind": "attendance", "zone": b.circle(100, 2000, 0),
                                      "schedule": "daily 10:00-11:00"}],
                          T0, None, T0 + 59 * MIN, T0 + 75 * MIN, "attendance_missed"),
    # silent from 18:45; the curfew starts at 19:00 with no data: the centre must hear of the silence
    "curfew_starts_while_silent": (lambda b: [{"id": "home", "kind": "curfew", "zone": b.circle(100),
                                               "schedule": "daily 19:00-07:00"}],
                                   T0, None, T0 + 525 * MIN, T0 + 560 * MIN, "no_comms"),
    # the order starts at 11:00 while the tag sends nothing: the start counts as contact
    "order_starts": (lambda b: [{"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, 0)}],
                     T0 + 60 * MIN, None, T0 + 10 * MIN, T0 + 90 * MIN, "no_comms"),
}


@pytest.mark.parametrize("case", list(CLOCK_CASES), ids=list(CLOCK_CASES))
def test_clock_rules_fire_on_ticks_with_no_data(tmp_path, b, case):
    conditions, order_start, order_end, silent_from, until, kind = CLOCK_CASES[case]
    store = _world(tmp_path, b, conditions(b), order_start, order_end)
    ref = _world(tmp_path, b, conditions(b), order_start, order_end, name="ref")
    rows = _reports(b, "TAG1", T0, silent_from)
    clock = Clock(silent_from)
    engine = LiveEngine(store, clock, LiveSettings(tick_s=TICK / 1000, sweep_s=10**9))
    if rows:
        assert engine.ingest_now(rows, "tag").accepted == len(rows)
        ingest_records(ref, http_records(rows), "tag", now_ms=silent_from)
    raised_at = None
    while clock.t < until:
        clock.t += TICK
        engine.cycle()
        evaluation.evaluate(ref, clock.t, now_ms=clock.t)
        assert alert_set(store) == alert_set(ref), iso(clock.t)  # at every tick, what the batch says then
        if raised_at is None and any(a["kind"] == kind for a in store.alerts()):
            raised_at = clock.t
    assert raised_at is not None, f"no {kind} alert by {iso(until)}"
    due = min(a["confirmed_ms"] for a in store.alerts(kind=kind))
    assert due <= raised_at <= due + TICK  # within one tick of the moment the rule says


def test_an_open_breach_ends_with_the_order(tmp_path, b):
    """The order ends at 11:00 while the subject stands in the exclusion zone: the alert closes then."""
    conds = [{"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, 0)}]
    store = _world(tmp_path, b, conds, T0, T0 + 60 * MIN)
    clock = Clock(T0 + 40 * MIN)
    engine = LiveEngine(store, clock, LiveSettings(sweep_s=10**9))
    for row in _reports(b, "TAG1", T0 + 40 * MIN, T0 + 70 * MIN, where=(1000.0, 0.0)):
        clock.t = parse_ts(row["received_at"])
        engine.ingest_now([row], "tag")
        engine.cycle()
        if clock.t < T0 + 60 * MIN and clock.t > T0 + 45 * MIN:
            assert [a["end_ms"] for a in store.alerts(kind="exclusion_breach")] == [None]
    ref = _world(tmp_path, b, conds, T0, T0 + 60 * MIN, name="ref")
    ingest_records(ref, http_records(_reports(b, "TAG1", T0 + 40 * MIN, T0 + 70 * MIN, (1000.0, 0.0))), "t", clock.t)
    evaluation.evaluate(ref, clock.t, now_ms=clock.t)
    assert alert_set(store) == alert_set(ref)
    (end,) = [a["end_ms"] for a in store.alerts(kind="exclusion_breach")]
    assert end is not None and T0 + 58 * MIN <= end <= T0 + 60 * MIN  # closed by the order's end


def test_a_catching_up_burst_is_judged_once_it_is_in(tmp_path, b):
    """A tag back in signal uploads an hour it held; its alerts are published when fresh fixes follow."""
    conds = [{"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, 0)}]
    store = _world(tmp_path, b, conds)
    now = T0 + 120 * MIN
    clock = Clock(now)
    engine = LiveEngine(store, clock, LiveSettings(sweep_s=10**9, burst_quiet_s=30))
    backlog = _reports(b, "TAG1", T0, T0 + 60 * MIN, where=(1000.0, 0.0))  # an hour in the zone...
    for r in backlog:
        r["received_at"] = iso(now)
    events = []
    engine.bus.publish = events.append
    for i in range(0, len(backlog), 10):  # ...arriving in six requests
        engine.ingest_now(backlog[i:i + 10], "tag")
        engine.cycle()
        clock.t += 1_000
    assert not [e for e in events if e["type"] == "alert"]  # held while it catches up
    engine.ingest_now(_reports(b, "TAG1", clock.t - 2 * MIN, clock.t - MIN), "tag")  # fresh: caught up
    engine.cycle()
    alerts = [e for e in events if e["type"] == "alert"]
    # once, as new: the breach, and the silence while the tag was out of signal
    assert sorted((e["alert"]["kind"], e["change"]) for e in alerts) == [("exclusion_breach", "new"), ("no_comms", "new")]
