"""Zones that cannot be right are refused with a message naming the problem (CLI and API); crime and
area imports never crash on a long field or lose a stored month to a shorter file."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from tagwatch.cli import app
from tagwatch.services.areas import import_area_files
from tagwatch.store import open_store

runner = CliRunner()
HOME = [-0.02, 51.45]


def _point(lonlat, radius):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": lonlat}, "properties": {"radius_m": radius}}


def _poly(ring):
    return {"type": "Polygon", "coordinates": [ring]}


SQUARE = [[-0.03, 51.44], [-0.01, 51.44], [-0.01, 51.46], [-0.03, 51.46], [-0.03, 51.44]]
BAD_ZONES = {  # the zone file's text -> what the message must say
    "list": ("[1, 2, 3]", "must be an object"),
    "number": ("51.45", "must be an object"),
    "string coordinates": (json.dumps(_poly([["a", "b"], ["c", "d"], ["e", "f"], ["a", "b"]])), "cannot be read"),
    "NaN": ('{"type": "Polygon", "coordinates": [[[NaN, 51], [0, 51], [0, 52], [NaN, 51]]]}', "cannot be read"),
    "deep nesting": ('{"type": "Polygon", "coordinates": ' + "[" * 5000 + "]" * 5000 + "}", "cannot"),
    "empty polygon": (json.dumps({"type": "Polygon", "coordinates": []}), "is empty"),
    "self-intersecting": (json.dumps(_poly([[-0.03, 51.44], [-0.01, 51.46], [-0.01, 51.44], [-0.03, 51.46],
                                            [-0.03, 51.44]])), "not a simple polygon: Self-intersection"),
    "lat/lon swapped": (json.dumps(_point(HOME[::-1], 100)), "are lat and lon swapped"),
    "outside Great Britain": (json.dumps(_poly([[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]])),
                              "outside the service area (Great Britain"),
    "radius 1e9 m": (json.dumps(_point(HOME, 1e9)), "radius_m 1e+09 is outside 5 m..50 km"),
    "radius 1 m": (json.dumps(_point(HOME, 1)), "outside 5 m..50 km"),
    "radius as text": (json.dumps(_point(HOME, "100")), "not a finite number"),
    "features not a list": ('{"type": "FeatureCollection", "features": 5}', "must be a list"),
    "not UTF-8": (b"\xff\xfe{}", "cannot read zone GeoJSON"),
}


@pytest.fixture
def cli_db(tmp_path):
    db = f"sqlite:///{tmp_path / 'z.db'}"
    assert runner.invoke(app, ["subjects", "add", "S1", "--db", db]).exit_code == 0
    return db


@pytest.mark.parametrize("case", sorted(BAD_ZONES))
def test_orders_add_refuses_a_bad_exclusion_zone_with_a_message(cli_db, tmp_path, case):
    text, says = BAD_ZONES[case]
    path = tmp_path / "victim.geojson"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = runner.invoke(app, ["orders", "add", "O1", "--subject", "S1", "--type", "licence", "--start",
                              "2026-03-20T10:00:00Z", "--exclusion", str(path), "--db", cli_db])
    assert isinstance(out.exception, SystemExit), out.exception  # a message and exit 2, not a traceback
    assert out.exit_code == 2, out.output
    assert says in " ".join(out.output.split()), out.output


def test_good_zones_are_accepted_and_the_service_area_is_configurable(cli_db, tmp_path, monkeypatch):
    paris = tmp_path / "paris.geojson"
    paris.write_text(json.dumps(_point([2.35, 48.85], 200)))
    home = tmp_path / "home.geojson"
    home.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": _poly(SQUARE),
                                                                          "properties": {}}]}))
    args = ["orders", "add", "O1", "--subject", "S1", "--type", "licence", "--start", "2026-03-20T10:00:00Z", "--db", cli_db]
    assert runner.invoke(app, [*args, "--exclusion", str(home)]).exit_code == 0
    monkeypatch.setenv("TAGWATCH_SERVICE_AREA", "France:-5,41,10,51.2")
    args[2] = "O2"
    assert runner.invoke(app, [*args, "--exclusion", str(paris)]).exit_code == 0
    refused = runner.invoke(app, [*args[:2], "O3", *args[3:], "--exclusion", str(home)])
    assert refused.exit_code == 2 and "outside the service area (France" in " ".join(refused.output.split())


@pytest.mark.parametrize("zone, says", [
    (_poly([]), "is empty"), (_point(HOME[::-1], 100), "swapped"), (_point(HOME, 1e9), "5 m..50 km"),
    (_poly([[-0.03, 51.44], [-0.01, 51.46], [-0.01, 51.44], [-0.03, 51.46], [-0.03, 51.44]]), "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[["x", 1]]]}, "cannot be read"),
])
def test_the_api_refuses_a_bad_zone_with_a_message(web, zone, says):
    body = {"id": "O-zone", "subject_id": "S1", "type": "bail", "start": "2026-03-20T10:00:00Z",
            "conditions": [{"id": "victim", "kind": "exclusion", "zone": zone}]}
    r = web.client.post("/api/orders", json=body, headers=web.headers["monitoring"])
    assert r.status_code == 400 and says in r.json()["detail"], r.text


def test_crimes_import_rejects_a_field_over_the_csv_limit_and_keeps_the_rest(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = tmp_path / "crimes.csv"
    row = "C{},RB,51.45,-0.02,2026-03-20T10:00:00Z,2026-03-20T10:30:00Z"
    path.write_text("crime_id,crime_type,lat,lon,from,to\n" + row.format(1) + "\n"
                    + row.format(2).replace("RB", "x" * 200_000) + "\n" + row.format(3) + "\n")
    out = runner.invoke(app, ["crimes", "import", str(path), "--no-correlate", "--db", db])
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    assert "new 2" in out.output and "unparsable: 1" in " ".join(out.output.split()), out.output
    assert open_store(db).rejects()[0]["reason"] == "unparsable: field larger than field limit (131072)"


def test_areas_import_of_a_shorter_file_needs_replace(tmp_path, west_yorkshire_files):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    with open(west_yorkshire_files[0], newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    full, one = tmp_path / "full.csv", tmp_path / "one.csv"
    for path, body in ((full, rows[1:134]), (one, rows[1:2])):
        with open(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([rows[0], *body])
    assert runner.invoke(app, ["areas", "import", str(full), "--db", db]).exit_code == 0
    out = runner.invoke(app, ["areas", "import", str(one), "--db", db])
    assert out.exit_code == 1 and "1 rows where 133 are stored" in " ".join(out.output.split())
    assert open_store(db).count("area_crimes") == 133
    assert runner.invoke(app, ["areas", "import", str(one), "--replace", "--db", db]).exit_code == 0
    assert open_store(db).count("area_crimes") == 1
    assert import_area_files(open_store(db), [full], now_ms=9)[0].status == "imported"  # more rows: no flag needed
