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

__all__ = ["ZoneError", "Zone", "to_bng", "to_wgs84", "zone_from_geojson", "ServiceArea", "GREAT_BRITAIN",
           "MIN_RADIUS_M", "MAX_RADIUS_M"]


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


@dataclass(frozen=True)
class ServiceArea:
    """Where a new zone may lie (a lon/lat box); a zone outside it is refused, which also catches
    coordinates given as lat, lon (a London zone would land in the Indian Ocean)."""
    name: str
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def __contains__(self, lonlat: tuple[float, float]) -> bool:
        lon, lat = lonlat
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    def __str__(self) -> str:
        return f"{self.name}: lon {self.min_lon:g}..{self.max_lon:g}, lat {self.min_lat:g}..{self.max_lat:g}"


GREAT_BRITAIN = ServiceArea("Great Britain", -8.7, 49.8, 1.8, 60.9)
MIN_RADIUS_M, MAX_RADIUS_M = 5.0, 50_000.0


def _geometries(obj: Any, depth: int = 0) -> list[tuple[dict, dict]]:
    if not isinstance(obj, dict):
        raise ZoneError(f"zone GeoJSON must be an object, not {type(obj).__name__}")
    kind = obj.get("type")
    if kind == "FeatureCollection" and depth == 0:
        feats = obj.get("features") or []
        if not isinstance(feats, list):
            raise ZoneError("a FeatureCollection's features must be a list")
        return [g for feat in feats for g in _geometries(feat, 1)]
    if kind == "Feature":
        geom, props = obj.get("geometry"), obj.get("properties") or {}
        if not geom:
            raise ZoneError("a zone Feature has no geometry")
        if not isinstance(geom, dict) or not isinstance(props, dict):
            raise ZoneError("a zone Feature's geometry and properties must be objects")
        return [(geom, props)]
    if kind in ("Point", "Polygon", "MultiPolygon"):
        return [(obj, {})]
    raise ZoneError(
        f"zone GeoJSON of type {str(kind)[:40]!r} is not supported; use a Polygon/MultiPolygon, "
        "or a Point Feature with properties.radius_m"
    )


def zone_from_geojson(obj: dict[str, Any], area: ServiceArea | None = None) -> Zone:
    """Build a :class:`Zone` from GeoJSON in WGS84 (lon, lat order, as GeoJSON says).

    With ``area`` (a new zone: orders and variations), the zone is also checked: a polygon must
    be non-empty and simple (no self-intersection), a circle's radius within 5 m..50 km, and
    every coordinate inside the service area. Without it (zones already stored) an invalid
    polygon is repaired as before. Anything unreadable is a :class:`ZoneError` naming the problem.
    """
    try:
        return _zone(obj, area)
    except ZoneError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError, OverflowError,
            shapely.errors.GEOSException) as e:
        raise ZoneError(f"zone GeoJSON cannot be read as a zone ({type(e).__name__}: {str(e)[:120]})") from None


def _zone(obj: Any, area: ServiceArea | None) -> Zone:
    parts = _geometries(obj)
    if not parts:
        raise ZoneError("zone GeoJSON has no features")
    circles: list[tuple[float, float, float]] = []
    polygons = []
    for geom, props in parts:
        if geom.get("type") == "Point":
            circles.append(_circle(geom, props, area))
        elif geom.get("type") in ("Polygon", "MultiPolygon"):
            polygons.append(_polygon(geom, area))
        else:
            raise ZoneError(f"geometry type {str(geom.get('type'))[:40]!r} cannot be a zone")
    if len(circles) == 1 and not polygons:
        x, y, r = circles[0]
        circle = shapely.Point(x, y).buffer(r, quad_segs=16)
        return Zone(circle, (x - r, y - r, x + r, y + r), centre=(x, y), radius_m=r)
    geoms = polygons + [shapely.Point(x, y).buffer(r, quad_segs=32) for x, y, r in circles]
    union = shapely.union_all(geoms)
    shapely.prepare(union)
    return Zone(union, tuple(union.bounds))


def _real(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(float(v)):
        raise ZoneError(f"{what} {str(v)[:40]!r} is not a finite number")
    return float(v)


def _circle(geom: dict, props: dict, area: ServiceArea | None) -> tuple[float, float, float]:
    radius = props.get("radius_m")
    if radius is None:
        raise ZoneError("a Point zone needs properties.radius_m > 0 (metres)")
    radius = float(radius) if area is None else _real(radius, "radius_m")  # stored zones as they were
    if not radius > 0:
        raise ZoneError("a Point zone needs properties.radius_m > 0 (metres)")
    if area is not None and not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        raise ZoneError(f"radius_m {radius:g} is outside {MIN_RADIUS_M:g} m..{MAX_RADIUS_M / 1000:g} km")
    coords = geom.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        raise ZoneError("a Point's coordinates must be [lon, lat]")
    lon, lat = _real(coords[0], "longitude"), _real(coords[1], "latitude")
    _check_lonlat(lon, lat, area)
    x, y = to_bng(lon, lat)
    return x, y, radius


def _polygon(geom: dict, area: ServiceArea | None) -> shapely.Geometry:
    g = shape(geom)
    if area is not None:
        if g.is_empty:
            raise ZoneError(f"the {geom['type']} is empty: it has no area, so it could never be entered")
        if not g.is_valid:
            raise ZoneError(f"the {geom['type']} is not a simple polygon: {shapely.is_valid_reason(g)}")
        if g.area == 0:
            raise ZoneError(f"the {geom['type']} has no area, so it could never be entered")
    lon, lat = shapely.get_coordinates(g).T
    for a, b in zip(lon, lat):
        _check_lonlat(a, b, area)
    x, y = to_bng(lon, lat)
    g = shapely.set_coordinates(g, np.column_stack([x, y]))
    if not g.is_valid:
        g = shapely.make_valid(g)
    return g


def _check_lonlat(lon: float, lat: float, area: ServiceArea | None = None) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ZoneError(f"coordinate ({lon}, {lat}) is not lon/lat in degrees (GeoJSON order is lon, lat)")
    if area is not None and (lon, lat) not in area:
        hint = "; are lat and lon swapped? GeoJSON order is lon, lat" if (lat, lon) in area else ""
        raise ZoneError(f"coordinate ({lon:g}, {lat:g}) is outside the service area ({area}){hint}")
