"""Benchmark: `tagwatch ingest` of the demo pilot's fixes into SQLite, in fixes per second.

Peer in the same run: the floor for the same job in plain Python, the standard library's
csv reader feeding sqlite3's executemany into an identical table, with no validation
and no projection.

    python bench/bench_ingest.py [--subjects 100 --days 14]
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tagwatch.services import enrolment, ingest
from tagwatch.cli.pilot import load_dir  # noqa: F401  (same code path as `tagwatch load`)
from tagwatch.codec import enrolment_from_dict
from tagwatch.sim import simulate
from tagwatch.store import open_store


def ours(pilot: Path, db: Path) -> tuple[float, int]:
    import json
    store = open_store(f"sqlite:///{db}")
    enrolment.enrol(store, enrolment_from_dict(json.loads((pilot / "enrolment.json").read_text())), 0)
    t = time.perf_counter()
    rep = ingest.ingest_files(store, [pilot / "fixes.csv"], now_ms=int(time.time() * 1000))
    return time.perf_counter() - t, rep.accepted


def peer(pilot: Path, db: Path) -> tuple[float, int]:
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE fixes (device_id TEXT, ts_ms INTEGER, lat REAL, lon REAL, accuracy_m REAL,"
                " battery_pct REAL, strap TEXT, received_ms INTEGER, PRIMARY KEY (device_id, ts_ms)) WITHOUT ROWID")
    t = time.perf_counter()

    def rows():
        with open(pilot / "fixes.csv", newline="") as f:
            r = csv.reader(f)
            next(r)
            for d, ts, lat, lon, acc, bat, strap, rx in r:
                yield (d, int(datetime.fromisoformat(ts).timestamp() * 1000), lat or None, lon or None, acc or None,
                       bat, strap, int(datetime.fromisoformat(rx).timestamp() * 1000))

    with con:
        con.executemany("INSERT OR IGNORE INTO fixes VALUES (?,?,?,?,?,?,?,?)", rows())
    n = con.execute("SELECT count(*) FROM fixes").fetchone()[0]
    con.close()
    return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=100)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        summary = simulate(tmp / "pilot", args.subjects, args.days, args.seed)
        size = (tmp / "pilot" / "fixes.csv").stat().st_size / 2**20
        t_ours, n_ours = ours(tmp / "pilot", tmp / "ours.db")
        t_peer, n_peer = peer(tmp / "pilot", tmp / "peer.db")
    print(f"ingest benchmark: {summary.n_fixes:,} fix rows ({size:.0f} MiB CSV), "
          f"{args.subjects} subjects x {args.days} days, SQLite")
    print(f"{'':58}{'time (s)':>10}{'fixes/s':>12}")
    print(f"{'ours: tagwatch ingest (validate, project, store, dedupe)':58}{t_ours:>10.2f}{n_ours / t_ours:>12,.0f}")
    print(f"{'peer: csv + sqlite3.executemany (no validation)':58}{t_peer:>10.2f}{n_peer / t_peer:>12,.0f}")


if __name__ == "__main__":
    main()
