"""Use cases: the police record what became of a match shared with them, and read it back.

The CLI (``tagwatch matches outcome|outcomes``) and the web API call these, so a record made
either way is checked the same way and leaves the same audit entry.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import audit
from ..model import iso
from ..store import Store, StoreError
from ..store.schema import MATCH_OUTCOMES

__all__ = ["MATCH_OUTCOMES", "match_outcomes", "record_match_outcome"]

LONDON = ZoneInfo("Europe/London")


def record_match_outcome(store: Store, match_id: int, outcome: str, on: str, force: str, actor: str, now_ms: int,
                         note: str = "", role: str = "cli") -> dict[str, Any]:
    """Record that a shared match led to a charge, a conviction, no further action or elimination, on a date.

    Only the force a match is shared with (and not withdrawn from) may record its outcome; the
    date (YYYY-MM-DD, Europe/London) cannot be in the future. Outcomes are appended: a charge
    can later be followed by a conviction, and the last one recorded is the current one.
    The record is audited (``match_outcome``) with the match's subject.
    """
    if outcome not in MATCH_OUTCOMES:
        raise StoreError(f"unknown outcome {outcome!r}: use one of {', '.join(MATCH_OUTCOMES)}")
    if not actor:
        raise StoreError("an outcome needs the name of who records it (--by)")
    if not force:
        raise StoreError("say which police force records the outcome (--force)")
    try:
        day = date.fromisoformat(on)
    except (TypeError, ValueError):
        raise StoreError(f"outcome date {on!r}: write it as YYYY-MM-DD") from None
    today = datetime.fromtimestamp(now_ms / 1000, LONDON).date()
    if day > today:
        raise StoreError(f"outcome date {on} is in the future")
    m = store.match(match_id)
    if m is None:
        raise StoreError(f"no match {match_id}")
    if match_id not in store.shared_match_ids(force):
        raise StoreError(f"match {match_id} is not shared with {force}: only the force it is shared with records "
                         "its outcome")
    row = store.add_match_outcome({"match_id": match_id, "outcome": outcome, "outcome_on": day.isoformat(),
                                   "force": force, "actor": actor, "ts_ms": now_ms, "note": note})
    audit.record(store, actor, role, "match_outcome", now_ms, [m["subject_id"]], purpose=note,
                         detail={"match_id": match_id, "outcome": outcome, "outcome_on": day.isoformat(),
                                 "force": force})
    return row


def match_outcomes(store: Store, match_id: int) -> dict[str, Any]:
    """A match's outcomes in the order recorded; the last is its ``current`` one (None: none yet)."""
    rows = store.match_outcomes(match_id)
    out = [{**r, "recorded": iso(r["ts_ms"]), "current": i == len(rows) - 1} for i, r in enumerate(rows)]
    return {"match_id": match_id, "current": out[-1]["outcome"] if out else None, "outcomes": out}
