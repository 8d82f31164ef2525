"""Drinking events from the curve, and the tag's integrity, on crafted readings (pure core)."""

import numpy as np
import pytest

from tagwatch.alcohol import (DEFAULT_ALCOHOL_SETTINGS as S, Readings, examine_curves, gap_runs, judge_subject,
                              obstruction_runs, tamper_runs)
from tagwatch.model import AlertKind, Condition, ConditionKind, Order, OrderType, OrderVersion

H = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
t = T0 + np.arange(0, 72 * 2) * H // 2  # three days at 30 minutes


def curve(rise_h=3.0, peak=0.06, fall=0.012, at_h=6.0):
    h = (t - T0) / H - at_h
    return np.where(h < 0, 0.0, np.where(h < rise_h, peak * h / rise_h, np.maximum(0.0, peak - (h - rise_h) * fall)))


def spikes(*where, level=0.08):
    v = np.zeros(t.size)
    for i, x in where:
        v[i] = level * x
    return v


def slow_drift(amplitude=0.025, up_h=20.0, down_h=20.0):
    h = (t - T0) / H
    rise = (1 - np.cos(np.pi * np.clip(h, 0, up_h) / up_h)) / 2
    fall = (1 + np.cos(np.pi * np.clip(h - up_h, 0, down_h) / down_h)) / 2
    return amplitude * np.where(h < up_h, rise, fall)


def noisy(v, seed=0, sd=0.0015):
    return np.round(np.clip(v + np.random.default_rng(seed).normal(0, sd, v.size), 0, None), 3)


@pytest.mark.parametrize("name, tac, verdicts", [
    ("true drinking", curve(), ["confirmed"]),
    ("true drinking, noisy sensor", noisy(curve()), ["confirmed"]),
    ("heavy session, slow elimination", curve(rise_h=5, peak=0.15, fall=0.008), ["confirmed"]),
    ("light session at the threshold", noisy(curve(rise_h=2, peak=0.022, fall=0.01), seed=3), ["confirmed"]),
    ("hand gel: one high reading", spikes((40, 1.0)), ["too_short"]),
    ("hand gel: two readings", spikes((40, 1.0), (41, 0.4)), ["too_short"]),
    ("contamination lasting hours: rises too fast", spikes(*((i, 1.0) for i in range(40, 46))), ["rise_too_fast"]),
    ("slow noise (sensor drift)", noisy(slow_drift()), ["rise_too_slow"]),
    ("rises plausibly but vanishes at once", np.where((t - T0) / H < 10, curve(), 0.0), ["fall_too_fast"]),
    ("hand gel on top of a true curve", curve() + spikes((17, 1.0)), ["confirmed"]),
    ("hand gel next to a true curve", curve() + spikes((40, 1.0)), ["confirmed", "too_short"]),
    ("below the threshold", curve(peak=0.018), []),
    ("baseline noise only", noisy(np.zeros(t.size), seed=1), []),
])
def test_crafted_curves(name, tac, verdicts):
    assert [c.verdict for c in examine_curves(t, tac, S)] == verdicts, name


def test_a_confirmed_event_reports_its_shape():
    (c,) = examine_curves(t, curve(), S)
    assert c.peak_g_dl == pytest.approx(0.06) and c.peak_ms == T0 + 9 * H
    assert c.rise_g_dl_h == pytest.approx(0.02) and c.fall_g_dl_h == pytest.approx(0.012)
    assert c.start_ms == T0 + 6 * H + H // 2  # first reading above 0.005 g/dL
    assert c.confirm_ms == T0 + 9 * H + int(2.5 * H)  # the reading at half the peak confirms it
    assert c.end_ms == T0 + 9 * H + 5 * H  # back to zero


def test_an_event_is_pending_until_the_fall_is_seen():
    tac = curve()
    upto = t <= T0 + 10 * H  # the horizon is an hour after the peak
    (pending,) = examine_curves(t[upto], tac[upto], S)
    assert pending.verdict == "pending" and pending.end_ms is None and pending.confirm_ms is None
    (later,) = examine_curves(t, tac, S)
    assert later.confirmed


def test_settings_move_the_bounds():
    tac = curve(rise_h=1.0, peak=0.06)  # 0.06 g/dL/h rise
    assert [c.verdict for c in examine_curves(t, tac, S)] == ["rise_too_fast"]
    assert [c.verdict for c in examine_curves(t, tac, S.with_overrides(absorption_max_g_dl_h=0.08))] == ["confirmed"]
    assert examine_curves(t, curve(peak=0.03), S.with_overrides(threshold_g_dl=0.04)) == []
    with pytest.raises(ValueError, match="unknown alcohol settings"):
        S.with_overrides(threshold=0.03)


