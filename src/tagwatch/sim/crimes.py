"""Reported crimes for the synthetic pilot: background crime, and offences by some subjects.

Background crime falls uniformly within 3.5 km of each borough centre at rates of the
order recorded in these boroughs (a few thousand acquisitive crimes per borough per
year). Offences by subjects are placed where the subject truly was, outdoors, at that
time (reported to within about 15 m), and listed in ``truth.json``. Each uses its own
random generator, so adding crimes changes nothing else the simulator writes.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..geo import to_wgs84
from .geography import BOROUGHS, borough_centre
from .plan import MIN
from .policeuk import write_police_uk
from .timeline import to_iso

__all__ = ["PER_BOROUGH_PER_YEAR", "background_crimes", "subject_offence", "write_crimes"]

# Acquisitive crimes a year in one of these boroughs, by crime-mapping type (order of magnitude).
PER_BOROUGH_PER_YEAR = {"RB": 1100, "BIAD": 1500, "AB": 300, "BOTD": 700, "TOMV": 800, "TFMV": 1700, "TFP": 1200}
SHORT = {"RB", "TFP"}  # witnessed: the window is minutes; the rest are found later: hours


def _window(rng, crime_type: str, t: int) -> tuple[int, int]:
    if crime_type in SHORT:
        return t - int(rng.uniform(0, 10)) * MIN, t + int(rng.uniform(0, 10)) * MIN
    return t - int(rng.uniform(0, 5 * 60)) * MIN, t + int(rng.uniform(0, 5 * 60)) * MIN


def background_crimes(seed: int, start_ms: int, end_ms: int) -> list[dict]:
    rng = np.random.default_rng([seed, 99_991])
    days = (end_ms - start_ms) / 86_400_000
    out = []
    for borough in BOROUGHS:
        centre = borough_centre(borough)
        for crime_type, per_year in PER_BOROUGH_PER_YEAR.items():
            for _ in range(rng.poisson(per_year * days / 365)):
                ang, r = rng.uniform(0, 2 * np.pi), 3500 * np.sqrt(rng.random())
                t = int(rng.integers(start_ms // MIN, end_ms // MIN)) * MIN
                a, b = _window(rng, crime_type, t)
                out.append({"crime_type": crime_type, "xy": centre + r * np.array([np.cos(ang), np.sin(ang)]),
                            "from_ms": max(a, start_ms), "to_ms": min(b, end_ms), "subject_id": None})
    return out


def subject_offence(seed: int, index: int, subject_id: str, offence: str, ts: np.ndarray, xy: np.ndarray,
                    outdoor: np.ndarray, rate: float = 0.1) -> dict | None:
    """With probability ``rate`` over the pilot, one offence where the subject truly was."""
    rng = np.random.default_rng([seed, index, 7])
    candidates = np.flatnonzero(outdoor)
    if rng.random() >= rate or candidates.size == 0:
        return None
    k = int(rng.choice(candidates))
    crime_type = "BIAD" if "burglary" in offence else ("TFP" if rng.random() < 0.3 else "RB")
    a, b = _window(rng, crime_type, int(ts[k]))
    return {"crime_type": crime_type, "xy": xy[k] + rng.normal(0, 15, 2), "from_ms": a, "to_ms": b,
            "subject_id": subject_id}


def write_crimes(crimes: list[dict], out_dir: Path) -> list[dict]:
    """crimes.csv (tagwatch format), police/MPS<date>.csv batches and police-uk/ monthly street-level
    files (sim/policeuk.py); returns the offences for truth."""
    crimes = sorted(crimes, key=lambda c: (c["from_ms"], c["to_ms"], float(c["xy"][0])))
    police = out_dir / "police"
    police.mkdir(exist_ok=True)
    offences, by_day, street = [], {}, []
    with open(out_dir / "crimes.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["crime_id", "crime_type", "lat", "lon", "from", "to"])
        for n, c in enumerate(crimes, start=1):
            ref = f"C{n:06d}"
            lon, lat = (float(v) for v in to_wgs84(float(c["xy"][0]), float(c["xy"][1])))
            w.writerow([ref, c["crime_type"], f"{lat:.6f}", f"{lon:.6f}", to_iso(c["from_ms"]), to_iso(c["to_ms"])])
            street.append({"ref": ref, "crime_type": c["crime_type"], "from_ms": c["from_ms"], "lon": lon, "lat": lat})
            day = datetime.fromtimestamp(c["to_ms"] / 1000, UTC).strftime("%Y%m%d")
            stamp = lambda ms: datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y%m%d%H%M%S")  # noqa: E731
            grid = n % 2 == 0  # forces send either pair: half the rows each way
            by_day.setdefault(day, []).append([
                "MPS", c["crime_type"], "", f"MPS{day}A", ref, stamp(c["from_ms"]), stamp(c["to_ms"]),
                f"{c['xy'][0]:.0f}" if grid else "", f"{c['xy'][1]:.0f}" if grid else "",
                "" if grid else f"{lat:.6f}", "" if grid else f"{lon:.6f}", "OSGB36" if grid else "WGS84", ""])
            if c["subject_id"]:
                offences.append({"crime_id": ref, "subject_id": c["subject_id"], "crime_type": c["crime_type"],
                                 "start": to_iso(c["from_ms"]), "end": to_iso(c["to_ms"])})
    for day, rows in by_day.items():
        with open(police / f"MPS{day}A.csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    write_police_uk(street, out_dir)
    return offences
