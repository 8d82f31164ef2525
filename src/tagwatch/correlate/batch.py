"""Many tracks against many crimes in one pass: the batch form of :func:`match_track`.

The rules are exactly those of :mod:`tagwatch.correlate.match` (docs/correlation.md);
only the search differs. :func:`match_track` looks at one (track, crime) pair; checking
every subject against every crime costs subjects x crimes calls. Here crimes are put in a
dense space-time index: one list per (square cell, one-hour slice), each crime in every
cell its radius square touches and every slice from the longest joined segment before its
buffered window to its end. Each track is read once, a slice at a time: the box around the
fixes of the slice picks the crimes of that slice worth examining (a crime found in several
cells of the box is examined once, in the lowest cell both share), and each is examined on
the fixes its window can reach, a segment belonging to the slice of its first fix. Long
gaps look up the crimes by time alone (a person could have travelled far). Per (subject,
crime) pair the kernel keeps what :func:`match_track` reports and resolves ties the same
way (first closest fix, first closest segment), so both give the same pairs with the same
values (``tests/test_correlate_batch.py`` checks them against each other and the oracle).

The per-slice box replaces a lookup per fix: most slices of most people touch no crime's
cells, and deciding that costs a pass of min and max over the slice's coordinates.
The kernel is compiled with numba (cached on disk) and runs subjects in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .match import Evidence, MatchParams, TrackMatch

__all__ = ["CrimeColumns", "PairColumns", "join_tracks", "EVIDENCE_CODES"]

EVIDENCE_CODES = (Evidence.FIX, Evidence.SEGMENT, Evidence.UNACCOUNTED_GAP)  # codes 0, 1, 2


@dataclass(frozen=True)
class CrimeColumns:
    """Crime sites as columns: BNG metres, window in epoch ms, radius in metres (location accuracy included)."""

    x: np.ndarray
    y: np.ndarray
    from_ms: np.ndarray
    to_ms: np.ndarray
    radius_m: np.ndarray

    def __len__(self) -> int:
        return int(self.x.size)


@dataclass(frozen=True)
class PairColumns:
    """One row per (subject, crime) match; NaN where :class:`TrackMatch` has None; times in epoch ms."""

    subject: np.ndarray  # index into the track offsets
    crime: np.ndarray  # index into the crime columns
    evidence: np.ndarray  # int8 code into EVIDENCE_CODES
    closest_m: np.ndarray
    closest_ms: np.ndarray
    first_within_ms: np.ndarray  # -1 for an unaccounted gap
    last_within_ms: np.ndarray
    within_s: np.ndarray
    speed_mps: np.ndarray
    heading_deg: np.ndarray

    def __len__(self) -> int:
        return int(self.subject.size)

    def match(self, k: int) -> TrackMatch:
        """Row ``k`` as the :class:`TrackMatch` that :func:`match_track` gives for the pair."""
        gap = self.evidence[k] == 2

        def opt(v: float) -> float | None:
            return None if np.isnan(v) else float(v)

        return TrackMatch(EVIDENCE_CODES[self.evidence[k]], float(self.closest_m[k]), int(self.closest_ms[k]),
                          None if gap else int(self.first_within_ms[k]), None if gap else int(self.last_within_ms[k]),
                          float(self.within_s[k]), opt(self.speed_mps[k]), opt(self.heading_deg[k]))


def join_tracks(offsets: np.ndarray, ts_ms: np.ndarray, x: np.ndarray, y: np.ndarray, crimes: CrimeColumns,
                params: MatchParams = MatchParams(), cell_m: float | None = None, gaps: bool = True) -> PairColumns:
    """Every (subject, crime) match of the tracks against the crimes.

    Track ``s`` is rows ``offsets[s]:offsets[s + 1]`` of ``ts_ms``, ``x``, ``y`` (positioned
    fixes, sorted by time within each track). ``crimes.radius_m`` is the full radius per
    crime (``params.radius_m`` is not used, so crime types can have their own). Pairs come
    sorted by subject, then crime. With ``gaps`` False, unaccounted-gap matches are not
    looked for (the path join alone, for measuring).
    """
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    ts = np.ascontiguousarray(ts_ms, dtype=np.int64)
    x, y = np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)
    n_sub = offsets.size - 1
    buf = int(params.buffer_s * 1000)
    w0 = np.ascontiguousarray(crimes.from_ms, dtype=np.int64) - buf
    w1 = np.ascontiguousarray(crimes.to_ms, dtype=np.int64) + buf
    cx, cy = np.ascontiguousarray(crimes.x, dtype=np.float64), np.ascontiguousarray(crimes.y, dtype=np.float64)
    r = np.ascontiguousarray(crimes.radius_m, dtype=np.float64)
    if n_sub <= 0 or len(crimes) == 0 or ts.size == 0:
        return _empty()
    cell = float(cell_m or max(1000.0, 10.0 * float(r.max())))
    gap_ms = int(params.max_gap_s * 1000)
    grid = _Grid.build(cx, cy, r, w0, w1, cell, gap_ms)
    by_time = np.argsort(w0, kind="stable").astype(np.int64)
    max_win = int((w1 - w0).max())
    cap = 256
    todo = np.arange(n_sub, dtype=np.int64)
    parts = []
    while todo.size:
        out_f = np.empty((todo.size, cap, 7), dtype=np.float64)
        out_i = np.empty((todo.size, cap, 2), dtype=np.int64)
        counts = np.zeros(todo.size, dtype=np.int64)
        blocks = np.linspace(0, todo.size, min(todo.size, 8 * numba.get_num_threads()) + 1).astype(np.int64)
        _join_kernel(todo, offsets, ts, x, y, cx, cy, w0, w1, r,
                     grid.x0, grid.y0, grid.inv_cell, grid.nx, grid.ny, grid.t0, grid.slice_ms, grid.n_slices,
                     grid.start, grid.occupied, grid.items, grid.item_w0, grid.item_w1, grid.item_low,
                     by_time, w0[by_time], max_win, gap_ms, float(params.max_speed_mps), float(params.gap_near_m), gaps,
                     blocks, out_f, out_i, counts)
        fits = counts <= cap
        rows = np.flatnonzero(fits)
        n = counts[rows]
        sel_row = np.repeat(rows, n)
        sel_k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        parts.append((todo[sel_row], out_i[sel_row, sel_k], out_f[sel_row, sel_k]))
        todo, cap = todo[~fits], cap * 8  # rerun the few that had more pairs, with more room
    subject = np.concatenate([p[0] for p in parts])
    ints = np.concatenate([p[1] for p in parts])
    flts = np.concatenate([p[2] for p in parts])
    order = np.lexsort((ints[:, 0], subject))
    subject, ints, flts = subject[order], ints[order], flts[order]
    return PairColumns(subject=subject, crime=ints[:, 0], evidence=ints[:, 1].astype(np.int8),
                       closest_m=flts[:, 0], closest_ms=flts[:, 1].astype(np.int64),
                       first_within_ms=flts[:, 2].astype(np.int64), last_within_ms=flts[:, 3].astype(np.int64),
                       within_s=flts[:, 4], speed_mps=flts[:, 5], heading_deg=flts[:, 6])


def _empty() -> PairColumns:
    i, f = np.empty(0, np.int64), np.empty(0, np.float64)
    return PairColumns(i, i, np.empty(0, np.int8), f, i, i, i, f, f, f)


@dataclass(frozen=True)
class _Grid:
    """Crimes in a dense space-time index: (square cell, time slice) -> crimes (CSR).

    A crime is listed in every cell its radius square touches and every slice from the
    longest joined segment before its buffered window to its end. Slices are an hour, or
    longer where needed to keep the index small (at most ``MAX_INDEX`` lists: a
    metropolitan area for a month; a national run partitions by force, as batches come);
    most lists are empty, and the rest hold a handful of crimes.
    """

    x0: float
    y0: float
    inv_cell: float
    nx: int
    ny: int
    t0: int  # start of slice 0 (epoch ms)
    slice_ms: int
    n_slices: int
    start: np.ndarray  # (row * nx + column) * n_slices + slice -> first item; one more at the end
    occupied: np.ndarray  # one bit per list: is it non-empty? (small enough to stay in cache)
    items: np.ndarray  # crime indices
    item_w0: np.ndarray  # each item's buffered window and lowest (column, row), laid out in
    item_w1: np.ndarray  # item order, so a list is scanned without touching the crime arrays
    item_low: np.ndarray  # (column, row) as int32 columns

    MAX_INDEX = 8_000_000
    SLICE_MS = 3_600_000

    @classmethod
    def build(cls, cx, cy, r, w0, w1, cell: float, lead_ms: int) -> _Grid:
        # A crime is listed in the cells of its radius square (a metre wider, against rounding) and
        # in the slices from ``lead_ms`` (the longest joined segment) before its window: a segment
        # belongs to the slice its first fix is in, and may start that long before the window.
        reach = r + 1.0
        x0, y0 = float((cx - reach).min()), float((cy - reach).min())
        inv = 1.0 / cell  # floor((v - origin) * inv), the very expression the kernel uses for fixes
        gx0, gx1 = np.floor((cx - reach - x0) * inv).astype(np.int64), np.floor((cx + reach - x0) * inv).astype(np.int64)
        gy0, gy1 = np.floor((cy - reach - y0) * inv).astype(np.int64), np.floor((cy + reach - y0) * inv).astype(np.int64)
        nx, ny = int(gx1.max()) + 1, int(gy1.max()) + 1
        lead = w0 - lead_ms
        t0, span = int(lead.min()), int(w1.max() - lead.min()) + 1
        slice_ms = cls.SLICE_MS
        while (span // slice_ms + 1) * nx * ny > cls.MAX_INDEX and slice_ms < span:
            slice_ms *= 2
        n_slices = span // slice_ms + 1
        sl0, sl1 = (lead - t0) // slice_ms, (w1 - t0) // slice_ms
        w, h, d = gx1 - gx0 + 1, gy1 - gy0 + 1, sl1 - sl0 + 1
        per = w * h * d
        crime = np.repeat(np.arange(cx.size, dtype=np.int64), per)
        k = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
        wc, hc = w[crime], h[crime]
        # Cell-major: one person's lookups over time stay in the same few cache lines.
        key = ((gy0[crime] + (k // wc) % hc) * nx + gx0[crime] + k % wc) * n_slices + sl0[crime] + k // (wc * hc)
        order = np.argsort(key, kind="stable")
        key, crime = key[order], crime[order]
        n_lists = n_slices * nx * ny
        start = np.zeros(n_lists + 1, dtype=np.int64 if key.size >= 2**31 else np.int32)
        np.cumsum(np.bincount(key, minlength=n_lists), out=start[1:])
        low = np.stack([gx0, gy0], axis=1).astype(np.int32)[crime]
        occupied = np.packbits(np.diff(start) > 0, bitorder="little")
        return cls(x0, y0, inv, nx, ny, t0, slice_ms, n_slices, start, occupied, crime, w0[crime], w1[crime], low)


@numba.njit(cache=True, inline="always")
def _cell_of(v: float, v0: float, inv_cell: float, n: int) -> int:
    g = int(np.floor((v - v0) * inv_cell))
    return min(max(g, -1), n)  # -1 and n mean "outside the grid"


@numba.njit(parallel=True, cache=True)
def _join_kernel(todo, offsets, ts, x, y, cx, cy, w0, w1, r, gx_0, gy_0, inv_cell,
                 nx, ny, t_0, slice_ms, n_slices, start, occupied, items, item_w0, item_w1, item_low, by_time, w0_sorted,
                 max_win, gap_ms, vmax, gap_near, with_gaps, blocks, out_f, out_i, counts):
    n_crimes = cx.size
    cap = out_f.shape[1]
    vmax_ms = vmax / 1000.0
    for b in numba.prange(blocks.size - 1):
        slot_of = np.full(n_crimes, -1, dtype=np.int64)
        # The pairs of the subject at hand (fixed room: reassigning arrays in this loop would
        # cost more than the search): crime; the figures (see _slot); best fix, segment, gap.
        pc = np.empty(cap, dtype=np.int64)
        pf = np.empty((cap, 8), dtype=np.float64)
        pi = np.empty((cap, 3), dtype=np.int64)
        for row in range(blocks[b], blocks[b + 1]):
            s = todo[row]
            lo, hi = offsets[s], offsets[s + 1]
            n_pairs = 0
            full = False
            # -- the path, a time slice at a time: the fixes a..e-1 that fall in the slice, each with
            # the segment to the next fix; the box around them (and fix e) picks the crimes of the
            # slice worth examining, and each is examined on the fixes its window can reach.
            a = lo
            while a < hi:
                sl = (ts[a] - t_0) // slice_ms
                t_end = t_0 + (sl + 1) * slice_ms
                e = a + 1
                while e < hi and ts[e] < t_end:
                    e += 1
                if sl < 0 or sl >= n_slices:
                    a = e
                    continue
                last = min(e, hi - 1)
                bx0 = bx1 = x[a]
                by0 = by1 = y[a]
                for i in range(a + 1, last + 1):
                    bx0, bx1 = min(bx0, x[i]), max(bx1, x[i])
                    by0, by1 = min(by0, y[i]), max(by1, y[i])
                ta, tz = ts[a], ts[e - 1]
                ux0, ux1 = max(_cell_of(bx0, gx_0, inv_cell, nx), 0), min(_cell_of(bx1, gx_0, inv_cell, nx), nx - 1)
                uy0, uy1 = max(_cell_of(by0, gy_0, inv_cell, ny), 0), min(_cell_of(by1, gy_0, inv_cell, ny), ny - 1)
                for gy in range(uy0, uy1 + 1):
                    for gx in range(ux0, ux1 + 1):
                        key = (gy * nx + gx) * n_slices + sl
                        if not (occupied[key >> 3] >> (key & 7)) & 1:
                            continue
                        for k in range(start[key], start[key + 1]):
                            # segments starting in [w0 - gap, w1] can reach the window
                            if item_w1[k] < ta or item_w0[k] - gap_ms > tz:
                                continue
                            # a crime in several cells of the box: examined in the lowest both share
                            if gx != max(ux0, item_low[k, 0]) or gy != max(uy0, item_low[k, 1]):
                                continue
                            c = items[k]
                            ccx, ccy, rc = cx[c], cy[c], r[c]
                            rr = rc + 1.0  # the boxes below are coarse filters: a metre wider against rounding
                            if ccx + rr < bx0 or ccx - rr > bx1 or ccy + rr < by0 or ccy - rr > by1:
                                continue
                            i = _lower_bound(ts, a, e, w0[c] - gap_ms)
                            while i < e and ts[i] <= w1[c]:
                                t0 = ts[i]
                                t1 = t0
                                seg_ok = False
                                if i + 1 < hi:
                                    t1 = ts[i + 1]
                                    seg_ok = t1 - t0 <= gap_ms and t1 > t0
                                    near = (min(x[i], x[i + 1]) - rr <= ccx and max(x[i], x[i + 1]) + rr >= ccx
                                            and min(y[i], y[i + 1]) - rr <= ccy and max(y[i], y[i + 1]) + rr >= ccy)
                                else:
                                    near = abs(x[i] - ccx) <= rr and abs(y[i] - ccy) <= rr
                                if near:
                                    n_new = _examine(c, i, t0, t1, seg_ok, x, y, ccx, ccy, w0[c], w1[c], rc,
                                                     slot_of, pc, pf, pi, n_pairs)
                                    if n_new < 0:
                                        full = True
                                    else:
                                        n_pairs = n_new
                                i += 1
                a = e
            # -- long gaps: anyone could have gone far; crimes by time only
            if with_gaps:
                for i in range(lo, hi - 1):
                    t0, t1 = ts[i], ts[i + 1]
                    if t1 - t0 <= gap_ms:
                        continue
                    k = _lower_bound(w0_sorted, 0, w0_sorted.size, t0 - max_win)
                    while k < w0_sorted.size and w0_sorted[k] <= t1:
                        c = by_time[k]
                        k += 1
                        if w1[c] < t0:
                            continue
                        d0 = np.hypot(x[i] - cx[c], y[i] - cy[c])
                        d1 = np.hypot(x[i + 1] - cx[c], y[i + 1] - cy[c])
                        arrive = t0 + max(d0 - r[c], 0.0) / vmax_ms
                        depart = t1 - max(d1 - r[c], 0.0) / vmax_ms
                        if max(arrive, float(w0[c])) <= min(depart, float(w1[c])) and min(d0, d1) <= gap_near:
                            p = _slot(c, slot_of, pc, pf, pi, n_pairs)
                            if p < 0:
                                full = True
                                continue
                            if p == n_pairs:
                                n_pairs += 1
                            dm = min(d0, d1)
                            if dm < pf[p, 6]:
                                pf[p, 6] = dm
                                pi[p, 2] = i
            # -- finish the subject's pairs, then forget them
            counts[row] = 2 * cap if full else n_pairs  # too many: the driver reruns it with more room
            for p in range(n_pairs):
                c = pc[p]
                slot_of[c] = -1
                if full:
                    continue
                _finish(p, pf, pi, ts, x, y, cx[c], cy[c], w0[c], w1[c], gap_ms, lo, hi, out_f[row, p], out_i[row, p])
                out_i[row, p, 0] = c


@numba.njit(cache=True, inline="always")
def _lower_bound(a, lo, hi, v):
    """First index in [lo, hi) with a[index] >= v (a sorted there); no slice, no allocation."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, inline="always")