def readings(tac=None, temp=None, ir=None, tamper=None):
    n = t.size
    return Readings.from_columns(t, np.zeros(n) if tac is None else tac, np.full(n, 31.5) if temp is None else temp,
                                 np.full(n, 3.0) if ir is None else ir, tamper)


def test_obstruction_needs_two_out_of_range_readings():
    ir = np.full(t.size, 3.0)
    ir[10] = 0.3  # one glitch: nothing
    ir[50:56] = 0.3  # something pressed on the sensor for three hours
    temp = np.full(t.size, 31.5)
    temp[90:94] = 20.0  # insulated from the skin
    start, end, confirm, is_open = obstruction_runs(readings(ir=ir, temp=temp), S)
    assert start.tolist() == [t[50], t[90]] and end.tolist() == [t[56], t[94]]
    assert confirm.tolist() == [t[51], t[91]] and not is_open.any()


def test_strap_tamper_is_one_reading_and_stays_open_until_intact():
    tam = np.zeros(t.size, dtype=bool)
    tam[20] = True
    tam[-3:] = True
    start, end, _, is_open = tamper_runs(readings(tamper=tam))
    assert start.tolist() == [t[20], t[-3]] and end[0] == t[21] and is_open.tolist() == [False, True]


def test_gaps_in_readings():
    keep = np.ones(t.size, dtype=bool)
    keep[10:12] = False  # 90 minutes between readings: allowed
    keep[30:36] = False  # 3.5 hours: missed readings
    ts = t[keep]
    start, end, confirm, is_open = gap_runs(ts, int(t[0]), int(t[-1]) + H, int(t[-1]) + H, S)
    assert start.tolist() == [t[29]] and end.tolist() == [t[36]] and confirm.tolist() == [t[29] + 2 * H]
    # Still open at the horizon: judged only once the upload grace has passed.
    last = int(ts[-1])
    assert gap_runs(ts, int(t[0]), last + 10 * 86_400_000, last + 20 * H, S)[0].tolist() == [t[29]]
    start, end, confirm, is_open = gap_runs(ts, int(t[0]), last + 10 * 86_400_000, last + 27 * H, S)
    assert start.tolist() == [t[29], last] and is_open.tolist() == [False, True]


def order(start_ms, end_ms=None):
    cond = Condition("aamr", ConditionKind.ALCOHOL_ABSTINENCE)
    return Order("O1", "S1", OrderType.COMMUNITY, start_ms, end_ms, (OrderVersion("O1", 1, start_ms, (cond,)),))


def test_obstructed_readings_cannot_make_or_hide_an_event():
    tac = curve()
    ir = np.full(t.size, 3.0)
    ir[(tac > 0)] = 0.3  # the whole curve read through an obstruction: not evidence of drinking
    v = judge_subject("S1", [order(int(t[0]))], readings(tac=tac, ir=ir), int(t[-1]), S)
    assert [e.kind for e in v.episodes] == [AlertKind.ALCOHOL_OBSTRUCTION]
    v = judge_subject("S1", [order(int(t[0]))], readings(tac=tac), int(t[-1]), S)
    assert [e.kind for e in v.episodes] == [AlertKind.ALCOHOL_DRINKING]
    ep = v.episodes[0]
    assert (ep.order_id, ep.condition_id, ep.start_ms, ep.confirmed_ms) == ("O1", "aamr", T0 + 6 * H + H // 2,
                                                                            T0 + 11 * H + H // 2)


def test_readings_outside_the_order_are_not_judged():
    v = judge_subject("S1", [order(int(t[0]) + 20 * H)], readings(tac=curve()), int(t[-1]), S)
    assert v.episodes == [] and v.curves == [] and len(v.readings) == t.size - 40


def test_every_alcohol_setting_is_documented():
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[1] / "docs" / "alcohol.md").read_text()
    assert all(f"`{name}`" in doc for name in S.names())


def test_a_spike_on_a_curve_does_not_become_its_peak():
    (c,) = examine_curves(t, curve() + spikes((17, 1.0)), S)  # 0.08 g/dL on the rise at 08:30
    assert c.peak_g_dl == pytest.approx(0.06) and c.peak_ms == T0 + 9 * H
    (c,) = examine_curves(t, curve() + spikes((17, 1.0)), S.with_overrides(spike_g_dl=0.5))
    assert (c.verdict, c.peak_ms) == ("rise_too_fast", T0 + 8 * H + H // 2)  # without the second look the spike is the peak
