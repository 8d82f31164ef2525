"""Benchmark: `tagwatch areas import` + the community safety index on the three real West Yorkshire
police.uk months (July 2016, 2017, 2018; 87,348 rows), in rows per second.

Peer in the same run: a plain pandas ``read_csv`` of the same files and a ``groupby`` of
counts by LSOA and crime type (no validation, no store, no index): the floor for reading
and counting. Our figures are split into parse + check (pyarrow), store (SQLite, one
transaction per file), and the index (an SQL GROUP BY and the numpy index).

    pip install --no-deps crime-sim-toolkit && pip install pandas   # (make install-test + .[bench])
    python bench/bench_areas.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from importlib.metadata import files
from pathlib import Path

from tagwatch.areas import read_police_uk
from tagwatch.services.areas import community_safety_index, import_area_files
from tagwatch.store import open_store


def west_yorkshire() -> list[Path]:
    found = sorted(Path(f.locate()) for f in files("crime-sim-toolkit") or [] if str(f).endswith("-west-yorkshire-street.csv"))
    if len(found) != 3:
        raise SystemExit("pip install --no-deps crime-sim-toolkit (it ships the West Yorkshire files)")
    return found


def ours(paths: list[Path], tmp: Path, run: int) -> dict[str, float]:
    t0 = time.perf_counter()
    rows = sum(read_police_uk(p).n_rows for p in paths)
    t1 = time.perf_counter()
    store = open_store(f"sqlite:///{tmp / f'bench-{run}.db'}")
    t2 = time.perf_counter()
    reps = import_area_files(store, paths, now_ms=0)  # parses again, then stores
    t3 = time.perf_counter()
    ai = community_safety_index(store)
    t4 = time.perf_counter()
    assert sum(r.rows for r in reps) == rows
    return {"rows": rows, "parse": t1 - t0, "import": t3 - t2, "index": t4 - t3, "top": ai.result.top(1)[0]["code"]}


def peer(paths: list[Path]) -> dict[str, float]:
    import pandas as pd
    t0 = time.perf_counter()
    frames = [pd.read_csv(p) for p in paths]
    df = pd.concat(frames, ignore_index=True)
    counts = df.groupby(["LSOA code", "Crime type"]).size()
    t1 = time.perf_counter()
    return {"rows": len(df), "read_groupby": t1 - t0, "groups": len(counts)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    paths = west_yorkshire()
    runs, peers = [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(args.repeat):
            runs.append(ours(paths, Path(d), i))
            peers.append(peer(paths))
    rows = runs[0]["rows"]
    med = {k: statistics.median(r[k] for r in runs) for k in ("parse", "import", "index")}
    p = statistics.median(r["read_groupby"] for r in peers)
    total = med["import"] + med["index"]
    print(f"{rows:,} rows in 3 files, median of {args.repeat} runs")
    print(f"  tagwatch parse + check (pyarrow):       {med['parse']:.3f} s  {rows / med['parse']:>10,.0f} rows/s")
    print(f"  tagwatch areas import (parse+store):    {med['import']:.3f} s  {rows / med['import']:>10,.0f} rows/s")
    print(f"  tagwatch community safety index:        {med['index']:.3f} s")
    print(f"  tagwatch import + index:                {total:.3f} s  {rows / total:>10,.0f} rows/s")
    print(f"  peer: pandas read_csv + groupby:        {p:.3f} s  {rows / p:>10,.0f} rows/s "
          f"({peers[0]['groups']:,} LSOA x type groups)")
    print(f"  top LSOA: {runs[0]['top']}")


if __name__ == "__main__":
    main()
