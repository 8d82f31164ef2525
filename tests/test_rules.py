"""Each rule on small hand-made tracks; times in March 2026 are GMT unless said."""

import pytest

from tagwatch.model import AlertKind
from tagwatch.rules import DEFAULT_SETTINGS, evaluate_subject

K = AlertKind


def kinds(episodes, kind=None):
    return [e for e in episodes if kind is None or e.kind == kind]


def run(b, conditions, points, start, end, as_of=None, **track_kw):
    o = b.order(conditions, start, end)
    return evaluate_subject("S1", [o], b.track(points, **track_kw), as_of or end)


# ---- exclusion zones ------------------------------------------------------------------------
def away_except(b, inside_from, inside_to, inside_at=(1000, 0), home=(0, 0)):
    return lambda t: inside_at if inside_from <= t < inside_to else home


@pytest.mark.parametrize("zone", ["circle", "square"])
def test_exclusion_breach_is_one_alert_with_true_times(b, zone):
    z = b.circle(200, 1000, 0) if zone == "circle" else b.square(200, 1000, 0)
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    enter, leave = b.utc(2026, 3, 20, 9, 0), b.utc(2026, 3, 20, 9, 20)
    pts = b.every_minute(start, end, away_except(b, enter, leave))
    (ep,) = run(b, [b.exclusion(z)], pts, start, end)
    assert ep.kind == K.EXCLUSION_BREACH and ep.condition_id == "victim" and ep.order_version == 1
    assert ep.start_ms == enter and ep.end_ms == leave - b.MIN
    assert ep.confirmed_ms == enter + 2 * b.MIN  # 3 fixes spanning 2 minutes


@pytest.mark.parametrize("n_drift", [1, 2])
def test_drifting_fixes_raise_nothing(b, n_drift):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    spike = b.utc(2026, 3, 20, 9)
    pts = b.every_minute(start, end, away_except(b, spike, spike + n_drift * b.MIN))
    assert run(b, [b.exclusion(b.circle(200, 1000, 0))], pts, start, end) == []


def test_short_lapses_inside_a_breach_do_not_split_it(b):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    t0 = b.utc(2026, 3, 20, 9)
    lapses = {t0 + 10 * b.MIN, t0 + 11 * b.MIN, t0 + 20 * b.MIN}  # drift back out for 1-2 fixes
    where = lambda t: (0, 0) if not (t0 <= t < t0 + 30 * b.MIN) or t in lapses else (1000, 0)
    eps = run(b, [b.exclusion(b.circle(200, 1000, 0))], b.every_minute(start, end, where), start, end)
    assert len(eps) == 1 and eps[0].start_ms == t0 and eps[0].end_ms == t0 + 29 * b.MIN


def test_accuracy_disc_straddling_the_boundary_is_not_a_breach(b):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    # Positions 20 m inside the edge of a 200 m zone centred 1000 m east.
    enter, leave = b.utc(2026, 3, 20, 9), b.utc(2026, 3, 20, 9, 30)
    pts = b.every_minute(start, end, away_except(b, enter, leave, inside_at=(820, 0)))
    zone = [b.exclusion(b.circle(200, 1000, 0))]
    assert run(b, zone, pts, start, end, accuracy_m=30.0) == []  # 30 m disc crosses the edge
    assert len(run(b, zone, pts, start, end, accuracy_m=10.0)) == 1  # 10 m disc is inside


def test_time_windowed_exclusion_only_applies_in_its_window(b):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 23)
    cond = [b.exclusion(b.circle(200, 1000, 0), schedule="daily 18:00-22:00")]
    day = b.every_minute(start, end, away_except(b, b.utc(2026, 3, 20, 12), b.utc(2026, 3, 20, 12, 30)))
    assert run(b, cond, day, start, end) == []
    evening = b.every_minute(start, end, away_except(b, b.utc(2026, 3, 20, 19), b.utc(2026, 3, 20, 19, 30)))
    assert len(run(b, cond, evening, start, end)) == 1


def test_breach_still_going_on_at_the_horizon_is_open(b):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 21, 8)
    enter, as_of = b.utc(2026, 3, 20, 9), b.utc(2026, 3, 20, 9, 30)
    pts = b.every_minute(start, as_of + b.MIN, away_except(b, enter, end))
    (ep,) = run(b, [b.exclusion(b.circle(200, 1000, 0))], pts, start, end, as_of=as_of)
    assert ep.end_ms is None and ep.start_ms == enter


# ---- curfews -----------------------------------------------------------------------------------
def out_between(a, z, far=(800, 0)):
    return lambda t: far if a <= t < z else (0, 0)


def test_curfew_breach_and_daytime_absence(b):
    start, end = b.utc(2026, 3, 20, 12), b.utc(2026, 3, 21, 12)
    pts = b.every_minute(start, end, lambda t: (800, 0) if b.utc(2026, 3, 20, 13) <= t < b.utc(2026, 3, 20, 19, 40) else (0, 0))
    (ep,) = run(b, [b.curfew()], pts, start, end)
    # Out all afternoon is fine; the breach starts when the curfew does.
    assert ep.kind == K.CURFEW_BREACH and ep.start_ms == b.utc(2026, 3, 20, 19) and ep.end_ms == b.utc(2026, 3, 20, 19, 39)


