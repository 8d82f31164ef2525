"""The evaluator's figures over the API: the programme report and area figures, aggregates only."""

from __future__ import annotations

import json

import pytest

from tagwatch.areas.trends import month_range
from tagwatch.data import lsoa_lookup
from tagwatch.services.areas import import_area_files

MONTHS = month_range("2025-01", "2026-02")  # 14 months: enough for a forecast
PILOT = {"pilot": "Lewisham", "pilot_start": "2025-10"}


@pytest.fixture(scope="module")
def world(web, police_uk_months, tmp_path_factory):
    """The web world (two subjects with fixes, alerts, matches) plus 14 police.uk months of five boroughs."""
    files = police_uk_months(tmp_path_factory.mktemp("policeuk"), MONTHS, pilot=("Lewisham",), pilot_from="2025-10")
    import_area_files(web.store, files, web.now)
    web.area_files = files
    return web


def _get(world, role="evaluator", **params):
    return world.client.get("/api/evaluation", headers=world.headers[role], params=params)


def _keys(v, out=None) -> set[str]:
    out = set() if out is None else out
    if isinstance(v, dict):
        for k, x in v.items():
            out.add(k)
            _keys(x, out)
    elif isinstance(v, list):
        for x in v:
            _keys(x, out)
    return out


def test_the_evaluator_gets_every_figure_of_the_reports(world):
    r = _get(world, **PILOT)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["aggregates_only"] and d["programme"]["months"] == ["2026-03"]
    keys = [x["key"] for sec in d["programme"]["sections"] for x in sec["series"]]
    assert {"people_on_tag", "compliance_rate", "alerts_exclusion_breach", "shared_matches"} <= set(keys)
    people = next(x for sec in d["programme"]["sections"] for x in sec["series"] if x["key"] == "people_on_tag")
    assert people["values"] == [2]
    idx = d["safety_index"]
    assert idx["variables"] == ["burglary", "robbery", "vehicle_crime", "violence_and_sexual_offences"]
    assert idx["months"] == MONTHS and idx["index_breaks"] == [50.0, 100.0, 150.0, 200.0]
    assert len(idx["palette"]) == 5 and set(idx["rate_breaks"]) == set(idx["variables"])
    assert {b["code"] for b in idx["boroughs"]} >= {"Lewisham", "Croydon"}  # every MPS borough is in the area
    crime = d["neighbourhood_crime"]
    assert crime["months"] == MONTHS and crime["baseline_year"] == 2025
    assert crime["forecast"]["months"][0] == "2026-03" and len(crime["forecast"]["mean"]) == 12
    assert {c["borough"] for c in crime["change_against_baseline"]} == set(crime["boroughs"])
    effect = d["pilot_effect"]
    assert effect["pilot"] == ["Lewisham"] and effect["start"] == "2025-10" and effect["n_post"] == 5
    assert effect["effect"] < 0  # crime was halved in Lewisham from the start


def test_a_rate_per_1000_residents_a_month_is_worked_out_from_the_files(world):
    """Count one LSOA's burglaries in the files by hand and divide by its residents and the months."""
    import csv
    d = _get(world).json()
    row = max(d["safety_index"]["lsoas"], key=lambda r: r["burglary_per_1000"] or 0)
    n = 0
    for path in world.area_files:
        with open(path, newline="") as f:
            n += sum(1 for r in csv.DictReader(f) if r["LSOA code"] == row["code"] and r["Crime type"] == "Burglary")
    residents = lsoa_lookup()[row["code"]]["population"]
    assert row["population"] == residents and n > 0
    assert row["burglary_per_1000"] == pytest.approx(1000 * n / residents / len(MONTHS))
    assert row["borough"] in ("Lewisham", "Lambeth", "Southwark", "Croydon", "Greenwich") and row["name"]


