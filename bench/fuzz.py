"""Long fuzz run over every ingest route and file importer: counts of 5xx answers, crashes and lost rows.

Each input is a hostile value (huge, non-finite, wrong-typed, undecodable, unbalanced quotes,
deep nesting) placed beside a valid neighbour; we count answers of 500 or more, importers that
raise something other than a named input error, and valid neighbours that were not stored.
Seeded, so a run is repeatable: ``.venv/bin/python bench/fuzz.py --n 10000``. It runs on any
tagwatch checkout (``PYTHONPATH=OTHER/src:OTHER/tests`` measures another one, e.g. main).
Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
warnings.simplefilter("ignore")

EVIL = ["1e20", "inf", "-inf", "nan", "-1e20", "1e300", "9" * 30, "1" * 310, "", " ", "0x10", "1e", "--1",
        "\u00e9", "\x00", '"', '"x', "null", "true", "[]", "{}", "51.45,-0.02", "x" * 5000, "-0", "1_0"]
EVIL_JSON = [None, True, 1e308, -1e308, 10 ** 310, -(10 ** 30), "x" * 3000, [], {}, [1, 2], {"a": {"b": [1]}},
             "2026-03-20T10:00:00", "0001-01-01T00:00:00+01:00", float("nan"), 51.45, "51.45"]


def evil(rng: random.Random):
    v = rng.choice(EVIL_JSON + EVIL)
    if rng.random() < 0.1:
        for _ in range(rng.randint(2, 60)):
            v = [v] if rng.random() < 0.5 else {"k": v}
    return v


def json_text(v) -> str:
    try:
        return json.dumps(v)
    except ValueError:  # NaN is allowed by default; an int over 4,300 digits is not
        return str(v)


class Counts(dict):
    def add(self, key: str, n: int = 1) -> None:
        self[key] = self.get(key, 0) + n


def http_fuzz(rng: random.Random, n: int, counts: Counts) -> None:
    from fastapi.testclient import TestClient

    from conftest import PASSWORD, WEB_NOW, build_web_world
    from tagwatch.api import create_app
    from tagwatch.store import open_store
    store = open_store(f"sqlite:///{tempfile.mkdtemp()}/fuzz.db")
    build_web_world(store)
    c = TestClient(create_app(store, clock=lambda: WEB_NOW), raise_server_exceptions=False)
    tok = c.post("/api/auth/token", data={"username": "gw", "password": PASSWORD}).json()["access_token"]
    gw = {"Authorization": f"Bearer {tok}"}
    fields = ["id", "lat", "lon", "timestamp", "accuracy", "batt", "location"]
    for i in range(n):
        kind = i % 5
        if kind == 0:
            params = {"id": "TAG1", "lat": "51.45", "lon": "-0.02"}
            params[rng.choice(fields)] = str(evil(rng))[:6000]
            r = c.get("/osmand", params=params)
        elif kind == 1:
            body = {"device_id": "TAG1", "location": {"timestamp": "2026-03-20T13:00:00Z", "coords": {
                "latitude": 51.45, "longitude": -0.02}, "battery": {"level": 0.5}}}
            target = rng.choice([body, body["location"], body["location"]["coords"], body["location"]["battery"]])
            target[rng.choice(list(target))] = evil(rng)
            r = c.post("/osmand", content=json_text(body), headers={"Content-Type": "application/json"})
        elif kind == 2:
            r = c.get("/api/me", headers={"Authorization": b"Bearer " + bytes(rng.randrange(256) for _ in range(12))})
        else:
            good = {"device_id": "TAG2", "ts": f"2026-03-20T1{rng.randint(3, 5)}:{rng.randint(0, 59):02d}:"
                                              f"{rng.randint(0, 59):02d}Z", "lat": 51.42, "lon": -0.02}
            bad = dict(good, ts="2026-03-20T15:59:59Z")
            bad[rng.choice(["device_id", "ts", "lat", "lon", "accuracy_m", "battery_pct", "strap"])] = evil(rng)
            r = c.post("/api/fixes", content='{"fixes": [' + json_text(bad) + ", " + json.dumps(good) + "]}",
                       headers={**gw, "Content-Type": "application/json"})
            if r.status_code == 200 and r.json()["accepted"] + r.json()["duplicates"] < 1:
                counts.add("http_neighbours_lost")
            elif r.status_code != 200:
                counts.add("http_neighbours_lost")  # the whole batch refused: its good fix not stored
        counts.add("http_inputs")
        if r.status_code >= 500:
            counts.add("http_5xx")


def file_fuzz(rng: random.Random, n: int, counts: Counts) -> None:
    from tagwatch.ingest.crimes import read_crime_file
    from tagwatch.model import Device
    from tagwatch.services.ingest import ingest_files
    from tagwatch.store import open_store
    d = Path(tempfile.mkdtemp())
    store = open_store(f"sqlite:///{d}/files.db")
    store.add_device(Device("TAG1"), 0)
    head = b"device_id,ts,lat,lon"
    for i in range(n):
        bad = rng.choice([s.encode("utf-8", "surrogatepass") for s in EVIL] + [b"\xff", b"\xc3\x28", b'"', b'a"b'])
        ts = [f"2026-03-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z".encode(),
              f"2026-03-02T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z".encode()]
        cells = [b"TAG1", b"2026-03-03T00:00:00Z", b"51.45", b"-0.02"]
        cells[rng.randrange(4)] = bad
        kind = i % 3
        if kind < 2:
            good = [b"TAG1," + t + b",51.45,-0.02" for t in ts]
            rows = [good[0], b",".join(cells), good[1]]
            if kind == 1:
                rows = [b'{"device_id": "' + r.split(b",")[0] + b'", "ts": "' + r.split(b",")[1] + b'", "lat": '
                        + r.split(b",")[2] + b', "lon": ' + b",".join(r.split(b",")[3:]) + b"}" for r in rows]
            path = d / f"f{i}.{'csv' if kind == 0 else 'jsonl'}"
            path.write_bytes(b"\n".join(([head] if kind == 0 else []) + rows) + b"\n")
            before = store.count("fixes")
            try:
                ingest_files(store, [path], 1_800_000_000_000)
            except ValueError:
                counts.add("file_refused")  # a named input error for the whole file
            except Exception:
                counts.add("file_crashes")
            counts.add("file_neighbours_lost", max(0, 2 - (store.count("fixes") - before)))
        else:
            path = d / f"c{i}.csv"
            path.write_bytes(b"crime_id,crime_type,lat,lon,from,to\nC1,RB,51.45,-0.02,2026-03-20T10:00:00Z,"
                             b"2026-03-20T10:30:00Z\n" + b"C2,RB," + bad * rng.choice([1, 140_000]) + b",-0.02,x,y\n")
            try:
                batch = read_crime_file(path)
                counts.add("file_neighbours_lost", 0 if batch.crimes else 1)
            except ValueError:
                counts.add("file_refused")
            except Exception:
                counts.add("file_crashes")
        counts.add("file_inputs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="inputs in all (about 3/4 over HTTP)")
    ap.add_argument("--seed", type=int, default=20261201)
    args = ap.parse_args()
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from tagwatch.services import users
    users._hasher = PasswordHasher.from_parameters(CHEAPEST)
    users._DUMMY_HASH = users._hasher.hash("not a password")
    import logging
    logging.disable(logging.CRITICAL)
    rng, counts = random.Random(args.seed), Counts()
    http_fuzz(rng, args.n * 3 // 4, counts)
    file_fuzz(rng, args.n - args.n * 3 // 4, counts)
    print(json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
