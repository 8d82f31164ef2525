"""Use cases of the live event stream: which events a reader may receive, and its audit entry.

A stream that carries positions is a read of location data, as ``GET /api/live`` is: it is
audited once when it opens (``stream_positions``, with the stated purpose and the subjects in
scope: a probation officer's caseload, or every subject for monitoring), and again only if
that scope changes while it is open; never once per event. A stream of alerts alone reads no
location (alert rows carry none, as ``GET /api/alerts`` does not) and is not audited.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from . import audit
from .users import AuthError, User, user_for_token
from ..store import Store

__all__ = ["EVENT_TYPES", "EventScope", "audit_stream", "recheck", "STREAM_ACTION"]

EVENT_TYPES = ("alert", "position")  # what a reader may ask for; ``resync`` always comes
STREAM_ACTION = "stream_positions"


class EventScope:
    """The subscription's ``accept``: the event types asked for, about the subjects in scope.

    ``subjects`` None means every subject (monitoring). It is read on the engine's thread at
    each publish and replaced (never mutated) when a re-check finds the caseload changed.
    """

    def __init__(self, subjects: Collection[str] | None, types: Collection[str] = EVENT_TYPES) -> None:
        self.types = frozenset(types)
        self.subjects: frozenset[str] | None = None
        self.rescope(subjects)

    def rescope(self, subjects: Collection[str] | None) -> bool:
        """Take the subjects now in scope; True if they changed."""
        new = None if subjects is None else frozenset(subjects)
        changed, self.subjects = new != self.subjects, new
        return changed

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("type")
        if kind == "resync":
            return True
        if kind not in self.types:
            return False
        subject = (event.get("alert") or {}).get("subject_id") if kind == "alert" else event.get("subject_id")
        return self.subjects is None or subject in self.subjects

    @property
    def positions(self) -> bool:
        return "position" in self.types


def audit_stream(store: Store, user: User, scope: EventScope, purpose: str, now_ms: int,
                scope_changed: bool = False) -> dict[str, Any] | None:
    """Audit a stream that carries positions, once per connection (and per change of scope)."""
    if not scope.positions:
        return None
    detail: dict[str, Any] = {"scope": "all subjects" if scope.subjects is None else "caseload",
                              "types": sorted(scope.types)}
    if scope_changed:
        detail["scope_changed"] = True
    return audit.record(store, user.username, user.role, STREAM_ACTION, now_ms, sorted(scope.subjects or ()),
                        from_ms=now_ms, purpose=purpose, detail=detail)


def recheck(store: Store, token: str, now_ms: int) -> User | None:
    """The token's user as of now, or None once it expired or the user was disabled or changed role."""
    try:
        return user_for_token(store, token, now_ms)
    except AuthError:
        return None
