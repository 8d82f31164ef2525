"""The tagwatch command end to end on a real SQLite file, as an operator would use it."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.model import iso

runner = CliRunner()
T0 = 1_774_000_800_000  # 2026-03-20T10:00:00Z (GMT)
MIN = 60_000


@pytest.fixture
def tw(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGWATCH_DB", f"sqlite:///{tmp_path / 'cli.db'}")

    def call(*args, ok=True, code=0):  # code 1: some rows were rejected, the rest stored
        result = runner.invoke(app, [str(a) for a in args])
        if ok:
            assert result.exit_code == code, result.output
        return result
    return call


@pytest.fixture
def enrolled(tw, tmp_path, b):
    (tmp_path / "home.geojson").write_text(json.dumps(b.circle(100)))
    (tmp_path / "victim.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": b.square(150, 1000, 0), "properties": {}}]}))
    tw("subjects", "add", "S1", "--name", "Test Person", "--risk", "high", "--borough", "Lewisham")
    tw("devices", "add", "TAG1")
    tw("devices", "assign", "TAG1", "S1", "--from", "2026-03-20T09:00:00Z")
    tw("orders", "add", "O1", "--subject", "S1", "--type", "licence", "--start", "2026-03-20T10:00:00Z",
       "--curfew", tmp_path / "home.geojson", "--curfew-schedule", "Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00",
       "--exclusion", tmp_path / "victim.geojson")
    return tmp_path


def write_fixes(path, b, visit=(60, 80)):
    lines = ["device_id,ts,lat,lon,accuracy_m,battery_pct,strap,received_at"]
    for m in range(6 * 60):
        east = 1000 if visit[0] <= m < visit[1] else 0
        lon, lat = b.offset(east, 0)
        lines.append(f"TAG1,{iso(T0 + m * MIN)},{lat:.6f},{lon:.6f},10,90,ok,{iso(T0 + m * MIN + 10_000)}")
    lines.append("TAG1,2026-03-20T12:00:00,51.45,-0.02,10,90,ok,2026-03-20T12:00:10Z")  # naive: rejected
    path.write_text("\n".join(lines) + "\n")
    return path


def test_enrol_ingest_alert_and_work_the_alert(tw, enrolled, b):
    fixes = write_fixes(enrolled / "fixes.csv", b)
    out = tw("ingest", fixes, "--as-of", "2026-03-20T16:00:00Z", code=1).output
    assert "accepted 360" in out and "rejected 1" in out and "naive_timestamp: 1" in out
    alerts = json.loads(tw("alerts", "--format", "json").stdout)
    assert [(a["kind"], a["condition_id"], a["start"], a["end"], a["status"]) for a in alerts] == [
        ("exclusion_breach", "victim", "2026-03-20T11:00:00Z", "2026-03-20T11:19:00Z", "open")]
    again = tw("ingest", fixes, "--as-of", "2026-03-20T16:00:00Z", code=1).output
    assert "accepted 0, duplicates 360" in again
    assert len(json.loads(tw("alerts", "--format", "json").stdout)) == 1
    aid = alerts[0]["id"]
    tw("alerts", "ack", aid, "--by", "op1")
    tw("alerts", "note", aid, "--note", "called subject", "--by", "op1")
    assert tw("alerts", "ack", aid, ok=False).exit_code == 2  # already acknowledged
    tw("alerts", "escalate", aid, "--by", "op1")
    tw("alerts", "close", aid, "--by", "sup1")
    assert json.loads(tw("alerts", "--format", "json").stdout)[0]["status"] == "closed"
    history = tw("alerts", "show", aid, "--format", "csv").stdout
    assert [line.split(",")[1:3] for line in history.strip().splitlines()[-5:]] == [
        ["actor", "action"], ["op1", "acknowledge"], ["op1", "note"], ["op1", "escalate"], ["sup1", "close"]]
    rejects = tw("rejects", "--format", "csv").stdout
    assert "naive_timestamp" in rejects


def test_vary_and_end_orders(tw, enrolled):
    tw("orders", "vary", "O1", "--from", "2026-03-25T12:00:00Z", "--curfew-schedule", "daily 21:00-06:00",
       "--drop", "victim", "--reason", "court variation")
    rows = json.loads(tw("orders", "list", "--format", "json").stdout)
    assert [(r["version"], r["conditions"]) for r in rows] == [
        (1, "curfew:curfew [Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00]; victim:exclusion"),
        (2, "curfew:curfew [daily 21:00-06:00]")]
    bad = tw("orders", "vary", "O1", "--from", "2026-03-24T12:00:00Z", "--trail", ok=False)
    assert bad.exit_code == 2 and "after the current version" in bad.output
    tw("orders", "end", "O1", "--at", "2026-03-30T12:00:00Z", "--reason", "revoked")
    assert json.loads(tw("orders", "list", "--format", "json").stdout)[0]["end_reason"] == "revoked"


@pytest.mark.parametrize("args, message", [
    (("devices", "assign", "TAG9", "S1", "--from", "2026-03-20T09:00:00Z"), "unknown device"),
    (("devices", "assign", "TAG1", "S1", "--from", "2026-03-20T09:00:00"), "no UTC offset"),
    (("orders", "add", "O2", "--subject", "S1", "--type", "bail", "--start", "2026-03-20T09:00:00Z"), "at least one condition"),
    (("orders", "add", "O2", "--subject", "S1", "--type", "bail", "--start", "2026-03-20T09:00:00Z",
      "--curfew-schedule", "daily 19:00-07:00"), "needs both"),
    (("rules", "set", "dwell=5"), "unknown rule settings"),
])
def test_mistakes_get_a_clear_message_and_exit_2(tw, enrolled, args, message):
    result = tw(*args, ok=False)
    assert result.exit_code == 2 and message in result.output


def test_rule_settings_are_kept_in_the_store(tw, enrolled, b):
    tw("rules", "set", "dwell_s=1800")
    assert "1800" in tw("rules", "show").output
    tw("ingest", write_fixes(enrolled / "fixes.csv", b), "--as-of", "2026-03-20T16:00:00Z", code=1)
    assert json.loads(tw("alerts", "--format", "json").stdout) == []  # 20 minutes < 30 minute dwell


def test_gpx_track_from_a_phone_app(tw, enrolled):
    gpx = Path(__file__).parent / "data" / "walk.gpx"
    out = tw("ingest", gpx, "--device", "TAG1", "--as-of", "2026-03-20T12:00:00Z", "--no-evaluate",
             code=1).output
    assert "accepted 40" in out and "rejected 1" in out and "missing_field: 1" in out
    tw("evaluate", "--as-of", "2026-03-20T11:40:00Z")
    breaches = [a for a in json.loads(tw("alerts", "--format", "json").stdout) if a["kind"] == "exclusion_breach"]
    assert [(a["start"], a["end"]) for a in breaches] == [("2026-03-20T11:10:00Z", "2026-03-20T11:29:00Z")]
    no_device = tw("ingest", gpx, ok=False)
    assert no_device.exit_code == 2 and "--device" in no_device.output


@pytest.mark.parametrize("root,own,env,expected", [
    ("root.db", None, "env.db", "root.db"),    # tagwatch --db URL subjects ...: the root option beats $TAGWATCH_DB
    ("root.db", "own.db", "env.db", "own.db"),  # the command's own --db wins
    (None, None, "env.db", "env.db"),           # $TAGWATCH_DB still works
    (None, "own.db", None, "own.db"),
])
def test_db_before_the_command_as_psql_d(tmp_path, monkeypatch, root, own, env, expected):
    url = lambda name: f"sqlite:///{tmp_path / name}"  # noqa: E731
    monkeypatch.delenv("TAGWATCH_DB", raising=False)
    if env:
        monkeypatch.setenv("TAGWATCH_DB", url(env))
    args = (["--db", url(root)] if root else []) + ["subjects", "add", "S9"] + (["--db", url(own)] if own else [])
    assert runner.invoke(app, args).exit_code == 0
    for name in {"root.db", "own.db", "env.db"}:
        listing = runner.invoke(app, ["subjects", "list", "--format", "json", "--db", url(name)])
        ids = [r["id"] for r in json.loads(listing.stdout)] if listing.exit_code == 0 else []
        assert ("S9" in ids) == (name == expected), name
    listed = runner.invoke(app, ["--db", url(expected), "alerts", "--format", "json"])  # a group callback too
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
