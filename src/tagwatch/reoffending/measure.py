"""The proven reoffending measure, as the Ministry of Justice defines it, and Kaplan-Meier.

A **proven reoffence** is an offence committed in the 12 months after the start date (release
from custody, or the start of the sentence or order) that is proven by a court conviction or a
caution within those 12 months or a further 6-month waiting period. tagwatch counts days: day 0
is the start date; an offence on days 1..365 (:data:`FOLLOW_UP_DAYS`) counts when its disposal
falls on or before day 365 + 183 (:data:`WAITING_DAYS`). An offence on the start date itself is
taken as part of the index episode. A person is measurable only once the whole 18 months have
passed (``as_of``); until then they are left out, not counted as non-reoffenders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

__all__ = ["FOLLOW_UP_DAYS", "WAITING_DAYS", "DISPOSALS", "Offence", "Person", "Outcome", "measure", "measurable", "kaplan_meier"]

FOLLOW_UP_DAYS = 365
WAITING_DAYS = 183
DISPOSALS = ("conviction", "caution")


@dataclass(frozen=True)
class Offence:
    offence_date: date
    disposal_date: date
    disposal: str  # conviction | caution
    offence_type: str = ""


@dataclass
class Person:
    person_id: str
    start: date
    tagged: bool
    covariates: dict[str, float | str | None] = field(default_factory=dict)
    offences: list[Offence] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    reoffended: bool
    frequency: int  # proven reoffences in the window
    days_to_first: int | None  # offence day of the first proven reoffence (None: none)


def measure(person: Person) -> Outcome:
    """The person's proven reoffending in the 12 months after their start (with the waiting period)."""
    days = []
    for o in person.offences:
        d = (o.offence_date - person.start).days
        proven = (o.disposal_date - person.start).days
        if 1 <= d <= FOLLOW_UP_DAYS and o.disposal in DISPOSALS and o.disposal_date >= o.offence_date \
                and proven <= FOLLOW_UP_DAYS + WAITING_DAYS:
            days.append(d)
    return Outcome(bool(days), len(days), min(days) if days else None)


def measurable(person: Person, as_of: date) -> bool:
    """Whether the follow-up year and the waiting period have both ended by ``as_of``."""
    return (as_of - person.start).days >= FOLLOW_UP_DAYS + WAITING_DAYS


def kaplan_meier(times: Sequence[float], events: Sequence[bool],
                 weights: Iterable[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan-Meier estimate of the share not yet reoffended: ``(t, S(t))`` at each event time.

    ``times``: days to the first reoffence, or to censoring where ``events`` is False (e.g. the end
    of follow-up). At each distinct event time t, S falls by the factor ``1 - d / n`` (d: events at
    t, n: people still at risk, i.e. with time >= t). Weights (matched controls used more than once)
    count people fractionally. The curve starts at (0, 1).
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(events, dtype=bool)
    w = np.ones_like(t) if weights is None else np.asarray(list(weights), dtype=float)
    out_t, out_s, s = [0.0], [1.0], 1.0
    for ti in np.unique(t[e]):
        at_risk = w[t >= ti].sum()
        d = w[(t == ti) & e].sum()
        if at_risk > 0:
            s *= 1 - d / at_risk
        out_t.append(float(ti))
        out_s.append(s)
    return np.array(out_t), np.array(out_s)
