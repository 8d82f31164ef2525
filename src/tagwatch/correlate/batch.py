"""Many tracks against many crimes in one pass: the batch form of :func:`match_track`.

The rules are exactly those of :mod:`tagwatch.correlate.match` (docs/correlation.md);
only the search differs. :func:`match_track` looks at one (track, crime) pair; checking
every subject against every crime costs subjects x crimes calls. Here crimes are put in a
uniform grid of square cells (each crime in every cell its radius square touches, sorted
by the start of its buffered window), and each track is read once, in time order: each
fix, with the segment to the next fix, looks only at the crimes of the cells its bounding
box touches whose window overlaps the segment's time span. A crime found in several cells
is examined once, in the lowest cell the two cell ranges share. Long gaps look up the
crimes by time alone (a person could have travelled far). Per (subject, crime) pair the
kernel keeps what :func:`match_track` reports and resolves ties the same way (first
closest fix, first closest segment), so both give the same pairs with the same values
(``tests/test_correlate_batch.py`` checks them against each other and the oracle).

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
                params: MatchParams = MatchParams(), cell_m: float | None = None) -> PairColumns:
    """Every (subject, crime) match of the tracks against the crimes.

    Track ``s`` is rows ``offsets[s]:offsets[s + 1]`` of ``ts_ms``, ``x``, ``y`` (positioned
    fixes, sorted by time within each track). ``crimes.radius_m`` is the full radius per
    crime (``params.radius_m`` is not used, so crime types can have their own). Pairs come
    sorted by subject, then crime.
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
    cell = float(cell_m or max(250.0, 2.5 * float(r.max())))
    grid = _Grid.build(cx, cy, r, w0, cell)
    by_time = np.argsort(w0, kind="stable").astype(np.int64)
    max_win = int((w1 - w0).max())
    cap = 64
    todo = np.arange(n_sub, dtype=np.int64)
    parts = []
    while todo.size:
        out_f = np.empty((todo.size, cap, 7), dtype=np.float64)
        out_i = np.empty((todo.size, cap, 2), dtype=np.int64)
        counts = np.zeros(todo.size, dtype=np.int64)
        blocks = np.linspace(0, todo.size, min(todo.size, 8 * numba.get_num_threads()) + 1).astype(np.int64)
        _join_kernel(todo, offsets, ts, x, y, cx, cy, w0, w1, r, grid.gx0, grid.gy0, grid.x0, grid.y0, grid.cell,
                     grid.nx, grid.ny, grid.start, grid.items, grid.item_w0, by_time, w0[by_time], max_win,
                     int(params.max_gap_s * 1000), float(params.max_speed_mps), blocks, out_f, out_i, counts)
        fits = counts <= cap
        rows = np.flatnonzero(fits)
        n = counts[rows]
        sel_row = np.repeat(rows, n)
        sel_k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        parts.append((todo[sel_row], out_i[sel_row, sel_k], out_f[sel_row, sel_k]))
        todo, cap = todo[~fits], int(counts[~fits].max(initial=0)) + 1  # rerun the few that overflowed
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
    """Crimes by cell (CSR), each cell's crimes sorted by window start."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    start: np.ndarray  # cell -> first item; length nx * ny + 1
    items: np.ndarray  # crime indices
    item_w0: np.ndarray  # their window starts (for the binary search)
    gx0: np.ndarray  # per crime: its lowest cell column and row
    gy0: np.ndarray

    @classmethod
    def build(cls, cx, cy, r, w0, cell: float) -> _Grid:
        x0, y0 = float((cx - r).min()), float((cy - r).min())
        nx = int((float((cx + r).max()) - x0) // cell) + 1
        ny = int((float((cy + r).max()) - y0) // cell) + 1
        # floor((v - origin) / cell), the very expression the kernel uses for fixes
        gx0 = np.floor((cx - r - x0) / cell).astype(np.int64)
        gx1 = np.floor((cx + r - x0) / cell).astype(np.int64)
        gy0 = np.floor((cy - r - y0) / cell).astype(np.int64)
        gy1 = np.floor((cy + r - y0) / cell).astype(np.int64)
        w, h = gx1 - gx0 + 1, gy1 - gy0 + 1
        n_cells = w * h
        crime = np.repeat(np.arange(cx.size, dtype=np.int64), n_cells)
        k = np.arange(int(n_cells.sum())) - np.repeat(np.cumsum(n_cells) - n_cells, n_cells)
        cid = (gy0[crime] + k // w[crime]) * nx + gx0[crime] + k % w[crime]
        order = np.lexsort((w0[crime], cid))
        cid, crime = cid[order], crime[order]
        start = np.searchsorted(cid, np.arange(nx * ny + 1)).astype(np.int64)
        return cls(x0, y0, cell, nx, ny, start, crime, w0[crime], gx0, gy0)


@numba.njit(cache=True, inline="always")
def _cell_of(v: float, v0: float, cell: float, n: int) -> int:
    g = int(np.floor((v - v0) / cell))
    return min(max(g, -1), n)  # -1 and n mean "outside the grid"


@numba.njit(parallel=True, cache=True)
def _join_kernel(todo, offsets, ts, x, y, cx, cy, w0, w1, r, crime_gx0, crime_gy0, gx_0, gy_0, cell, nx, ny, start, items, item_w0,
                 by_time, w0_sorted, max_win, gap_ms, vmax, blocks, out_f, out_i, counts):
    n_crimes = cx.size
    cap = out_f.shape[1]
    vmax_ms = vmax / 1000.0
    for b in numba.prange(blocks.size - 1):
        slot_of = np.full(n_crimes, -1, dtype=np.int64)
        # Per pair: crime, fix_hit, best fix d, best fix i, best seg d, best seg t, best seg i,
        # first, last, within, best gap d, best gap i, path (any fix or segment hit).
        pc = np.empty(16, dtype=np.int64)
        pf = np.empty((16, 8), dtype=np.float64)
        pi = np.empty((16, 3), dtype=np.int64)  # best fix i, best seg i, best gap i
        for row in range(blocks[b], blocks[b + 1]):
            s = todo[row]
            lo, hi = offsets[s], offsets[s + 1]
            n_pairs = 0
            for i in range(lo, hi):
                t0 = ts[i]
                has_next = i + 1 < hi
                t1 = ts[i + 1] if has_next else t0
                seg_ok = has_next and t1 - t0 <= gap_ms and t1 > t0
                is_gap = has_next and t1 - t0 > gap_ms
                # -- the fix and its segment, through the grid
                xa, ya = x[i], y[i]
                xb, yb = (x[i + 1], y[i + 1]) if seg_ok else (xa, ya)
                t_hi = t1 if seg_ok else t0
                ux0 = _cell_of(min(xa, xb), gx_0, cell, nx)
                ux1 = _cell_of(max(xa, xb), gx_0, cell, nx)
                uy0 = _cell_of(min(ya, yb), gy_0, cell, ny)
                uy1 = _cell_of(max(ya, yb), gy_0, cell, ny)
                for gy in range(max(uy0, 0), min(uy1, ny - 1) + 1):
                    for gx in range(max(ux0, 0), min(ux1, nx - 1) + 1):
                        c0, c1 = start[gy * nx + gx], start[gy * nx + gx + 1]
                        if c0 == c1:
                            continue
                        k = c0 + np.searchsorted(item_w0[c0:c1], t0 - max_win)
                        while k < c1 and item_w0[k] <= t_hi:
                            c = items[k]
                            k += 1
                            if w1[c] < t0:
                                continue
                            # the lowest cell both ranges share examines the pair
                            if gx != max(ux0, crime_gx0[c]) or gy != max(uy0, crime_gy0[c]):
                                continue
                            n_pairs = _examine(c, i, t0, t1, seg_ok, x, y, cx[c], cy[c], w0[c], w1[c], r[c],
                                               slot_of, pc, pf, pi, n_pairs)
                            if n_pairs > pc.size - 1:
                                pc, pf, pi = _grow(pc, pf, pi)
                # -- a long gap: anyone could have gone far; crimes by time only
                if is_gap:
                    k = np.searchsorted(w0_sorted, t0 - max_win)
                    while k < w0_sorted.size and w0_sorted[k] <= t1:
                        c = by_time[k]
                        k += 1
                        if w1[c] < t0:
                            continue
                        d0 = np.hypot(x[i] - cx[c], y[i] - cy[c])
                        d1 = np.hypot(x[i + 1] - cx[c], y[i + 1] - cy[c])
                        arrive = t0 + max(d0 - r[c], 0.0) / vmax_ms
                        depart = t1 - max(d1 - r[c], 0.0) / vmax_ms
                        if max(arrive, float(w0[c])) <= min(depart, float(w1[c])):
                            p = _slot(c, slot_of, pc, pf, pi, n_pairs)
                            if p == n_pairs:
                                n_pairs += 1
                                if n_pairs > pc.size - 1:
                                    pc, pf, pi = _grow(pc, pf, pi)
                            dm = min(d0, d1)
                            if dm < pf[p, 6]:
                                pf[p, 6] = dm
                                pi[p, 2] = i
            # -- finish the subject's pairs, then forget them
            counts[row] = n_pairs
            for p in range(n_pairs):
                c = pc[p]
                slot_of[c] = -1
                if p >= cap:
                    continue
                _finish(p, pf, pi, ts, x, y, cx[c], cy[c], w0[c], w1[c], gap_ms, lo, hi, out_f[row, p], out_i[row, p])
                out_i[row, p, 0] = c


@numba.njit(cache=True)
def _grow(pc, pf, pi):
    n = pc.size * 2
    pc2, pf2, pi2 = np.empty(n, np.int64), np.empty((n, 8), np.float64), np.empty((n, 3), np.int64)
    pc2[:pc.size], pf2[:pc.size], pi2[:pc.size] = pc, pf, pi
    return pc2, pf2, pi2


@numba.njit(cache=True, inline="always")
def _slot(c, slot_of, pc, pf, pi, n_pairs):
    """The pair slot of crime ``c`` for this subject, opened if new (returns n_pairs then)."""
    p = slot_of[c]
    if p >= 0:
        return p
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
