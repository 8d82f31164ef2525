"""Precision and recall of alerts against a pilot's ground truth.

An alert matches a true violation when subject and kind are equal and their intervals
overlap once each is widened by ``tolerance_s`` on both sides (an open alert runs to
the truth's horizon). Precision: alerts matching at least one violation / alerts.
Recall: violations matched by at least one alert / violations. Both are 1.0 for an
empty denominator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

__all__ = ["Score", "score"]


@dataclass
class Score:
    precision: float
    recall: float
    n_alerts: int
    n_true: int
    matched_alerts: int
    matched_true: int
    noise_alerted: int
    subject_days: float
    alerts_per_subject_day: float
    true_violations_per_subject_day: float
    per_kind: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _s(v) -> float:
    if v is None:
        return float("inf")
    if isinstance(v, datetime):
        return v.timestamp()
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()


def _overlap(a, b, tol: float, horizon: float) -> bool:
    a0, a1 = _s(a["start"]), min(_s(a.get("end")), horizon)
    b0, b1 = _s(b["start"]), min(_s(b.get("end")), horizon)
    return a0 - tol <= b1 + tol and b0 - tol <= a1 + tol


def _ratio(num: int, den: int) -> float:
    return 1.0 if den == 0 else num / den


def score(alerts: Iterable[Mapping], truth: Mapping, tolerance_s: int = 600,
          subject_days: float | None = None) -> Score:
    alerts = list(alerts)
    true = list(truth.get("violations", []))
    noise = list(truth.get("noise", []))
    horizon = _s(truth.get("as_of"))
    by_key: dict[tuple, list] = {}
    for v in true:
        by_key.setdefault((v["subject_id"], v["kind"]), []).append(v)
    hit_alerts, hit_true = set(), set()
    for i, a in enumerate(alerts):
        for v in by_key.get((a["subject_id"], str(a["kind"])), []):
            if _overlap(a, v, tolerance_s, horizon):
                hit_alerts.add(i)
                hit_true.add(id(v))
    noise_hit = sum(1 for nz in noise if any(
        a["subject_id"] == nz["subject_id"] and str(a["kind"]) == nz["kind"] and _overlap(a, nz, 0, horizon)
        and alerts.index(a) not in hit_alerts for a in alerts))
    kinds = sorted({str(a["kind"]) for a in alerts} | {v["kind"] for v in true})
    per_kind = {}
    for k in kinds:
        ak = [i for i, a in enumerate(alerts) if str(a["kind"]) == k]
        tk = [v for v in true if v["kind"] == k]
        per_kind[k] = {"n_alerts": len(ak), "n_true": len(tk),
                       "precision": _ratio(sum(1 for i in ak if i in hit_alerts), len(ak)),
                       "recall": _ratio(sum(1 for v in tk if id(v) in hit_true), len(tk))}
    if subject_days is None:
        subject_days = float(truth.get("subject_days") or 0.0)
    sd = subject_days or 1.0
    return Score(precision=_ratio(len(hit_alerts), len(alerts)), recall=_ratio(len(hit_true), len(true)),
                 n_alerts=len(alerts), n_true=len(true), matched_alerts=len(hit_alerts), matched_true=len(hit_true),
                 noise_alerted=noise_hit, subject_days=subject_days, alerts_per_subject_day=len(alerts) / sd,
                 true_violations_per_subject_day=len(true) / sd, per_kind=per_kind)
