"""Hardening over HTTP: bad input gets a 4xx with a named reason, never a 500, and never costs a good row."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tagwatch.api import create_app
from tagwatch.ingest.osmand import record_from_json

from conftest import WEB_NOW

FIX = {"device_id": "TAG2", "lat": 51.42, "lon": -0.02}
SECURITY = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


@pytest.mark.parametrize("ts", ["1e20", "inf", "-inf", "-1e20", "1e300", "9" * 30, "nan", "-5", "1e", "0x10"])
def test_osmand_timestamp_out_of_range_is_bad_timestamp(web, ts):
    r = web.client.get("/osmand", params={"id": "TAG1", "lat": 51.45, "lon": -0.02, "timestamp": ts,
                                          "key": web.keys["TAG1"]})
    assert r.status_code == 400 and r.text == "bad_timestamp"
    assert web.store.rejects()[-1]["reason"].startswith("bad_timestamp")


@pytest.mark.parametrize("body, status, text", [
    ({"device_id": "TAG1", "location": 51.45}, 200, "OK"),  # no position: a status report (contact)
    ({"device_id": "TAG1", "location": "here"}, 200, "OK"),
    ({"device_id": "TAG1", "location": {"coords": "x", "timestamp": "2026-03-20T13:00:00Z"}}, 200, "OK"),
    ({"device_id": "TAG1", "location": {"coords": [51.4, -0.02]}}, 200, "OK"),
    ({"device_id": "TAG1", "location": {"coords": {"latitude": 51.4, "longitude": -0.02}, "battery": 5}}, 200, "OK"),
    ({"device_id": "TAG1", "location": {"coords": {"latitude": 51.4, "longitude": -0.02}, "battery": "x"}}, 200, "OK"),
    ({"device_id": "TAG1", "location": {"coords": {"latitude": 51.4, "longitude": -0.02},
                                        "battery": {"level": "half"}}}, 400, "bad_value"),
    ({"device_id": "TAG1", "location": {"coords": {"latitude": 51.4, "longitude": -0.02},
                                        "battery": {"level": [1]}}}, 400, "bad_value"),
    ({"device_id": "TAG1", "location": {"timestamp": 1e300, "coords": {"latitude": 51.4, "longitude": -0.02}}},
     400, "bad_timestamp"),
    ({"device_id": "TAG1", "location": {"coords": {"latitude": True, "longitude": -0.02}}}, 400, "bad_coordinates"),
    ({"device_id": "TAG1", "location": {"coords": {"latitude": {"a": 1}, "longitude": [1]}}}, 400, "bad_coordinates"),
])
def test_osmand_json_of_the_wrong_shape_is_answered(web, body, status, text):
    r = web.client.post("/osmand", json=body, params={"key": web.keys["TAG1"]})
    assert (r.status_code, r.text) == (status, text)


def test_string_battery_level_in_range_is_read():
    body = {"device_id": "TAG1", "location": {"coords": {"latitude": 51.4, "longitude": -0.02}, "battery": {"level": "0.5"}}}
    assert record_from_json(body, "2026-03-20T13:00:00Z")["battery_pct"] == 50.0


@pytest.mark.parametrize("token", [b"a.\xe9", b"\xff\xfe.x", "a.é".encode(), b"x" * 5000 + b".y", b"nodot", b"."])
def test_malformed_or_non_ascii_token_is_401(web, token):
    for path in ("/api/me", "/api/subjects", "/api/alerts"):
        r = web.client.get(path, headers={"Authorization": b"Bearer " + token})
        assert r.status_code == 401, (path, r.text)
        assert all(h in r.headers for h in SECURITY)


def test_huge_integer_latitude_rejects_that_fix_only(web):
    gw = web.headers["gateway"]
    before = web.store.count("fixes")
    body = ('{"fixes": [{"device_id": "TAG2", "ts": "2026-03-20T14:40:00Z", "lat": ' + "1" * 310 + ', "lon": 0},'
            ' {"device_id": "TAG2", "ts": "2026-03-20T14:41:00Z", "lat": 51.42, "lon": -0.02},'
            ' {"device_id": "TAG2", "ts": "2026-03-20T14:42:00Z", "lat": 51.42, "lon": -0.02, "battery_pct": '
            + "9" * 400 + '}]}')
    r = web.client.post("/api/fixes", content=body, headers={**gw, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and r.json()["reasons"] == {"bad_coordinates": 1, "bad_value": 1}
    assert web.store.count("fixes") == before + 1
    reasons = [x["reason"] for x in web.store.rejects()[-2:]]
    assert "out of range" in reasons[0] and "out of range" in reasons[1]


BAD_FIXES = [
    {**FIX, "ts": "2026-03-20T14:50:00Z", "lat": "1e400"}, {**FIX, "ts": "2026-03-20T14:50:00Z", "lat": "9" * 100},
    {**FIX, "ts": "0001-01-01T00:00:00+01:00"}, {**FIX, "ts": ["2026"]}, {**FIX, "ts": "2026-03-20T14:50:00Z",
                                                                            "accuracy_m": -1e308},
    {**FIX, "ts": "2026-03-20T14:50:00Z", "strap": {"x": 1}}, {"device_id": {"a": 1}, "ts": 5, "lat": 1, "lon": 1}, [],
]


@pytest.mark.parametrize("n", range(len(BAD_FIXES)))
def test_a_bad_fix_never_costs_its_neighbour(web, n):
    bad, good = BAD_FIXES[n], {**FIX, "ts": f"2026-03-20T14:{10 + n:02d}:07Z"}
    r = web.client.post("/api/fixes", json={"fixes": [bad, good]}, headers=web.headers["gateway"])
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == 1 and r.json()["accepted"] + r.json()["duplicates"] == 1


def test_a_500_carries_the_security_headers(web):
    app = create_app(web.store, clock=lambda: WEB_NOW)

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("a bug")
    r = TestClient(app, raise_server_exceptions=False).get("/api/boom")
    assert r.status_code == 500 and "a bug" not in r.text
    assert all(h in r.headers for h in SECURITY) and r.headers["Cache-Control"] == "no-store"


def test_osmand_body_over_a_few_kib_is_413_before_it_is_read(web):
    before = web.store.count("fixes")
    big = "x" * 200_000
    r = web.client.post("/osmand", data={"id": "TAG1", "lat": 51.45, "lon": -0.02, "pad": big})
    assert r.status_code == 413 and all(h in r.headers for h in SECURITY)
    r = web.client.post("/osmand", content=(b"id=TAG1&pad=" + b"x" * 1000 for _ in range(10)),  # chunked
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    r = web.client.post("/osmand", content=iter([b"id=TAG1&lat=51.45&lon=-0.02&timestamp=1774012300&key="
                                                 + web.keys["TAG1"].encode()]),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and web.store.count("fixes") == before + 1  # a small chunked body still works
    assert web.client.post("/api/auth/token", data={"username": "mon", "password": big}).status_code == 413


def test_gateway_batch_limit_is_configurable(web):
    from tagwatch.api import WebSettings
    client = TestClient(create_app(web.store, WebSettings(max_batch_bytes=1000), clock=lambda: WEB_NOW))
    fixes = [{**FIX, "ts": f"2026-03-20T15:{m:02d}:00Z"} for m in range(30)]
    r = client.post("/api/fixes", json={"fixes": fixes}, headers=web.headers["gateway"])
    assert r.status_code == 413 and "1000 bytes" in r.json()["detail"]
    r = client.post("/api/fixes", json={"fixes": fixes[:2]}, headers=web.headers["gateway"])
    assert r.status_code == 200 and r.json()["accepted"] == 2