def _slot(c, slot_of, pc, pf, pi, n_pairs):
    """The pair slot of crime ``c`` for this subject, opened if new (then n_pairs); -1 when full."""
    p = slot_of[c]
    if p >= 0:
        return p
    if n_pairs == pc.size:
        return -1
    slot_of[c] = n_pairs
    pc[n_pairs] = c
    pf[n_pairs, 0] = np.inf  # best fix distance (fixes within the radius)
    pf[n_pairs, 1] = np.inf  # best segment closest distance (hitting segments)
    pf[n_pairs, 2] = 0.0  # best segment closest time
    pf[n_pairs, 3] = np.inf  # first within
    pf[n_pairs, 4] = -np.inf  # last within
    pf[n_pairs, 5] = 0.0  # time within (ms)
    pf[n_pairs, 6] = np.inf  # best gap distance
    pf[n_pairs, 7] = 0.0  # any fix hit (1.0)
    pi[n_pairs, 0] = -1
    pi[n_pairs, 1] = -1
    pi[n_pairs, 2] = -1
    return n_pairs


@numba.njit(cache=True)
def _examine(c, i, t0i, t1i, seg_ok, x, y, ccx, ccy, cw0, cw1, rc, slot_of, pc, pf, pi, n_pairs):
    """The fix i, and the segment i -> i + 1 when joined, against crime c (formulas as in match.py)."""
    t0, t1 = float(t0i), float(t1i)
    fw0, fw1 = float(cw0), float(cw1)
    dx0, dy0 = x[i] - ccx, y[i] - ccy
    fix_hit = False
    d = 0.0
    if t0 >= fw0 and t0 <= fw1:
        d = np.hypot(dx0, dy0)
        fix_hit = d <= rc
    seg_hit = False
    s = tau_min = enter = leave = closest = 0.0
    if seg_ok:
        s, e = max(t0, fw0), min(t1, fw1)
        if s <= e:
            dx1, dy1 = x[i + 1] - ccx, y[i + 1] - ccy
            dur = t1 - t0
            vx, vy = (dx1 - dx0) / dur, (dy1 - dy0) / dur
            wx, wy = dx0 + vx * (s - t0), dy0 + vy * (s - t0)
            a = vx * vx + vy * vy
            bq = wx * vx + wy * vy
            cq = wx * wx + wy * wy - rc * rc
            span = e - s
            if a > 0:
                tau_min = min(max(-bq / a, 0.0), span)
                disc = bq * bq - a * cq
                root = np.sqrt(max(disc, 0.0))
                enter, leave = (-bq - root) / a, (-bq + root) / a
                if disc < 0:
                    enter = np.inf
            else:
                tau_min = 0.0
                enter, leave = (0.0, span) if cq <= 0 else (np.inf, -np.inf)
            enter, leave = max(enter, 0.0), min(leave, span)
            if enter <= leave:
                seg_hit = True
                closest = np.hypot(wx + vx * tau_min, wy + vy * tau_min)
    if not (fix_hit or seg_hit):
        return n_pairs
    p = _slot(c, slot_of, pc, pf, pi, n_pairs)
    if p < 0:
        return -1
    if p == n_pairs:
        n_pairs += 1
    if fix_hit:
        pf[p, 7] = 1.0
        if d < pf[p, 0]:
            pf[p, 0] = d
            pi[p, 0] = i
        pf[p, 3] = min(pf[p, 3], t0)
        pf[p, 4] = max(pf[p, 4], t0)
    if seg_hit:
        if closest < pf[p, 1]:
            pf[p, 1] = closest
            pf[p, 2] = s + tau_min
            pi[p, 1] = i
        pf[p, 3] = min(pf[p, 3], s + enter)
        pf[p, 4] = max(pf[p, 4], s + leave)
        pf[p, 5] += leave - enter
    return n_pairs


