"""Device credentials: OsmAnd reports must carry their device's key; GT06 only from allowed networks.

Each refusal answers 401, stores nothing (no fix, no reject) and is counted per device and address.
"""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from tagwatch.model import Device, RiskLevel, Subject
from tagwatch.services.devicekeys import KeyCheck, digest, issue_key
from tagwatch.store import open_store

from served import run_async  # tests/served.py


@pytest.fixture
def world(tmp_path):
    from fastapi.testclient import TestClient

    from tagwatch.api import create_app
    store = open_store(f"sqlite:///{tmp_path / 'keys.db'}")
    for sid, dev in (("S1", "PHONE1"), ("S2", "PHONE2")):
        store.add_subject(Subject(sid, sid, RiskLevel.HIGH, "", "Lewisham"), 0)
        store.add_device(Device(dev), 0)
        store.assign(dev, sid, 0)
    keys = {dev: issue_key(store, dev, "setup", "cli", 0) for dev in ("PHONE1", "PHONE2")}
    app = create_app(store)
    return store, TestClient(app), app, keys


def _count(store):
    return store.count("fixes"), len(store.rejects())


def _report(client, key=None, dev="PHONE1", how="get", t=1774012000):
    params = {"id": dev, "lat": 51.45, "lon": -0.02, "timestamp": t}
    if key is not None:
        params["key"] = key
    if how == "get":
        return client.get("/osmand", params=params)
    if how == "form":
        return client.post("/osmand", data=params)
    body = {"device_id": dev, "location": {"timestamp": "2026-03-20T13:10:00Z",
                                           "coords": {"latitude": 51.45, "longitude": -0.02, "accuracy": 5}}}
    if key is not None:
        body["key"] = key
    return client.post("/osmand", json=body)


@pytest.mark.parametrize("how", ["get", "form", "json"])
def test_the_right_key_is_accepted_in_every_form(world, how):
    store, client, _, keys = world
    r = _report(client, keys["PHONE1"], how=how)
    assert r.status_code == 200 and r.text == "OK" and store.count("fixes") == 1


@pytest.mark.parametrize("case", ["no key", "wrong key", "another device's key", "empty key"])
def test_refused_reports_store_nothing_and_are_counted(world, case):
    store, client, app, keys = world
    key = {"no key": None, "wrong key": "x" * 22, "another device's key": keys["PHONE2"], "empty key": ""}[case]
    before = _count(store)
    for how in ("get", "form", "json"):
        r = _report(client, key, how=how)
        assert r.status_code == 401, (case, how, r.text)
    assert _count(store) == before
    assert app.state.device_keys.refused[("PHONE1", "testclient")] == 3


def test_refusals_are_listed_for_monitoring(web):
    web.client.get("/osmand", params={"id": "TAG2", "key": "not it", "lat": 51.45, "lon": -0.02})
    r = web.client.get("/api/devices/refused", headers=web.headers["monitoring"])
    assert r.status_code == 200
    assert {"device_id": "TAG2", "address": "testclient", "refused": 1} in r.json()["osmand"]


def test_a_rotated_key_stops_working_at_once_and_the_new_one_works(world):
    store, client, app, keys = world
    assert _report(client, keys["PHONE1"]).status_code == 200
    new = issue_key(store, "PHONE1", "admin", "cli", 1)  # as `tagwatch devices rotate-key`, in another process
    app.state.device_keys._checked = float("-inf")  # the once-a-second generation check is due
    assert _report(client, keys["PHONE1"], t=1774012060).status_code == 401
    assert _report(client, new, t=1774012120).status_code == 200
    assert store.count("fixes") == 2 and app.state.device_keys.refused[("PHONE1", "testclient")] == 1
    actions = [e["action"] for e in store.audit_entries(10, None, None)]
    assert "device_key_rotate" in actions and "device_key_issue" in actions


