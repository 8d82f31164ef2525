"""The batch join gives exactly the pairs and figures of match_track, pair by pair."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagwatch.correlate import CrimeSite, MatchParams, match_track
from tagwatch.correlate.batch import EVIDENCE_CODES, CrimeColumns, join_tracks

S = 1000


def per_pair(tracks, crimes, params):
    """The reference: match_track on every (subject, crime) pair."""
    out = {}
    for s, (ts, x, y) in enumerate(tracks):
        for c in range(len(crimes.x)):
            site = CrimeSite(crimes.x[c], crimes.y[c], int(crimes.from_ms[c]), int(crimes.to_ms[c]))
            m = match_track(ts, x, y, site, MatchParams(radius_m=float(crimes.radius_m[c]), buffer_s=params.buffer_s,
                                                         max_gap_s=params.max_gap_s, max_speed_mps=params.max_speed_mps,
                                                         gap_near_m=params.gap_near_m)) if ts.size else None
            if m is not None:
                out[(s, c)] = m
    return out


def batch(tracks, crimes, params, cell_m=None):
    offsets = np.r_[0, np.cumsum([t[0].size for t in tracks])]
    cat = [np.concatenate([t[k] for t in tracks]) if tracks else np.empty(0) for k in range(3)]
    pairs = join_tracks(offsets, cat[0].astype(np.int64), cat[1], cat[2], crimes, params, cell_m)
    return pairs


def assert_same(ref, pairs):
    got = {(int(s), int(c)): k for k, (s, c) in enumerate(zip(pairs.subject, pairs.crime, strict=True))}
    assert set(got) == set(ref)
    for key, m in ref.items():
        k = got[key]
        assert EVIDENCE_CODES[pairs.evidence[k]] == m.evidence, key
        assert pairs.closest_m[k] == pytest.approx(m.closest_m, abs=1e-9), key
        assert pairs.closest_ms[k] == m.closest_ms, key
        first = -1 if m.first_within_ms is None else m.first_within_ms
        last = -1 if m.last_within_ms is None else m.last_within_ms
        assert (pairs.first_within_ms[k], pairs.last_within_ms[k]) == (first, last), key
        assert pairs.within_s[k] == pytest.approx(m.within_s, abs=1e-6), key
        for got_v, want in ((pairs.speed_mps[k], m.speed_mps), (pairs.heading_deg[k], m.heading_deg)):
            assert (np.isnan(got_v) and want is None) or got_v == pytest.approx(want, abs=1e-9), key


coords = st.floats(-1500, 1500, allow_nan=False)
track_st = st.lists(st.tuples(st.integers(0, 14_400), coords, coords), min_size=0, max_size=12,
                    unique_by=lambda p: p[0])
crime_st = st.tuples(coords, coords, st.integers(0, 14_400), st.sampled_from([0, 0, 60, 600, 3600]),
                     st.sampled_from([50.0, 100.0, 150.0]))


@settings(max_examples=250, deadline=None)
@given(raw_tracks=st.lists(track_st, min_size=1, max_size=5), raw_crimes=st.lists(crime_st, min_size=1, max_size=8),
       buffer_s=st.sampled_from([0, 60, 900]), max_gap_s=st.sampled_from([60, 600, 1800]),
       cell_m=st.sampled_from([None, 40.0, 1000.0, 5000.0]), gap_near_m=st.sampled_from([2000.0, 300.0, np.inf]))
def test_batch_equals_match_track_on_random_tracks_and_crimes(raw_tracks, raw_crimes, buffer_s, max_gap_s, cell_m,
                                                              gap_near_m):
    tracks = []
    for pts in raw_tracks:
        pts = sorted(pts)
        tracks.append((np.array([p[0] * S for p in pts], np.int64), np.array([p[1] for p in pts], float),
                       np.array([p[2] for p in pts], float)))
    cx, cy, start, length, radius = (np.array(v) for v in zip(*raw_crimes, strict=True))
    crimes = CrimeColumns(cx.astype(float), cy.astype(float), start.astype(np.int64) * S,
                          (start + length).astype(np.int64) * S, radius.astype(float))
    params = MatchParams(buffer_s=buffer_s, max_gap_s=max_gap_s, gap_near_m=gap_near_m)
    assert_same(per_pair(tracks, crimes, params), batch(tracks, crimes, params, cell_m))


def test_many_pairs_for_one_subject_overflow_and_are_all_kept():
    """A subject near 300 crimes at once: more pairs than the kernel's first guess of room."""
    ts = np.arange(0, 3600 * S, 60 * S, dtype=np.int64)
    x, y = np.zeros(ts.size), np.zeros(ts.size)
    angles = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    crimes = CrimeColumns(80 * np.cos(angles), 80 * np.sin(angles), np.full(300, 600 * S, np.int64),
                          np.full(300, 900 * S, np.int64), np.full(300, 100.0))
    pairs = batch([(ts, x, y), (ts, x + 5000, y)], crimes, MatchParams())
    assert len(pairs) == 300 and set(pairs.subject.tolist()) == {0}
    assert np.allclose(pairs.closest_m, 80.0) and (pairs.evidence == 0).all()


def test_gap_far_from_the_crime_is_an_unaccounted_gap_only_within_the_near_distance():
    """Out of signal for two hours, 5 km away at both ends: reachable at 12 m/s, so a weak match
    when gaps may end that far away; not with the default (an end within 2 km)."""
    ts = np.array([0, 7200 * S], np.int64)
    crimes = CrimeColumns(np.array([5000.0]), np.array([0.0]), np.array([3600 * S]), np.array([3600 * S]),
                          np.array([100.0]))
    pairs = batch([(ts, np.zeros(2), np.zeros(2))], crimes, MatchParams(gap_near_m=5000.0))
    assert EVIDENCE_CODES[pairs.evidence[0]].value == "unaccounted_gap" and pairs.closest_m[0] == pytest.approx(5000)
    assert pairs.first_within_ms[0] == -1
    assert len(batch([(ts, np.zeros(2), np.zeros(2))], crimes, MatchParams())) == 0
