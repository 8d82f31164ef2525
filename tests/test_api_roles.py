"""Every route with every role: allowed or denied as the table says; a route missing from the table fails.

Allowed: the request passes authorisation (it may still be refused for its content, e.g. an
alert already closed, but never 401/403 and never a server error). Denied: 403 for a
logged-in user of another role, 401 without a token. An endless response (the event stream,
``"stream": True``) is judged by its status and then closed.
"""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from tagwatch.store.schema import ROLES

PUBLIC = "public"
ALL = set(ROLES)
T = "2026-03-20T10:00:00Z"
P = {"X-Purpose": "role matrix test"}
ZONE = {"type": "Point", "coordinates": [-0.02, 51.45]}


def _table(w) -> dict[tuple[str, str], tuple[set[str] | str, dict]]:
    """(method, path) -> (roles allowed, request keyword arguments)."""
    s1_alert, match = w.alerts["S1"], w.shared_match
    return {
        ("GET", "/"): (PUBLIC, {}),
        ("GET", "/docs"): (PUBLIC, {}),
        ("GET", "/openapi.json"): (PUBLIC, {}),
        ("GET", "/api/map/config"): (PUBLIC, {}),
        ("GET", "/api/map/boroughs"): (PUBLIC, {}),
        ("GET", "/api/map/lsoas"): (PUBLIC, {"params": {"borough": "Lewisham"}}),
        ("POST", "/api/auth/token"): (PUBLIC, {"data": {"username": "nobody", "password": "wrong password!"}}),
        # public to users; the device's key is the credential (tests/test_device_keys.py)
        ("GET", "/osmand"): (PUBLIC, {"params": {"id": "TAG1", "key": w.keys["TAG1"], "lat": 51.45, "lon": -0.02,
                                                 "timestamp": 1774003000}}),
        ("POST", "/osmand"): (PUBLIC, {"data": {"id": "TAG1", "key": w.keys["TAG1"], "lat": 51.45, "lon": -0.02,
                                                "timestamp": 1774003060}}),
        ("GET", "/api/me"): (ALL, {}),
        ("POST", "/api/fixes"): ({"gateway", "admin"}, {"json": {"fixes": [
            {"device_id": "TAG1", "ts": "2026-03-20T13:30:00Z", "lat": 51.45, "lon": -0.02}]}}),
        ("GET", "/api/subjects"): ({"monitoring", "probation", "admin"}, {}),
        ("POST", "/api/subjects"): ({"monitoring", "admin"}, {"json": {"id": "S9", "risk_level": "low"}}),
        ("GET", "/api/subjects/{subject_id}"): ({"monitoring", "probation"}, {"path": {"subject_id": "S1"}}),
        ("GET", "/api/subjects/{subject_id}/track"): ({"monitoring", "probation"}, {
            "path": {"subject_id": "S1"}, "params": {"from": T, "to": "2026-03-20T11:00:00Z"}, "headers": P}),
        ("GET", "/api/live"): ({"monitoring", "probation"}, {"headers": P}),
        ("GET", "/api/events"): ({"monitoring", "probation"}, {"headers": P, "stream": True}),
        ("GET", "/api/orders"): ({"monitoring", "probation"}, {}),
        ("POST", "/api/orders"): ({"monitoring", "probation"}, {"json": {
            "id": "O-new", "subject_id": "S1", "type": "bail", "start": T,
            "conditions": [{"id": "trail", "kind": "trail"}]}}),
        ("POST", "/api/orders/{order_id}/variations"): ({"monitoring", "probation"}, {
            "path": {"order_id": "OS1"}, "json": {"effective_from": "2026-03-21T10:00:00Z", "reason": "court",
                                                  "set_conditions": [{"id": "trail", "kind": "trail"}]}}),
        ("PUT", "/api/orders/{order_id}/conditions/{condition_id}"): ({"monitoring", "probation"}, {
            "path": {"order_id": "OS1", "condition_id": "victim2"},
            "params": {"effective_from": "2026-03-22T10:00:00Z", "reason": "new victim"},
            "json": {"id": "victim2", "kind": "exclusion", "zone": {"type": "Feature", "geometry": ZONE,
                                                                     "properties": {"radius_m": 50}}}}),
        ("DELETE", "/api/orders/{order_id}/conditions/{condition_id}"): ({"monitoring", "probation"}, {
            "path": {"order_id": "OS1", "condition_id": "trail"},
            "params": {"effective_from": "2026-03-23T10:00:00Z", "reason": "no longer needed"}}),
        ("POST", "/api/orders/{order_id}/end"): ({"monitoring", "probation"}, {
            "path": {"order_id": "O-new"}, "json": {"at": "2026-03-25T10:00:00Z", "reason": "completed"}}),
        ("GET", "/api/alerts"): ({"monitoring", "probation"}, {}),
        ("GET", "/api/alerts/{alert_id}"): ({"monitoring", "probation"}, {"path": {"alert_id": s1_alert}}),
        ("POST", "/api/alerts/{alert_id}/acknowledge"): ({"monitoring", "probation"}, {
            "path": {"alert_id": s1_alert}, "json": {}}),
        ("POST", "/api/alerts/{alert_id}/escalate"): ({"monitoring", "probation"}, {
            "path": {"alert_id": s1_alert}, "json": {"note": "called"}}),
        ("POST", "/api/alerts/{alert_id}/note"): ({"monitoring", "probation"}, {
            "path": {"alert_id": s1_alert}, "json": {"note": "left a message"}}),
        ("POST", "/api/alerts/{alert_id}/close"): ({"monitoring", "probation"}, {
            "path": {"alert_id": s1_alert}, "json": {"note": "resolved"}}),
        ("GET", "/api/matches"): ({"monitoring"}, {"headers": P}),
        ("GET", "/api/matches/{match_id}"): ({"monitoring", "police"}, {"path": {"match_id": match}, "headers": P}),
        ("POST", "/api/matches/{match_id}/review"): ({"monitoring"}, {
            "path": {"match_id": w.unshared_match}, "json": {"action": "qualified", "note": "worth a look"}}),
        ("POST", "/api/matches/{match_id}/outcomes"): ({"police"}, {
            "path": {"match_id": match}, "json": {"outcome": "charged", "on": "2026-03-20", "note": "role matrix"}}),
        ("GET", "/api/matches/{match_id}/outcomes"): ({"monitoring", "police"}, {"path": {"match_id": match}}),
        ("GET", "/api/shared"): ({"police"}, {"headers": P}),
        ("GET", "/api/users"): ({"admin"}, {}),
        ("POST", "/api/users"): ({"admin"}, {"json": {"username": "new-eva", "role": "evaluator",
                                                      "password": "a long enough one"}}),
        ("POST", "/api/users/{username}/disable"): ({"admin"}, {"path": {"username": "victim"}}),
        ("PUT", "/api/users/{username}/caseload"): ({"admin"}, {"path": {"username": "pro"},
                                                                "json": {"subject_ids": ["S1"]}}),
        ("GET", "/api/devices"): ({"admin", "monitoring"}, {}),
        ("GET", "/api/devices/refused"): ({"admin", "monitoring"}, {}),
        ("POST", "/api/devices"): ({"admin"}, {"json": {"id": "TAG9"}}),
        ("POST", "/api/devices/{device_id}/assign"): ({"admin"}, {
            "path": {"device_id": "TAG9"}, "json": {"subject_id": "S9", "start": T}}),
        ("GET", "/api/audit"): ({"admin"}, {}),
        ("GET", "/api/audit/verify"): ({"admin"}, {}),
        ("GET", "/api/stats"): ({"evaluator", "admin", "monitoring"}, {}),
        ("GET", "/api/evaluation"): ({"evaluator", "admin", "monitoring"}, {"params": {"from": "2026-03"}}),
        ("GET", "/api/evaluation/boundaries"): ({"evaluator", "admin", "monitoring"}, {"params": {"level": "borough"}}),
    }


