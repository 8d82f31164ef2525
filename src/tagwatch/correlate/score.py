"""The significance score of a match: a weighted sum of parts a court can follow.

Each part is between 0 and 1 and is reported with the match (docs/correlation.md):
closeness of the path to the site, time spent within the radius, the kind of evidence,
how the crime type relates to the subject's offence, and the subject's assessed risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import RiskLevel
from .match import Evidence, TrackMatch

__all__ = ["ScoreParams", "score_match", "RELATED_OFFENCES"]

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
        "closeness": 0.35, "time_within": 0.20, "evidence": 0.25, "offence": 0.10, "risk": 0.10})
    evidence_value: dict[str, float] = field(default_factory=lambda: {
        "fix": 1.0, "segment": 0.7, "unaccounted_gap": 0.2})
    risk_value: dict[str, float] = field(default_factory=lambda: {"high": 1.0, "medium": 0.6, "low": 0.3})
    full_time_s: float = 300.0  # five minutes within the radius earns the whole time part
    threshold: float = 0.6  # at or above: significant


def score_match(m: TrackMatch, radius_m: float, crime_type: str, offence: str, risk: RiskLevel | str,
                params: ScoreParams = ScoreParams()) -> tuple[float, dict[str, float]]:
    """(score, parts) with each part in [0, 1]; the score is the weighted sum of the parts."""
    closeness = 0.0 if m.evidence is Evidence.UNACCOUNTED_GAP else max(0.0, 1.0 - m.closest_m / radius_m)
    words = RELATED_OFFENCES.get(crime_type.upper(), ())
    parts = {
        "closeness": round(closeness, 4),
        "time_within": round(min(m.within_s / params.full_time_s, 1.0), 4),
        "evidence": params.evidence_value[str(m.evidence)],
        "offence": 1.0 if any(w in offence.lower() for w in words) else 0.0,
        "risk": params.risk_value.get(str(risk), 0.6),
    }
    score = sum(params.weights[k] * v for k, v in parts.items())
    return round(score, 4), parts
