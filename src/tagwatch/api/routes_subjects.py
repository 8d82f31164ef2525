"""Subjects, their timeline and track, and the live map of current positions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..services import views
from ..codec import parse_ts
from ..model import RiskLevel, Subject, iso
from ..services.changes import add_subject
from ..services.users import User
from .deps import MONITORING_PROBATION, NowDep, Purpose, StoreDep, SubjectAccess, allow, visible_subjects
from .schemas import SubjectCreate, SubjectPublic

router = APIRouter(prefix="/api", tags=["subjects"])
DAY_MS = 86_400_000


@router.get("/subjects", response_model=list[SubjectPublic])
def list_subjects(store: StoreDep, user: Annotated[User, Depends(allow("monitoring", "probation", "admin"))]):
    """Subjects the caller may see (a probation officer: their caseload)."""
    seen = None if user.role == "admin" else visible_subjects(store, user)
    return [SubjectPublic(id=s.id, name=s.name, risk_level=str(s.risk_level), offence=s.offence, borough=s.borough)
            for s in store.subjects() if seen is None or s.id in seen]


@router.post("/subjects", response_model=SubjectPublic, status_code=201)
def create_subject(body: SubjectCreate, store: StoreDep, now: NowDep,
                   user: Annotated[User, Depends(allow("monitoring", "admin"))]):
    """Register a person on (or about to be on) an order."""
    add_subject(store, Subject(body.id, body.name, RiskLevel(body.risk_level), body.offence, body.borough),
                user.username, user.role, now)
    return body


@router.get("/subjects/{subject_id}")
def get_subject(subject_id: str, store: StoreDep, user: SubjectAccess):
    """One subject: orders with conditions (no zones), devices, alerts and timeline."""
    s = next(s for s in store.subjects() if s.id == subject_id)
    orders = [{"id": o.id, "type": str(o.type), "start": iso(o.start_ms), "end": iso(o.effective_end_ms()),
               "end_reason": o.end_reason,
               "versions": [{"version": v.version, "effective_from": iso(v.effective_from_ms), "reason": v.reason,
                             "conditions": [{"id": c.id, "kind": str(c.kind), "schedule": c.schedule}
                                            for c in v.conditions]} for v in o.versions]}
              for o in store.orders(subject_id)]
    devices = [{"device_id": a.device_id, "from": iso(a.from_ms), "to": iso(a.to_ms), "from_ms": a.from_ms,
                "to_ms": a.to_ms} for a in store.assignments(subject_id)]
    return {"subject": SubjectPublic(id=s.id, name=s.name, risk_level=str(s.risk_level), offence=s.offence,
                                     borough=s.borough),
            "orders": orders, "devices": devices, "alerts": store.alerts(subject_id),
            "last_fix_ms": store.last_fix_ms(subject_id),
            "timeline": views.timeline(store, subject_id)}


@router.get("/subjects/{subject_id}/track")
def get_track(subject_id: str, store: StoreDep, now: NowDep, user: SubjectAccess, purpose: Purpose,
              start: Annotated[str | None, Query(alias="from", description="ISO with offset; default a day before 'to'.")] = None,
              end: Annotated[str | None, Query(alias="to", description="ISO with offset; default now.")] = None):
    """A subject's positions over a time range (at most 31 days); audited with the stated purpose."""
    to_ms = parse_ts(end, "to") if end else now
    from_ms = parse_ts(start, "from") if start else to_ms - DAY_MS
    if not 0 < to_ms - from_ms <= 31 * DAY_MS:
        raise ValueError("'from' must be before 'to', at most 31 days apart")
    return views.track(store, user, subject_id, from_ms, to_ms, purpose, now)


@router.get("/live")
def live_positions(store: StoreDep, now: NowDep, purpose: Purpose,
                   user: Annotated[User, Depends(allow(*MONITORING_PROBATION))]):
    """Current position of every subject the caller may see, with their zones; audited."""
    return views.live(store, user, visible_subjects(store, user), purpose, now)
