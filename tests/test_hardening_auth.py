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
