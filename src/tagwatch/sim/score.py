"""Precision and recall of alerts against a pilot's ground truth.

An alert matches a true violation when subject and kind are equal and their intervals
overlap once each is widened by ``tolerance_s`` on both sides (so a gap of up to twice
the tolerance still matches; an open alert runs to the truth's horizon ``as_of``).
Precision: alerts matching at least one violation / alerts. Recall: violations matched
by at least one alert / violations. Both are 1.0 for an empty denominator.

``noise_alerted`` counts noise excursions (``truth["noise"]``) overlapped, without
tolerance, by an alert of the kind the excursion could be mistaken for that matched no
true violation: a noise entry with kind null can be mistaken for nothing and is never
counted. Rates are per subject-day, ``truth["subject_days"]`` (monitored order-days
within the pilot) unless given.
"""

from __future__ import annotations

from collections import defaultdict
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


def _seconds(value, default: float) -> float:
    """Epoch seconds of an aware datetime or ISO text (``Z`` accepted); None gives ``default``."""
    if value is None:
        return default
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no UTC offset")
        return value.timestamp()
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return parsed.timestamp()


def _intervals(items: list[Mapping], horizon: float) -> list[tuple[str, str, float, float]]:
    return [(str(x["subject_id"]), None if x.get("kind") is None else str(x["kind"]), _seconds(x["start"], horizon),
             min(_seconds(x.get("end"), horizon), horizon)) for x in items]


def _ratio(num: int, den: int) -> float:
    return 1.0 if den == 0 else num / den


def score(alerts: Iterable[Mapping], truth: Mapping, tolerance_s: int = 600,
          subject_days: float | None = None) -> Score:
    """Score ``alerts`` (mappings with subject_id, kind, start, end) against ``truth``."""
    horizon = _seconds(truth.get("as_of"), float("inf"))
    alert_iv = _intervals(list(alerts), horizon)
    true_iv = _intervals(list(truth.get("violations", [])), horizon)
    noise_iv = _intervals(list(truth.get("noise", [])), horizon)
    true_by_key: dict[tuple, list[int]] = defaultdict(list)
    for j, (sid, kind, _, _) in enumerate(true_iv):
        true_by_key[(sid, kind)].append(j)
    hit_alerts, hit_true = set(), set()
    for i, (sid, kind, a0, a1) in enumerate(alert_iv):
        for j in true_by_key.get((sid, kind), ()):
            _, _, b0, b1 = true_iv[j]
            if a0 - tolerance_s <= b1 + tolerance_s and b0 - tolerance_s <= a1 + tolerance_s:
                hit_alerts.add(i)
                hit_true.add(j)
    false_by_key: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for i, (sid, kind, a0, a1) in enumerate(alert_iv):
        if i not in hit_alerts:
            false_by_key[(sid, kind)].append((a0, a1))
    noise_alerted = sum(1 for sid, kind, n0, n1 in noise_iv
                        if any(a0 <= n1 and n0 <= a1 for a0, a1 in false_by_key.get((sid, kind), ())))
    per_kind = {}
    for k in sorted({iv[1] for iv in alert_iv} | {iv[1] for iv in true_iv}):
        ak = [i for i, iv in enumerate(alert_iv) if iv[1] == k]
        tk = [j for j, iv in enumerate(true_iv) if iv[1] == k]
        per_kind[k] = {"n_alerts": len(ak), "n_true": len(tk),
                       "precision": _ratio(sum(1 for i in ak if i in hit_alerts), len(ak)),
                       "recall": _ratio(sum(1 for j in tk if j in hit_true), len(tk))}
    if subject_days is None:
        subject_days = float(truth.get("subject_days") or 0.0)
    per_day = subject_days or 1.0  # no monitored days: report counts rather than divide by zero
    return Score(precision=_ratio(len(hit_alerts), len(alert_iv)), recall=_ratio(len(hit_true), len(true_iv)),
                 n_alerts=len(alert_iv), n_true=len(true_iv), matched_alerts=len(hit_alerts), matched_true=len(hit_true),
                 noise_alerted=noise_alerted, subject_days=subject_days,
                 alerts_per_subject_day=len(alert_iv) / per_day,
                 true_violations_per_subject_day=len(true_iv) / per_day, per_kind=per_kind)
