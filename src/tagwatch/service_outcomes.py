"""Use case: the police record what became of a match shared with them (the API route calls this too)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .store import Store, StoreError
from .store.schema import MATCH_OUTCOMES

__all__ = ["MATCH_OUTCOMES", "record_match_outcome"]

LONDON = ZoneInfo("Europe/London")


def record_match_outcome(store: Store, match_id: int, outcome: str, on: str, force: str, actor: str, now_ms: int,
                         note: str = "") -> dict[str, Any]:
    """Record that a shared match led to a charge, a conviction, no further action or elimination, on a date.

    Only the force a match is shared with (and not withdrawn from) may record its outcome; the
    date (YYYY-MM-DD, Europe/London) cannot be in the future. Outcomes are appended: a charge
    can later be followed by a conviction, and the last one recorded is the current one.
    """
    if outcome not in MATCH_OUTCOMES:
        raise StoreError(f"unknown outcome {outcome!r}: use one of {', '.join(MATCH_OUTCOMES)}")
    if not actor:
        raise StoreError("an outcome needs the name of who records it (--by)")
    if not force:
        raise StoreError("say which police force records the outcome (--force)")
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise StoreError(f"outcome date {on!r}: write it as YYYY-MM-DD") from None
    today = datetime.fromtimestamp(now_ms / 1000, LONDON).date()
    if day > today:
        raise StoreError(f"outcome date {on} is in the future")
    if store.match(match_id) is None:
        raise StoreError(f"no match {match_id}")
    if match_id not in store.shared_match_ids(force):
        raise StoreError(f"match {match_id} is not shared with {force}: only the force it is shared with records "
                         "its outcome")
    return store.add_match_outcome({"match_id": match_id, "outcome": outcome, "outcome_on": day.isoformat(),
                                    "force": force, "actor": actor, "ts_ms": now_ms, "note": note})
