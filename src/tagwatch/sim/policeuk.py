"""The pilot's crimes as police.uk publishes them: monthly street-level files for the Met.

Consistent with ``crimes.csv``: the same crimes, each once, in the month (Europe/London)
its window starts, with its crime-mapping type mapped to the police.uk category
(:data:`tagwatch.areas.categories.FROM_CRIME_MAPPING`). As police.uk does, each location
is moved to an anonymised map point (here a grid of about 150 m) and the LSOA is the one
that point falls in (London's 2011 LSOAs shipped with tagwatch); one crime in 30 is
published without a location, as police.uk leaves some unmapped.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.geometry import shape

from ..areas.categories import FROM_CRIME_MAPPING
from ..areas.policeuk import HEADER
from ..data import london_lsoas

__all__ = ["FORCE", "write_police_uk"]

FORCE = "Metropolitan Police Service"
GRID_DEG = 0.002  # the anonymised map points: a grid of about 140 m x 220 m
UNMAPPED_EVERY = 30
LONDON = ZoneInfo("Europe/London")


def _lsoa_of(lon: np.ndarray, lat: np.ndarray) -> list[tuple[str, str]]:
    feats = london_lsoas()["features"]
    polys = [shapely.make_valid(shape(f["geometry"])) for f in feats]
    tree = shapely.STRtree(polys)
    pts = shapely.points(lon, lat)
    found = [("", "")] * len(pts)
    for i, j in zip(*tree.query(pts, predicate="within"), strict=True):
        if found[i] == ("", ""):
            p = feats[j]["properties"]
            found[i] = (p["code"], p["name"])
    return found


def write_police_uk(rows: list[dict], out_dir: Path) -> list[Path]:
    """``rows``: ref, crime_type (crime-mapping code), from_ms, lon, lat, in crimes.csv order.
    Writes police-uk/YYYY-MM/YYYY-MM-metropolitan-street.csv; returns the files."""
    lon = np.round(np.array([r["lon"] for r in rows], dtype=float) / GRID_DEG) * GRID_DEG
    lat = np.round(np.array([r["lat"] for r in rows], dtype=float) / GRID_DEG) * GRID_DEG
    lsoas = _lsoa_of(lon, lat) if rows else []
    by_month: dict[str, list[list[str]]] = {}
    for n, r in enumerate(rows, start=1):
        month = datetime.fromtimestamp(r["from_ms"] / 1000, LONDON).strftime("%Y-%m")
        crime_id = hashlib.sha256(f"tagwatch-sim:{r['ref']}".encode()).hexdigest()
        mapped = n % UNMAPPED_EVERY != 0
        code, name = lsoas[n - 1] if mapped else ("", "")
        point = int(abs(lon[n - 1] * 1e4 + lat[n - 1] * 1e3)) % 997
        by_month.setdefault(month, []).append([
            crime_id, month, FORCE, FORCE, f"{lon[n - 1]:.6f}" if mapped else "", f"{lat[n - 1]:.6f}" if mapped else "",
            f"On or near Map Point {point}" if mapped else "No location", code, name,
            FROM_CRIME_MAPPING[r["crime_type"]], "Under investigation", ""])
    files = []
    for month, body in sorted(by_month.items()):
        path = out_dir / "police-uk" / month / f"{month}-metropolitan-street.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([HEADER, *body])
        files.append(path)
    return files
