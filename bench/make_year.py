"""Generate a pilot-year of fixes as Parquet: 100 subjects x 525,600 fixes (one a minute).

Columns as the columnar archive keeps them: subject, ts_ms, x, y (BNG metres, float32), accuracy_m,
battery_pct, tamper, received_ms; sorted by (subject, ts_ms); one row group per subject,
so a reader can stream subject by subject. Each subject lives around a home in south
London with days out, occasional curfew and exclusion breaches and GPS noise, so the
rules have real work to do. Orders are written beside it as JSON.

    python bench/make_year.py [--subjects 100] [--days 365] [--out bench/data]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tagwatch.geo import to_wgs84

MIN = 60_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def lonlat(x, y):
    lon, lat = to_wgs84(float(x), float(y))
    return [round(float(lon), 6), round(float(lat), 6)]


def circle(x, y, r):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": lonlat(x, y)}, "properties": {"radius_m": r}}


def square(x, y, half):
    ring = [lonlat(x + sx * half, y + sy * half) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))]
    return {"type": "Polygon", "coordinates": [ring]}


def subject(i: int, days: int, seed: int):
    rng = np.random.default_rng([seed, i])
    n = days * 1440
    home = np.array([530_000.0, 170_000.0]) + rng.uniform(0, 10_000, 2)
    place = home + rng.uniform(-3000, 3000, 2)
    excl = home + np.array([2500.0, -1500.0])
    minute = np.arange(n) % 1440  # UTC minute of day: a simple clock for the benchmark
    day = np.arange(n) // 1440
    leave = rng.integers(8 * 60, 10 * 60, days)[day]
    back = rng.integers(17 * 60, 18 * 60 + 30, days)[day]
    out = (minute >= leave) & (minute < back)
    # Occasional late returns / night outings: away during the curfew.
    late = (rng.random(days) < 0.05)[day] & (minute >= back) & (minute < back + 150)
    night = (rng.random(days) < 0.03)[day] & (minute >= 23 * 60) & (minute < 23 * 60 + 50)
    visit = (rng.random(days) < 0.04)[day] & (minute >= 13 * 60) & (minute < 13 * 60 + 25)
    xy = np.where((out | late | night)[:, None], place, home)
    xy = np.where(visit[:, None], excl, xy)
    # Travel legs: 20 minutes of interpolation after leaving and before returning.
    for start, a, b in ((leave, home, place), (back - 20, place, home)):
        leg = (minute >= start) & (minute < start + 20)
        f = ((minute - start) / 20.0)[leg][:, None]
        xy[leg] = a + (b - a) * f
    indoor = ~(out & ~visit)
    sigma = np.where(indoor, rng.uniform(10, 25, n), rng.uniform(3, 10, n))
    xy = xy + rng.normal(0, 1, (n, 2)) * sigma[:, None]
    spikes = rng.random(n) < 1 / 1440
    xy[spikes] += rng.uniform(-400, 400, (int(spikes.sum()), 2))
    acc = np.clip(2 * sigma, 5, 50).astype(np.float32)
    battery = np.clip(100 - ((minute - 21 * 60) % 1440) * (2.0 / 60), 3, 100).astype(np.float32)
    ts = T0 + np.arange(n, dtype=np.int64) * MIN
    table = pa.table({
        "subject": pa.array(np.full(n, i, dtype=np.int16)),
        # BNG metres as float32: 3 cm resolution in London, far below GPS error, half the bytes.
        "ts_ms": ts, "x": xy[:, 0].astype(np.float32), "y": xy[:, 1].astype(np.float32), "accuracy_m": acc, "battery_pct": battery,
        "tamper": np.zeros(n, dtype=bool), "received_ms": ts + 10_000,
    })
    curfew = "daily 19:00-07:00" if i % 3 else "Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00"
    excl_zone = square(*excl, 150) if i % 4 == 0 else circle(*excl, 200.0)
    order = {"id": f"O{i:03d}", "subject_id": f"S{i:03d}", "start_ms": T0, "end_ms": T0 + days * 1440 * MIN,
             "conditions": [
                 {"id": "home", "kind": "curfew", "zone": circle(*home, 100.0), "schedule": curfew},
                 {"id": "victim", "kind": "exclusion", "zone": excl_zone},
                 {"id": "probation", "kind": "attendance", "zone": circle(*place, 100.0), "schedule": "Tue 10:00-11:00"},
             ]}
    return table, order


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/data"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"year-{args.subjects}x{args.days}.parquet"
    t = time.perf_counter()
    orders, writer = [], None
    for i in range(args.subjects):
        table, order = subject(i, args.days, args.seed)
        orders.append(order)
        if writer is None:
            # Uncompressed (Parquet's dictionary/RLE encodings still apply): on one core
            # snappy decompression costs more than reading the extra bytes (docs/benchmarks.md).
            writer = pq.ParquetWriter(path, table.schema, compression="none")
        writer.write_table(table, row_group_size=table.num_rows)
    writer.close()
    (args.out / f"orders-{args.subjects}x{args.days}.json").write_text(json.dumps(orders))
    rows = args.subjects * args.days * 1440
    print(f"wrote {path}: {rows:,} fixes, {path.stat().st_size / 2**20:.0f} MiB, in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
