"""Crime files: the police crime-mapping batch (every rejection reason), tagwatch CSV, police.uk refused."""

import pytest

from tagwatch.codec import InputError
from tagwatch.geo import to_bng, to_wgs84
from tagwatch.ingest.crimes import read_crime_file

GOOD = "MPS,RB,Robbery of phone,MPS20260320A,CR001,20260320183000,20260320184500,537700,174200,,,OSGB36,Street robbery"
GOOD_WGS = "MPS,TFP,Pickpocket,MPS20260320A,CR002,20260320190000,20260320190000,,,51.4452,-0.0209,WGS84,On a bus"


def batch(tmp_path, *lines):
    p = tmp_path / "batch.csv"
    p.write_text("\n".join(lines) + "\n")
    return read_crime_file(p)


def test_a_clean_batch_is_successful_with_both_coordinate_kinds(tmp_path):
    b = batch(tmp_path, GOOD, GOOD_WGS)
    assert (b.format, b.force, b.batch_id, b.outcome, len(b.crimes)) == ("police-batch", "MPS", "MPS20260320A", "successful", 2)
    grid, wgs = b.crimes
    assert (grid.x, grid.y) == (537700, 174200)
    back = to_bng(grid.lon, grid.lat)  # the lat/lon derived from easting/northing round-trips
    assert abs(back[0] - 537700) < 0.01 and abs(back[1] - 174200) < 0.01
    assert (wgs.lat, wgs.lon) == (51.4452, -0.0209) and tuple(to_wgs84(wgs.x, wgs.y)) == pytest.approx((-0.0209, 51.4452))
    assert grid.to_ms - grid.from_ms == 15 * 60_000 and wgs.to_ms == wgs.from_ms


def row(**changes):
    cols = GOOD.split(",")
    names = ["force", "crime_type", "description", "batch_id", "crime_ref", "from", "to", "easting", "northing",
             "lat", "lon", "datum", "crime_text"]
    for k, v in changes.items():
        cols[names.index(k)] = v
    return ",".join(cols)


@pytest.mark.parametrize("line, code", [
    (GOOD + ",extra", "wrong_field_count"),
    (row(force="KNT"), "force_mismatch"),
    (row(batch_id="MPS20260321B"), "batch_mismatch"),
    (row(crime_type="SHOP"), "unknown_crime_type"),
    (row(crime_ref=""), "missing_crime_ref"),
    (row(crime_ref="CR001"), "duplicate_in_batch"),
    (row(crime_ref="CR9", **{"from": "2026-03-20 18:30"}), "bad_time"),
    (row(crime_ref="CR9", to="20260320180000"), "window_reversed"),
    (row(crime_ref="CR9", to="20260321070000"), "window_too_long"),
    (row(crime_ref="CR9", easting="", northing=""), "no_coordinates"),
    (row(crime_ref="CR9", lat="51.4", lon="-0.02"), "bad_coordinates"),
    (row(crime_ref="CR9", easting="9537700"), "bad_coordinates"),
    (row(crime_ref="CR9", easting="east"), "bad_coordinates"),
])
def test_each_rejection_reason_and_a_partial_batch(tmp_path, line, code):
    b = batch(tmp_path, GOOD, line)
    assert b.outcome == "partial" and [c.crime_ref for c in b.crimes] == ["CR001"]
    ((line_no, raw, reason),) = b.rejects
    assert reason.startswith(code + ":") and line_no == 2 and raw == line


def test_batch_id_not_starting_with_force_and_date_fails_the_batch(tmp_path):
    b = batch(tmp_path, row(batch_id="X1"), row(batch_id="X1", crime_ref="CR2"))
    assert b.outcome == "failed" and not b.crimes and all(r[2].startswith("bad_batch_id:") for r in b.rejects)


def test_police_uk_street_level_files_are_refused_with_the_reason(tmp_path):
    p = tmp_path / "2026-03-metropolitan-street.csv"
    p.write_text("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
                 "Crime type,Last outcome category,Context\n"
                 "abc,2026-03,Metropolitan Police Service,Metropolitan Police Service,-0.02,51.44,On or near X,"
                 "E01003189,Lewisham 001A,Robbery,Under investigation,\n")
    with pytest.raises(InputError, match="never uses them to place a person"):
        read_crime_file(p)


def test_tagwatch_csv(tmp_path):
    p = tmp_path / "crimes.csv"
    p.write_text("crime_id,crime_type,lat,lon,from,to,location_accuracy_m\n"
                 "C1,robbery,51.4452,-0.0209,2026-03-20T18:30:00+00:00,2026-03-20T18:45:00+00:00,25\n"
                 "C2,robbery,51.4452,-0.0209,2026-03-20T18:30:00,2026-03-20T18:45:00Z,\n")
    b = read_crime_file(p)
    assert b.format == "tagwatch-csv" and [c.crime_ref for c in b.crimes] == ["C1"]
    assert b.crimes[0].location_accuracy_m == 25 and b.rejects[0][2].startswith("bad_time:")


def test_store_versions_resent_crimes_and_keeps_rejects(store, tmp_path):
    first = batch(tmp_path, GOOD, GOOD_WGS, row(crime_type="SHOP", crime_ref="CR3"))
    assert store.record_crime_batch(first, 1) == {"new": 2, "new_version": 0, "unchanged": 0, "rejected": 1}
    assert store.record_crime_batch(first, 2)["unchanged"] == 2  # re-sent as is: nothing changes
    resent = batch(tmp_path, row(to="20260320190000"))  # the force corrects the end of the window
    assert store.record_crime_batch(resent, 3) == {"new": 0, "new_version": 1, "unchanged": 0, "rejected": 0}
    latest = {c["crime_ref"]: c for c in store.crimes()}
    assert latest["CR001"]["version"] == 2 and latest["CR001"]["changed"] == "to_ms"
    assert [c["version"] for c in store.crimes(all_versions=True) if c["crime_ref"] == "CR001"] == [1, 2]
    assert [b["outcome"] for b in store.crime_batches()] == ["partial", "partial", "successful"]
    assert sum(r["reason"].startswith("unknown_crime_type:") for r in store.rejects()) == 2


def test_crimes_cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tagwatch.cli import app
    monkeypatch.setenv("TAGWATCH_DB", f"sqlite:///{tmp_path / 'c.db'}")
    p = tmp_path / "MPS20260320A.csv"
    p.write_text("\n".join([GOOD, GOOD_WGS, row(crime_ref="CR9", to="20260321070000")]) + "\n")
    out = CliRunner().invoke(app, ["crimes", "import", str(p)])
    assert out.exit_code == 1 and "partial" in out.output and "window_too_long: 1" in out.output
    listed = CliRunner().invoke(app, ["crimes", "list", "--format", "csv"]).stdout.splitlines()
    assert len(listed) == 3 and listed[1].startswith("MPS,CR001,1,RB,2026-03-20T18:30:00Z")
