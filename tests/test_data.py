"""The shipped boundary and lookup files: complete, valid and consistent with each other."""

import shapely
from shapely.geometry import shape

from tagwatch.data import london_boroughs, london_lsoas, lsoa_lookup


def test_london_lsoas_and_boroughs_agree():
    lsoas, boroughs = london_lsoas()["features"], london_boroughs()["features"]
    assert len(lsoas) == 4835 and len(boroughs) == 33
    pop = {}
    for f in lsoas:
        pop[f["properties"]["borough"]] = pop.get(f["properties"]["borough"], 0) + f["properties"]["population"]
    assert {f["properties"]["name"]: f["properties"]["population"] for f in boroughs} == pop
    assert 8_100_000 < sum(pop.values()) < 8_250_000  # London's 2011 census population: 8.17 million
    assert all(shape(f["geometry"]).is_valid for f in boroughs)


def test_a_known_point_falls_in_its_borough():
    lewisham = next(f for f in london_boroughs()["features"] if f["properties"]["name"] == "Lewisham")
    catford = shapely.Point(-0.0209, 51.4452)  # Lewisham Town Hall, Catford
    assert shape(lewisham["geometry"]).contains(catford)


def test_lookup_covers_england_with_forces():
    lookup = lsoa_lookup()
    assert len(lookup) > 32_000
    wy = [r for r in lookup.values() if r["force"] == "West Yorkshire"]
    assert len(wy) > 1300 and all(r["population"] > 0 for r in wy)
    assert lookup["E01003244"]["la_name"] == "Lewisham"