def test_curfew_breach_across_midnight_is_one_alert(b):
    start, end = b.utc(2026, 3, 20, 12), b.utc(2026, 3, 21, 12)
    a, z = b.utc(2026, 3, 20, 23, 30), b.utc(2026, 3, 21, 0, 45)
    (ep,) = run(b, [b.curfew()], b.every_minute(start, end, out_between(a, z)), start, end)
    assert (ep.start_ms, ep.end_ms) == (a, z - b.MIN)


@pytest.mark.parametrize("out_from, out_to, expect", [
    # Spring forward (29 March 2026): curfew ends 07:00 BST = 06:00 UTC.
    ((2026, 3, 29, 5, 20), (2026, 3, 29, 5, 50), 1),  # 06:20-06:50 BST: inside the curfew
    ((2026, 3, 29, 6, 10), (2026, 3, 29, 6, 40), 0),  # 07:10-07:40 BST: after it (UTC-naive code alerts)
    # Fall back (25 October 2026): curfew starts 19:00 BST = 18:00 UTC on the 24th, ends 07:00 GMT.
    ((2026, 10, 24, 18, 10), (2026, 10, 24, 18, 40), 1),  # 19:10 BST
    ((2026, 10, 25, 6, 20), (2026, 10, 25, 6, 50), 1),  # 06:20 GMT, the long night
    ((2026, 10, 24, 17, 20), (2026, 10, 24, 17, 50), 0),  # 18:20 BST: before the curfew
])
def test_curfew_on_dst_nights(b, out_from, out_to, expect):
    start, end = b.utc(*out_from[:3], 0) - 86_400_000, b.utc(*out_from[:3], 0) + 2 * 86_400_000
    pts = b.every_minute(start, end, out_between(b.utc(*out_from), b.utc(*out_to)))
    assert len(run(b, [b.curfew()], pts, start, end)) == expect


@pytest.mark.parametrize("day, expect", [(20, 1), (21, 0)])  # Friday 20 March vs Saturday 21 March
def test_per_weekday_curfew(b, day, expect):
    cond = [b.curfew("Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00")]
    start, end = b.utc(2026, 3, 19, 12), b.utc(2026, 3, 23, 12)
    pts = b.every_minute(start, end, out_between(b.utc(2026, 3, day, 19, 30), b.utc(2026, 3, day, 20, 30)))
    assert len(run(b, cond, pts, start, end)) == expect


def test_first_night_starts_late(b):
    start, end = b.utc(2026, 3, 20, 12), b.utc(2026, 3, 22, 12)
    cond = [b.curfew(first_night="2026-03-20T21:00")]
    early = b.every_minute(start, end, out_between(b.utc(2026, 3, 20, 19, 30), b.utc(2026, 3, 20, 20, 30)))
    assert run(b, cond, early, start, end) == []
    late = b.every_minute(start, end, out_between(b.utc(2026, 3, 20, 21, 10), b.utc(2026, 3, 20, 21, 40)))
    assert len(run(b, cond, late, start, end)) == 1


def test_curfew_breach_still_out_when_window_ends_is_closed_at_window_end(b):
    start, end = b.utc(2026, 3, 20, 12), b.utc(2026, 3, 21, 12)
    pts = b.every_minute(start, end, out_between(b.utc(2026, 3, 21, 6), b.utc(2026, 3, 21, 9)))
    (ep,) = run(b, [b.curfew()], pts, start, end)
    assert ep.start_ms == b.utc(2026, 3, 21, 6) and ep.end_ms == b.utc(2026, 3, 21, 6, 59)


# ---- attendance -------------------------------------------------------------------------------------
@pytest.mark.parametrize("present, expect", [
    (((2026, 3, 24, 9, 55), (2026, 3, 24, 10, 50)), 0),  # attended
    (None, 1),  # never came
    (((2026, 3, 24, 10, 20), (2026, 3, 24, 10, 24)), 1),  # 4 minutes is not attendance
])
def test_attendance(b, present, expect):
    office = b.circle(100, 3000, 0)
    start, end = b.utc(2026, 3, 23, 12), b.utc(2026, 3, 25, 12)  # Tuesday 24 March
    where = (lambda t: (3000, 0) if b.utc(*present[0]) <= t < b.utc(*present[1]) else (0, 0)) if present else (lambda t: (0, 0))
    eps = run(b, [b.attendance(office)], b.every_minute(start, end, where), start, end)
    assert len(eps) == expect
    if expect:
        assert (eps[0].kind, eps[0].start_ms, eps[0].end_ms) == (K.ATTENDANCE_MISSED, b.utc(2026, 3, 24, 10), b.utc(2026, 3, 24, 11))


def test_attendance_not_judged_before_the_window_ends(b):
    office = b.circle(100, 3000, 0)
    start, end = b.utc(2026, 3, 23, 12), b.utc(2026, 3, 25, 12)
    pts = b.every_minute(start, b.utc(2026, 3, 24, 10, 30), lambda t: (0, 0))
    assert run(b, [b.attendance(office)], pts, start, end, as_of=b.utc(2026, 3, 24, 10, 30)) == []


