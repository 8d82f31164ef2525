"""Benchmark: evaluate a pilot-year of fixes streamed from Parquet, on one core.

Goal (issue 7): 100 subjects x 525,600 fixes (52.6M) in under 10 s with peak memory
under 2 GiB. Peer in the same run: a straightforward per-fix loop with shapely
(one Point per fix, contains() per zone, a Python dwell state machine) on a sample,
extrapolated to the whole year.

    python bench/make_year.py                      # once: bench/data/year-100x365.parquet
    python bench/bench_rules.py [--subjects 100 --days 365] [--peer-sample 100000]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import bisect  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import shapely  # noqa: E402

from tagwatch.codec import conditions_checked  # noqa: E402
from tagwatch.model import Order, OrderType, OrderVersion  # noqa: E402
from tagwatch.rules import Track, evaluate_subject  # noqa: E402
from tagwatch.rules.zones import condition_windows, zone_for  # noqa: E402

COLUMNS = ["ts_ms", "x", "y", "accuracy_m", "battery_pct", "tamper", "received_ms"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_orders(path: Path) -> list[Order]:
    out = []
    for o in json.loads(path.read_text()):
        conds = conditions_checked(o["conditions"])
        out.append(Order(o["id"], o["subject_id"], OrderType.LICENCE, o["start_ms"], o["end_ms"],
                         (OrderVersion(o["id"], 1, o["start_ms"], conds),)))
    return out


def track_of(table: pa.Table) -> Track:
    """A Track straight from the sorted columns (the file is sorted by subject, ts)."""
    col = {name: table.column(name).to_numpy() for name in COLUMNS}
    n = len(col["ts_ms"])
    return Track(col["ts_ms"], col["x"].astype(np.float64), col["y"].astype(np.float64), col["accuracy_m"].astype(np.float64),
                 col["battery_pct"].astype(np.float64), col["tamper"], np.zeros(n, dtype=np.int32), ("TAG",),
                 col["received_ms"])


def run_ours(parquet: Path, orders: list[Order]) -> dict:
    # No memory map: mapped file pages would count as resident memory (see docs/benchmarks.md).
    pf = pq.ParquetFile(parquet, memory_map=False)
    read_s = eval_s = 0.0
    kinds: Counter = Counter()
    fixes = 0
    for g in range(pf.num_row_groups):
        t = time.perf_counter()
        table = pf.read_row_group(g, columns=COLUMNS, use_threads=False)
        track = track_of(table)
        read_s += time.perf_counter() - t
        t = time.perf_counter()
        order = orders[g]
        episodes = evaluate_subject(order.subject_id, [order], track, order.end_ms)
        eval_s += time.perf_counter() - t
        kinds.update(str(e.kind) for e in episodes)
        fixes += len(track)
        del table, track
    return {"fixes": fixes, "read_s": read_s, "eval_s": eval_s, "kinds": dict(kinds)}


def run_peer(parquet: Path, order: Order, sample: int) -> dict:
    """One shapely Point per fix, contains() per zone, a Python dwell state machine."""
    table = pq.ParquetFile(parquet).read_row_group(0, columns=["ts_ms", "x", "y"]).slice(0, sample)
    ts, xs, ys = (table.column(c).to_pylist() for c in ("ts_ms", "x", "y"))
    conds = order.versions[0].conditions
    zones = [(c, zone_for(c).geometry) for c in conds]
    windows = {c.id: condition_windows(c, order.start_ms, order.end_ms) for c in conds}
    starts = {cid: w[:, 0].tolist() for cid, w in windows.items()}
    ends = {cid: w[:, 1].tolist() for cid, w in windows.items()}
    t = time.perf_counter()
    state = {c.id: (None, 0) for c in conds}
    alerts = 0
    for tsi, x, y in zip(ts, xs, ys):
        p = shapely.Point(x, y)
        for c, geom in zones:
            k = bisect.bisect_right(starts[c.id], tsi) - 1
            if k < 0 or tsi >= ends[c.id][k]:
                state[c.id] = (None, 0)
                continue
            inside = geom.contains(p)
            violating = inside if c.kind == "exclusion" else (not inside if c.kind == "curfew" else False)
            first, count = state[c.id]
            if violating:
                first = tsi if first is None else first
                count += 1
                if count == 3 and tsi - first >= 120_000:
                    alerts += 1
            else:
                first, count = None, 0
            state[c.id] = (first, count)
    elapsed = time.perf_counter() - t
    return {"fixes": len(ts), "s": elapsed, "alerts": alerts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--data", type=Path, default=Path("bench/data"))
    ap.add_argument("--peer-sample", type=int, default=100_000)
    args = ap.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    parquet = args.data / f"year-{args.subjects}x{args.days}.parquet"
    if not parquet.exists():
        raise SystemExit(f"{parquet} not found: run python bench/make_year.py --subjects {args.subjects} --days {args.days}")
    orders = load_orders(args.data / f"orders-{args.subjects}x{args.days}.json")
    rss0 = peak_rss_mib()
    t = time.perf_counter()
    ours = run_ours(parquet, orders)
    total = time.perf_counter() - t
    peer = run_peer(parquet, orders[0], args.peer_sample)
    peer_rate = peer["fixes"] / peer["s"]
    n = ours["fixes"]
    print(f"tagwatch rules benchmark: {args.subjects} subjects x {args.days} days = {n:,} fixes (one core)")
    print(f"{'':34}{'time (s)':>10}{'fixes/s':>16}")
    print(f"{'ours: total (read + evaluate)':34}{total:>10.2f}{n / total:>16,.0f}")
    print(f"{'ours: read Parquet -> columns':34}{ours['read_s']:>10.2f}{n / ours['read_s']:>16,.0f}")
    print(f"{'ours: evaluate (columnar kernel)':34}{ours['eval_s']:>10.2f}{n / ours['eval_s']:>16,.0f}")
    print(f"{'peer: per-fix shapely loop':34}{n / peer_rate:>10.1f}{peer_rate:>16,.0f}   "
          f"(measured on {peer['fixes']:,} fixes in {peer['s']:.2f} s, extrapolated)")
    print(f"speed-up of the evaluation over the peer: {n / peer_rate / ours['eval_s']:.0f}x; "
          f"peak RSS {peak_rss_mib():.0f} MiB (before the run: {rss0:.0f} MiB)")
    print("episodes found: " + ", ".join(f"{k} {v}" for k, v in sorted(ours["kinds"].items())))


if __name__ == "__main__":
    main()
