"""Small public data files shipped with tagwatch (derived by scripts/derive_boundaries.py; see NOTICE).

Read-only and loaded on demand; geometries are WGS84 lon/lat GeoJSON.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from functools import cache
from importlib.resources import files

__all__ = ["london_lsoas", "london_boroughs", "lsoa_lookup"]


def _text(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def london_lsoas() -> dict:
    """FeatureCollection of London's 4,835 LSOAs (2011): code, name, borough, borough_code, population."""
    return json.loads(_text("london_lsoa.geojson"))


@cache
def london_boroughs() -> dict:
    """FeatureCollection of the 33 London boroughs: code, name, lsoas, population, force."""
    return json.loads(_text("london_boroughs.geojson"))


@cache
def lsoa_lookup() -> dict[str, dict]:
    """Every LSOA in England: code -> {code, name, la_code, la_name, force, population (2011 census)}."""
    raw = gzip.decompress(files(__package__).joinpath("lsoa_lookup.csv.gz").read_bytes()).decode("utf-8")
    out = {}
    for r in csv.DictReader(io.StringIO(raw)):
        r["population"] = int(r["population"]) if r["population"] else None
        out[r["code"]] = r
    return out
