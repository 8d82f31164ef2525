"""Use cases that change orders, conditions, alerts and match decisions; each change is audited.

The CLI and the web API both call these, so a change made either way leaves the same
audit entry (who, role, what, which subject, why).
"""

from __future__ import annotations

import os
from typing import Any

from . import audit
from ..codec import InputError, condition_to_dict, conditions_checked
from ..geo import GREAT_BRITAIN, ServiceArea
from ..model import Device, Order, OrderType, OrderVersion, Subject
from ..store import Store, StoreError

__all__ = ["add_subject", "add_device", "assign_device", "create_order", "vary_order", "end_order", "act_on_alert", "review_match", "find_order",
           "service_area"]


def service_area() -> ServiceArea:
    """Where new zones may lie: ``$TAGWATCH_SERVICE_AREA`` as ``min_lon,min_lat,max_lon,max_lat``
    (optionally ``name:`` first), else Great Britain."""
    text = os.environ.get("TAGWATCH_SERVICE_AREA", "").strip()
    if not text:
        return GREAT_BRITAIN
    name, _, box = text.rpartition(":")
    try:
        lo_lon, lo_lat, hi_lon, hi_lat = (float(v) for v in box.split(","))
    except ValueError:
        raise InputError(f"TAGWATCH_SERVICE_AREA {text!r} must be min_lon,min_lat,max_lon,max_lat") from None
    return ServiceArea(name or "the configured service area", lo_lon, lo_lat, hi_lon, hi_lat)


def find_order(store: Store, order_id: str) -> Order:
    order = next((o for o in store.orders() if o.id == order_id), None)
    if order is None:
        raise LookupError(f"no order {order_id!r}")
    return order


def create_order(store: Store, order_id: str, subject_id: str, order_type: str, start_ms: int, end_ms: int | None,
                 conditions: list[dict[str, Any]], actor: str, role: str, now_ms: int, reason: str = "initial order",
                 ) -> Order:
    """Add an order with its first version of conditions."""
    conds = conditions_checked(conditions, service_area())
    if not conds:
        raise InputError("an order needs at least one condition")
    try:
        kind = OrderType(order_type)
    except ValueError:
        raise InputError(f"unknown order type {order_type!r}: use licence, community or bail") from None
    order = Order(order_id, subject_id, kind, start_ms, end_ms, (OrderVersion(order_id, 1, start_ms, conds, reason),))
    store.add_order(order, now_ms)
    audit.record(store, actor, role, "order_create", now_ms, [subject_id], purpose=reason,
                         detail={"order_id": order_id, "conditions": [c.id for c in conds]})
    return order


def vary_order(store: Store, order_id: str, effective_ms: int, reason: str, actor: str, role: str, now_ms: int,
               set_conditions: list[dict[str, Any]] = (), drop: list[str] = ()) -> OrderVersion:
    """A new version from ``effective_ms``: conditions added or replaced (same id) or ended (dropped)."""
    order = find_order(store, order_id)
    current = {c.id: condition_to_dict(c) for c in max(order.versions, key=lambda v: v.version).conditions}
    for cid in drop:
        if current.pop(cid, None) is None:
            raise InputError(f"order {order_id} has no condition {cid!r}; it has {', '.join(current) or 'none'}")
    for c in set_conditions:
        current[c.get("id", "")] = c
    conds = conditions_checked(current.values(), service_area())
    if not conds:
        raise InputError("a variation must leave at least one condition; end the order instead")
    version = OrderVersion(order_id, max(v.version for v in order.versions) + 1, effective_ms, conds, reason)
    store.add_version(version, now_ms)
    audit.record(store, actor, role, "order_vary", now_ms, [order.subject_id], purpose=reason,
                         detail={"order_id": order_id, "version": version.version, "effective_from_ms": effective_ms,
                                 "set": [c.get("id") for c in set_conditions], "dropped": list(drop)})
    return version


def end_order(store: Store, order_id: str, ended_ms: int, reason: str, actor: str, role: str, now_ms: int) -> None:
    order = find_order(store, order_id)
    store.end_order(order_id, ended_ms, reason)
    audit.record(store, actor, role, "order_end", now_ms, [order.subject_id], purpose=reason,
                         detail={"order_id": order_id, "ended_ms": ended_ms})


def act_on_alert(store: Store, alert_id: int, action: str, actor: str, role: str, note: str,
                 now_ms: int) -> dict[str, Any]:
    """Acknowledge, escalate, annotate or close an alert, and audit it."""
    row = store.act_on_alert(alert_id, action, actor, note, now_ms)
    audit.record(store, actor, role, f"alert_{action}", now_ms, [row["subject_id"]], purpose=note,
                         detail={"alert_id": alert_id, "status": row["status"]})
    return row


def review_match(store: Store, match_id: int, action: str, actor: str, role: str, now_ms: int,
                 force: str | None = None, note: str = "") -> dict[str, Any]:
    """Qualify, reject, authorise, share or withdraw a match, and audit it."""
    m = store.match(match_id)
    if m is None:
        raise StoreError(f"no match {match_id}")
    row = store.review_match(match_id, action, actor, now_ms, force, note)
    audit.record(store, actor, role, f"match_{action}", now_ms, [m["subject_id"]], purpose=note,
                         detail={"match_id": match_id, "force": force})
    return row


def add_subject(store: Store, subject: Subject, actor: str, role: str, now_ms: int) -> None:
    store.add_subject(subject, now_ms)
    audit.record(store, actor, role, "subject_create", now_ms, [subject.id])


def add_device(store: Store, device: Device, actor: str, role: str, now_ms: int) -> None:
    store.add_device(device, now_ms)
    audit.record(store, actor, role, "device_create", now_ms, detail={"device_id": device.id})


def assign_device(store: Store, device_id: str, subject_id: str, from_ms: int, actor: str, role: str,
                  now_ms: int) -> None:
    store.assign(device_id, subject_id, from_ms)
    audit.record(store, actor, role, "device_assign", now_ms, [subject_id],
                         detail={"device_id": device_id, "from_ms": from_ms})