def _routes(app) -> list[tuple[str, str]]:
    out = []
    for rc in iter_route_contexts(app.routes):
        for method in sorted((getattr(rc, "methods", None) or set()) - {"HEAD"}):
            out.append((method, rc.path))
    return out


def test_every_route_has_a_rule(web):
    table = _table(web)
    routes = _routes(web.client.app)
    missing = [r for r in routes if r not in table]
    assert not missing, f"routes without a rule in the role table: {missing}"
    stale = [r for r in table if r not in routes]
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_every_route_with_every_role(web):
    """The matrix: 7 callers (anonymous and each role) x every route."""
    table = _table(web)
    failures, checks = [], 0
    # Denials first, so the allowed calls that change state run after every denied one.
    for want_allowed in (False, True):
        for (method, path), (allowed, kw) in table.items():
            url = path.format(**kw.get("path", {}))
            for caller in ["anonymous", *ROLES]:
                ok = allowed == PUBLIC or caller in allowed
                if ok != want_allowed:
                    continue
                with web.client.stream(method, url, headers={**web.headers[caller], **kw.get("headers", {})},
                                       params=kw.get("params"), json=kw.get("json"), data=kw.get("data")) as r:
                    text = "(a stream)" if kw.get("stream") and r.status_code == 200 else r.read().decode()
                checks += 1
                if ok:
                    bad = r.status_code in (401, 403) or r.status_code >= 500
                    if path == "/api/auth/token":
                        # public; a wrong password is 401 for everyone (429 once repeated too often)
                        bad = r.status_code not in (401, 429)
                else:
                    bad = r.status_code != (401 if caller == "anonymous" else 403)
                if bad:
                    failures.append(f"{caller} {method} {url}: {r.status_code} {text[:120]}")
    assert not failures, "\n".join(failures)
    assert checks == len(table) * (len(ROLES) + 1)
    print(f"role matrix: {checks} route x caller checks")  # noqa: T201


