"""The simulator: deterministic, schema-valid, honest ground truth; the scorer's arithmetic; load."""

import csv
import hashlib
import json
import os
import subprocess
import sys

import jsonschema
import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.schemas import load_schema
from tagwatch.sim import score, simulate

KINDS = {"exclusion_breach", "curfew_breach", "attendance_missed", "low_battery", "strap_tamper", "no_fix", "no_comms"}


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    out = tmp_path_factory.mktemp("pilot")
    summary = simulate(out, n_subjects=8, days=10, seed=7)
    return out, summary


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_pilot_other_seed_other_pilot(pilot, tmp_path):
    out, _ = pilot
    # Another process, with another hash seed: set or dict order must not leak into output.
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from tagwatch.sim import simulate; "
                    "simulate(Path(sys.argv[1]), n_subjects=8, days=10, seed=7)", str(tmp_path / "again")],
                   check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    for name in ("fixes.csv", "enrolment.json", "truth.json", "pilot.json"):
        assert digest(out / name) == digest(tmp_path / "again" / name), name
    other = simulate(tmp_path / "other", n_subjects=8, days=10, seed=8)
    assert digest(out / "fixes.csv") != digest(other.out_dir / "fixes.csv")


def test_files_follow_their_schemas(pilot):
    out, _ = pilot
    jsonschema.validate(json.loads((out / "enrolment.json").read_text()), load_schema("enrolment"))
    jsonschema.validate(json.loads((out / "truth.json").read_text()), load_schema("truth"))


def test_fixes_have_the_documented_columns_and_late_uploads(pilot):
    out, summary = pilot
    with open(out / "fixes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["device_id", "ts", "lat", "lon", "accuracy_m", "battery_pct", "strap", "received_at"]
    assert len(rows) == summary.n_fixes
    assert all(r["ts"].endswith("+00:00") for r in rows[:100])
    ts = [r["ts"] for r in rows]
    assert ts != sorted(ts)  # written in upload order: late uploads come after newer fixes
    late = [r for r in rows if r["received_at"] > r["ts"][:-6] + ":59+00:00"]
    assert late, "some fixes must arrive more than a minute after they were taken"
    assert any(r["lat"] == "" and r["lon"] == "" for r in rows)  # reports without a position


def test_truth_lies_within_orders_and_covers_kinds(pilot):
    out, _ = pilot
    truth = json.loads((out / "truth.json").read_text())
    orders = {o["subject_id"]: o for o in json.loads((out / "enrolment.json").read_text())["orders"]}
    for v in truth["violations"]:
        o = orders[v["subject_id"]]
        assert o["start"] <= v["start"] < v["end"] <= o["end"], v
    assert {v["kind"] for v in truth["violations"]} <= KINDS
    assert len({v["kind"] for v in truth["violations"]}) >= 5
    assert truth["noise"] and truth["subject_days"] > 0


def test_score_arithmetic():
    truth = {"as_of": "2026-03-21T00:00:00Z", "subject_days": 2.0, "violations": [
        {"subject_id": "S1", "kind": "curfew_breach", "start": "2026-03-20T20:00:00Z", "end": "2026-03-20T21:00:00Z"},
        {"subject_id": "S1", "kind": "no_fix", "start": "2026-03-20T10:00:00Z", "end": "2026-03-20T10:30:00Z"},
        {"subject_id": "S2", "kind": "curfew_breach", "start": "2026-03-20T22:00:00Z", "end": "2026-03-20T23:00:00Z"},
    ], "noise": [{"subject_id": "S2", "kind": "exclusion_breach", "start": "2026-03-20T12:00:00Z", "end": "2026-03-20T12:02:00Z"}]}
    alerts = [
        {"subject_id": "S1", "kind": "curfew_breach", "start": "2026-03-20T20:05:00Z", "end": "2026-03-20T20:50:00Z"},
        {"subject_id": "S1", "kind": "no_fix", "start": "2026-03-20T10:39:00Z", "end": None},  # within 10 min tolerance
        {"subject_id": "S2", "kind": "exclusion_breach", "start": "2026-03-20T12:01:00Z", "end": "2026-03-20T12:03:00Z"},
        {"subject_id": "S1", "kind": "curfew_breach", "start": "2026-03-20T23:30:00Z", "end": "2026-03-20T23:40:00Z"},
    ]
    s = score(alerts, truth)
    assert (s.matched_alerts, s.n_alerts, s.matched_true, s.n_true) == (2, 4, 2, 3)
    assert (s.precision, s.recall) == (0.5, 2 / 3)
    assert s.noise_alerted == 1 and s.alerts_per_subject_day == 2.0 and s.true_violations_per_subject_day == 1.5
    assert s.per_kind["curfew_breach"] == {"n_alerts": 2, "n_true": 2, "precision": 0.5, "recall": 0.5}


def test_load_enrols_ingests_and_evaluates_and_is_idempotent(pilot, tmp_path, monkeypatch):
    out, summary = pilot
    monkeypatch.setenv("TAGWATCH_DB", f"sqlite:///{tmp_path / 'load.db'}")
    runner = CliRunner()
    first = runner.invoke(app, ["load", str(out)])
    assert first.exit_code == 0, first.output
    assert f"accepted {summary.n_fixes}" in first.output
    alerts = json.loads(runner.invoke(app, ["alerts", "--format", "json"]).stdout)
    truth = json.loads((out / "truth.json").read_text())
    result = score(alerts, truth)
    assert result.precision >= 0.95 and result.recall >= 0.95, result
    second = runner.invoke(app, ["load", str(out)])
    assert second.exit_code == 0 and "accepted 0" in second.output and "already there" in second.output
    assert len(json.loads(runner.invoke(app, ["alerts", "--format", "json"]).stdout)) == len(alerts)


def test_load_rejects_an_invalid_enrolment_with_the_place_of_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGWATCH_DB", f"sqlite:///{tmp_path / 'bad.db'}")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "enrolment.json").write_text(json.dumps({
        "format": "tagwatch-enrolment/1", "subjects": [{"id": "S1", "risk_level": "extreme"}],
        "devices": [], "assignments": [], "orders": []}))
    result = CliRunner().invoke(app, ["load", str(tmp_path / "p")])
    assert result.exit_code == 2 and "subjects/0/risk_level" in result.output


def test_demo_command_end_to_end(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--subjects", "4", "--days", "3", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    for line in ("precision / recall", "alerts per subject-day", "true violations per subject-day", "naive rules",
                 "Crime-scene correlation", "innocent passers-by"):
        assert line in result.output
    assert (tmp_path / "demo" / "tagwatch.db").exists()


def test_crimes_and_police_batches_import_cleanly_and_offences_are_real_crimes(pilot, tmp_path):
    from tagwatch.ingest.crimes import read_crime_file
    out, _ = pilot
    crimes = read_crime_file(out / "crimes.csv")
    assert crimes.outcome == "successful" and len(crimes.crimes) > 100
    batches = [read_crime_file(p) for p in sorted((out / "police").glob("MPS*.csv"))]
    assert batches and all(b.outcome == "successful" and b.format == "police-batch" for b in batches)
    assert sum(len(b.crimes) for b in batches) == len(crimes.crimes)
    by_ref = {c.crime_ref: c for c in crimes.crimes}
    truth = json.loads((out / "truth.json").read_text())
    for o in truth["offences"]:
        assert by_ref[o["crime_id"]].crime_type == o["crime_type"]
