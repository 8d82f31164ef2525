"""Where the synthetic pilot lives: four London boroughs, in BNG metres.

Borough centres are approximate public facts (lon, lat), written by hand; homes and
places are scattered around them. Nothing here is real data about a person.
"""

from __future__ import annotations

import numpy as np

from ..geo import to_bng, to_wgs84

__all__ = ["BOROUGHS", "borough_centre", "probation_office", "lonlat", "point_zone", "street_zone"]

# Lewisham, Lambeth, Croydon, Southwark: the London knife-crime GPS tagging pilot boroughs.
BOROUGHS = {
    "Lewisham": (-0.0209, 51.4452),
    "Lambeth": (-0.1168, 51.4571),
    "Croydon": (-0.0982, 51.3714),
    "Southwark": (-0.0804, 51.4734),
}


def borough_centre(name: str) -> np.ndarray:
    return np.array(to_bng(*BOROUGHS[name]))


def probation_office(name: str) -> np.ndarray:
    """A fixed office per borough, 600 m north-east of the centre."""
    return borough_centre(name) + np.array([420.0, 420.0])


def lonlat(xy) -> tuple[float, float]:
    lon, lat = to_wgs84(float(xy[0]), float(xy[1]))
    return round(float(lon), 6), round(float(lat), 6)


def point_zone(xy, radius_m: float) -> dict:
    lon, lat = lonlat(xy)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"radius_m": float(radius_m)}}


def street_zone(xy, heading_rad: float, length_m: float = 300.0, width_m: float = 60.0) -> dict:
    """A street-shaped rectangle centred on ``xy`` (a victim's street)."""
    ux, uy = np.cos(heading_rad), np.sin(heading_rad)
    hl, hw = length_m / 2, width_m / 2
    corners = [(sl * hl * ux - sw * hw * uy, sl * hl * uy + sw * hw * ux)
               for sl, sw in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))]
    ring = [list(lonlat((xy[0] + dx, xy[1] + dy))) for dx, dy in corners]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {}}
