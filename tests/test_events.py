"""GET /api/events over real HTTP (uvicorn on a free port): who receives which event, the audit of a
position stream, tokens in the header or ?token=, and streams that must end.

Events are published on the app's own bus (``app.state.bus``), as the live engine will. Each
test ends its events with a ``resync``, which every reader receives, so "exactly these events"
is checked without waiting for a timeout.
"""

from __future__ import annotations

import time

from tagwatch.services import users

P = {"purpose": "test of the event stream"}


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _stream_audits(store, actor: str) -> list[dict]:
    return [e for e in store.audit_entries(limit=1000) if e["actor"] == actor and e["action"] == "stream_positions"]


def _wait(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _publish_a_b_and_a_position(w) -> list[dict]:
    events = [w.alert(w.alert_rows["S1"]), w.alert(w.alert_rows["S2"], "updated", status="acknowledged"),
              w.position("S1", "TAG1", w.now_ms, 51.4601, -0.0102)]
    for e in events:
        w.publish(e)
    w.publish({"type": "resync"})
    return events


def test_each_role_receives_exactly_what_it_may(live_web, sse):
    w = live_web
    mon = sse(w.url + "/api/events", params=P, headers=_auth(w.token("mon")))
    pro = sse(w.url + "/api/events", params={**P, "token": w.token("pro")})  # as EventSource sends it
    refused = {name: sse(w.url + "/api/events", params=P, headers=_auth(w.token(name)))
               for name in ("pol", "eva", "adm", "gw")}
    assert mon.status == pro.status == 200
    assert {name: r.status for name, r in refused.items()} == {"pol": 403, "eva": 403, "adm": 403, "gw": 403}
    assert all("may not" in r.body for r in refused.values())

    a_alert, b_alert, a_position = _publish_a_b_and_a_position(w)
    got = mon.until("resync")
    assert [(e["id"], e["event"], e["data"]) for e in got] == [
        (1, "alert", a_alert), (2, "alert", b_alert), (3, "position", a_position)]
    got = pro.until("resync")  # S1 is on the probation officer's caseload, S2 is not
    assert [(e["id"], e["event"], e["data"]) for e in got] == [(1, "alert", a_alert), (2, "position", a_position)]


def test_an_alert_only_stream_gets_no_positions_and_needs_no_purpose(live_web, sse):
    w = live_web
    before = len(_stream_audits(w.store, "mon"))
    r = sse(w.url + "/api/events", params={"types": "alert", "token": w.token("mon")})
    assert r.status == 200
    a_alert, b_alert, _ = _publish_a_b_and_a_position(w)
    assert [e["data"] for e in r.until("resync")] == [a_alert, b_alert]
    assert len(_stream_audits(w.store, "mon")) == before, "alerts carry no location: not a location read"
    assert sse(w.url + "/api/events", params={"types": "alert,tea", "token": w.token("mon")}).status == 400


def test_a_position_stream_is_audited_once_per_connection_not_per_event(live_web, sse):
    w = live_web
    token = w.token("pro")
    no_purpose = sse(w.url + "/api/events", params={"token": token})
    assert no_purpose.status == 400 and "purpose" in no_purpose.body
    before = len(_stream_audits(w.store, "pro"))
    r = sse(w.url + "/api/events", params={**P, "token": token})
    for i in range(5):
        w.publish(w.position("S1", "TAG1", w.now_ms + i * 60_000, 51.46 + i / 1000, -0.01))
    w.publish({"type": "resync"})
    assert [e["event"] for e in r.until("resync")] == ["position"] * 5
    entries = _stream_audits(w.store, "pro")
    assert len(entries) == before + 1
    e = entries[0]  # newest first
    assert (e["role"], e["subject_ids"], e["purpose"], e["from_ms"]) == ("probation", "S1", P["purpose"], w.now_ms)
    assert '"scope":"caseload"' in e["detail"]
    sse(w.url + "/api/events", params={**P, "token": token})  # a second connection: a second entry
    assert len(_stream_audits(w.store, "pro")) == before + 2


def test_no_token_or_a_bad_one_is_401(live_web, sse):
    w = live_web
    assert sse(w.url + "/api/events", params=P).status == 401
    assert sse(w.url + "/api/events", params={**P, "token": "forged.token"}).status == 401
    good = w.token("mon")
    assert sse(w.url + "/api/events", params={**P, "token": good[:-2] + "AA"}).status == 401


def test_a_disabled_users_stream_ends(live_web, sse):
    w = live_web
    users.add_user(w.store, "mon-leaver", "correct horse battery", "monitoring", w.now_ms)
    assert _wait(lambda: w.app.state.bus.subscribers == 0), "an earlier test's stream is still open"
    r = sse(w.url + "/api/events", params={**P, "token": w.token("mon-leaver")})
    assert r.status == 200 and w.app.state.bus.subscribers == 1
    users.disable_user(w.store, "mon-leaver", w.now_ms)
    assert r.ended.wait(3), "the stream outlived the user's account"
    assert r.comments[-1].startswith("token no longer valid")
    assert _wait(lambda: w.app.state.bus.subscribers == 0)


def test_an_expired_tokens_stream_ends(live_web, sse):
    w = live_web
    r = sse(w.url + "/api/events", params={**P, "token": w.token("mon")})
    assert r.status == 200
    try:
        w.now_ms += users.TOKEN_TTL_MS + 1
        assert r.ended.wait(3), "the stream outlived its token"
    finally:
        w.now_ms -= users.TOKEN_TTL_MS + 1


def test_an_idle_stream_keeps_alive_and_leaving_unsubscribes(live_web, sse):
    w = live_web
    assert _wait(lambda: w.app.state.bus.subscribers == 0), "an earlier test's stream is still open"
    r = sse(w.url + "/api/events", params={**P, "token": w.token("mon")})
    assert w.app.state.bus.subscribers == 1
    assert _wait(lambda: r.comments.count("keepalive") >= 2, 3)  # every 0.3 s in these tests
    r.close()
    assert r.ended.wait(3)
    assert _wait(lambda: w.app.state.bus.subscribers == 0), "a closed stream is still subscribed"


def test_a_caseload_change_reaches_an_open_stream(live_web, sse):
    w = live_web
    r = sse(w.url + "/api/events", params={**P, "token": w.token("pro")})
    before = len(_stream_audits(w.store, "pro"))
    try:
        users.set_caseload(w.store, "pro", ["S1", "S2"], w.now_ms)
        assert _wait(lambda: len(_stream_audits(w.store, "pro")) == before + 1, 3), "the stream did not re-scope"
        assert '"scope_changed":true' in _stream_audits(w.store, "pro")[0]["detail"]
        position = w.position("S2", "TAG2", w.now_ms, 51.42, -0.01)
        w.publish(position)
        w.publish({"type": "resync"})
        assert [e["data"] for e in r.until("resync")] == [position]
    finally:
        users.set_caseload(w.store, "pro", ["S1"], w.now_ms)


def test_the_wire_format():
    from tagwatch.api.routes_events import sse
    assert sse(7, {"type": "alert", "a": 1}) == 'id: 7\nevent: alert\ndata: {"type":"alert","a":1}\n\n'
