"""The community safety index on a hand-made three-LSOA area (figures worked out by hand)."""

import pytest

from tagwatch.areas.index import Variable, safety_index

POP = {"A": 1000, "B": 2000, "C": 1000}
GROUP = {"A": "North", "B": "North", "C": "South"}
BURGLARY = Variable("burglary", {"A": 2, "B": 2, "C": 16})  # area rate 20 / 4000 = 0.005
DAMAGE = Variable("damage", {"A": 2, "B": 4, "C": 10})  # area rate 16 / 4000 = 0.004


def by_code(rows):
    return {r["code"]: r for r in rows}


def test_each_variable_is_a_rate_per_resident_indexed_to_the_area():
    res = safety_index(POP, [BURGLARY, DAMAGE], GROUP)
    lsoa = by_code(res.lsoas)
    # burglary: A 2/1000 = 0.002 -> 40, B 2/2000 = 0.001 -> 20, C 16/1000 = 0.016 -> 320
    assert [lsoa[c]["burglary_index"] for c in "ABC"] == pytest.approx([40, 20, 320])
    # criminal damage: A 0.002 -> 50, B 0.002 -> 50, C 0.010 -> 250
    assert [lsoa[c]["damage_index"] for c in "ABC"] == pytest.approx([50, 50, 250])
    assert [lsoa[c]["index"] for c in "ABC"] == pytest.approx([45, 35, 285])
    assert [lsoa[c]["flagged"] for c in "ABC"] == [False, False, True]
    assert res.area == pytest.approx({"population": 4000, "burglary": 0.005, "damage": 0.004})
    # North: burglary 4 / 3000 -> 26.67, damage 6 / 3000 -> 50, index 38.33; South is C.
    groups = by_code(res.groups)
    assert groups["North"]["burglary_index"] == pytest.approx(400 / 15)
    assert groups["North"]["index"] == pytest.approx((400 / 15 + 50) / 2)
    assert groups["South"]["index"] == pytest.approx(285) and groups["South"]["flagged"]
    assert [r["code"] for r in res.top(2)] == ["C", "A"]


def test_a_user_score_is_indexed_to_its_resident_weighted_mean_and_weights_apply():
    deprivation = Variable("deprivation", {"A": 30, "B": 15, "C": 60}, kind="score")  # mean (30k+30k+60k)/4000 = 30
    res = safety_index(POP, [BURGLARY, DAMAGE, deprivation], GROUP)
    lsoa = by_code(res.lsoas)
    assert [lsoa[c]["deprivation_index"] for c in "ABC"] == pytest.approx([100, 50, 200])
    assert [lsoa[c]["index"] for c in "ABC"] == pytest.approx([190 / 3, 120 / 3, 770 / 3])
    assert by_code(res.groups)["North"]["deprivation_index"] == pytest.approx(100 * 20 / 30)  # (30k+30k)/3000 = 20
    heavy = safety_index(POP, [BURGLARY, Variable("damage", DAMAGE.values, weight=3)], GROUP)
    assert by_code(heavy.lsoas)["A"]["index"] == pytest.approx((40 + 3 * 50) / 4)


def test_variables_with_nothing_and_places_with_no_residents_are_set_aside():
    res = safety_index({**POP, "D": 0}, [BURGLARY, Variable("robbery", {})], GROUP)
    assert res.dropped == ["robbery"] and res.no_population == ["D"]
    assert res.variables == ["burglary"] and [r["code"] for r in res.lsoas] == ["A", "B", "C"]
    assert by_code(res.lsoas)["C"]["index"] == pytest.approx(320)


def test_the_real_west_yorkshire_index(west_yorkshire_db, tmp_path):
    from tagwatch.services.areas import community_safety_index, read_extra_variables
    from tagwatch.store import open_store
    store = open_store(west_yorkshire_db)
    ai = community_safety_index(store)
    res = ai.result
    assert len(res.lsoas) == 1388 and sorted(r["code"] for r in res.groups) == [
        "Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"]
    # Leeds city centre (111B) has the highest index; rates are per resident, and few people live there.
    assert [r["code"] for r in res.top(2)] == ["E01033010", "E01033016"]
    # The area's mean of LSOA rates weighted by residents is the area rate: weighted mean index 100 per variable.
    pop = sum(r["population"] for r in res.lsoas)
    for v in res.variables:
        assert sum(r[v + "_index"] * r["population"] for r in res.lsoas) / pop == pytest.approx(100)
    assert 0 < ai.rows_unplaced < 1347 + 1541 + 883  # the neighbourhood types' share of the unlocated rows
    extra = tmp_path / "extra.csv"
    extra.write_text("lsoa_code,imd_score,youth_count\nE01033010,40,100\nE01011107,10,\n")
    ai2 = community_safety_index(store, extra=read_extra_variables(extra))
    assert ai2.result.variables[-2:] == ["imd_score", "youth_count"]


def test_cli_index_by_borough(west_yorkshire_db):
    from typer.testing import CliRunner

    from tagwatch.cli import app
    out = CliRunner().invoke(app, ["areas", "index", "--level", "borough", "--format", "csv", "--db", west_yorkshire_db])
    assert out.exit_code == 0, out.output
    assert "Leeds,482,751485.0,116.7,False" in out.output
    out = CliRunner().invoke(app, ["areas", "index", "--la", "Nowhere", "--db", west_yorkshire_db])
    assert out.exit_code == 2 and "unknown local authority" in out.output


def test_boroughs_the_files_do_not_cover_are_left_out_not_counted_as_zero(tmp_path):
    """Files of two London boroughs (a partial extract, or the simulator's): the area is those two,
    not all 32 with 30 at zero, which would flag every covered LSOA; named boroughs are kept as asked."""
    from conftest import write_police_uk_months

    from tagwatch.services.areas import area_boundaries, borough_series, community_safety_index, import_area_files
    from tagwatch.store import open_store
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    import_area_files(store, write_police_uk_months(tmp_path, ["2025-01", "2025-02"], boroughs=("Lewisham", "Croydon"),
                                                    every=5), 0)
    ai = community_safety_index(store)
    assert sorted(r["code"] for r in ai.result.groups) == ["Croydon", "Lewisham"]
    assert len(ai.las_left_out) == 30 and "Camden" in ai.las_left_out and ai.rows_outside == 0
    assert sum(r["population"] * r["index"] for r in ai.result.lsoas) / sum(
        r["population"] for r in ai.result.lsoas) == pytest.approx(100)  # indexed to the covered area
    assert borough_series(store).boroughs == ["Croydon", "Lewisham"]
    assert {f["properties"]["borough"] for f in area_boundaries(store, "lsoa")["features"]} == {"Croydon", "Lewisham"}
    named = community_safety_index(store, las=["Lewisham", "Camden"])
    assert sorted(r["code"] for r in named.result.groups) == ["Camden", "Lewisham"] and named.las_left_out == []
