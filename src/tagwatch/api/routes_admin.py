"""Administration (users, caseloads, devices, the audit log) and programme figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ..services.devicekeys import issue_key
from ..services import audit, changes, users, views
from ..codec import parse_ts
from ..model import Device, iso
from ..services.users import User
from .deps import NowDep, StoreDep, allow
from .schemas import AssignmentCreate, CaseloadUpdate, DeviceCreate, UserCreate, UserPublic

router = APIRouter(prefix="/api", tags=["admin"])
Admin = Annotated[User, Depends(allow("admin"))]


def _user_public(store, row: dict) -> UserPublic:
    return UserPublic(username=row["username"], role=row["role"], force=row["force"], created_ms=row["created_ms"],
                      disabled_ms=row["disabled_ms"], caseload=sorted(store.caseload(row["username"])))


@router.get("/users", response_model=list[UserPublic])
def list_users(store: StoreDep, user: Admin):
    """Every user with role, force, caseload and whether disabled."""
    return [_user_public(store, r) for r in store.users()]


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, store: StoreDep, now: NowDep, user: Admin):
    """Create a user with a role (audited)."""
    users.add_user(store, body.username, body.password, body.role, now, body.force, body.caseload,
                           user.username, user.role)
    return _user_public(store, store.user(body.username))


@router.post("/users/{username}/disable", response_model=UserPublic)
def disable_user(username: str, store: StoreDep, now: NowDep, user: Admin):
    """Disable a user; their tokens stop working at once (audited)."""
    users.disable_user(store, username, now, user.username, user.role)
    return _user_public(store, store.user(username))


@router.put("/users/{username}/caseload", response_model=UserPublic)
def set_caseload(username: str, body: CaseloadUpdate, store: StoreDep, now: NowDep, user: Admin):
    """Replace a probation officer's caseload (audited)."""
    users.set_caseload(store, username, body.subject_ids, now, user.username, user.role)
    return _user_public(store, store.user(username))


@router.get("/devices")
def list_devices(store: StoreDep, user: Annotated[User, Depends(allow("admin", "monitoring"))]):
    """Tags with who wears them (current and past assignments)."""
    worn: dict[str, list] = {}
    for a in store.assignments():
        worn.setdefault(a.device_id, []).append({"subject_id": a.subject_id, "from": iso(a.from_ms), "to": iso(a.to_ms)})
    return [{"id": d.id, "kind": d.kind, "model": d.model, "assignments": worn.get(d.id, [])} for d in store.devices()]


@router.get("/devices/refused")
def refused_reports(request: Request, user: Annotated[User, Depends(allow("admin", "monitoring"))]):
    """Device reports refused since the server started: OsmAnd per device and address; the GT06 gateway's counters."""
    keys = request.app.state.device_keys
    gt06 = getattr(request.app.state, "gt06", None)
    return {"osmand": [{"device_id": d, "address": a, "refused": n} for (d, a), n in keys.refused.most_common(1000)],
            "gt06": gt06.stats.as_dict() if gt06 is not None else None}


@router.post("/devices", status_code=201)
def create_device(body: DeviceCreate, store: StoreDep, now: NowDep, user: Admin):
    """Register a tag and issue its key, returned this once as ``key`` (audited)."""
    changes.add_device(store, Device(body.id, body.kind, body.model), user.username, user.role, now)
    return {**body.model_dump(), "key": issue_key(store, body.id, user.username, user.role, now)}


@router.post("/devices/{device_id}/assign", status_code=201)
def assign_device(device_id: str, body: AssignmentCreate, store: StoreDep, now: NowDep, user: Admin):
    """Fit a tag to a subject from a given time; a swap ends the previous assignment (audited)."""
    changes.assign_device(store, device_id, body.subject_id, parse_ts(body.start, "start"),
                                  user.username, user.role, now)
    return {"device_id": device_id, "subject_id": body.subject_id, "from": body.start}


@router.get("/audit")
def list_audit(store: StoreDep, user: Admin, limit: Annotated[int, Query(le=10_000)] = 200,
               actor: str | None = None, subject_id: str | None = None):
    """Audit entries, newest first (who, when, what, which subjects, which time range, why)."""
    rows = store.audit_entries(limit, actor, subject_id)
    return [{**r, "ts": iso(r["ts_ms"]), "from": iso(r["from_ms"]), "to": iso(r["to_ms"])} for r in rows]


@router.get("/audit/verify")
def verify_audit(store: StoreDep, user: Admin):
    """Check the hash chain of the whole audit log."""
    rep = audit.verify(store)
    return {"ok": rep.ok, "entries": rep.entries, "head_id": rep.head_id, "head_hash": rep.head_hash,
            "problems": rep.problems}


@router.get("/stats")
def programme_stats(store: StoreDep, user: Annotated[User, Depends(allow("evaluator", "admin", "monitoring"))]):
    """Aggregate figures only: counts by risk level, alert kind and status; never a location."""
    return views.stats(store)
