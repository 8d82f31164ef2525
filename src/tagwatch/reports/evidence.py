"""The evidence pack of a correlation match, as plain data (docs/correlation.md, "Evidence pack").

Pure functions over store rows and track columns: no database, no clock, no drawing.
A pack is one crime (a version of it) and one exhibit per matched subject. Each exhibit
holds the positions from a little before to a little after the buffered window, each
with its distance to the crime location, accuracy and the speed and heading of the
segment that arrives at it, the run's parameters, the score's parts and the decisions
people made about the match. The renderer (:mod:`tagwatch.reports.html`) only lays this out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..ingest.crimes import CRIME_TYPES
from ..rules.track import Track
from ..schedule import LONDON

__all__ = ["STATEMENT", "CONTEXT_MS", "PackCrime", "Position", "ScorePart", "Decision", "Exhibit",
           "EvidencePack", "build_exhibit", "build_pack", "context_span", "local_time", "compass"]

STATEMENT = ("A match shows only that the recorded positions of the tag worn by this person, as described here, "
             "came within the stated distance of the reported crime location during the stated time window. "
             "A match does not show that the person committed or witnessed the crime, nor that no one else "
             "was there.")

# Positions are shown from this long before the buffered window to this long after it (at least the
# longest segment), so that a reader sees how the person arrived and left.
CONTEXT_MS = 15 * 60_000

PART_LABELS = {"closeness": "closeness", "time_within": "time within radius", "evidence": "evidence kind",
               "specificity": "how precisely the crime's time is known",
               "unusual": "presence there is not routine for the subject",
               "offence": "offence relates to crime type", "risk": "assessed risk"}
EVIDENCE_LABELS = {"fix": "fix: a recorded position within the radius",
                   "segment": "segment: only the straight path between two positions comes within the radius",
                   "unaccounted_gap": "unaccounted gap: no positions, but the person could have been there"}


@dataclass(frozen=True, slots=True)
class PackCrime:
    force: str
    crime_ref: str
    version: int
    crime_type: str
    type_name: str
    from_ms: int
    to_ms: int
    x: float  # BNG metres
    y: float
    lat: float
    lon: float
    location_accuracy_m: float
    changed: str  # fields that changed from the previous version ("" for the first)
    latest_version: int  # the newest version in the store: later than ``version`` when re-sent since


@dataclass(frozen=True, slots=True)
class Position:
    n: int  # 1-based, the label on the maps
    ts_ms: int
    x: float
    y: float
    distance_m: float  # to the crime location
    accuracy_m: float | None  # as reported by the tag (None: not reported)
    speed_mps: float | None  # of the segment arriving here (None: first, or after a gap longer than G)
    heading_deg: float | None
    joined: bool  # a segment joins it to the previous position (at most G apart)
    in_window: bool  # in [from - B, to + B]
    within_radius: bool  # in the window and within the effective radius
    device: str


@dataclass(frozen=True, slots=True)
class ScorePart:
    name: str
    label: str
    value: float
    weight: float
    how: str  # the computation with this match's numbers

    @property
    def weighted(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True, slots=True)
class Decision:
    ts_ms: int
    action: str
    actor: str
    force: str | None
    note: str


@dataclass(frozen=True)
class Exhibit:
    label: str  # "A", "B", ...
    match_id: int
    run_id: int
    run_started_ms: int
    engine_version: str
    subject_id: str
    devices: tuple[str, ...]
    evidence: str
    closest_m: float
    closest_ms: int
    closest_xy: tuple[float, float] | None  # where the path was at the closest approach
    first_within_ms: int | None
    last_within_ms: int | None
    within_s: float
    speed_mps: float | None
    heading_deg: float | None
    score: float
    significant: bool
    threshold: float
    parts: tuple[ScorePart, ...]
    radius_m: float  # for this crime type, before the crime's location accuracy
    effective_radius_m: float  # radius + crime location accuracy: what the match used
    buffer_ms: int
    max_gap_ms: int
    max_speed_mps: float
    window: tuple[int, int]  # [from - B, to + B]
    shown: tuple[int, int]  # the span of the positions table
    params: tuple[tuple[str, str, str], ...]  # (name, value, meaning) of every rule parameter of the run
    positions: tuple[Position, ...]
    decisions: tuple[Decision, ...]
    # For segment and gap evidence: the numbers of the two positions around the closest approach.
    between: tuple[int, int] | None = None

    def decided(self, action: str) -> list[Decision]:
        return [d for d in self.decisions if d.action == action]


@dataclass(frozen=True)
class EvidencePack:
    crime: PackCrime
    exhibits: tuple[Exhibit, ...]
    exported_by: str
    purpose: str
    exported_ms: int
    software: str
    statement: str = STATEMENT


def local_time(ms: int | None, date: bool = True) -> str:
    """Europe/London wall-clock time with its UTC offset, e.g. ``2026-03-20 10:45:00 +00:00``."""
    if ms is None:
        return "-"
    t = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(LONDON)
    off = t.strftime("%z")
    return t.strftime("%Y-%m-%d %H:%M:%S " if date else "%H:%M:%S ") + f"{off[:3]}:{off[3:]}"


def compass(deg: float | None) -> str:
    """``90° (E)``: a bearing from grid north with its nearest of 8 compass points."""
    if deg is None:
        return "-"
    points = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
    return f"{deg:.0f}° ({points[int((deg % 360) / 45 + 0.5) % 8]})"


def _crime(row: dict[str, Any], latest_version: int | None = None) -> PackCrime:
    return PackCrime(row["force"], row["crime_ref"], int(row["version"]), row["crime_type"],
                     CRIME_TYPES.get(row["crime_type"], row["crime_type"]), int(row["from_ms"]), int(row["to_ms"]),
                     float(row["x"]), float(row["y"]), float(row["lat"]), float(row["lon"]),
                     float(row["location_accuracy_m"] or 0.0), row.get("changed") or "",
                     max(int(row["version"]), latest_version or 0))


def _run_params(match: dict[str, Any]) -> dict[str, Any]:
    raw = match.get("run_params")
    return json.loads(raw) if isinstance(raw, str) else dict(raw or {})


def context_span(crime_row: dict[str, Any], match: dict[str, Any]) -> tuple[int, int]:
    """The time span of track an exhibit needs: the shown span plus one longest segment each side."""
    p = _run_params(match).get("match", {})
    buffer_ms, gap_ms = int(p.get("buffer_s", 900) * 1000), int(p.get("max_gap_s", 600) * 1000)
    pad = max(CONTEXT_MS, gap_ms)
    return int(crime_row["from_ms"]) - buffer_ms - pad - gap_ms, int(crime_row["to_ms"]) + buffer_ms + pad + gap_ms


def build_exhibit(label: str, match: dict[str, Any], crime_row: dict[str, Any], track: Track,
                  risk_level: str, reviews: Sequence[dict[str, Any]]) -> Exhibit:
    """One subject's exhibit from the stored match (joined with its run), the crime version and the track."""
    crime = _crime(crime_row)
    rp = _run_params(match)
    mp, sp = rp.get("match", {}), rp.get("score", {})
    radius = float((rp.get("radius_by_type") or {}).get(crime.crime_type.upper(), mp.get("radius_m", 100.0)))
    r_eff = radius + crime.location_accuracy_m
    buffer_ms, gap_ms = int(mp.get("buffer_s", 900) * 1000), int(mp.get("max_gap_s", 600) * 1000)
    w0, w1 = crime.from_ms - buffer_ms, crime.to_ms + buffer_ms
    pad = max(CONTEXT_MS, gap_ms)
    shown = (w0 - pad, w1 + pad)
    positions = _positions(track, crime, r_eff, gap_ms, (w0, w1), shown)
    parts = _score_parts(match, sp, radius_eff=r_eff, risk_level=risk_level)
    threshold = float(sp.get("threshold", 0.6))
    return Exhibit(
        label=label, match_id=int(match["id"]), run_id=int(match["run_id"]),
        run_started_ms=int(match.get("run_started_ms") or 0), engine_version=str(match["engine_version"]),
        subject_id=str(match["subject_id"]),
        devices=tuple(sorted({p.device for p in positions if p.device})),
        evidence=str(match["evidence"]), closest_m=float(match["closest_m"]), closest_ms=int(match["closest_ms"]),
        closest_xy=_closest_xy(track, match, crime), first_within_ms=match["first_within_ms"],
        last_within_ms=match["last_within_ms"], within_s=float(match["within_s"]), speed_mps=match["speed_mps"],
        heading_deg=match["heading_deg"], score=float(match["score"]), significant=bool(match["significant"]),
        threshold=threshold, parts=parts, radius_m=radius, effective_radius_m=r_eff, buffer_ms=buffer_ms,
        max_gap_ms=gap_ms, max_speed_mps=float(mp.get("max_speed_mps", 12.0)), window=(w0, w1), shown=shown,
        params=_param_rows(rp, crime, radius, match),
        positions=positions, between=_between(positions, str(match["evidence"]), int(match["closest_ms"])),
        decisions=tuple(Decision(int(r["ts_ms"]), r["action"], r["actor"], r.get("force"), r.get("note") or "")
                        for r in reviews),
    )


