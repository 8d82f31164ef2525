"""tagwatch correlate end to end: stored, reproducible runs with scored matches."""

import json
import os

import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.codec import parse_ts
from tagwatch.model import iso
from tagwatch.store import open_store

T0 = 1_774_000_800_000  # 2026-03-20T10:00:00Z
MIN = 60_000


@pytest.fixture
def tw(tmp_path, monkeypatch, b):
    monkeypatch.setenv("TAGWATCH_DB", f"sqlite:///{tmp_path / 'corr.db'}")
    runner = CliRunner()

    def call(*args):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result

    (tmp_path / "home.geojson").write_text(json.dumps(b.circle(100)))
    call("subjects", "add", "S1", "--risk", "high", "--offence", "robbery")
    call("subjects", "add", "S2", "--risk", "low", "--offence", "burglary")
    for sid, dev in (("S1", "TAG1"), ("S2", "TAG2")):
        call("devices", "add", dev)
        call("devices", "assign", dev, sid, "--from", "2026-03-20T09:00:00Z")
        call("orders", "add", f"O{sid}", "--subject", sid, "--type", "licence", "--start", "2026-03-20T09:00:00Z",
             "--trail")
    lines = ["device_id,ts,lat,lon,accuracy_m,received_at"]
    for m in range(120):
        t = iso(T0 + m * MIN)
        lon, lat = b.offset(m * 20.0, 0)  # S1 walks east at 1/3 m/s past the crime at 1000 m east
        lines.append(f"TAG1,{t},{lat:.6f},{lon:.6f},10,{t}")
        lon, lat = b.offset(0, -3000)  # S2 stays 3 km south
        lines.append(f"TAG2,{t},{lat:.6f},{lon:.6f},10,{t}")
    (tmp_path / "fixes.csv").write_text("\n".join(lines) + "\n")
    call("ingest", tmp_path / "fixes.csv", "--as-of", "2026-03-20T12:00:00Z")
    lon, lat = b.offset(1000, 30)
    (tmp_path / "crimes.csv").write_text("crime_id,crime_type,lat,lon,from,to\n"
                                         f"C1,RB,{lat:.6f},{lon:.6f},2026-03-20T10:45:00Z,2026-03-20T10:55:00Z\n")
    out = call("crimes", "import", tmp_path / "crimes.csv").output
    assert "checked 1 new or changed crimes against 2 subjects: 1 matches" in out  # continuous mode
    call.tmp = tmp_path
    return call


def test_correlate_finds_scores_and_keeps_runs(tw):
    first = json.loads(tw("correlate", "--format", "json").stdout)
    (m,) = first
    assert (m["subject_id"], m["crime_ref"], m["evidence"], m["significant"]) == ("S1", "C1", "fix", 1)
    assert m["closest_m"] == pytest.approx(30, abs=1)
    assert abs(parse_ts(m["closest"]) - (T0 + 50 * MIN)) < 2_000  # on the path, within 2 s of the 10:50 fix
    assert m["speed_mps"] == pytest.approx(1 / 3, abs=0.01) and m["heading_deg"] == pytest.approx(90, abs=1)
    parts = json.loads(m["parts"])
    assert parts["offence"] == 1.0 and parts["risk"] == 1.0 and parts["evidence"] == 1.0
    second = json.loads(tw("correlate", "--format", "json").stdout)
    assert [{k: v for k, v in r.items() if k not in ("id", "run_id")} for r in second] == \
           [{k: v for k, v in r.items() if k not in ("id", "run_id")} for r in first]  # same inputs, same matches
    assert second[0]["run_id"] == first[0]["run_id"] + 1  # the first run is kept
    assert json.loads(tw("correlate", "--risk", "low", "--format", "json").stdout) == []
    narrow = json.loads(tw("correlate", "--radius", "20", "--format", "json").stdout)
    assert narrow == []  # 30 m away: outside a 20 m radius
    by_type = json.loads(tw("correlate", "--radius", "20", "--type-radius", "RB=50", "--format", "json").stdout)
    assert [r["crime_ref"] for r in by_type] == ["C1"]  # robbery has its own, wider radius


def test_continuous_mode_on_late_fixes_and_resent_crimes(tw, b):
    tmp = tw.tmp
    lon, lat = b.offset(3000, 0)
    (tmp / "late-crime.csv").write_text("crime_id,crime_type,lat,lon,from,to\n"
                                        f"C2,TFP,{lat:.6f},{lon:.6f},2026-03-20T12:30:00Z,2026-03-20T12:30:00Z\n")
    out = tw("crimes", "import", tmp / "late-crime.csv").output
    assert "checked 1 new or changed crimes against 2 subjects: 0 matches" in out  # no fixes there yet
    lines = ["device_id,ts,lat,lon,accuracy_m,received_at"]
    for m in range(120, 180):  # S1's tag uploads 12:00-13:00 late, walking on east past 3000 m
        lon, lat = b.offset(m * 20.0, 0)  # at 12:30 (m = 150) S1 is 3000 m east, at the crime
        lines.append(f"TAG1,{iso(T0 + m * MIN)},{lat:.6f},{lon:.6f},10,2026-03-20T14:00:00Z")
    (tmp / "late.csv").write_text("\n".join(lines) + "\n")
    out = tw("ingest", tmp / "late.csv", "--as-of", "2026-03-20T14:00:00Z").output
    assert "re-checked 1 subjects against 1 crimes: 1 matches" in out
    again = tw("crimes", "import", tmp / "late-crime.csv").output
    assert "unchanged 1" in again and "checked" not in again  # nothing new: nothing re-checked


def test_match_review_needs_authorisation_before_sharing(tw):
    (m,) = json.loads(tw("correlate", "--format", "json").stdout)
    runner = CliRunner()
    refused = runner.invoke(app, ["matches", "review", str(m["id"]), "shared", "--by", "sup1", "--force", "MPS"])
    assert refused.exit_code == 2 and "not authorised for sharing with MPS" in refused.output
    tw("matches", "review", m["id"], "qualified", "--by", "caseworker1", "--note", "on the path at 10:50")
    tw("matches", "review", m["id"], "authorised", "--by", "sup1", "--force", "MPS")
    tw("matches", "review", m["id"], "shared", "--by", "sup1", "--force", "MPS")
    assert "caseworker1" in tw("matches", "show", m["id"]).output
    store = open_store(os.environ["TAGWATCH_DB"])
    assert [r["action"] for r in store.match_reviews(m["id"])] == ["qualified", "authorised", "shared"]
    assert store.shared_match_ids("MPS") == [m["id"]] and store.shared_match_ids("WYP") == []
    tw("matches", "review", m["id"], "withdrawn", "--by", "sup1", "--force", "MPS", "--note", "crime record cancelled")
    assert store.shared_match_ids("MPS") == []


def test_run_keeps_its_gap_rule_as_strict_json(tw):
    """The near-end distance of unaccounted gaps is a run parameter; 'inf' (any reachable gap) is stored as null."""
    from sqlalchemy import select

    from tagwatch.store import schema

    tw("correlate", "--gap-near", "inf", "--format", "json")
    tw("correlate", "--gap-near", "500", "--format", "json")
    store = open_store(os.environ["TAGWATCH_DB"])
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.correlation_runs.c.params).order_by(schema.correlation_runs.c.id)).all()

    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))

    assert [strict(r[0])["match"]["gap_near_m"] for r in rows[-2:]] == [None, 500.0]
    assert strict(rows[0][0])["match"]["gap_near_m"] == 2000.0  # the continuous-mode run, default rule