def test_an_unknown_device_gets_401_not_an_oracle(world):
    store, client, _, keys = world
    assert _report(client, keys["PHONE1"], dev="NOBODY").status_code == 401
    assert _report(client, None, dev="").status_code == 401
    assert _count(store) == (0, 0)


def test_verified_keys_are_cached_no_store_read_per_report(world):
    store, client, app, keys = world
    for i in range(50):
        assert _report(client, keys["PHONE1"], t=1774012000 + i).status_code == 200
    check = app.state.device_keys
    assert check.store_reads == 1  # the first report read the digest; the other 49 did not


def test_keycheck_notices_a_rotation_from_another_process_within_recheck(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    store.add_device(Device("D1"), 0)
    now = [0.0]
    check = KeyCheck(store, recheck_s=1.0, clock=lambda: now[0])
    old = issue_key(store, "D1", "a", "cli", 0)
    now[0] = 2.0
    assert check.verify("D1", old)
    new = issue_key(store, "D1", "a", "cli", 1)
    assert check.verify("D1", old)  # within the second: the cached digest
    now[0] = 3.5
    assert not check.verify("D1", old) and check.verify("D1", new)
    check.forget("D1")
    assert store.device_key_digest("D1") == digest(new) and len(new) == 22


def test_cli_add_prints_the_key_once_and_rotate_replaces_it(tmp_path):
    from tagwatch.cli import app
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    added = runner.invoke(app, ["devices", "add", "PHONE9", "--db", db])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    store = open_store(db)
    assert store.device_key_digest("PHONE9") == digest(key)
    rotated = runner.invoke(app, ["devices", "rotate-key", "PHONE9", "--db", db])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip().splitlines()[-1]
    assert new != key and store.device_key_digest("PHONE9") == digest(new)
    assert runner.invoke(app, ["devices", "rotate-key", "NOPE", "--db", db]).exit_code != 0


def test_api_device_create_returns_the_key_once(web):
    r = web.client.post("/api/devices", json={"id": "PHONE7", "kind": "gps"}, headers=web.headers["admin"])
    assert r.status_code == 201, r.text
    assert web.store.device_key_digest("PHONE7") == digest(r.json()["key"])


def test_gt06_from_a_refused_address_stores_nothing_and_is_counted(tmp_path):
    from tagwatch.gateway.gt06_server import Gt06Gateway
    from tagwatch.live.engine import LiveEngine
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    store.add_device(Device("864717003283581"), 0)
    engine = LiveEngine(store)
    gw = Gt06Gateway(lambda recs: engine.ingest(recs, "gt06"), allow=["192.0.2.0/24"])
    frames = bytes.fromhex("78780D01086471700328358100093F040D0A"
                           "78781f120f0a140e150bc505e51e780293a9e800540000f601006e0055da00035f240d0a")

    async def attempt():
        server = await gw.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        writer.write(frames)
        try:
            got = await asyncio.wait_for(reader.read(100), 5)
        except ConnectionResetError:
            got = b""
        writer.close()
        server.close()
        return got
    for _ in range(2):
        assert run_async(attempt()) == b""
    assert _count(store) == (0, 0) and gw.stats.refused["127.0.0.1"] == 2


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null"}])
def test_browser_originated_requests_are_refused_on_ingest_routes(world, headers, web):
    store, client, _, keys = world
    params = {"id": "PHONE1", "key": keys["PHONE1"], "lat": 51.45, "lon": -0.02, "timestamp": 1774012000}
    assert client.post("/osmand", data=params, headers=headers).status_code == 403
    assert client.get("/osmand", params=params, headers=headers).status_code == 403
    assert _count(store) == (0, 0)
    r = web.client.post("/api/fixes", headers={**web.headers["gateway"], **headers}, json={"fixes": [
        {"device_id": "TAG1", "ts": "2026-03-20T13:30:00Z", "lat": 51.45, "lon": -0.02}]})
    assert r.status_code == 403