def build_pack(crime_row: dict[str, Any], exhibits: Sequence[Exhibit], by: str, purpose: str, now_ms: int,
               software: str, latest_version: int | None = None) -> EvidencePack:
    return EvidencePack(_crime(crime_row, latest_version), tuple(exhibits), by, purpose, now_ms, software)


def _positions(track: Track, crime: PackCrime, r_eff: float, gap_ms: int, window: tuple[int, int],
               shown: tuple[int, int]) -> tuple[Position, ...]:
    keep = track.has_position
    ts, x, y = track.ts_ms[keep], track.x[keep], track.y[keep]
    acc, dev = track.accuracy_m[keep], track.device[keep]
    dt = np.diff(ts, prepend=ts[:1] - gap_ms - 1).astype(np.float64)  # the first has no known predecessor
    joined = (dt <= gap_ms) & (dt > 0)
    dx, dy = np.diff(x, prepend=x[:1]), np.diff(y, prepend=y[:1])
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.hypot(dx, dy) / (dt / 1000.0)
    heading = np.degrees(np.arctan2(dx, dy)) % 360.0
    dist = np.hypot(x - crime.x, y - crime.y)
    out = []
    for i in np.flatnonzero((ts >= shown[0]) & (ts <= shown[1])):
        in_w = bool(window[0] <= ts[i] <= window[1])
        moved = joined[i] and (dx[i] != 0 or dy[i] != 0)
        out.append(Position(
            n=len(out) + 1, ts_ms=int(ts[i]), x=float(x[i]), y=float(y[i]), distance_m=float(dist[i]),
            accuracy_m=None if np.isnan(acc[i]) else float(acc[i]),
            speed_mps=float(speed[i]) if joined[i] else None, heading_deg=float(heading[i]) if moved else None,
            joined=bool(joined[i]), in_window=in_w, within_radius=in_w and bool(dist[i] <= r_eff),
            device=track.device_ids[int(dev[i])] if track.device_ids else ""))
    return tuple(out)


