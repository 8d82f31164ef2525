"""Exactness of track-to-crime matching against a brute-force oracle (dense sampling)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagwatch.correlate import CrimeSite, MatchParams, match_track
from tagwatch.correlate.match import Evidence

S = 1000


def track(points):
    ts = np.array([p[0] for p in points], dtype=np.int64)
    return ts, np.array([p[1] for p in points], float), np.array([p[2] for p in points], float)


def oracle(ts, x, y, crime, p):
    """Sample the path every second (and at every fix) inside the window."""
    w0, w1 = crime.from_ms - p.buffer_s * S, crime.to_ms + p.buffer_s * S
    r = p.radius_m + crime.location_accuracy_m
    grid = np.unique(np.r_[np.arange(np.ceil(w0 / S) * S, w1 + 1, S), ts[(ts >= w0) & (ts <= w1)], w0, w1])
    grid = grid[(grid >= w0) & (grid <= w1)]
    times, dists = [], []
    for g in grid:
        k = np.searchsorted(ts, g, side="right") - 1
        if k >= 0 and ts[k] == g:
            px, py = x[k], y[k]
        elif 0 <= k < ts.size - 1 and ts[k + 1] - ts[k] <= p.max_gap_s * S:
            f = (g - ts[k]) / (ts[k + 1] - ts[k])
            px, py = x[k] + f * (x[k + 1] - x[k]), y[k] + f * (y[k + 1] - y[k])
        else:
            continue
        times.append(g)
        dists.append(np.hypot(px - crime.x, py - crime.y))
    times, dists = np.array(times), np.array(dists)
    fix_hit = bool((((ts >= w0) & (ts <= w1)) & (np.hypot(x - crime.x, y - crime.y) <= r)).any())
    return times, dists, r, fix_hit


points = st.lists(st.tuples(st.integers(0, 7200), st.floats(-800, 800), st.floats(-800, 800)),
                  min_size=1, max_size=8, unique_by=lambda p: p[0])


@settings(max_examples=300, deadline=None)
@given(pts=points, cx=st.floats(-500, 500), cy=st.floats(-500, 500), start=st.integers(0, 7200),
       length=st.sampled_from([0, 0, 60, 600, 1800]), buffer_s=st.sampled_from([0, 60, 900]),
       loc_acc=st.sampled_from([0.0, 50.0]))
def test_matches_agree_with_a_brute_force_oracle(pts, cx, cy, start, length, buffer_s, loc_acc):
    pts = sorted((t * S, px, py) for t, px, py in pts)
    ts, x, y = track(pts)
    crime = CrimeSite(cx, cy, start * S, (start + length) * S, loc_acc)
    p = MatchParams(buffer_s=buffer_s)
    m = match_track(ts, x, y, crime, p)
    times, dists, r, fix_hit = oracle(ts, x, y, crime, p)
    within = dists <= r
    vmax = max(np.hypot(np.diff(x), np.diff(y)).max(initial=0) / max(np.diff(ts).min(initial=S) / S, 1), 1.0)
    if within.any():  # the oracle saw the path inside the radius: the engine must match on the path
        assert m is not None and m.evidence in (Evidence.FIX, Evidence.SEGMENT)
    if m is not None and m.evidence is not Evidence.UNACCOUNTED_GAP:
        assert (m.evidence is Evidence.FIX) == fix_hit
        assert m.closest_m <= r + 1e-6
        if dists.size:  # exact closest is never worse than any sample, and samples are 1 s apart
            assert m.closest_m <= dists.min() + 1e-6
            assert dists.min() <= m.closest_m + vmax * 0.5 + 1e-6
        if within.any():
            # Exact times can only be earlier (later) than sampled ones: a pass shorter than the
            # 1 s sampling step falls between samples, and the engine still sees it.
            assert m.first_within_ms <= times[within].min() + 1
            assert m.last_within_ms >= times[within].max() - 1
        if within.sum() >= 3:
            assert abs(m.within_s - within.sum()) <= 2 + 2 * len(pts)
    if m is None:
        assert not within.any() and not fix_hit


def test_a_pass_between_two_samples_sets_the_first_time():
    """Found by hypothesis: 200 m/s for a second brushes the radius between two samples."""
    ts, x, y = track([(782 * S, 0.0, 0.0), (783 * S, 0.0, 202.0), (786 * S, 0.0, 1.0)])
    m = match_track(ts, x, y, CrimeSite(0.0, 101.0, 782 * S, 786 * S), MatchParams(buffer_s=0))
    assert m.first_within_ms == 782 * S + 5 and m.last_within_ms == 786 * S  # y reaches 1 m at 782.005 s


def test_segment_only_match_is_found_and_exact():
    ts, x, y = track([(0, 0.0, 0.0), (60 * S, 600.0, 0.0)])  # walking east at 10 m/s
    m = match_track(ts, x, y, CrimeSite(300.0, 50.0, 30 * S, 30 * S))
    assert m.evidence is Evidence.SEGMENT and m.closest_m == pytest.approx(50.0)
    assert m.closest_ms == 30 * S and m.within_s == pytest.approx(2 * np.sqrt(100**2 - 50**2) / 10)
    assert (m.speed_mps, m.heading_deg) == (pytest.approx(10.0), pytest.approx(90.0))


@pytest.mark.parametrize("fix_at_s, expect", [(-900, True), (-900.001, False), (900, True), (900.001, False)])
def test_both_ends_of_the_buffer(fix_at_s, expect):
    t = int(round(fix_at_s * S))
    ts, x, y = track([(t, 10.0, 0.0)])
    m = match_track(ts, x, y, CrimeSite(0.0, 0.0, 0, 0), MatchParams(buffer_s=900))
    assert (m is not None) == expect


def test_segment_longer_than_max_gap_is_not_a_path_but_can_be_an_unaccounted_gap():
    ts, x, y = track([(0, -1500.0, 0.0), (40 * 60 * S, 1500.0, 0.0)])  # 40 minutes apart
    crime = CrimeSite(0.0, 0.0, 20 * 60 * S, 20 * 60 * S)
    m = match_track(ts, x, y, crime, MatchParams(buffer_s=0))
    assert m.evidence is Evidence.UNACCOUNTED_GAP and m.within_s == 0 and m.closest_m == 1500.0
    slow = match_track(ts, x, y, crime, MatchParams(buffer_s=0, max_speed_mps=1.0))  # 1400 m in 20 min: no
    assert slow is None


def test_an_unaccounted_gap_needs_one_end_near_the_site():
    """Reachable at 12 m/s, but last seen 2.5 km away and next seen 3 km away: not tied to the crime."""
    ts, x, y = track([(0, -2500.0, 0.0), (40 * 60 * S, 3000.0, 0.0)])
    crime = CrimeSite(0.0, 0.0, 20 * 60 * S, 20 * 60 * S)
    assert match_track(ts, x, y, crime, MatchParams(buffer_s=0)) is None  # default: an end within 2 km
    far = match_track(ts, x, y, crime, MatchParams(buffer_s=0, gap_near_m=2500.0))
    assert far.evidence is Evidence.UNACCOUNTED_GAP and far.closest_m == 2500.0
    assert match_track(ts, x, y, crime, MatchParams(buffer_s=0, gap_near_m=float("inf"))) is not None


def test_crime_location_accuracy_widens_the_radius():
    ts, x, y = track([(0, 130.0, 0.0)])
    assert match_track(ts, x, y, CrimeSite(0.0, 0.0, 0, 0)) is None
    assert match_track(ts, x, y, CrimeSite(0.0, 0.0, 0, 0, location_accuracy_m=50.0)).evidence is Evidence.FIX


@pytest.mark.parametrize("m, crime_type, offence, risk, window_s, routine, expected", [
    # The worked examples of docs/correlation.md.
    (dict(evidence=Evidence.FIX, closest_m=30, within_s=240), "RB", "robbery", "high", 600, (1, 13), 0.9146),
    (dict(evidence=Evidence.FIX, closest_m=20, within_s=21600), "BIAD", "assault", "low", 21600, (13, 13), 0.4067),
    (dict(evidence=Evidence.SEGMENT, closest_m=90, within_s=5), "BIAD", "assault", "low", 14400, (0, 13), 0.3808),
    (dict(evidence=Evidence.UNACCOUNTED_GAP, closest_m=900, within_s=0), "RB", "robbery", "high", 600, (0, 0), 0.53),
])
def test_score_is_the_documented_weighted_sum(m, crime_type, offence, risk, window_s, routine, expected):
    from tagwatch.correlate import TrackMatch
    from tagwatch.correlate.score import ScoreParams, score_match
    match = TrackMatch(m["evidence"], m["closest_m"], 0, 0, 0, m["within_s"], None, None)
    score, parts = score_match(match, 100.0, crime_type, offence, risk, window_s=window_s, routine=routine)
    assert score == pytest.approx(expected, abs=1e-4) and all(0 <= v <= 1 for v in parts.values())
    assert (score >= ScoreParams().threshold) == (expected >= 0.7)


def test_no_unaccounted_gap_can_be_significant():
    """Every part at its best but the path's: still under the threshold."""
    from tagwatch.correlate import TrackMatch
    from tagwatch.correlate.score import ScoreParams, score_match
    m = TrackMatch(Evidence.UNACCOUNTED_GAP, 0.0, 0, None, None, 0.0, None, None)
    assert score_match(m, 100.0, "RB", "robbery", "high", window_s=0, routine=(0, 13))[0] < ScoreParams().threshold


def test_routine_presence_counts_other_days_near_the_site():
    from tagwatch.correlate.score import DAY_MS, routine_presence
    day0 = 20_000 * DAY_MS
    ts = np.array([day0 + d * DAY_MS + 3_600_000 for d in range(-3, 4)], dtype=np.int64)  # one fix a day
    x = np.array([0.0, 500.0, 50.0, 0.0, 20.0, 900.0, 99.0])  # near on days -3, -1, +1, +3; the crime day is 0
    near, seen = routine_presence(ts, x, np.zeros(7), 0.0, 0.0, 100.0, day0, day0 + 600_000)
    assert (near, seen) == (4, 6)
