"""The alert queue: list, look at one, and work it (acknowledge, escalate, note, close)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from ..services import changes
from ..model import iso
from ..services.users import User
from .deps import MONITORING_PROBATION, NowDep, StoreDep, allow, check_subject, visible_subjects
from .schemas import AlertNote

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
Staff = Annotated[User, Depends(allow(*MONITORING_PROBATION))]


def _alert(store, alert_id: int) -> dict:
    row = store.alert(alert_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return row


def alert_access(alert_id: int, store: StoreDep, user: Staff) -> User:
    """Monitoring, or the probation officer whose caseload holds the alert's subject."""
    check_subject(store, user, _alert(store, alert_id)["subject_id"])
    return user


AlertAccess = Annotated[User, Depends(alert_access)]


def _public(a: dict) -> dict:
    return {**a, "start": iso(a["start_ms"]), "end": iso(a["end_ms"]), "confirmed": iso(a["confirmed_ms"])}


@router.get("")
def list_alerts(store: StoreDep, user: Staff, status_: Annotated[str | None, Query(alias="status")] = None,
                subject_id: str | None = None, kind: str | None = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 1000, offset: Annotated[int, Query(ge=0)] = 0):
    """Live alerts, newest first, for the subjects the caller may see (page with limit and offset)."""
    rows = store.alerts(subject_id, kind, status_, subject_ids=visible_subjects(store, user), newest_first=True,
                        limit=limit, offset=offset)
    return [_public(a) for a in rows]


@router.get("/{alert_id}")
def get_alert(alert_id: int, store: StoreDep, user: AlertAccess):
    """One alert with the history of what staff did about it."""
    return {**_public(_alert(store, alert_id)), "events": store.alert_events(alert_id)}


def _act(action: str):
    def act(alert_id: int, body: AlertNote, store: StoreDep, now: NowDep, user: AlertAccess):
        row = changes.act_on_alert(store, alert_id, action, user.username, user.role, body.note, now)
        return {**_public(row), "events": store.alert_events(alert_id)}
    act.__doc__ = f"{action.capitalize()} an alert (recorded with who and when, and audited)."
    act.__name__ = f"alert_{action}"
    return act


for _action in ("acknowledge", "escalate", "note", "close"):
    router.post(f"/{{alert_id}}/{_action}", name=f"alert_{_action}")(_act(_action))