def _between(positions: Sequence[Position], evidence: str, closest_ms: int) -> tuple[int, int] | None:
    """The two consecutive positions whose segment (or gap) holds the closest approach."""
    if evidence == "fix":
        return None
    for a, b in zip(positions, positions[1:], strict=False):
        if a.ts_ms <= closest_ms <= b.ts_ms and (b.joined == (evidence == "segment")) and a.ts_ms < b.ts_ms:
            return a.n, b.n
    return None


def _closest_xy(track: Track, match: dict[str, Any], crime: PackCrime) -> tuple[float, float] | None:
    """Where the path was at the closest approach (on a segment: interpolated in time, as the engine does)."""
    keep = track.has_position
    ts, x, y = track.ts_ms[keep], track.x[keep], track.y[keep]
    if not ts.size:
        return None
    t = int(match["closest_ms"])
    if match["evidence"] == "unaccounted_gap" or t <= ts[0] or t >= ts[-1]:
        i = int(np.argmin(np.abs(ts - t)))
        return float(x[i]), float(y[i])
    return float(np.interp(t, ts, x)), float(np.interp(t, ts, y))


def _score_parts(match: dict[str, Any], sp: dict[str, Any], radius_eff: float, risk_level: str
                 ) -> tuple[ScorePart, ...]:
    raw = match["parts"]
    parts = json.loads(raw) if isinstance(raw, str) else dict(raw)
    weights = sp.get("weights", {})
    full_s = float(sp.get("full_time_s", 300.0))
    how = {
        "closeness": ("0: no path within the radius" if match["evidence"] == "unaccounted_gap"
                      else f"1 - {float(match['closest_m']):.1f} m / {radius_eff:g} m"),
        "time_within": f"{float(match['within_s']):.0f} s / {full_s:.0f} s, at most 1",
        "evidence": f"{match['evidence']}: " + ", ".join(f"{k} {v:g}" for k, v in sp.get("evidence_value", {}).items()),
        "offence": ("1: the recorded offence relates to this crime type" if parts.get("offence")
                    else "0: the recorded offence does not relate to this crime type"),
        "risk": f"assessed {risk_level}: " + ", ".join(f"{k} {v:g}" for k, v in sp.get("risk_value", {}).items()),
        "specificity": (f"{float(sp.get('specific_window_s', 1800)) / 60:.0f} min / the crime's reported window "
                        f"(to - from), at most 1"),
        "unusual": (f"1 - share of the other monitored days (up to {sp.get('routine_days', 14)} either side) on which "
                    "the subject was within the radius of this spot; 0.5 when no other day was monitored"),
    }
    return tuple(ScorePart(k, PART_LABELS.get(k, k), float(v), float(weights.get(k, 0.0)), how.get(k, ""))
                 for k, v in parts.items())


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