@pytest.mark.parametrize("role", ["evaluator", "admin", "monitoring"])
def test_no_individual_and_no_location_of_a_person(world, role):
    d = _get(world, role, **PILOT).json()
    text = json.dumps(d)
    people = {"S1", "S2", "Person S1", "Person S2", "OS1", "OS2", "TAG1", "TAG2", "C1", "C2", "pol", "mon", "supervisor"}
    found = sorted(p for p in people if f'"{p}"' in text)
    assert not found, f"individual ids in the evaluator's figures: {found}"
    personal = {"subject_id", "subject_ids", "device_id", "order_id", "alert_id", "crime_ref", "lat", "lon",
                "latitude", "longitude", "x", "y", "coordinates", "geometry", "track", "points", "positions", "zones"}
    assert not (_keys(d) & personal)
    # Not even a fix's coordinates as a number: every fix latitude (6 decimals) is absent from the text.
    fixes = world.client.get("/api/subjects/S1/track", headers={**world.headers["monitoring"], "X-Purpose": "test"},
                             params={"from": "2026-03-20T09:00:00Z", "to": "2026-03-20T14:00:00Z"}).json()["points"]
    assert fixes and not [p for p in fixes if f"{p['lat']:.6f}" in text or f"{p['lon']:.6f}" in text]


def test_the_maps_boundaries_are_the_areas_of_the_figures(world):
    d = _get(world).json()["safety_index"]
    for level, rows in (("lsoa", d["lsoas"]), ("borough", d["boroughs"])):
        r = world.client.get("/api/evaluation/boundaries", headers=world.headers["evaluator"], params={"level": level})
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        fc = r.json()
        assert {f["properties"]["code"] for f in fc["features"]} == {row["code"] for row in rows}
        assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in fc["features"])
    r = world.client.get("/api/evaluation/boundaries", headers=world.headers["evaluator"], params={"level": "ward"})
    assert r.status_code == 422


@pytest.mark.parametrize("params, detail", [
    ({"from": "2026-13"}, "YYYY-MM"),
    ({"from": "2026-04", "to": "2026-03"}, "before --from"),
    ({"pilot": "Lewisham"}, "go together"),
    ({"pilot_start": "2025-10"}, "go together"),
    ({"pilot": "Lewisham", "pilot_start": "October"}, "YYYY-MM"),
    ({"pilot": "Atlantis", "pilot_start": "2025-10"}, "pilot borough not in the area: Atlantis"),
])
def test_bad_parameters_say_what_to_fix(world, params, detail):
    r = _get(world, **params)
    assert r.status_code == 400 and detail in r.json()["detail"], r.text


def test_several_pilot_boroughs_comma_separated_or_repeated(world):
    a = _get(world, pilot="Lewisham,Croydon", pilot_start="2025-10").json()["pilot_effect"]
    b = world.client.get("/api/evaluation", headers=world.headers["evaluator"],
                         params=[("pilot", "Lewisham"), ("pilot", "Croydon"), ("pilot_start", "2025-10")]).json()
    assert a["pilot"] == ["Lewisham", "Croydon"] and a["n_treated"] == 2 and a == b["pilot_effect"]


def test_figures_without_area_data_hold_the_programme_only(tmp_path):
    from conftest import ROLE_USERS, build_web_world, web_client

    from tagwatch.store import open_store
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    build_web_world(store)
    client = web_client(store)
    h = client.login(ROLE_USERS["evaluator"])
    d = client.get("/api/evaluation", headers=h).json()
    assert set(d) == {"role", "aggregates_only", "programme"}
    assert client.get("/api/evaluation/boundaries", headers=h).json() == {"type": "FeatureCollection", "features": []}


def test_orders_with_no_data_yet_give_no_programme_figures_rather_than_an_error(tmp_path):
    """A new programme: orders enrolled, no fix or reading received yet."""
    from conftest import PASSWORD, ROLE_USERS, web_client

    from tagwatch.services import changes as service_changes, users as service_users
    from tagwatch.model import Subject
    from tagwatch.store import open_store
    store = open_store(f"sqlite:///{tmp_path / 'new.db'}")
    store.add_subject(Subject("S1"), 0)
    service_changes.create_order(store, "O1", "S1", "bail", 0, None, [{"id": "trail", "kind": "trail"}], "t", "cli", 0)
    service_users.add_user(store, ROLE_USERS["evaluator"], PASSWORD, "evaluator", 0)
    client = web_client(store)
    r = client.get("/api/evaluation", headers=client.login(ROLE_USERS["evaluator"]), params={"from": "2026-01"})
    assert r.status_code == 200 and set(r.json()) == {"role", "aggregates_only"}
    r = client.get("/api/evaluation", headers=client.login(ROLE_USERS["evaluator"]), params={"from": "2026-1"})
    assert r.status_code == 400 and "from '2026-1': write a month as YYYY-MM" in r.json()["detail"]
