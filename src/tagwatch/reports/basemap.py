"""A faint, offline base layer: London borough and LSOA boundaries in BNG metres.

The boundaries ship with tagwatch (:mod:`tagwatch.data`, ONS, Open Government Licence),
so a map shows where in London it is without fetching a tile. Projected once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely

from ..data import london_boroughs, london_lsoas
from ..geo import to_bng

__all__ = ["Boundary", "boundaries_within", "london_locator", "ATTRIBUTION"]

ATTRIBUTION = ("Base map: LSOA (December 2011) super-generalised boundaries and borough boundaries derived "
               "from them, Office for National Statistics. Contains National Statistics data © Crown copyright "
               "and database right 2011-2019. Contains OS data © Crown copyright and database right 2019. "
               "Open Government Licence v3.0.")


@dataclass(frozen=True, slots=True)
class Boundary:
    kind: str  # "borough" or "lsoa"
    name: str
    rings: tuple[tuple[tuple[float, float], ...], ...]  # BNG metres
    bounds: tuple[float, float, float, float]
    label_at: tuple[float, float] | None  # a point inside, for the name


def _project(features: list[dict], kind: str) -> tuple[Boundary, ...]:
    out = []
    for feat in features:
        geom = feat["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        rings = []
        for poly in polys:
            for ring in poly:
                lon, lat = np.asarray(ring, dtype=np.float64).T[:2]
                x, y = to_bng(lon, lat)
                rings.append(tuple(zip(np.round(x, 1).tolist(), np.round(y, 1).tolist(), strict=True)))
        allx = [p[0] for r in rings for p in r]
        ally = [p[1] for r in rings for p in r]
        label = None
        if kind == "borough":
            shell = shapely.Polygon(rings[0])
            label = tuple(shapely.get_coordinates(shapely.point_on_surface(shell))[0].tolist())
        out.append(Boundary(kind, feat["properties"].get("name", ""), tuple(rings),
                            (min(allx), min(ally), max(allx), max(ally)), label))
    return tuple(out)


@cache
def _all() -> tuple[Boundary, ...]:
    return _project(london_lsoas()["features"], "lsoa") + _project(london_boroughs()["features"], "borough")


def boundaries_within(minx: float, miny: float, maxx: float, maxy: float) -> list[Boundary]:
    """LSOA and borough boundaries whose bounding box meets the window (LSOAs first, boroughs on top)."""
    return [b for b in _all() if b.bounds[0] <= maxx and b.bounds[2] >= minx and b.bounds[1] <= maxy
            and b.bounds[3] >= miny]


@cache
def london_locator(tolerance_m: float = 120.0) -> tuple[Boundary, ...]:
    """The 33 boroughs, simplified, for a small map of where in London a crime is."""
    out = []
    for b in _all():
        if b.kind != "borough":
            continue
        rings = tuple(tuple(map(tuple, shapely.get_coordinates(shapely.simplify(shapely.LinearRing(r), tolerance_m))))
                      for r in b.rings)
        out.append(Boundary("locator", b.name, rings, b.bounds, b.label_at))
    return tuple(out)
