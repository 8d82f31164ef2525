"""Abuse never locks staff out: login throttling per address and per username at an address,
kept in the store; a bounded number of password hashes at once; authentication before any
other check; police reads of shared matches audited."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from tagwatch.api import create_app
from tagwatch.services import throttle, users as service_users

from conftest import PASSWORD, WEB_NOW, build_web_world

TOKEN = "/api/auth/token"


def _client(store, address, now=WEB_NOW):
    return TestClient(create_app(store, clock=lambda: now), client=(address, 40000))


def test_back_off_doubles_and_is_kept_in_the_store(store):
    """Service-level, on SQLite and PostgreSQL: 1 s, 2 s, 4 s ... after the allowance, per pair."""
    t = 1_000_000
    for i in range(throttle.PAIR_ALLOWANCE - 1):
        throttle.failed(store, "mon", "10.0.0.1", t + i)
        throttle.check(store, "mon", "10.0.0.1", t + i)  # within the allowance: never blocked
    waits = []
    for n in range(4):
        throttle.failed(store, "mon", "10.0.0.1", t + 100 + n)
        row = store.login_failures(["user:mon@10.0.0.1"])["user:mon@10.0.0.1"]
        waits.append(row["blocked_until_ms"] - row["last_ms"])
    assert waits == [1000, 2000, 4000, 8000]
    throttle.check(store, "mon", "10.0.0.2", t + 200)  # another address: free
    throttle.succeeded(store, "mon", "10.0.0.1")
    throttle.check(store, "mon", "10.0.0.1", t + 200)


def test_spraying_many_usernames_throttles_the_address_not_the_staff(tmp_path):
    from tagwatch.store import open_store
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    build_web_world(store)
    attacker, staff = _client(store, "203.0.113.9"), _client(store, "198.51.100.4")
    codes = [attacker.post(TOKEN, data={"username": f"user{i}", "password": "password123456"}).status_code
             for i in range(30)]
    assert codes[:throttle.ADDRESS_ALLOWANCE] == [401] * throttle.ADDRESS_ALLOWANCE and set(codes[20:]) == {429}
    # the attacker also hammers a real account: its owner, elsewhere, still logs in
    for _ in range(10):
        attacker.post(TOKEN, data={"username": "mon", "password": "guess guess guess"})
    assert staff.post(TOKEN, data={"username": "mon", "password": PASSWORD}).status_code == 200
    assert attacker.post(TOKEN, data={"username": "mon", "password": PASSWORD}).status_code == 429
    # after a restart (a new app on the same store) the attacker is still held back
    assert _client(store, "203.0.113.9").post(TOKEN, data={"username": "eva", "password": PASSWORD}).status_code == 429
    # and an hour of quiet later the address may try again
    later = _client(store, "203.0.113.9", WEB_NOW + 2 * 3_600_000)
    assert later.post(TOKEN, data={"username": "eva", "password": PASSWORD}).status_code == 200


def test_password_hashes_are_bounded_and_excess_logins_get_503(web, monkeypatch):
    monkeypatch.setattr(service_users, "_hashing", threading.BoundedSemaphore(1))
    monkeypatch.setattr(service_users, "HASH_WAIT_S", 0.2)
    client = _client(web.store, "192.0.2.50")
    assert service_users._hashing.acquire()  # a hash in progress holds the only slot
    try:
        r = client.post(TOKEN, data={"username": "mon", "password": PASSWORD})
        assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    finally:
        service_users._hashing.release()
    assert client.post(TOKEN, data={"username": "mon", "password": PASSWORD}).status_code == 200


def test_authentication_comes_before_the_purpose(web):
    for path in ("/api/live", f"/api/matches/{web.shared_match}", "/api/shared", "/api/subjects/S1/track"):
        r = web.client.get(path)
        assert r.status_code == 401, (path, r.text)
        r = web.client.get(path, headers={"Authorization": "Bearer a.\xe9".encode("latin-1")})
        assert r.status_code == 401, (path, r.text)


PLACE_KEYS = {"lat", "lon", "coordinates", "closest_m", "x", "y"}


def _keys(obj, out):
    if isinstance(obj, dict):
        out.update(obj)
        for v in obj.values():
            _keys(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _keys(v, out)
    return out


def test_every_route_returning_a_persons_place_writes_an_audit_entry(web):
    """Walk every GET route of the API as every role (with a purpose): a response that names a
    subject and carries a place must have appended an audit entry naming the caller."""
    from conftest import ROLE_USERS
    params = {"subject_id": "S1", "match_id": web.shared_match, "alert_id": web.alerts["S1"], "order_id": "OS1"}
    routes = [path for path, ops in web.client.app.openapi()["paths"].items()
              if "get" in ops and path.startswith("/api/") and path != "/api/events"]
    assert len(routes) > 20
    located, unaudited = set(), []
    for path in routes:
        url = path.format(**params)
        for role in ROLE_USERS:
            before = web.store.count("audit_log")
            r = web.client.get(url, headers={**web.headers[role], "X-Purpose": "audit coverage test"})
            if r.status_code != 200 or "json" not in r.headers.get("content-type", ""):
                continue
            keys = _keys(r.json(), set())
            if "subject_id" in keys and keys & PLACE_KEYS:
                located.add(path)
                if web.store.count("audit_log") == before:
                    unaudited.append(f"{role} GET {url}")
    assert not unaudited, f"returned a person's place with no audit entry: {unaudited}"
    assert {"/api/live", "/api/subjects/{subject_id}/track", "/api/matches/{match_id}", "/api/shared"} <= located


def test_audit_subject_filter_takes_underscore_and_percent_literally(store):
    from tagwatch.services import audit
    for sid in ("S_1", "SX1", "S%2", "S22"):
        audit.record(store, "mon", "monitoring", "read_track", 1, [sid], purpose="test")
    assert [e["subject_ids"] for e in store.audit_entries(subject_id="S_1")] == ["S_1"]
    assert [e["subject_ids"] for e in store.audit_entries(subject_id="S%2")] == ["S%2"]
    assert store.audit_entries(subject_id="S%") == []
