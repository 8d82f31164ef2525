"""The audit log: location reads and changes are recorded; tampering is detected (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tagwatch.services import audit as service_audit
from tagwatch.cli import app

P = {"X-Purpose": "investigating alert 7"}


@pytest.fixture
def world(store):
    from conftest import build_web_world, web_client
    w = build_web_world(store)
    w.store, w.client = store, web_client(store)
    return w


def _drop_guards(store):
    """What someone who owns the database can do: remove the append-only triggers."""
    with store.engine.begin() as c:
        if store.engine.dialect.name == "sqlite":
            c.execute(text("DROP TRIGGER audit_log_no_update"))
            c.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            c.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def test_reading_a_track_writes_an_entry(world):
    c = world.client
    before = len(world.store.audit_entries())
    r = c.get("/api/subjects/S1/track", params={"from": "2026-03-20T10:00:00Z", "to": "2026-03-20T11:00:00Z"},
              headers={**c.login("mon"), **P})
    assert r.status_code == 200 and len(r.json()["points"]) == 60
    entries = world.store.audit_entries()
    assert len(entries) == before + 1
    e = entries[0]
    assert (e["actor"], e["role"], e["action"], e["subject_ids"], e["purpose"]) == (
        "mon", "monitoring", "read_track", "S1", "investigating alert 7")
    assert (e["from_ms"], e["to_ms"], e["ts_ms"]) == (world.t0, world.t0 + 3_600_000, world.now)
    assert json.loads(e["detail"]) == {"points": 60}
    assert service_audit.verify(world.store).ok


def test_changes_are_audited(world):
    c, h = world.client, world.client.login("mon")
    assert c.post(f"/api/alerts/{world.alerts['S1']}/acknowledge", json={"note": "on it"}, headers=h).status_code == 200
    assert c.post("/api/orders/OS1/end", json={"at": "2026-03-21T10:00:00Z", "reason": "revoked"},
                  headers=h).status_code == 200
    actions = [e["action"] for e in world.store.audit_entries(limit=2)]
    assert actions == ["order_end", "alert_acknowledge"]


def test_the_log_refuses_update_and_delete(world):
    with pytest.raises(Exception, match="append-only"):
        with world.store.engine.begin() as c:
            c.execute(text("UPDATE audit_log SET purpose = 'nothing to see' WHERE id = 1"))
    with pytest.raises(Exception, match="append-only"):
        with world.store.engine.begin() as c:
            c.execute(text("DELETE FROM audit_log WHERE id = 1"))


@pytest.mark.parametrize("tamper, expect", [
    ("UPDATE audit_log SET purpose = 'nothing to see' WHERE id = 3", "entry 3 was edited"),
    ("UPDATE audit_log SET actor = 'someone else' WHERE id = 1", "entry 1 was edited"),
    ("DELETE FROM audit_log WHERE id = 4", "entries 4..4 are missing"),
    ("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)", "the newest entries were deleted"),
])
def test_verify_detects_an_edited_or_deleted_entry(world, tamper, expect):
    world.client.get("/api/live", headers={**world.client.login("mon"), **P})
    assert service_audit.verify(world.store).ok
    _drop_guards(world.store)
    with world.store.engine.begin() as c:
        c.execute(text(tamper))
    rep = service_audit.verify(world.store)
    assert not rep.ok and any(expect in p for p in rep.problems), rep.problems


def test_an_edit_with_a_recomputed_hash_still_breaks_the_chain(world):
    from tagwatch.store.audit import entry_hash
    _drop_guards(world.store)
    e = world.store.audit_entries(newest_first=False)[1]
    e["purpose"] = "rewritten"
    with world.store.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET purpose = :p, hash = :h WHERE id = :i"),
                  {"p": "rewritten", "h": entry_hash(e), "i": e["id"]})
    rep = service_audit.verify(world.store)
    assert any(f"entry {e['id'] + 1} does not link" in p for p in rep.problems), rep.problems


def test_cli_audit_verify_and_list(tmp_path, monkeypatch):
    from conftest import build_web_world
    from tagwatch.store import open_store
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = open_store(url)
    build_web_world(store)
    monkeypatch.setenv("TAGWATCH_DB", url)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "audit log intact" in ok.output
    listed = runner.invoke(app, ["audit", "list", "--format", "json", "--limit", "3"])
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 3
    _drop_guards(store)
    with store.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET subject_ids = 'S9' WHERE id = 2"))
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1 and "entry 2 was edited" in bad.output