@numba.njit(cache=True)
def _finish(p, pf, pi, ts, x, y, ccx, ccy, cw0, cw1, gap_ms, lo, hi, of, oi):
    """Write pair p as match_track reports it: path evidence first, else the best gap."""
    fix_d, seg_d = pf[p, 0], pf[p, 1]
    if fix_d < np.inf or seg_d < np.inf:
        oi[1] = 0 if pf[p, 7] > 0 else 1
        of[2], of[3], of[4] = np.round(pf[p, 3]), np.round(pf[p, 4]), pf[p, 5] / 1000.0
        if seg_d < fix_d:
            k = pi[p, 1]
            of[0], of[1] = seg_d, np.round(pf[p, 2])
            of[5], of[6] = _speed_heading(k, ts, x, y, ccx, ccy)
        else:
            k = pi[p, 0]
            of[0], of[1] = fix_d, float(ts[k])
            of[5], of[6] = np.nan, np.nan
            # the segment into the fix, else the one out of it (match.py's choice)
            for j in (k - 1, k):
                if j >= lo and j + 1 < hi and ts[j + 1] - ts[j] <= gap_ms and ts[j + 1] > ts[j]:
                    of[5], of[6] = _speed_heading(j, ts, x, y, ccx, ccy)
                    break
    else:
        k = pi[p, 2]
        d0, d1 = np.hypot(x[k] - ccx, y[k] - ccy), np.hypot(x[k + 1] - ccx, y[k + 1] - ccy)
        oi[1] = 2
        of[0] = min(d0, d1)
        of[1] = float(ts[k]) if d0 <= d1 else float(ts[k + 1])
        of[2], of[3], of[4], of[5], of[6] = -1.0, -1.0, 0.0, np.nan, np.nan


@numba.njit(cache=True, inline="always")
def _speed_heading(k, ts, x, y, ccx, ccy):
    # relative to the crime, as match.py computes it, so the figures agree to the last bit
    dur = float(ts[k + 1]) - float(ts[k])
    vx = ((x[k + 1] - ccx) - (x[k] - ccx)) / dur
    vy = ((y[k + 1] - ccy) - (y[k] - ccy)) / dur
    return np.hypot(vx, vy) * 1000.0, np.degrees(np.arctan2(vx, vy)) % 360.0
