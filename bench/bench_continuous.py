"""Benchmark: continuous correlation, one reported crime against a stored month (issue 8).

A police batch with one new crime arrives; `tagwatch crimes import` reads it, stores it and
checks it against every subject's track at once. This times that path, file read to
matches stored, on a store holding a month of a 100-person pilot (the simulator, seed 3),
for crimes placed on a subject's path (a match expected) and at random places (none
expected), beside the peer it replaces: the whole month's batch re-run (what a nightly
batch does), in the same run.

    .venv/bin/python bench/bench_continuous.py [--trials 20] [--pg]

The store is built once with `tagwatch simulate --days 30 --seed 3` and `tagwatch load`
into bench/data/cont.db (SQLite, copied for each run); with --pg, into a PostgreSQL
started by the benchmark on loopback (as bench_correlate.py does), loading timed apart.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tagwatch.geo import to_wgs84
from tagwatch.ingest.crimes import read_crime_file
from tagwatch.model import iso
from tagwatch.services.correlation import correlate, run_matches
from tagwatch.store import open_store

DATA = Path(__file__).resolve().parent / "data"
TW = [str(Path(sys.executable).with_name("tagwatch"))]


def build_store() -> str:
    db = DATA / "cont.db"
    if not db.exists():
        pilot = DATA / "cont-pilot"
        subprocess.run([*TW, "simulate", "--subjects", "100", "--days", "30", "--seed", "3", "--out", str(pilot)],
                       check=True)
        part = DATA / "cont-build.db"
        part.unlink(missing_ok=True)
        subprocess.run([*TW, "load", str(pilot), "--db", f"sqlite:///{part}"], check=True)
        part.rename(db)
    return db


def one_crime(store, path: Path, ref: str, x: float, y: float, t_ms: int) -> tuple[float, dict, list[dict]]:
    """Write a one-row tagwatch crime CSV, then import and check it as `crimes import` does; seconds taken."""
    lon, lat = to_wgs84(np.array([x]), np.array([y]))
    path.write_text("crime_id,crime_type,lat,lon,from,to\n"
                    f"{ref},RB,{float(lat[0]):.6f},{float(lon[0]):.6f},{iso(t_ms - 300_000)},{iso(t_ms + 300_000)}\n")
    t0 = time.perf_counter()
    batch = read_crime_file(path)
    store.record_crime_batch(batch, int(time.time() * 1000))
    run = correlate(store, int(time.time() * 1000), crime_keys=set(store.last_changed_crimes))
    dt = time.perf_counter() - t0
    return dt, run, run_matches(store, run["run_id"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--pg", action="store_true", help="PostgreSQL (started here) instead of SQLite")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tagwatch-cont-"))
    build_store()
    if args.pg:
        from bench_correlate import Postgres

        with Postgres() as pg:
            url = f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/postgres"
            t0 = time.perf_counter()
            subprocess.run([*TW, "load", str(DATA / "cont-pilot"), "--db", url], check=True, capture_output=True)
            print(f"loaded the pilot into PostgreSQL in {time.perf_counter() - t0:.1f} s (tagwatch load)")
            time_store(url, args.trials, work)
    else:
        shutil.copy(DATA / "cont.db", work / "cont.db")  # the cached store stays as built
        time_store(f"sqlite:///{work / 'cont.db'}", args.trials, work)
    shutil.rmtree(work, ignore_errors=True)


def time_store(url: str, trials: int, work: Path) -> None:
    store = open_store(url)
    subjects = store.subjects()
    positions = {s.id: store.load_positions(s.id, 0, 2**62) for s in subjects}
    n_fix = sum(p[0].size for p in positions.values())
    crimes = store.crimes()
    lo = min(int(p[0][0]) for p in positions.values() if p[0].size)
    hi = max(int(p[0][-1]) for p in positions.values() if p[0].size)
    print(f"store: {url.split(':')[0]}: {len(subjects)} subjects, {n_fix:,} positioned fixes over "
          f"{(hi - lo) / 86_400_000:.1f} days, {len(crimes):,} crimes stored")

    # Warm-up: the first correlation loads numba's compiled kernel from its cache.
    rng = np.random.default_rng(11)
    one_crime(store, work / "warm.csv", "BENCH-WARM", 530_000.0, 180_000.0, lo + 86_400_000)

    on_path, elsewhere, found = [], [], 0
    with_fixes = [s.id for s in subjects if positions[s.id][0].size > 100]
    for k in range(trials):
        sid = with_fixes[int(rng.integers(len(with_fixes)))]
        ts, x, y = positions[sid]
        i = int(rng.integers(ts.size))
        dt, _run, matches = one_crime(store, work / f"on-{k}.csv", f"BENCH-ON-{k}", float(x[i]) + 20.0,
                                     float(y[i]) + 20.0, int(ts[i]))
        on_path.append(dt)
        found += any(m["subject_id"] == sid for m in matches)
        t_ms = int(rng.integers(lo, hi))
        dt, _run, _ = one_crime(store, work / f"else-{k}.csv", f"BENCH-ELSE-{k}", float(rng.uniform(520_000, 545_000)),
                               float(rng.uniform(165_000, 190_000)), t_ms)
        elsewhere.append(dt)
    on, el = np.array(on_path), np.array(elsewhere)
    print(f"one new crime, file read to matches stored ({trials} trials each):")
    print(f"  on a subject's path: median {np.median(on):.3f} s, 90th percentile {np.percentile(on, 90):.3f} s, "
          f"max {on.max():.3f} s; the subject found in {found} of {trials}")
    print(f"  at a random place:   median {np.median(el):.3f} s, 90th percentile {np.percentile(el, 90):.3f} s, "
          f"max {el.max():.3f} s")

    t0 = time.perf_counter()
    every = correlate(store, int(time.time() * 1000))
    t_all = time.perf_counter() - t0
    print(f"peer, the nightly batch: the whole month re-run, {every['crimes']:,} crimes x {every['subjects']} subjects: "
          f"{t_all:.2f} s ({every['matches']:,} matches, {every['significant']} significant)")


if __name__ == "__main__":
    main()
