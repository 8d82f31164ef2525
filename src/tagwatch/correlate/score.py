"""The significance score of a match: a weighted sum of parts a court can follow.

Each part is between 0 and 1 and is reported with the match (docs/correlation.md):
closeness of the path to the site, time spent within the radius, the kind of evidence,
how precisely the crime's time is known, whether presence there is routine for the
subject, how the crime type relates to the subject's offence, and the subject's
assessed risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model import RiskLevel
from .match import Evidence, TrackMatch

__all__ = ["ScoreParams", "score_match", "routine_presence", "RELATED_OFFENCES", "DAY_MS"]

DAY_MS = 86_400_000

# Which recorded offences make a crime type more relevant (words looked for in the offence text).
RELATED_OFFENCES: dict[str, tuple[str, ...]] = {
    "RB": ("robbery", "bladed", "knife", "theft from the person", "wounding", "assault"),
    "TFP": ("theft", "robbery", "pickpocket"),
    "BIAD": ("burglary",),
    "AB": ("burglary",),
    "BOTD": ("burglary",),
    "TOMV": ("vehicle", "taking without consent", "twoc"),
    "TFMV": ("vehicle", "theft"),
}


@dataclass(frozen=True)
class ScoreParams:
    weights: dict[str, float] = field(default_factory=lambda: {
        "closeness": 0.20, "time_within": 0.05, "evidence": 0.15, "specificity": 0.20, "unusual": 0.20,
        "offence": 0.10, "risk": 0.10})
    evidence_value: dict[str, float] = field(default_factory=lambda: {
        "fix": 1.0, "segment": 0.7, "unaccounted_gap": 0.2})
    risk_value: dict[str, float] = field(default_factory=lambda: {"high": 1.0, "medium": 0.6, "low": 0.3})
    full_time_s: float = 300.0  # five minutes within the radius earns the whole time part
    specific_window_s: float = 1800.0  # a crime window this short or shorter earns the whole specificity part
    routine_days: int = 14  # days before and after the crime looked at for routine presence
    threshold: float = 0.7  # at or above: significant


def routine_presence(ts_ms: np.ndarray, x: np.ndarray, y: np.ndarray, site_x: float, site_y: float, radius_m: float,
                     from_ms: int, to_ms: int) -> tuple[int, int]:
    """(days near, days observed): other calendar days (UTC) with a fix within the radius, and with any fix.

    "Other" leaves out the days the crime window touches. ``ts_ms`` etc. are the subject's
    positioned fixes over the period looked at (``ScoreParams.routine_days`` either side).
    """
    day = ts_ms // DAY_MS
    other = (day < from_ms // DAY_MS) | (day > to_ms // DAY_MS)
    near = other & (np.hypot(x - site_x, y - site_y) <= radius_m)
    return int(np.unique(day[near]).size), int(np.unique(day[other]).size)


def score_match(m: TrackMatch, radius_m: float, crime_type: str, offence: str, risk: RiskLevel | str,
                params: ScoreParams = ScoreParams(), window_s: float = 0.0,
                routine: tuple[int, int] = (0, 0)) -> tuple[float, dict[str, float]]:
    """(score, parts) with each part in [0, 1]; the score is the weighted sum of the parts.

    ``window_s``: the crime's reported window (to - from, no buffer). ``routine``: (days
    near the site, days observed) from :func:`routine_presence`; with no other day
    observed, the unusual part is 0.5 (nothing known either way).
    """
    closeness = 0.0 if m.evidence is Evidence.UNACCOUNTED_GAP else max(0.0, 1.0 - m.closest_m / radius_m)
    words = RELATED_OFFENCES.get(crime_type.upper(), ())
    near_days, seen_days = routine
    parts = {
        "closeness": round(closeness, 4),
        "time_within": round(min(m.within_s / params.full_time_s, 1.0), 4),
        "evidence": params.evidence_value[str(m.evidence)],
        "specificity": round(min(1.0, params.specific_window_s / max(window_s, 1.0)), 4),
        "unusual": round(1.0 - near_days / seen_days, 4) if seen_days else 0.5,
        "offence": 1.0 if any(w in offence.lower() for w in words) else 0.0,
        "risk": params.risk_value.get(str(risk), 0.6),
    }
    score = sum(params.weights[k] * v for k, v in parts.items())
    return round(score, 4), parts
