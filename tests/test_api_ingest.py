"""Fixes over HTTP: the JSON batch and the OsmAnd protocol (Traccar Client), judged like file rows."""

from __future__ import annotations

import pytest

from tagwatch.ingest.osmand import record_from_json, record_from_params

NOW_ISO = "2026-03-20T16:00:00+00:00"


@pytest.mark.parametrize("params, expect", [
    ({"id": "TAG1", "lat": "51.45", "lon": "-0.02", "timestamp": "1774003000", "accuracy": "8", "batt": "77"},
     {"device_id": "TAG1", "ts": "2026-03-20T10:36:40+00:00", "lat": "51.45", "lon": "-0.02", "accuracy_m": "8",
      "battery_pct": "77"}),
    ({"deviceid": "TAG1", "location": "51.45,-0.02", "timestamp": "1774003000000"},
     {"device_id": "TAG1", "ts": "2026-03-20T10:36:40+00:00", "lat": "51.45", "lon": "-0.02", "accuracy_m": None,
      "battery_pct": None}),
    ({"id": "TAG1", "lat": "51.45", "lon": "-0.02", "timestamp": "2026-03-20T10:36:40Z"},
     {"device_id": "TAG1", "ts": "2026-03-20T10:36:40Z", "lat": "51.45", "lon": "-0.02", "accuracy_m": None,
      "battery_pct": None}),
    ({"id": "TAG1", "lat": "51.45", "lon": "-0.02"},  # no timestamp: the arrival time
     {"device_id": "TAG1", "ts": NOW_ISO, "lat": "51.45", "lon": "-0.02", "accuracy_m": None, "battery_pct": None}),
])
def test_osmand_parameters(params, expect):
    assert record_from_params(params, NOW_ISO) == expect


def test_traccar_client_json_body():
    body = {"device_id": "TAG1", "location": {"timestamp": "2026-03-20T10:36:40.000Z", "coords": {
        "latitude": 51.45, "longitude": -0.02, "accuracy": 5, "speed": 1.2}, "battery": {"level": 0.42}}}
    assert record_from_json(body, NOW_ISO) == {"device_id": "TAG1", "ts": "2026-03-20T10:36:40.000Z", "lat": 51.45,
                                               "lon": -0.02, "accuracy_m": 5, "battery_pct": 42.0}


def test_osmand_over_http_stores_fixes_and_rejects(web):
    c, before, key = web.client, web.store.count("fixes"), web.keys["TAG1"]
    assert c.get("/osmand", params={"id": "TAG1", "key": key, "lat": 51.45, "lon": -0.02,
                                    "timestamp": 1774012000}).text == "OK"
    assert c.post("/osmand", data={"id": "TAG1", "key": key, "lat": 51.45, "lon": -0.02,
                                   "timestamp": 1774012060}).status_code == 200
    r = c.post(f"/osmand?key={key}", json={"device_id": "TAG1", "location": {"timestamp": "2026-03-20T13:10:00Z",
               "coords": {"latitude": 51.45, "longitude": -0.02, "accuracy": 5}, "battery": {"level": 0.5}}})
    assert r.status_code == 200
    assert web.store.count("fixes") == before + 3
    r = c.get("/osmand", params={"id": "PHONE-X", "key": key, "lat": 51.45, "lon": -0.02})
    assert r.status_code == 401  # an unregistered device has no key: refused before the validator, not stored
    r = c.get("/osmand", params={"id": "TAG1", "key": key, "lat": 91, "lon": -0.02})
    assert r.status_code == 400 and r.text == "bad_coordinates"
    reasons = [x["reason"] for x in web.store.rejects()[-1:]]
    assert reasons[0].startswith("bad_coordinates")


def test_fix_batch_is_acknowledged_with_counts(web):
    gw = web.headers["gateway"]
    batch = {"fixes": [
        {"device_id": "TAG2", "ts": "2026-03-20T13:40:00Z", "lat": 51.42, "lon": -0.02, "accuracy_m": 9},
        {"device_id": "TAG2", "ts": "2026-03-20T13:40:00Z", "lat": 51.42, "lon": -0.02},  # the same fix again
        {"device_id": "TAG2", "ts": "2026-03-20T13:41:00", "lat": 51.42, "lon": -0.02},  # naive
        "not an object",
    ]}
    r = web.client.post("/api/fixes", json=batch, headers=gw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 1, 2)
    assert body["reasons"] == {"naive_timestamp": 1, "unparsable": 1}
    again = web.client.post("/api/fixes", json=batch, headers=gw).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)  # idempotent


def test_request_log_has_no_positions(web, caplog):
    with caplog.at_level("INFO", logger="tagwatch.api"):
        web.client.get("/osmand", params={"id": "TAG1", "key": web.keys["TAG1"], "lat": 51.4567, "lon": -0.0123,
                                          "timestamp": 1774013000})
    lines = [r.getMessage() for r in caplog.records if r.name == "tagwatch.api"]
    assert lines and all("51.4567" not in line and "-0.0123" not in line for line in lines)
    assert '"path": "/osmand"' in lines[-1]
