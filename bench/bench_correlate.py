"""Benchmark: crime-scene correlation of a month of national-scale tracks (issue 8).

Goal: 1,000 subjects x 30 days at one fix a minute (43.2M fixes) against 75,000 crimes;
the join, exact with segments between fixes, in under 1 s on the 2-core machine, loading
reported separately. In the same run:

- the same fix-only join in DuckDB (its best formulation we know: an equi-join on packed
  space-time cell keys, then the exact time and distance filter), on the same data;
- PostGIS ``ST_DWithin`` on a stated sample of subjects (PostgreSQL + PostGIS started here
  on loopback, as in shared RECIPES.md), with its loading and indexing timed apart;
- identical pairs: the batch engine against ``match_track`` (the per-pair engine that
  tests check against a brute-force oracle) on a sample of subjects, and its fix-only
  pairs against DuckDB's and PostGIS's;
- peak memory of each stage (VmHWM, reset before each stage).

    make bench-deps                         # once: duckdb (bench only) + PostGIS from Debian
    .venv/bin/python bench/bench_correlate.py [--subjects 1000 --days 30 --crimes 75000]

The data is synthetic and seeded (homes and crime hotspots across a 55 x 40 km box of
Greater London on the British National Grid; each person a mean-reverting random walk
about home; 2 % of minutes lost in gaps of 15-120 minutes); it is cached in bench/data/.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from tagwatch.correlate import CrimeSite, MatchParams, match_track
from tagwatch.correlate.batch import CrimeColumns, PairColumns, join_tracks

DATA = Path(__file__).resolve().parent / "data"
X0, X1, Y0, Y1 = 505_000.0, 560_000.0, 160_000.0, 200_000.0
MIN = 60_000
T0 = 1_772_323_200_000  # 2026-03-01T00:00:00Z


# -- memory ---------------------------------------------------------------------------------------
def reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)
    except OSError:
        pass


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- data -----------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _walks(homes_x, homes_y, n_min, seed, out_x, out_y):
    """Mean-reverting walk about home per subject: ~1.5 km typical distance, ~2 h memory."""
    np.random.seed(seed)
    a = np.exp(-1.0 / 120.0)
    sd = 1500.0 * np.sqrt(1 - a * a)
    for s in range(homes_x.size):
        dx, dy = 0.0, 0.0
        for k in range(n_min):
            dx = a * dx + sd * np.random.standard_normal()
            dy = a * dy + sd * np.random.standard_normal()
            out_x[s * n_min + k] = homes_x[s] + dx + 5.0 * np.random.standard_normal()
            out_y[s * n_min + k] = homes_y[s] + dy + 5.0 * np.random.standard_normal()


def make_data(n_sub: int, days: int, n_crimes: int, seed: int = 7):
    path = DATA / f"corr-{n_sub}x{days}-{n_crimes}-s{seed}.npz"
    if path.exists():
        d = np.load(path)
        return d["offsets"], d["ts"], d["x"], d["y"], CrimeColumns(d["cx"], d["cy"], d["c0"], d["c1"], d["cr"])
    rng = np.random.default_rng(seed)
    n_min = days * 1440
    hot = np.c_[rng.uniform(X0, X1, 200), rng.uniform(Y0, Y1, 200)]
    homes = np.where(rng.random((n_sub, 1)) < 0.6, hot[rng.integers(0, 200, n_sub)] + rng.normal(0, 1500, (n_sub, 2)),
                     np.c_[rng.uniform(X0, X1, n_sub), rng.uniform(Y0, Y1, n_sub)])
    x, y = np.empty(n_sub * n_min), np.empty(n_sub * n_min)
    _walks(homes[:, 0].copy(), homes[:, 1].copy(), n_min, seed, x, y)
    ts = np.tile(T0 + np.arange(n_min, dtype=np.int64) * MIN, n_sub)
    keep = np.ones(ts.size, dtype=bool)
    n_gaps = int(0.02 * ts.size / 67)  # 2 % of minutes, in gaps of 15-120 minutes
    starts, lens = rng.integers(0, ts.size, n_gaps), rng.integers(15, 121, n_gaps)
    for s0, ln in zip(starts.tolist(), lens.tolist(), strict=True):
        keep[s0:s0 + ln] = False
    sub = np.repeat(np.arange(n_sub), n_min)[keep]
    ts, x, y = ts[keep], x[keep], y[keep]
    offsets = np.r_[0, np.cumsum(np.bincount(sub, minlength=n_sub))].astype(np.int64)
    near = rng.random(n_crimes) < 0.6
    cx = np.where(near, hot[rng.integers(0, 200, n_crimes), 0] + rng.normal(0, 800, n_crimes), rng.uniform(X0, X1, n_crimes))
    cy = np.where(near, hot[rng.integers(0, 200, n_crimes), 1] + rng.normal(0, 800, n_crimes), rng.uniform(Y0, Y1, n_crimes))
    kind = rng.random(n_crimes)
    length = np.where(kind < 0.35, 0, np.where(kind < 0.7, rng.uniform(0, 3600e3, n_crimes),
                                               rng.uniform(3600e3, 12 * 3600e3, n_crimes))).astype(np.int64)
    c0 = T0 + rng.integers(0, days * 86_400_000 - int(length.max()), n_crimes)
    acc = np.where(rng.random(n_crimes) < 0.3, rng.uniform(10, 50, n_crimes), 0.0)
    crimes = CrimeColumns(cx, cy, c0, c0 + length, 100.0 + acc)
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez(path, offsets=offsets, ts=ts, x=x, y=y, cx=cx, cy=cy, c0=c0, c1=c0 + length, cr=crimes.radius_m)
    return offsets, ts, x, y, crimes


# -- checks ---------------------------------------------------------------------------------------
def oracle_check(offsets, ts, x, y, crimes: CrimeColumns, pairs: PairColumns, params: MatchParams, sample: list[int]):
    """match_track on every (sampled subject, crime) pair that could match; compare with the batch pairs."""
    w0 = crimes.from_ms - int(params.buffer_s * 1000)
    w1 = crimes.to_ms + int(params.buffer_s * 1000)
    mism, n_ref, n_calls = 0, 0, 0
    for s in sample:
        a, b = offsets[s], offsets[s + 1]
        t, px, py = ts[a:b], x[a:b], y[a:b]
        # Only crimes that could match: near the track's bounding box, or in time with a long gap.
        r = crimes.radius_m
        near = ((crimes.x + r >= px.min()) & (crimes.x - r <= px.max()) & (crimes.y + r >= py.min())
                & (crimes.y - r <= py.max()))
        gaps = np.flatnonzero(np.diff(t) > params.max_gap_s * 1000)
        in_gap = np.zeros(len(crimes), dtype=bool)
        for g in gaps:
            in_gap |= (w0 <= t[g + 1]) & (w1 >= t[g])
        ref = {}
        for c in np.flatnonzero(near | in_gap):
            n_calls += 1
            m = match_track(t, px, py, CrimeSite(crimes.x[c], crimes.y[c], int(crimes.from_ms[c]), int(crimes.to_ms[c])),
                            MatchParams(float(r[c]), params.buffer_s, params.max_gap_s, params.max_speed_mps))
            if m is not None:
                ref[int(c)] = m
        mine = {int(pairs.crime[k]): k for k in np.flatnonzero(pairs.subject == s)}
        n_ref += len(ref)
        mism += len(set(ref) ^ set(mine))
        for c, m in ref.items():
            if c in mine:
                got = pairs.match(mine[c])
                same = (got.evidence == m.evidence and abs(got.closest_m - m.closest_m) < 1e-6
                        and got.closest_ms == m.closest_ms and got.first_within_ms == m.first_within_ms
                        and got.last_within_ms == m.last_within_ms and abs(got.within_s - m.within_s) < 1e-6)
                mism += not same
    return n_ref, mism, n_calls


def fix_pairs(pairs: PairColumns, subjects: np.ndarray | None = None) -> set[tuple[int, int]]:
    k = pairs.evidence == 0
    if subjects is not None:
        k &= np.isin(pairs.subject, subjects)
    return set(zip(pairs.subject[k].tolist(), pairs.crime[k].tolist(), strict=True))


# -- peers ----------------------------------------------------------------------------------------
def duckdb_join(offsets, ts, x, y, crimes: CrimeColumns, params: MatchParams, cell: float = 500.0):
    """Fix-only join in DuckDB, its best formulation we found: each fix's packed (cell, hour) key
    computed once while loading into a native table; crimes expanded to every (cell, hour) their
    radius square and buffered window touch; an equi-join on the key, then the exact filter.
    (Joining on the key computed in the join, straight over Arrow, was 4-5 times slower.)"""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 2}")
    sub = np.repeat(np.arange(offsets.size - 1, dtype=np.int32), np.diff(offsets))
    con.register("fixes_arrow", pa.table({"s": sub, "ts": ts, "x": x, "y": y}))  # zero-copy from numpy
    buf = int(params.buffer_s * 1000)
    cr = pa.table({"c": np.arange(len(crimes), dtype=np.int32), "cx": crimes.x, "cy": crimes.y,
                   "w0": crimes.from_ms - buf, "w1": crimes.to_ms + buf, "r": crimes.radius_m})
    con.register("crimes_raw", cr)
    t0 = time.perf_counter()
    con.execute(f"""
        CREATE TABLE fixes AS
        SELECT s, ts, x, y,
               ((CAST(floor(x / {cell}) AS BIGINT) * 4096 + CAST(floor(y / {cell}) AS BIGINT)) * 1048576
                + ts // 3600000) AS k
        FROM fixes_arrow
    """)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    con.execute(f"""
        CREATE TEMP TABLE crime_cells AS
        SELECT c, cx, cy, w0, w1, r,
               ((gx * 4096 + gy) * 1048576 + hb) AS k
        FROM crimes_raw,
             range(CAST(floor((cx - r) / {cell}) AS BIGINT), CAST(floor((cx + r) / {cell}) AS BIGINT) + 1) AS tx(gx),
             range(CAST(floor((cy - r) / {cell}) AS BIGINT), CAST(floor((cy + r) / {cell}) AS BIGINT) + 1) AS ty(gy),
             range(w0 // 3600000, w1 // 3600000 + 1) AS th(hb)
    """)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = con.execute("""
        SELECT DISTINCT f.s, k.c
        FROM fixes f JOIN crime_cells k ON f.k = k.k
        WHERE f.ts BETWEEN k.w0 AND k.w1
          AND (f.x - k.cx) * (f.x - k.cx) + (f.y - k.cy) * (f.y - k.cy) <= k.r * k.r
    """).fetchnumpy()
    t_join = time.perf_counter() - t0
    return set(zip(rows["s"].tolist(), rows["c"].tolist(), strict=True)), t_load, t_build, t_join, duckdb.__version__


class Postgres:
    """PostgreSQL + PostGIS on loopback, from the distribution's binaries (shared RECIPES.md)."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="tagwatch-bench-pg-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def _run(self, *cmd):
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*runner, *map(str, cmd)], check=True, capture_output=True)

    def __enter__(self):
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(self.BIN / "initdb", "-D", self.root / "data", "-U", "postgres", "-A", "trust", "--no-sync")
        self._run(self.BIN / "pg_ctl", "-D", self.root / "data", "-l", self.root / "log", "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c shared_buffers=1GB -c work_mem=256MB -c max_parallel_workers_per_gather=2", "start")
        return self

    def __exit__(self, *exc):
        self._run(self.BIN / "pg_ctl", "-D", self.root / "data", "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def postgis_join(offsets, ts, x, y, crimes: CrimeColumns, params: MatchParams, sample: np.ndarray):
    import psycopg

    buf = int(params.buffer_s * 1000)
    with Postgres() as pg, psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres",
                                           autocommit=True) as con:
        con.execute("CREATE EXTENSION postgis")
        version = con.execute("SELECT postgis_lib_version()").fetchone()[0]
        t0 = time.perf_counter()
        con.execute("CREATE TABLE fixes (s int, ts bigint, geom geometry(Point, 27700))")
        con.execute("CREATE TABLE crimes (c int, w0 bigint, w1 bigint, r float8, geom geometry(Point, 27700))")
        with con.cursor().copy("COPY fixes (s, ts, geom) FROM STDIN") as cp:
            for s in sample.tolist():
                a, b = offsets[s], offsets[s + 1]
                for t_, x_, y_ in zip(ts[a:b].tolist(), x[a:b].tolist(), y[a:b].tolist(), strict=True):
                    cp.write_row((s, t_, f"SRID=27700;POINT({x_!r} {y_!r})"))
        with con.cursor().copy("COPY crimes (c, w0, w1, r, geom) FROM STDIN") as cp:
            for c in range(len(crimes)):
                cp.write_row((c, int(crimes.from_ms[c]) - buf, int(crimes.to_ms[c]) + buf, float(crimes.radius_m[c]),
                              f"SRID=27700;POINT({float(crimes.x[c])!r} {float(crimes.y[c])!r})"))
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        con.execute("CREATE INDEX ON fixes USING gist (geom)")
        con.execute("CREATE INDEX ON crimes USING gist (geom)")
        con.execute("ANALYZE fixes")
        con.execute("ANALYZE crimes")
        t_index = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = con.execute("""
            SELECT DISTINCT f.s, c.c FROM crimes c JOIN fixes f
              ON ST_DWithin(f.geom, c.geom, c.r) AND f.ts BETWEEN c.w0 AND c.w1
        """).fetchall()
        t_join = time.perf_counter() - t0
    return {(int(s), int(c)) for s, c in rows}, t_load, t_index, t_join, version


