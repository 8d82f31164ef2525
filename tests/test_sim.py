"""The simulator: deterministic, schema-valid, honest ground truth; the scorer's arithmetic; load."""

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.geo import to_bng, zone_from_geojson
from tagwatch.schemas import load_schema
from tagwatch.sim import score, simulate
from tagwatch.sim.tag import battery_levels, spike_into_zone
from tagwatch.sim.text import fixed_decimals, iso_seconds
from tagwatch.sim.timeline import from_iso
from tagwatch.sim.truth import low_battery_runs

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
    upload_order = [(r["received_at"], r["ts"]) for r in rows]
    assert upload_order == sorted(upload_order)
    number = {"lat": r"-?\d+\.\d{6}", "lon": r"-?\d+\.\d{6}", "accuracy_m": r"\d+\.\d"}
    for r in rows[::97]:
        assert r["strap"] in ("ok", "tamper") and 0 <= int(r["battery_pct"]) <= 100
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["received_at"])
        if r["lat"] == "":
            assert r["lon"] == r["accuracy_m"] == ""
        else:
            assert all(re.fullmatch(pat, r[col]) for col, pat in number.items()), r
            assert 5.0 <= float(r["accuracy_m"]) <= 50.0


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


def minutes(entry) -> float:
    return (datetime.fromisoformat(entry["end"]) - datetime.fromisoformat(entry["start"])).total_seconds() / 60


def test_violations_last_clearly_past_the_thresholds_and_noise_is_labelled(pilot):
    out, _ = pilot
    truth = json.loads((out / "truth.json").read_text())
    shortest = {"exclusion_breach": 8, "curfew_breach": 15, "no_comms": 40, "no_fix": 25, "attendance_missed": 60}
    for v in truth["violations"]:
        if v["end"] != truth["as_of"]:  # one still going on at the horizon is cut there
            assert minutes(v) >= shortest.get(v["kind"], 1), v
        assert (v["condition_id"] is None) == (v["kind"] in {"low_battery", "strap_tamper", "no_fix", "no_comms"}), v
    assert {nz["kind"] for nz in truth["noise"]} <= KINDS | {None}
    descriptions = " ".join(nz["description"] for nz in truth["noise"])
    for what in ("GPS spike", "GPS drift", "walked past", "short signal loss", "short GPS dropout"):
        assert what in descriptions
    assert any(nz["kind"] == "curfew_breach" and "spike" in nz["description"] for nz in truth["noise"])


def test_spikes_into_exclusion_zones_land_inside_them(pilot):
    out, _ = pilot
    truth = json.loads((out / "truth.json").read_text())
    enrol = json.loads((out / "enrolment.json").read_text())
    zones = {o["subject_id"]: [zone_from_geojson(c["zone"]) for v in o["versions"] for c in v["conditions"]
                               if c["kind"] == "exclusion"] for o in enrol["orders"]}
    device = {a["subject_id"]: a["device_id"] for a in enrol["assignments"]}
    spikes = {(device[nz["subject_id"]], nz["start"]): nz["subject_id"] for nz in truth["noise"]
              if "into the exclusion zone" in nz["description"]}
    with open(out / "fixes.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if (r["device_id"], r["ts"]) in spikes]
    assert len(rows) == len(spikes)  # the spike's first fix is in the file (no swap in this pilot)
    for r in rows:
        x, y = to_bng(float(r["lon"]), float(r["lat"]))
        assert any(z.signed_distance(np.array([x]), np.array([y]))[0] < 0 for z in zones[spikes[r["device_id"], r["ts"]]])


def test_a_spike_into_a_zone_lands_inside_with_an_understated_accuracy():
    zone = zone_from_geojson({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.02, 51.45]},
                              "properties": {"radius_m": 200}})
    cx, cy = zone.centre
    xy = np.column_stack([np.full(60, cx + 350.0), cy + np.linspace(-600, 600, 60)])  # passes 150 m outside
    obs, acc, busy = xy.copy(), np.full(60, 8.0), np.zeros(60, dtype=bool)
    s, k, metres = spike_into_zone(np.random.default_rng(1), busy, xy, obs, acc, zone, np.ones(60, dtype=bool))
    d = zone.signed_distance(obs[s: s + k, 0], obs[s: s + k, 1])
    assert (d < -acc[s: s + k]).all() and ((15 <= acc[s: s + k]) & (acc[s: s + k] <= 40)).all()
    assert busy[s: s + k].all() and 150 <= metres <= 450
    far = xy + [2000.0, 0.0]
    assert spike_into_zone(np.random.default_rng(1), busy, far, far.copy(), acc, zone, np.ones(60, dtype=bool)) is None


