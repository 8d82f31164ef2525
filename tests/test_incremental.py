"""Late and out-of-order arrival gives exactly the alerts of in-order arrival.

A day of one subject's tag data with breaches, drift, a GPS dropout, tamper and a GSM
outage whose fixes are uploaded late is delivered in a random order, in random batches,
each followed by the incremental evaluation a live system would run (horizon = latest
arrival so far). The final alerts must equal one evaluation of all data at once.
"""

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagwatch.services import evaluation, ingest
from tagwatch import codec as tw_codec
from tagwatch.codec import conditions_checked
from tagwatch.model import Device, Order, OrderType, OrderVersion, Subject, iso
from tagwatch.store import open_store

T0 = 1_774_000_800_000  # 2026-03-20T10:00:00Z
MIN = 60_000
N = 20 * 60  # minutes of data


def scenario(excursions, spikes, outage, dropout, tamper_at, offset):
    rows = []
    for m in range(N):
        t = T0 + m * MIN
        east = 0.0
        for start, length, dist in excursions:
            if start <= m < start + length:
                east = dist
        if m in spikes:
            east = 1000.0
        has_pos = not (dropout[0] <= m < dropout[0] + dropout[1])
        late = outage[0] <= m < outage[0] + outage[1]
        received = T0 + (outage[0] + outage[1]) * MIN if late else t + 15_000
        lon, lat = offset(east, 0)
        rows.append({"device_id": "TAG1", "ts": iso(t),
                     "lat": f"{lat:.6f}" if has_pos else "", "lon": f"{lon:.6f}" if has_pos else "",
                     "accuracy_m": "12", "battery_pct": str(max(5, 100 - m // 12)),
                     "strap": "tamper" if tamper_at is not None and m in (tamper_at, tamper_at + 1) else "ok",
                     "received_at": iso(received)})
    return rows


def enrolled(path: Path, b):
    store = open_store(f"sqlite:///{path}")
    store.add_subject(Subject("S1"), T0)
    store.add_device(Device("TAG1"), T0)
    store.assign("TAG1", "S1", T0)
    conds = conditions_checked([
        {"id": "home", "kind": "curfew", "zone": b.circle(100), "schedule": "daily 19:00-07:00"},
        {"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, 0)},
    ])
    varied = conditions_checked([
        {"id": "home", "kind": "curfew", "zone": b.circle(100), "schedule": "daily 21:00-06:00"},
        {"id": "victim", "kind": "exclusion", "zone": b.circle(200, 1000, 0)},
    ])
    vary_at = T0 + 11 * 60 * MIN  # 21:00, in the middle of the evening
    store.add_order(Order("O1", "S1", OrderType.LICENCE, T0, None,
                          (OrderVersion("O1", 1, T0, conds), OrderVersion("O1", 2, vary_at, varied))), T0)
    return store


def records(rows):
    return [(i + 2, ",".join(r.values()), r, None) for i, r in enumerate(rows)]


def alert_set(store):
    return sorted((a["kind"], a["order_version"], a["condition_id"], a["start_ms"], a["end_ms"], a["confirmed_ms"])
                  for a in store.alerts())


excursion = st.tuples(st.integers(0, N - 1), st.integers(1, 90), st.sampled_from([300.0, 1000.0]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(excursions=st.lists(excursion, max_size=4),
       spikes=st.sets(st.integers(0, N - 1), max_size=5),
       outage=st.tuples(st.integers(0, N - 1), st.integers(0, 80)),
       dropout=st.tuples(st.integers(0, N - 1), st.integers(0, 40)),
       tamper_at=st.one_of(st.none(), st.integers(0, N - 2)),
       n_batches=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_any_arrival_order_gives_the_same_alerts(b, excursions, spikes, outage, dropout, tamper_at, n_batches, seed):
    rows = scenario(excursions, spikes, outage, dropout, tamper_at, b.offset)
    as_of = max(tw_codec.parse_ts(r["received_at"]) for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        ref = enrolled(Path(tmp) / "ref.db", b)
        ingest.ingest_records(ref, records(rows), "all", now_ms=as_of)
        evaluation.evaluate(ref, as_of, now_ms=as_of)
        expected = alert_set(ref)

        live = enrolled(Path(tmp) / "live.db", b)
        shuffled = records(rows)
        random.Random(seed).shuffle(shuffled)
        cuts = sorted(random.Random(seed + 1).sample(range(1, len(shuffled)), n_batches - 1))
        seen = 0
        for batch in (shuffled[a:z] for a, z in zip([0, *cuts], [*cuts, len(shuffled)])):
            seen = max(seen, *(tw_codec.parse_ts(r[2]["received_at"]) for r in batch))
            rep = ingest.ingest_records(live, batch, "batch", now_ms=as_of)
            evaluation.evaluate(live, seen, now_ms=seen, since=evaluation.subjects_touched(live, rep.touched))
        assert alert_set(live) == expected
    assert expected or not (excursions or tamper_at is not None)  # the scenario exercises something


def test_late_fix_from_before_a_variation_is_judged_by_the_old_version(b, tmp_path):
    """Out at 20:00-20:40 (v1 curfew from 19:00) arrives after the variation to 21:00."""
    store = enrolled(tmp_path / "v.db", b)
    rows = scenario([(10 * 60, 40, 300.0), (11 * 60 + 30, 40, 300.0)], set(), (0, 0), (0, 0), None, b.offset)
    after = [r for r in rows if r["ts"] >= iso(T0 + 11 * 60 * MIN)]
    before = [r for r in rows if r["ts"] < iso(T0 + 11 * 60 * MIN)]
    as_of = T0 + N * MIN
    for part in (after, before):  # the later fixes first
        rep = ingest.ingest_records(store, records(part), "late", now_ms=as_of)
        evaluation.evaluate(store, as_of, now_ms=as_of, since=evaluation.subjects_touched(store, rep.touched))
    curfew = [(a["order_version"], iso(a["start_ms"])) for a in store.alerts() if a["kind"] == "curfew_breach"]
    assert curfew == [(1, "2026-03-20T20:00:00Z"), (2, "2026-03-20T21:30:00Z")]
