"""The alcohol simulator: realistic, deterministic, and the rules recover its truth."""

import json
import re
from datetime import date

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner

from tagwatch.alcohol import DEFAULT_ALCOHOL_SETTINGS, Readings, judge_subject
from tagwatch.cli import app
from tagwatch.codec import enrolment_from_dict
from tagwatch.schemas import load_schema
from tagwatch.sim import score, simulate
from tagwatch.sim.alcohol import simulate_alcohol, tac_curve
from tagwatch.sim.plan import local_ms

START = local_ms(date(2025, 9, 1), 0)


def test_simulated_curves_are_physiological():
    rng = np.random.default_rng(4)
    for peak in (0.025, 0.06, 0.15):
        grid, tac, meta = tac_curve(rng, peak)
        assert tac.max() == pytest.approx(peak, rel=1e-3)
        top = grid[np.argmax(tac)]
        assert 1.5 < top < 12  # the skin peaks hours after the first drink
        after = grid > top
        assert np.all(np.diff(tac[after]) <= 1e-12)  # then only falls...
        half = grid[after][np.argmax(tac[after] <= peak / 2)]
        assert 0.003 < (peak / 2) / (half - top) < 0.025  # ...at a rate the body can eliminate alcohol
        late = (grid > top + 2) & (tac > 0.4 * peak)
        if peak >= 0.1:  # a long descent is linear: zero-order elimination, as seen through the skin
            slope = -np.diff(tac[late]).mean() / (grid[1] - grid[0])
            assert slope == pytest.approx(meta["elimination_g_dl_h"], rel=0.15)


def test_event_precision_and_recall_on_simulated_truth():
    """A modest simulation with many drinkers: both at least 0.95, and every confound counted."""
    sim = simulate_alcohol(30, seed=11, start_ms=START, end_ms=START + 150 * 86_400_000, lapse_p=0.5)
    t = sim.table()
    truth = {"as_of": None, "violations": sim.violations, "noise": sim.noise}
    enrol = enrolment_from_dict({"subjects": sim.subjects, "devices": sim.devices, "assignments": sim.assignments,
                                 "orders": sim.orders})
    dev = np.asarray(t["device_id"].to_pylist())
    alerts = []
    for o in enrol.orders:
        m = dev == f"CAM{o.subject_id[1:].zfill(5)}"
        r = Readings.from_columns(t["ts_ms"].to_numpy()[m], t["tac"].to_numpy()[m], t["skin_temp_c"].to_numpy()[m],
                                  t["ir_distance_mm"].to_numpy()[m], t["tamper"].to_numpy(zero_copy_only=False)[m])
        v = judge_subject(o.subject_id, [o], r, START + 150 * 86_400_000, DEFAULT_ALCOHOL_SETTINGS)
        alerts += [{"subject_id": e.subject_id, "kind": str(e.kind), "start": e.start_ms / 1000 and _iso(e.start_ms),
                    "end": None if e.end_ms is None else _iso(e.end_ms)} for e in v.episodes]
    result = score(alerts, truth).to_dict()["per_kind"]
    drinking = result["alcohol_drinking"]
    assert drinking["n_true"] >= 40  # enough events for the figure to mean something
    assert drinking["precision"] >= 0.95 and drinking["recall"] >= 0.95, drinking
    kinds = {n["description"].split(" ")[0] for n in sim.noise}
    assert {"environmental", "slow", "one"} <= kinds  # hand gel, drift and sensor glitches were all there
    for kind in ("alcohol_obstruction", "alcohol_no_readings"):
        assert result[kind]["precision"] == 1.0 and result[kind]["recall"] == 1.0


def _iso(ms):
    from tagwatch.model import iso
    return iso(ms)


def test_same_seed_same_readings_and_gps_pilot_unchanged(tmp_path):
    a = simulate(tmp_path / "a", n_subjects=2, days=3, seed=5, n_alcohol=3)
    b = simulate(tmp_path / "b", n_subjects=2, days=3, seed=5, n_alcohol=3)
    gps_only = simulate(tmp_path / "c", n_subjects=2, days=3, seed=5)
    assert (tmp_path / "a" / "alcohol.csv").read_bytes() == (tmp_path / "b" / "alcohol.csv").read_bytes()
    assert (tmp_path / "a" / "fixes.csv").read_bytes() == (tmp_path / "c" / "fixes.csv").read_bytes()
    assert a.n_readings == b.n_readings > 0 and gps_only.n_alcohol == 0
    truth = json.loads((tmp_path / "a" / "truth.json").read_text())
    jsonschema.validate(truth, load_schema("truth"))
    jsonschema.validate(json.loads((tmp_path / "a" / "enrolment.json").read_text()), load_schema("enrolment"))