# ---- variations ----------------------------------------------------------------------------------------
def test_each_fix_is_judged_by_the_version_in_force(b):
    start, end = b.utc(2026, 3, 20, 12), b.utc(2026, 3, 23, 12)
    vary_at = b.utc(2026, 3, 21, 12)
    o = b.order([b.curfew("daily 19:00-07:00")], start, end,
                variations=[(vary_at, [b.curfew("daily 21:00-06:00")])])
    outs = [(b.utc(2026, 3, 20, 19, 30), b.utc(2026, 3, 20, 20, 30)),  # breach under v1
            (b.utc(2026, 3, 21, 19, 30), b.utc(2026, 3, 21, 20, 30)),  # fine under v2
            (b.utc(2026, 3, 21, 21, 30), b.utc(2026, 3, 21, 22, 0))]  # breach under v2
    where = lambda t: (800, 0) if any(a <= t < z for a, z in outs) else (0, 0)
    eps = evaluate_subject("S1", [o], b.track(b.every_minute(start, end, where)), end)
    assert [(e.start_ms, e.order_version) for e in eps] == [(outs[0][0], 1), (outs[2][0], 2)]


def test_order_end_stops_monitoring(b):
    start, end = b.utc(2026, 3, 20, 12), b.utc(2026, 3, 20, 20)
    pts = b.every_minute(start, b.utc(2026, 3, 21, 12), out_between(b.utc(2026, 3, 20, 21), b.utc(2026, 3, 20, 23)))
    assert run(b, [b.curfew()], pts, start, end, as_of=b.utc(2026, 3, 21, 12)) == []


# ---- tag health ---------------------------------------------------------------------------------------
def test_low_battery_with_hysteresis(b):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    pts = b.every_minute(start, end, lambda t: (0, 0))
    n = len(pts)
    battery = [50.0] * n
    battery[60:70] = [19, 21, 19, 21, 19, 22, 23, 24, 19, 19]  # flicker around 20 %
    battery[70:] = [30.0] * (n - 70)  # charged
    eps = kinds(run(b, [b.curfew()], pts, start, end, battery=battery), K.LOW_BATTERY)
    assert [(e.start_ms, e.end_ms) for e in eps] == [(pts[60][0], pts[70][0])]


def test_strap_tamper(b):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    pts = b.every_minute(start, end, lambda t: (0, 0))
    tamper = [False] * len(pts)
    tamper[30] = True  # one report is enough: tamper is a hardware signal, not noisy GPS
    (ep,) = kinds(run(b, [b.curfew()], pts, start, end, tamper=tamper), K.STRAP_TAMPER)
    assert (ep.start_ms, ep.end_ms) == (pts[30][0], pts[31][0])


@pytest.mark.parametrize("minutes, expect", [(10, 0), (25, 1)])
def test_no_fix_while_the_tag_reports(b, minutes, expect):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    gap_from = b.utc(2026, 3, 20, 9)
    where = lambda t: (None, None) if gap_from <= t < gap_from + minutes * b.MIN else (0, 0)
    pts = b.every_minute(start, end, where)
    eps = kinds(run(b, [b.curfew()], pts, start, end), K.NO_FIX)
    assert len(eps) == expect
    if expect:
        assert eps[0].start_ms == gap_from - b.MIN + 15 * b.MIN and eps[0].end_ms == gap_from + minutes * b.MIN


@pytest.mark.parametrize("minutes, expect", [(20, 0), (45, 1)])
def test_no_comms_is_judged_on_arrival_times(b, minutes, expect):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 20, 12)
    pts = b.every_minute(start, end, lambda t: (0, 0))
    outage = (b.utc(2026, 3, 20, 9), b.utc(2026, 3, 20, 9) + minutes * b.MIN)
    # Fixes are recorded all along but those in the outage arrive together when it ends.
    received = [outage[1] if outage[0] <= t < outage[1] else t + 10_000 for t, _, _ in pts]
    eps = kinds(run(b, [b.curfew()], pts, start, end, received=received), K.NO_COMMS)
    assert len(eps) == expect
    if expect:
        last_heard = outage[0] - b.MIN + 10_000
        assert (eps[0].start_ms, eps[0].end_ms) == (last_heard + 30 * b.MIN, outage[1])


def test_silent_tag_at_the_horizon_is_an_open_no_comms(b):
    start, end = b.utc(2026, 3, 20, 8), b.utc(2026, 3, 21, 8)
    pts = b.every_minute(start, b.utc(2026, 3, 20, 9), lambda t: (0, 0))
    eps = kinds(run(b, [b.curfew()], pts, start, end, as_of=b.utc(2026, 3, 20, 10)), K.NO_COMMS)
    assert len(eps) == 1 and eps[0].end_ms is None


def test_defaults_are_the_documented_ones():
    s = DEFAULT_SETTINGS
    assert (s.low_battery_pct, s.no_fix_s, s.no_comms_s) == (20, 900, 1800)