def _param_rows(rp: dict[str, Any], crime: PackCrime, radius: float, match: dict[str, Any]
                ) -> tuple[tuple[str, str, str], ...]:
    mp, sp = rp.get("match", {}), rp.get("score", {})
    by_type = rp.get("radius_by_type") or {}
    rows = [
        ("engine version", str(match["engine_version"]), "the matching and scoring code that produced the match"),
        ("run", f"{match['run_id']} at {local_time(match.get('run_started_ms'))}", "the stored correlation run"),
        ("radius R", f"{radius:g} m" + (f" (for {crime.crime_type}; default {mp.get('radius_m', 100.0):g} m)"
                                          if crime.crime_type.upper() in by_type else ""),
         "distance from the crime location"),
        ("crime location accuracy", f"{crime.location_accuracy_m:g} m", "added to R: the police location is no more exact"),
        ("effective radius", f"{radius + crime.location_accuracy_m:g} m", "R + crime location accuracy"),
        ("buffer B", _minutes(mp.get("buffer_s", 900)), "added before and after the crime window"),
        ("longest segment G", _minutes(mp.get("max_gap_s", 600)),
         "positions further apart are not joined by a straight segment"),
        ("top speed V", f"{mp.get('max_speed_mps', 12.0):g} m/s", "for unaccounted gaps only"),
        ("score threshold", f"{sp.get('threshold', 0.6):g}", "at or above: significant"),
        ("full time within", f"{sp.get('full_time_s', 300.0):g} s", "time within the radius that earns the whole time part"),
        ("score weights", ", ".join(f"{k} {v:g}" for k, v in sp.get("weights", {}).items()), "sum to 1"),
    ]
    scope = []
    if rp.get("since_ms") is not None or rp.get("until_ms") is not None:
        scope.append(f"crimes {local_time(rp.get('since_ms'))} to {local_time(rp.get('until_ms'))}")
    if rp.get("risk_levels"):
        scope.append("risk levels " + ", ".join(rp["risk_levels"]))
    if rp.get("crimes") is not None:
        scope.append(f"{len(rp['crimes'])} new or changed crimes (continuous mode)")
    if rp.get("subjects") is not None:
        scope.append(f"{len(rp['subjects'])} subjects with new positions (continuous mode)")
    rows.append(("run scope", "; ".join(scope) or "all subjects, all crimes", "what the run checked"))
    return tuple(rows)