@pytest.mark.parametrize("method, url", [
    ("GET", "/api/subjects/S2"), ("GET", "/api/subjects/S2/track"), ("POST", "/api/orders/OS2/end"),
    ("GET", "/api/alerts/{s2_alert}"), ("POST", "/api/alerts/{s2_alert}/acknowledge"),
])
def test_probation_sees_only_their_caseload(web, method, url):
    r = web.client.request(method, url.format(s2_alert=web.alerts["S2"]), headers={**web.headers["probation"], **P},
                           json={"at": T, "reason": "x"} if method == "POST" else None)
    assert r.status_code == 403, r.text
    lists = {"/api/subjects": "id", "/api/alerts": "subject_id", "/api/orders": "subject_id"}
    for path, key in lists.items():
        rows = web.client.get(path, headers=web.headers["probation"]).json()
        assert rows and {row[key] for row in rows} <= {"S1"}, path
    live = web.client.get("/api/live", headers={**web.headers["probation"], **P}).json()
    assert {p["subject_id"] for p in live["positions"]} == {"S1"}


def test_police_see_only_what_was_shared_with_their_force(web):
    mps = web.client.get("/api/shared", headers={**web.headers["police"], **P}).json()
    assert [s["match"]["id"] for s in mps] == [web.shared_match]
    city = web.client.login("pol-city")
    assert web.client.get("/api/shared", headers={**city, **P}).json() == []
    for headers in (web.headers["police"], city):
        r = web.client.get(f"/api/matches/{web.unshared_match}", headers={**headers, **P})
        assert r.status_code == 403
    r = web.client.get(f"/api/matches/{web.shared_match}", headers={**city, **P})
    assert r.status_code == 403
    evidence = web.client.get(f"/api/matches/{web.shared_match}", headers={**web.headers["police"], **P}).json()
    assert evidence["crime"]["crime_ref"] == "C1" and evidence["track"], "evidence comes with the track near the crime"


def test_evaluator_never_gets_a_location(web):
    stats = web.client.get("/api/stats", headers=web.headers["evaluator"]).json()
    text = str(stats)
    assert stats["subjects"] >= 2 and "lat" not in text and "lon" not in text and "S1" not in text


def test_location_reads_need_a_purpose(web):
    r = web.client.get("/api/live", headers=web.headers["monitoring"])
    assert r.status_code == 400 and "purpose" in r.json()["detail"]


def test_tokens_expire_and_disabled_users_are_locked_out(web):
    from tagwatch.services.users import TOKEN_TTL_MS
    headers = web.client.login("mon")
    later = web.client_at(web.now + TOKEN_TTL_MS + 1)  # the same store, a later clock
    assert later.get("/api/me", headers=headers).status_code == 401
    assert web.client.get("/api/me", headers={"Authorization": "Bearer forged.token"}).status_code == 401
    payload, sig = headers["Authorization"].split()[1].split(".")
    assert web.client.get("/api/me", headers={"Authorization": f"Bearer {payload}.{sig[:-2]}AA"}).status_code == 401
    victim = web.client.login("eva")
    assert web.client.get("/api/me", headers=victim).status_code == 200
    admin = web.headers["admin"]
    assert web.client.post("/api/users/eva/disable", headers=admin).status_code == 200
    assert web.client.get("/api/me", headers=victim).status_code == 401
    r = web.client.post("/api/auth/token", data={"username": "eva", "password": "correct horse battery"})
    assert r.status_code == 401


def test_repeated_failed_logins_are_throttled(web):
    c = web.client_at(web.now)  # its own app, so its own failure counts
    for _ in range(5):
        assert c.post("/api/auth/token", data={"username": "pro", "password": "guess guess guess"}).status_code == 401
    r = c.post("/api/auth/token", data={"username": "pro", "password": "correct horse battery"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert c.post("/api/auth/token", data={"username": "mon", "password": "correct horse battery"}).status_code == 200
    from fastapi.testclient import TestClient
    elsewhere = TestClient(c.app, client=("192.0.2.7", 50000))  # another client: the right password works
    assert elsewhere.post("/api/auth/token", data={"username": "pro", "password": "correct horse battery"}).status_code == 200
    restarted = web.client_at(web.now)  # the counts are in the store: a restart does not clear them
    assert restarted.post("/api/auth/token", data={"username": "pro", "password": "correct horse battery"}).status_code == 429
