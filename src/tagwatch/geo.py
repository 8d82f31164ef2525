"""Projection and zone geometry.

Distances are computed in metres on the British National Grid (EPSG:27700). pyproj's
wheel carries no OSTN15 grid here, so WGS84 -> BNG uses the Helmert fallback, good to
about 2 m: far inside GPS noise (5-50 m), and said so in docs/rules.md.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape

__all__ = ["ZoneError", "Zone", "to_bng", "to_wgs84", "zone_from_geojson"]


class ZoneError(ValueError):
    """A zone that cannot be used: the message says what to fix in the GeoJSON."""


@lru_cache(maxsize=2)
def _transformer(forward: bool) -> Transformer:
    with warnings.catch_warnings():
        # The missing OSTN15 grid is expected here (see module docstring).
        warnings.simplefilter("ignore")
        if forward:
            return Transformer.from_crs(4326, 27700, always_xy=True)
        return Transformer.from_crs(27700, 4326, always_xy=True)


def to_bng(lon, lat):
    """WGS84 lon/lat (scalars or arrays) -> BNG x/y metres."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _transformer(True).transform(lon, lat)


def to_wgs84(x, y):
    """BNG x/y metres -> WGS84 lon/lat."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _transformer(False).transform(x, y)


@dataclass(frozen=True)
class Zone:
    """A zone in BNG metres, prepared for fast vectorised tests.

    Circles (a Point with ``radius_m``) are kept exact as centre + radius; polygons as a
    prepared shapely geometry. ``bounds`` (minx, miny, maxx, maxy) lets callers skip fixes
    that are far away before any exact test.
    """

    geometry: shapely.Geometry  # BNG metres (circles approximated, for drawing only)
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float] | None = None
    radius_m: float | None = None

    def signed_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Metres from each point to the zone boundary: negative inside, positive outside."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.radius_m is not None:
            cx, cy = self.centre
            return np.hypot(x - cx, y - cy) - self.radius_m
        out = np.empty(x.shape, dtype=np.float64)
        if out.size == 0:
            return out
        points = shapely.points(x, y)
        dist = shapely.distance(self.geometry.boundary, points)
        inside = shapely.contains_xy(self.geometry, x, y)
        np.copyto(out, np.where(inside, -dist, dist))
        return out


def _geometries(obj: dict[str, Any]) -> list[tuple[dict, dict]]:
    kind = obj.get("type")
    if kind == "FeatureCollection":
        out = []
        for feat in obj.get("features") or []:
            out.extend(_geometries(feat))
        return out
    if kind == "Feature":
        if not obj.get("geometry"):
            raise ZoneError("a zone Feature has no geometry")
        return [(obj["geometry"], obj.get("properties") or {})]
    if kind in ("Point", "Polygon", "MultiPolygon"):
        return [(obj, {})]
    raise ZoneError(
        f"zone GeoJSON of type {kind!r} is not supported; use a Polygon/MultiPolygon, "
        "or a Point Feature with properties.radius_m"
    )


def zone_from_geojson(obj: dict[str, Any]) -> Zone:
    """Build a :class:`Zone` from GeoJSON in WGS84 (lon, lat order, as GeoJSON says)."""
    parts = _geometries(obj)
    if not parts:
        raise ZoneError("zone GeoJSON has no features")
    circles: list[tuple[float, float, float]] = []
    polygons = []
    for geom, props in parts:
        if geom["type"] == "Point":
            radius = props.get("radius_m")
            if radius is None or not float(radius) > 0:
                raise ZoneError("a Point zone needs properties.radius_m > 0 (metres)")
            lon, lat = geom["coordinates"][:2]
            _check_lonlat(lon, lat)
            x, y = to_bng(lon, lat)
            circles.append((x, y, float(radius)))
        elif geom["type"] in ("Polygon", "MultiPolygon"):
            g = shape(geom)
            lon, lat = shapely.get_coordinates(g).T
            for a, b in zip(lon, lat):
                _check_lonlat(a, b)
            x, y = to_bng(lon, lat)
            g = shapely.set_coordinates(g, np.column_stack([x, y]))
            if not g.is_valid:
                g = shapely.make_valid(g)
            polygons.append(g)
        else:
            raise ZoneError(f"geometry type {geom['type']!r} cannot be a zone")
    if len(circles) == 1 and not polygons:
        x, y, r = circles[0]
        circle = shapely.Point(x, y).buffer(r, quad_segs=16)
        return Zone(circle, (x - r, y - r, x + r, y + r), centre=(x, y), radius_m=r)
    geoms = polygons + [shapely.Point(x, y).buffer(r, quad_segs=32) for x, y, r in circles]
    union = shapely.union_all(geoms)
    shapely.prepare(union)
    return Zone(union, tuple(union.bounds))


def _check_lonlat(lon: float, lat: float) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ZoneError(f"coordinate ({lon}, {lat}) is not lon/lat in degrees (GeoJSON order is lon, lat)")