def test_versions_keep_condition_ids(pilot):
    out, _ = pilot
    for o in json.loads((out / "enrolment.json").read_text())["orders"]:
        kinds = [{c["id"]: c["kind"] for c in v["conditions"]} for v in o["versions"]]
        for a in kinds:
            assert all(a[i] == b[i] for b in kinds for i in a.keys() & b.keys()), o["id"]
        assert len({"trail" in k for k in kinds}) == 1, o["id"]


def test_battery_drains_and_charges_and_low_battery_runs_use_hysteresis():
    charging = np.array([False] * 3 + [True] * 2)
    assert battery_levels(charging, drain_pct_per_h=60, start=50).tolist() == [49, 48, 47, 48, 49]
    assert battery_levels(np.zeros(3, dtype=bool), drain_pct_per_h=600, start=20, floor=3).tolist() == [10, 3, 3]
    ts = np.arange(8) * 60_000
    levels = np.array([30, 19, 18, 22, 21, 25, 26, 19])
    assert low_battery_runs(ts, levels) == [(60_000, 300_000), (420_000, 480_000)]
    assert low_battery_runs(ts[:0], levels[:0]) == []


@pytest.mark.parametrize("value, digits, text", [
    (51.4452123, 6, "51.445212"), (-0.0209, 6, "-0.020900"), (12.25, 1, "12.2"), (12.35, 1, "12.3"),
    (5.0, 1, "5.0"), (float("nan"), 6, ""), (-12.36, 1, "-12.4"), (0.0, 6, "0.000000"),
])
def test_fixed_decimals(value, digits, text):
    assert fixed_decimals(np.array([value]), digits).to_pylist() == [text]


