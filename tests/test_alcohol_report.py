"""The AAMR report's arithmetic on a hand-made dataset, and Europe/London days across DST."""

from datetime import date

import pytest

from tagwatch.services import alcohol as svc
from tagwatch.codec import parse_ts
from tagwatch.alcohol import london_days

DAY = 86_400_000


def test_london_days_are_23_24_and_25_hours(b):
    spring = list(london_days(b.local(2026, 3, 28, 12), b.local(2026, 3, 30, 12)))
    assert [(d, (e - s) / 3_600_000) for d, s, e in spring] == [
        (date(2026, 3, 28), 24), (date(2026, 3, 29), 23), (date(2026, 3, 30), 24)]
    autumn = list(london_days(b.local(2026, 10, 25), b.local(2026, 10, 26)))
    assert [(d, (e - s) / 3_600_000) for d, s, e in autumn] == [(date(2026, 10, 25), 25)]
    assert spring[1][1] == b.utc(2026, 3, 29, 0) and spring[2][1] == b.utc(2026, 3, 29, 23)  # BST midnight


@pytest.mark.parametrize("day, hours, readings", [((2026, 3, 29), 23, 46), ((2026, 10, 25), 25, 50)])
def test_dst_days_expect_and_count_their_own_number_of_readings(store, alc, b, day, hours, readings):
    start = b.local(*day) - 2 * DAY
    alc.enrol(store, start_ms=start, end_ms=start + 5 * DAY)
    svc.ingest_alcohol_rows(store, alc.readings(start, start + 5 * DAY), start + 6 * DAY)
    rep, _ = svc.aamr(store, b.local(*day), b.local(*day) + hours * 3_600_000, start + 6 * DAY)
    (d,) = rep.orders[0].days
    assert (d.date, d.hours, d.readings, d.expected, d.compliant) == (date(*day), hours, readings, readings, True)


def test_report_arithmetic_on_a_hand_made_dataset(store, alc, b):
    """Three orders in a 10-day period, every figure worked out by hand.

    A: 10 whole days, clean -> 10 monitored, 10 compliant, 480 readings, ended, no event.
    B: 5 days; drinks on day 2 at 20:00 (the curve runs past midnight: days 2 and 3 not
       compliant) and loses 3 hours of readings on day 4 -> 5 monitored, 2 compliant, ended.
    C: starts on day 8 at 12:00, runs 31 days past the period -> days 8, 9, 10 monitored
       (a part day counts), 24 + 48 + 48 readings, compliant, not ended.
    """
    p0 = b.local(2026, 1, 5)
    p1 = p0 + 10 * DAY
    now = p1 + 2 * DAY
    alc.enrol(store, "SA", "CAMA", "OA", p0, p1)
    alc.enrol(store, "SB", "CAMB", "OB", p0 + 5 * DAY, p1)
    alc.enrol(store, "SC", "CAMC", "OC", p0 + 7 * DAY + DAY // 2, p0 + 38 * DAY + DAY // 2)
    rows = alc.readings(p0, p1, device_id="CAMA")
    drink = alc.drink(p0 + 6 * DAY + 20 * 3_600_000)  # 20:00 on B's day 2: above zero until about 05:00
    lost = (p0 + 8 * DAY + 9 * 3_600_000, p0 + 8 * DAY + 12 * 3_600_000)
    b_rows = alc.readings(p0 + 5 * DAY, p1, drink, device_id="CAMB")
    rows += [r for r in b_rows if not lost[0] <= parse_ts(r["ts"]) < lost[1]]
    rows += alc.readings(p0 + 7 * DAY + DAY // 2, now, device_id="CAMC")
    rep = svc.ingest_alcohol_rows(store, rows, now)
    assert rep.rejected == 0
    report, _ = svc.aamr(store, p0, p1, now)
    assert report.summary() == {
        "orders_imposed": 3,
        "average_order_length_days": round((10 + 5 + 31) / 3, 1),
        "monitored_days": 10 + 5 + 3,
        "readings": 480 + (240 - 6) + (24 + 48 + 48),
        "readings_per_monitored_day": round((480 + 234 + 120) / 18, 1),
        "compliant_days": 10 + 2 + 3,
        "compliant_day_rate": round(15 / 18, 4),
        "confirmed_drinking_events": 1,
        "days_with_drinking": 2,
        "days_with_obstruction_or_tamper": 0,
        "days_with_missed_readings": 1,
        "orders_monitored": 3,
        "orders_ended": 2,
        "orders_completed_without_confirmed_event": 1,
        "compliance_rate": 0.5,
    }
    by_order = {o.order_id: o for o in report.orders}
    assert [(d.date.day, d.compliant) for d in by_order["OB"].days] == [
        (10, True), (11, False), (12, False), (13, False), (14, True)]
    assert by_order["OC"].days[0].readings == 24 and not by_order["OC"].ended
    # A period that ends before B's drinking: B then ended outside it and the day is compliant.
    early, _ = svc.aamr(store, p0, p0 + 6 * DAY, now)
    assert early.summary()["compliant_days"] == 6 + 1 and early.summary()["orders_ended"] == 0