# -- main -----------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--crimes", type=int, default=75_000)
    ap.add_argument("--oracle-subjects", type=int, default=20)
    ap.add_argument("--postgis-subjects", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--no-postgis", action="store_true")
    args = ap.parse_args()
    params = MatchParams()
    print(f"machine: {os.cpu_count()} cores, numba {numba.__version__} with {numba.get_num_threads()} threads")

    reset_peak()
    t0 = time.perf_counter()
    offsets, ts, x, y, crimes = make_data(args.subjects, args.days, args.crimes)
    t_load = time.perf_counter() - t0
    n_fix = int(ts.size)
    print(f"data: {args.subjects} subjects x {args.days} days = {n_fix:,} fixes, {len(crimes):,} crimes; "
          f"loaded in {t_load:.2f} s ({n_fix * 24 / 2**20:,.0f} MiB of columns), RSS {rss_mib():,.0f} MiB")

    # Warm-up: load the compiled kernel from numba's cache (or compile it once).
    t0 = time.perf_counter()
    join_tracks(offsets[:2], ts[:offsets[1]], x[:offsets[1]], y[:offsets[1]], crimes, params)
    print(f"kernel warm-up (cache load or compile): {time.perf_counter() - t0:.2f} s")

    t0 = time.perf_counter()
    _ = ts.sum() + x.sum() + y.sum()
    t_read = time.perf_counter() - t0

    times = []
    reset_peak()
    base = rss_mib()
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        pairs = join_tracks(offsets, ts, x, y, crimes, params)
        times.append(time.perf_counter() - t0)
    peak_join = peak_mib() - base
    path_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        path_pairs = join_tracks(offsets, ts, x, y, crimes, params, gaps=False)
        path_times.append(time.perf_counter() - t0)
    ev = np.bincount(pairs.evidence, minlength=3)
    print(f"ours: join with segments and gaps: best {min(times):.3f} s, median {np.median(times):.3f} s "
          f"of {args.repeat} ({n_fix / min(times) / 1e6:,.1f}M fixes/s); one pass reading the columns: {t_read:.3f} s; "
          f"memory above the data during the join: {peak_join:,.0f} MiB")
    print(f"      pairs: {len(pairs):,} ({ev[0]:,} fix, {ev[1]:,} segment only, {ev[2]:,} unaccounted gap)")
    print(f"ours: path join alone (fixes and segments, no gap search): best {min(path_times):.3f} s "
          f"({n_fix / min(path_times) / 1e6:,.1f}M fixes/s), {len(path_pairs):,} pairs")

    sample = np.random.default_rng(1).choice(offsets.size - 1, size=min(args.oracle_subjects, offsets.size - 1),
                                             replace=False)
    t0 = time.perf_counter()
    n_ref, mism, n_calls = oracle_check(offsets, ts, x, y, crimes, pairs, params, sample.tolist())
    print(f"check against match_track on {sample.size} subjects x every crime that could match ({n_calls:,} calls, "
          f"{time.perf_counter() - t0:.1f} s): {n_ref:,} pairs, {mism} differences")

    ours_fix = fix_pairs(pairs)
    if not args.no_duckdb:
        reset_peak()
        base = rss_mib()
        dpairs, t_dload, t_build, t_join, ver = duckdb_join(offsets, ts, x, y, crimes, params)
        print(f"DuckDB {ver}: fix-only join {t_join:.3f} s (+ {t_build:.3f} s expanding crimes to cells; "
              f"loading with the cell key {t_dload:.2f} s); "
              f"memory above the data: {peak_mib() - base:,.0f} MiB; {len(dpairs):,} pairs, "
              f"{len(dpairs ^ ours_fix)} differ from ours")
    if not args.no_postgis:
        ps = np.sort(sample[: args.postgis_subjects]) if args.postgis_subjects <= sample.size else np.sort(
            np.random.default_rng(2).choice(offsets.size - 1, size=min(args.postgis_subjects, offsets.size - 1),
                                            replace=False))
        n_ps = int(sum(offsets[s + 1] - offsets[s] for s in ps.tolist()))
        try:
            gpairs, t_l, t_i, t_j, ver = postgis_join(offsets, ts, x, y, crimes, params, ps)
        except (subprocess.CalledProcessError, OSError, ImportError) as e:
            print(f"PostGIS: not run ({e}); install it with `make bench-deps`")
        else:
            mine = fix_pairs(pairs, ps)
            t0 = time.perf_counter()
            sub_off = np.r_[0, np.cumsum([offsets[s + 1] - offsets[s] for s in ps.tolist()])]
            idx = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in ps.tolist()])
            join_tracks(sub_off, ts[idx], x[idx], y[idx], crimes, params)
            t_ours = time.perf_counter() - t0
            print(f"PostGIS {ver}, sample of {ps.size} subjects ({n_ps:,} fixes): ST_DWithin fix-only join {t_j:.2f} s "
                  f"(load {t_l:.1f} s, GiST indexes {t_i:.1f} s); ours on the same sample with segments {t_ours:.3f} s; "
                  f"{len(gpairs):,} pairs, {len(gpairs ^ mine)} differ from ours")
    print(f"peak RSS of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")

if __name__ == "__main__":
    main()