def test_iso_seconds_agrees_with_datetime():
    ms = np.array([1_774_000_000_123, 0, 1_774_000_059_999, 1_775_170_800_000])
    expected = [datetime.fromtimestamp(m // 1000, UTC).isoformat() for m in ms.tolist()]
    assert iso_seconds(ms).to_pylist() == expected


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
    assert s.to_dict()["per_kind"]["no_fix"] == {"n_alerts": 1, "n_true": 1, "precision": 1.0, "recall": 1.0}


@pytest.mark.parametrize("alert, matches", [
    ({"start": datetime(2026, 3, 20, 21, 19, tzinfo=UTC), "end": datetime(2026, 3, 20, 21, 30, tzinfo=UTC)}, True),
    ({"start": "2026-03-20T21:21:00+00:00", "end": "2026-03-20T21:30:00+00:00"}, False),  # gap 21 min > 2 x 10
    ({"start": "2026-03-20T19:30:00+00:00", "end": "2026-03-20T19:41:00+00:00"}, True),
    ({"start": "2026-03-20T18:00:00Z", "end": None}, True),  # open: runs to as_of
])
def test_score_widens_both_intervals_by_the_tolerance(alert, matches):
    truth = {"as_of": "2026-03-21T00:00:00Z", "violations": [
        {"subject_id": "S1", "kind": "curfew_breach", "start": "2026-03-20T20:00:00Z", "end": "2026-03-20T21:00:00Z"}],
        "noise": []}
    s = score([{"subject_id": "S1", "kind": "curfew_breach", **alert}], truth, tolerance_s=600)
    assert (s.precision, s.recall) == ((1.0, 1.0) if matches else (0.0, 0.0))


def test_score_of_nothing_is_perfect_and_unlabelled_noise_never_counts():
    truth = {"as_of": "2026-03-21T00:00:00Z", "violations": [], "noise": [
        {"subject_id": "S1", "kind": None, "start": "2026-03-20T12:00:00Z", "end": "2026-03-20T12:01:00Z"}]}
    assert (score([], truth).precision, score([], truth).recall) == (1.0, 1.0)
    alert = {"subject_id": "S1", "kind": "curfew_breach", "start": "2026-03-20T12:00:00Z", "end": "2026-03-20T12:05:00Z"}
    s = score([alert], truth)
    assert (s.precision, s.recall, s.noise_alerted, s.alerts_per_subject_day) == (0.0, 1.0, 0, 1.0)


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
    result = CliRunner().invoke(app, ["demo", "--subjects", "4", "--days", "3", "--out", str(tmp_path / "demo"),
                                      "--no-serve"])
    assert result.exit_code == 0, result.output
    for line in ("precision / recall", "alerts per subject-day", "true violations per subject-day", "naive rules",
                 "Crime-scene correlation", "innocent passers-by", "demo-monitoring", "demo-probation", "demo-police",
                 "demo-evaluator", "demo-admin", "http://127.0.0.1:8000/"):
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


@pytest.mark.parametrize("days", [1, 2, 3])
def test_short_pilots_start_every_order_before_the_end(tmp_path, days):
    """A late start (1-4 days in) must still leave a day of order in a short pilot."""
    simulate(tmp_path, n_subjects=40, days=days, seed=3)
    enrol = json.loads((tmp_path / "enrolment.json").read_text())
    for o in enrol["orders"]:
        assert from_iso(o["start"]) < from_iso(o["end"]), o["id"]


def test_police_uk_monthly_files_hold_the_same_crimes_and_import_cleanly(pilot, tmp_path):
    from collections import Counter

    from tagwatch.areas.categories import FROM_CRIME_MAPPING
    from tagwatch.areas.policeuk import read_police_uk
    from tagwatch.services.areas import community_safety_index, import_area_files
    from tagwatch.store import open_store
    out, _ = pilot
    files = sorted((out / "police-uk").glob("*/*-metropolitan-street.csv"))
    assert files and all(f.name.startswith(f.parent.name) for f in files)
    with open(out / "crimes.csv", newline="") as f:
        crimes = list(csv.DictReader(f))
    expected = Counter((datetime.fromisoformat(c["from"].replace("Z", "+00:00")).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/London")).strftime("%Y-%m"), FROM_CRIME_MAPPING[c["crime_type"]])
        for c in crimes)
    parsed = [read_police_uk(p) for p in files]
    got = Counter((m, t) for p in parsed for m, t in zip(p.table["month"].to_pylist(),
                                                         p.table["crime_type"].to_pylist(), strict=True))
    assert got == expected and all(not p.rejects for p in parsed)
    unmapped = sum(p.table["lon"].null_count for p in parsed)
    assert unmapped == len(crimes) // 30
    store = open_store(f"sqlite:///{tmp_path / 'areas.db'}")
    reps = import_area_files(store, files, now_ms=0)
    assert sum(r.rows for r in reps) == len(crimes) and sum(r.rejected for r in reps) == 0
    met = community_safety_index(store)  # the Met's LSOAs: every located crime falls in one
    assert met.rows_outside == 0 and met.rows_used + met.rows_unplaced == len(crimes)
    four = community_safety_index(store, las=["Lewisham", "Lambeth", "Croydon", "Southwark"])
    assert len(four.result.groups) == 4 and 0 < four.rows_outside < four.rows_used  # 3.5 km spills over borders


def test_report_areas_on_the_pilot_boroughs_uses_the_london_boundaries(pilot, tmp_path):
    out, _ = pilot
    db = f"sqlite:///{tmp_path / 'lon.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["areas", "import", *map(str, sorted((out / "police-uk").glob("*/*.csv"))),
                               "--db", db]).exit_code == 0
    res = runner.invoke(app, ["report", "areas", "--la", "Lewisham", "--la", "Lambeth", "--la", "Croydon",
                              "--la", "Southwark", "--out", str(tmp_path / "lon.html"), "--db", db])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "lon.html").read_text()
    # The simulator's crimes are acquisitive only: four variables, so 2 index maps, 4 rate maps, 1 trend plot.
    assert html.count("<svg") == 2 + 4 + 1 and "Lewisham 001A" in html
