"""tagwatch users and the demo's web hand-off, on a real SQLite file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.store import open_store

runner = CliRunner()


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    monkeypatch.setenv("TAGWATCH_DB", url)
    monkeypatch.delenv("TAGWATCH_PASSWORD", raising=False)
    return url


def test_first_admin_needs_a_real_password(db, monkeypatch):
    r = runner.invoke(app, ["users", "add", "alice", "--role", "admin"], input="")
    assert r.exit_code == 2 and "password" in r.output  # no terminal, no env var: refused, no default
    r = runner.invoke(app, ["users", "add", "alice", "--role", "admin", "--password-stdin"], input="short\n")
    assert r.exit_code == 2 and "at least 12" in r.output
    r = runner.invoke(app, ["users", "add", "alice", "--role", "admin", "--password-stdin"], input="a good long one\n")
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("TAGWATCH_PASSWORD", "another good one")
    assert runner.invoke(app, ["users", "add", "pc", "--role", "police"]).exit_code == 2  # needs --force
    assert runner.invoke(app, ["users", "add", "pc", "--role", "police", "--force", "MPS"]).exit_code == 0
    assert runner.invoke(app, ["users", "disable", "pc"]).exit_code == 0
    rows = json.loads(runner.invoke(app, ["users", "list", "--format", "json"]).stdout)
    assert [(u["username"], u["role"], u["force"], bool(u["disabled"])) for u in rows] == [
        ("alice", "admin", "", False), ("pc", "police", "MPS", True)]
    stored = open_store(db).user("alice")["password_hash"]
    assert stored.startswith("$argon2id$") and "a good long one" not in stored


def test_caseload_only_for_probation(db, monkeypatch):
    monkeypatch.setenv("TAGWATCH_PASSWORD", "a good long one")
    assert runner.invoke(app, ["subjects", "add", "S1"]).exit_code == 0
    assert runner.invoke(app, ["users", "add", "pat", "--role", "probation", "--caseload", "S1"]).exit_code == 0
    assert runner.invoke(app, ["users", "add", "mo", "--role", "monitoring"]).exit_code == 0
    r = runner.invoke(app, ["users", "caseload", "mo", "S1"])
    assert r.exit_code == 2 and "only probation" in r.output
    r = runner.invoke(app, ["users", "caseload", "pat", "S404"])
    assert r.exit_code == 2 and "unknown subject" in r.output
    assert open_store(db).caseload("pat") == {"S1"}


def test_demo_logins_one_per_role(tmp_path):
    from tagwatch.cli.pilot import demo_users
    from tagwatch.model import Subject
    from tagwatch.services.users import authenticate
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    store.add_subject(Subject("S001"), 0)
    logins = demo_users(store, ["S001"])
    assert [r for r, _, _ in logins] == ["monitoring", "probation", "police", "evaluator", "admin"]
    assert len({p for *_, p in logins}) == 5  # fresh random passwords, none shared
    for role, name, password in logins:
        assert authenticate(store, name, password).role == role
