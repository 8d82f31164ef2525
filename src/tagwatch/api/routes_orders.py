"""Orders and their conditions: create, vary (change a condition, end one), end. Every change is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..services import changes
from ..codec import parse_ts
from ..model import iso
from ..services.users import User
from .deps import MONITORING_PROBATION, NowDep, StoreDep, allow, check_subject, visible_subjects
from .schemas import ConditionBase, OrderCreate, OrderEnd, VariationCreate

router = APIRouter(prefix="/api/orders", tags=["orders"])
Staff = Annotated[User, Depends(allow(*MONITORING_PROBATION))]


def order_access(order_id: str, store: StoreDep, user: Staff) -> User:
    """Monitoring, or the probation officer whose caseload holds the order's subject."""
    check_subject(store, user, changes.find_order(store, order_id).subject_id)
    return user


OrderAccess = Annotated[User, Depends(order_access)]


def _public(o) -> dict:
    return {"id": o.id, "subject_id": o.subject_id, "type": str(o.type), "start": iso(o.start_ms),
            "end": iso(o.effective_end_ms()), "end_reason": o.end_reason,
            "versions": [{"version": v.version, "effective_from": iso(v.effective_from_ms), "reason": v.reason,
                          "conditions": [c.id for c in v.conditions]} for v in o.versions]}


@router.get("")
def list_orders(store: StoreDep, user: Staff, subject_id: Annotated[str | None, Query()] = None):
    """Orders with their versions, for the subjects the caller may see."""
    seen = visible_subjects(store, user)
    return [_public(o) for o in store.orders(subject_id) if seen is None or o.subject_id in seen]


@router.post("", status_code=201)
def create_order(body: OrderCreate, store: StoreDep, now: NowDep, user: Staff):
    """Add an order with its conditions (version 1)."""
    check_subject(store, user, body.subject_id)
    order = changes.create_order(
        store, body.id, body.subject_id, body.type, parse_ts(body.start, "start"),
        parse_ts(body.end, "end") if body.end else None, [c.as_dict() for c in body.conditions],
        user.username, user.role, now)
    return _public(order)


@router.post("/{order_id}/variations", status_code=201)
def vary_order(order_id: str, body: VariationCreate, store: StoreDep, now: NowDep, user: OrderAccess):
    """Vary an order from a given time: conditions added, replaced (same id) or dropped."""
    v = changes.vary_order(store, order_id, parse_ts(body.effective_from, "effective_from"), body.reason,
                                   user.username, user.role, now, [c.as_dict() for c in body.set_conditions],
                                   body.drop)
    return {"order_id": order_id, "version": v.version, "conditions": [c.id for c in v.conditions]}


@router.put("/{order_id}/conditions/{condition_id}", status_code=201)
def put_condition(order_id: str, condition_id: str, body: ConditionBase, store: StoreDep, now: NowDep,
                  user: OrderAccess, effective_from: Annotated[str, Query()], reason: Annotated[str, Query(min_length=1)]):
    """Add or change one condition from a given time (a new version of the order)."""
    cond = {**body.as_dict(), "id": condition_id}
    v = changes.vary_order(store, order_id, parse_ts(effective_from, "effective_from"), reason,
                                   user.username, user.role, now, [cond])
    return {"order_id": order_id, "version": v.version, "conditions": [c.id for c in v.conditions]}


@router.delete("/{order_id}/conditions/{condition_id}")
def end_condition(order_id: str, condition_id: str, store: StoreDep, now: NowDep, user: OrderAccess,
                  effective_from: Annotated[str, Query()], reason: Annotated[str, Query(min_length=1)]):
    """End one condition from a given time (a new version without it)."""
    v = changes.vary_order(store, order_id, parse_ts(effective_from, "effective_from"), reason,
                                   user.username, user.role, now, drop=[condition_id])
    return {"order_id": order_id, "version": v.version, "conditions": [c.id for c in v.conditions]}


@router.post("/{order_id}/end")
def end_order(order_id: str, body: OrderEnd, store: StoreDep, now: NowDep, user: OrderAccess):
    """End an order (completed, revoked, recalled); monitoring under it stops then."""
    changes.end_order(store, order_id, parse_ts(body.at, "at"), body.reason, user.username, user.role, now)
    return {"order_id": order_id, "ended": body.at, "reason": body.reason}