def test_simulate_load_and_report_from_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGWATCH_DB", f"sqlite:///{tmp_path / 'aamr.db'}")
    runner = CliRunner()

    def call(*args):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result

    out = call("simulate", "--subjects", "0", "--alcohol", "6", "--days", "45", "--start", "2025-09-01",
               "--seed", "2", "--out", tmp_path / "p").output
    assert "6 alcohol subjects" in " ".join(out.split())
    n_rows = len((tmp_path / "p" / "alcohol.csv").read_text().splitlines()) - 1
    assert f"readings: accepted {n_rows}, duplicates 0, rejected 0" in call("load", tmp_path / "p").output.replace("\n", " ")
    rep = json.loads(call("report", "aamr", "--to", "2025-10-16T00:00:00+01:00", "--format", "json").stdout)
    assert rep["orders_imposed"] == 6 and rep["readings"] == n_rows
    assert 40 <= rep["readings_per_monitored_day"] <= 48 and rep["monitored_days"] > 0
    truth = json.loads((tmp_path / "p" / "truth.json").read_text())
    assert rep["confirmed_drinking_events"] == sum(v["kind"] == "alcohol_drinking" for v in truth["violations"])
    page = call("report", "aamr", "--to", "2025-10-16T00:00:00+01:00", "--format", "html", "--out",
                tmp_path / "r.html").output
    html = (tmp_path / "r.html").read_text()
    assert "wrote" in page and html.count("data:image/png;base64,") == 1 + len([o for o in rep["orders"]
                                                                              if o["monitored_days"]])
    assert not re.search(r"(src|href)=\"https?:", html)  # self-contained: nothing from the internet
    days = call("alcohol", "days", "A0001", "--to", "2025-10-16T00:00:00+01:00", "--format", "csv").stdout
    assert days.startswith("date,order_id,hours,readings")
    call("alcohol", "events", "--all", "--as-of", "2025-10-16T00:00:00+01:00", "--format", "json")
    call("alcohol", "set", "threshold_g_dl=0.03")
    assert "0.03" in call("alcohol", "rules").output
    assert "alcohol subjects" in call("alcohol", "evaluate", "--as-of", "2025-10-16T00:00:00+01:00").output


def test_operator_flow_from_the_cli(tmp_path, monkeypatch, alc, b):
    monkeypatch.setenv("TAGWATCH_DB", f"sqlite:///{tmp_path / 'op.db'}")
    runner = CliRunner()

    def call(*args, ok=True):
        result = runner.invoke(app, [str(a) for a in args])
        assert (result.exit_code == 0) == ok, result.output
        return result

    start = b.utc(2026, 3, 2, 10)
    call("subjects", "add", "S1")
    call("devices", "add", "CAM1", "--kind", "alcohol")
    call("devices", "assign", "CAM1", "S1", "--from", "2026-03-02T10:00:00Z")
    call("orders", "add", "O1", "--subject", "S1", "--type", "community", "--start", "2026-03-02T10:00:00Z",
         "--end", "2026-04-01T10:00:00+01:00", "--alcohol-abstinence")
    rows = alc.readings(start, start + 4 * 86_400_000, alc.drink(start + 30 * 3_600_000))
    path = tmp_path / "readings.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = " ".join(call("alcohol", "ingest", path, "--as-of", "2026-03-08T10:00:00Z").output.split())
    assert f"accepted {len(rows)}, duplicates 0, rejected 0" in out and "alerts new 2" in out
    alerts = json.loads(call("alerts", "--format", "json").stdout)
    # and the tag has been quiet for two days (longer than a missed nightly upload)
    assert sorted((a["kind"], a["end"]) for a in alerts) == [("alcohol_drinking", _iso(start + 38 * 3_600_000)),
                                                             ("alcohol_no_readings", None)]
    drinking = next(a for a in alerts if a["kind"] == "alcohol_drinking")
    assert drinking["condition_id"] == "alcohol" and drinking["severity"] == "high"
    call("alerts", "ack", drinking["id"], "--by", "op1")
    again = " ".join(call("alcohol", "ingest", path, "--as-of", "2026-03-08T10:00:00Z").output.split())
    assert "accepted 0, duplicates" in again
    assert next(a for a in json.loads(call("alerts", "--format", "json").stdout)
                if a["id"] == drinking["id"])["status"] == "acknowledged"
