"""Fuzzing every ingest route and file importer (hypothesis, derandomised: the same inputs every run).

The properties: no answer of 500 or more, no exception but a named input error, and the
valid record beside a hostile one is always stored. bench/fuzz.py is the long run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from tagwatch.api import create_app
from tagwatch.codec import InputError, conditions_checked
from tagwatch.ingest.crimes import read_crime_file
from tagwatch.model import Device
from tagwatch.services.ingest import ingest_files
from tagwatch.store import open_store

from conftest import WEB_NOW

FUZZ = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
numbers = st.one_of(st.integers(min_value=-(10 ** 400), max_value=10 ** 400), st.floats(allow_nan=True),
                    st.sampled_from(["1e20", "inf", "-1e20", "1e300", "9" * 30, "nan", "", "0x1"]))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=12)
texts = st.one_of(st.text(max_size=60), numbers.map(str))


def _json(v) -> str:
    try:
        return json.dumps(v)
    except ValueError:  # integers over 4,300 digits
        return str(v)


def _client(web) -> TestClient:
    return TestClient(create_app(web.store, clock=lambda: WEB_NOW), raise_server_exceptions=False)


@FUZZ
@given(field=st.sampled_from(["id", "lat", "lon", "timestamp", "accuracy", "batt", "location"]), value=texts)
def test_osmand_query_never_5xx(web, field, value):
    params = {"id": "TAG1", "lat": "51.45", "lon": "-0.02", field: value}
    assert _client(web).get("/osmand", params=params).status_code < 500


@FUZZ
@given(path=st.sampled_from([(), ("location",), ("location", "coords"), ("location", "battery")]),
       key=st.sampled_from(["device_id", "location", "timestamp", "coords", "battery", "latitude", "longitude",
                            "accuracy", "level"]), value=json_values)
def test_osmand_json_never_5xx(web, path, key, value):
    body = {"device_id": "TAG1", "location": {"timestamp": "2026-03-20T13:00:00Z", "coords": {
        "latitude": 51.45, "longitude": -0.02}, "battery": {"level": 0.5}}}
    target = body
    for p in path:
        target = target[p]
    target[key] = value
    r = _client(web).post("/osmand", content=_json(body), headers={"Content-Type": "application/json"})
    assert r.status_code < 500


@FUZZ
@given(token=st.binary(max_size=40))
def test_any_token_is_401_never_5xx(web, token):
    assert _client(web).get("/api/me", headers={"Authorization": b"Bearer " + token}).status_code == 401


@FUZZ
@given(key=st.sampled_from(["device_id", "ts", "lat", "lon", "accuracy_m", "battery_pct", "strap", "received_at"]),
       value=json_values, second=st.integers(0, 59))
def test_a_hostile_fix_never_costs_its_neighbour(web, key, value, second):
    good = {"device_id": "TAG2", "ts": f"2026-03-20T15:30:{second:02d}Z", "lat": 51.42, "lon": -0.02}
    bad = {**good, "ts": "2026-03-20T15:59:59Z", key: value}
    r = _client(web).post("/api/fixes", content='{"fixes": [' + _json(bad) + ", " + json.dumps(good) + "]}",
                          headers={**web.headers["gateway"], "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] + r.json()["duplicates"] >= 1


LINE_FAULTS = st.one_of(st.binary(max_size=30), st.sampled_from([b"\xff", b'"', b'a"b', b"1" * 400, b"nan"]))


@FUZZ
@given(cell=st.integers(0, 3), fault=LINE_FAULTS, fmt=st.sampled_from(["csv", "jsonl"]))
def test_file_rows_beside_a_hostile_line_are_ingested(cell, fault, fmt):
    d = Path(tempfile.mkdtemp())
    store = open_store(f"sqlite:///{d / 'f.db'}")
    store.add_device(Device("TAG1"), 0)
    fault = fault.replace(b"\n", b"").replace(b"\r", b"")
    cells = [b"TAG1", b"2026-03-03T00:00:00Z", b"51.45", b"-0.02"]
    cells[cell] = fault
    rows = [b"TAG1,2026-03-01T00:00:00Z,51.45,-0.02", b",".join(cells), b"TAG1,2026-03-02T00:00:00Z,51.45,-0.02"]
    if fmt == "jsonl":
        rows = [b'{"device_id": "%s", "ts": "%s", "lat": %s, "lon": %s}' % tuple(r.split(b",", 3)) for r in rows]
    path = d / f"fixes.{fmt}"
    path.write_bytes(b"\n".join(([b"device_id,ts,lat,lon"] if fmt == "csv" else []) + rows) + b"\n")
    rep = ingest_files(store, [path], 1_800_000_000_000)
    assert rep.accepted >= 2 and rep.accepted + rep.rejected == 3


@FUZZ
@given(fault=LINE_FAULTS, repeat=st.sampled_from([1, 140_000]))
def test_crime_files_never_crash(fault, repeat):
    path = Path(tempfile.mkdtemp()) / "crimes.csv"
    path.write_bytes(b"crime_id,crime_type,lat,lon,from,to\nC1,RB,51.45,-0.02,2026-03-20T10:00:00Z,"
                     b"2026-03-20T10:30:00Z\nC2,RB," + fault * repeat + b",-0.02,2026-03-20T10:00:00Z,x\n")
    assert len(read_crime_file(path).crimes) == 1


@FUZZ
@given(zone=json_values)
def test_any_zone_is_accepted_or_refused_with_a_message(zone):
    try:
        conditions_checked([{"id": "victim", "kind": "exclusion", "zone": zone}])
    except InputError as e:
        assert str(e)
