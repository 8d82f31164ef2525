"""From per-fix evidence to episodes: dwell, hysteresis and closure, vectorised.

Each active fix carries one of three verdicts for a rule: *hit* (the whole accuracy
disc is on the violating side of the boundary), *clear* (the whole disc is on the
compliant side) or neither (the disc straddles the boundary, or there is no position).
This module turns those verdicts into episodes without any per-fix Python:

1. *Sub-runs*: consecutive hits in one segment (a schedule window) with no clear fix
   between them and no more than ``dwell_gap_s`` between neighbours.
2. A sub-run is *confirmed* when it has at least ``min_fixes`` hits spanning at least
   ``dwell_s``: a single drifting fix, or a pair, never confirms.
3. *Hysteresis*: sub-runs of a segment whose hits are at most ``exit_s`` apart are one
   episode; the episode is real if any of its sub-runs is confirmed.
4. An episode is *closed* once the data shows ``exit_s`` without a hit after its last
   hit, or its segment (window) has ended by the horizon; otherwise it is ongoing.

Everything is a pure function of the arrays, so arrival order cannot matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Runs", "find_episodes"]

_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Runs:
    """Episodes as parallel arrays (epoch ms; ``seg`` is the segment id)."""

    start_ms: np.ndarray
    end_ms: np.ndarray  # time of the last violating fix
    confirm_ms: np.ndarray
    seg: np.ndarray
    open: np.ndarray  # still going on at the horizon

    def __len__(self) -> int:
        return len(self.start_ms)

    @staticmethod
    def empty() -> Runs:
        z = np.zeros(0, dtype=np.int64)
        return Runs(z, z, z, z, np.zeros(0, dtype=bool))


def find_episodes(
    t: np.ndarray,
    hit: np.ndarray,
    clear: np.ndarray,
    seg: np.ndarray,
    seg_closed: np.ndarray,
    *,
    dwell_s: float,
    min_fixes: int,
    dwell_gap_s: float,
    exit_s: float,
) -> Runs:
    """Episodes of ``hit`` evidence among active fixes sorted by time ``t`` (ms).

    ``seg`` (non-decreasing ints) splits the fixes into segments that episodes never
    cross; ``seg_closed[s]`` says whether segment ``s`` has ended by the horizon.
    """
    hi = np.flatnonzero(hit)
    if hi.size == 0:
        return Runs.empty()
    dwell_ms, gap_ms, exit_ms = int(dwell_s * 1000), int(dwell_gap_s * 1000), int(exit_s * 1000)
    ht = t[hi]
    hseg = seg[hi]
    # A clear fix between two hits: count clear fixes before each hit and compare.
    clear_before = np.cumsum(clear)[hi]
    new_sub = np.ones(hi.size, dtype=bool)
    new_sub[1:] = (hseg[1:] != hseg[:-1]) | (clear_before[1:] != clear_before[:-1]) | (np.diff(ht) > gap_ms)
    sub_start = np.flatnonzero(new_sub)
    sub_last = np.r_[sub_start[1:], hi.size] - 1
    sub_of_hit = np.cumsum(new_sub) - 1
    first_t = ht[sub_start]
    # Confirmation: the first hit of the sub-run that satisfies both count and span.
    rank = np.arange(hi.size) - sub_start[sub_of_hit]
    ok = (rank + 1 >= min_fixes) & (ht - first_t[sub_of_hit] >= dwell_ms)
    confirm = np.full(sub_start.size, _NEVER, dtype=np.int64)
    ok_idx = np.flatnonzero(ok)
    if ok_idx.size:
        subs = sub_of_hit[ok_idx]
        first_ok = np.r_[True, subs[1:] != subs[:-1]]
        confirm[subs[first_ok]] = ht[ok_idx[first_ok]]
    # Hysteresis: join neighbouring sub-runs of one segment whose hits are close.
    sub_seg = hseg[sub_start]
    join = (sub_seg[1:] == sub_seg[:-1]) & (ht[sub_start[1:]] - ht[sub_last[:-1]] <= exit_ms)
    grp_start = np.flatnonzero(np.r_[True, ~join])
    grp_last = np.r_[grp_start[1:], sub_start.size] - 1
    grp_confirm = np.minimum.reduceat(confirm, grp_start)
    real = grp_confirm != _NEVER
    g0, g1 = grp_start[real], grp_last[real]
    start = first_t[g0]
    end = ht[sub_last[g1]]
    gseg = sub_seg[g0]
    # Closed when a later active fix of the same segment lies exit_s past the last hit.
    seg_last_t = _last_time_per_segment(t, seg)
    later = seg_last_t[gseg] >= end + exit_ms
    is_open = ~(later | seg_closed[gseg])
    return Runs(start, end, grp_confirm[real], gseg, is_open)


def _last_time_per_segment(t: np.ndarray, seg: np.ndarray) -> np.ndarray:
    # seg is non-decreasing, so a segment's last fix is just before the next one's first.
    n_seg = int(seg[-1]) + 1 if seg.size else 0
    ids = np.arange(n_seg)
    idx = np.searchsorted(seg, ids, side="right") - 1
    present = (idx >= 0) & (seg[np.maximum(idx, 0)] == ids)
    return np.where(present, t[np.maximum(idx, 0)], np.iinfo(np.int64).min)
