"""Text <-> model: timestamps, conditions and enrolment documents.

Every input path (CLI options, enrolment files, the store) goes through here, so a
naive timestamp or a malformed condition gets the same clear message everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .geo import GREAT_BRITAIN, ServiceArea, zone_from_geojson
from .model import Assignment, Condition, ConditionKind, Device, Order, OrderType, OrderVersion, RiskLevel, Subject, to_ms
from .schedule import parse_schedule

__all__ = [
    "InputError",
    "parse_ts",
    "condition_from_dict",
    "condition_to_dict",
    "conditions_to_json",
    "conditions_from_json",
    "Enrolment",
    "enrolment_from_dict",
]


class InputError(ValueError):
    """Input that cannot be used as given; the message says what to fix."""


def parse_ts(text: str, what: str = "timestamp") -> int:
    """Epoch ms of an ISO 8601 timestamp that carries a UTC offset (Z or +01:00)."""
    try:
        dt = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError(f"{what} {text!r} is not ISO 8601 (e.g. 2026-03-20T19:00:00+00:00)") from None
    if dt.tzinfo is None:
        raise InputError(f"{what} {text!r} has no UTC offset; add Z or e.g. +01:00 (naive times are ambiguous)")
    return to_ms(dt)


def condition_from_dict(d: dict[str, Any], area: ServiceArea = GREAT_BRITAIN) -> Condition:
    """A condition from its JSON form, validated (zone geometry within ``area``, schedule grammar)."""
    if not isinstance(d, dict):
        raise InputError(f"a condition must be a JSON object, not {type(d).__name__}")
    try:
        kind = ConditionKind(d["kind"])
    except (KeyError, ValueError):
        raise InputError(f"condition {d.get('id')!r}: kind must be one of {[k.value for k in ConditionKind]}") from None
    cid = str(d.get("id") or kind.value)
    zone = d.get("zone")
    zoneless = kind in (ConditionKind.TRAIL, ConditionKind.ALCOHOL_ABSTINENCE)
    if not zoneless:
        if not zone:
            raise InputError(f"condition {cid!r} ({kind}) needs a zone (GeoJSON)")
        try:
            zone_from_geojson(zone, area)
        except ValueError as e:
            raise InputError(f"condition {cid!r}: {e}") from None
    schedule = d.get("schedule") or None
    if kind in (ConditionKind.CURFEW, ConditionKind.ATTENDANCE) and not schedule:
        raise InputError(f"condition {cid!r} ({kind}) needs a schedule, e.g. 'daily 19:00-07:00'")
    if schedule:
        try:
            parse_schedule(schedule)
        except ValueError as e:
            raise InputError(f"condition {cid!r}: {e}") from None
    first_night = d.get("first_night_start") or None
    if first_night:
        try:
            datetime.fromisoformat(first_night)
        except ValueError:
            raise InputError(f"condition {cid!r}: first_night_start {first_night!r} is not a local ISO datetime") from None
    return Condition(cid, kind, None if zoneless else zone, schedule, first_night)


def condition_to_dict(c: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c.id, "kind": str(c.kind)}
    if c.zone is not None:
        out["zone"] = c.zone
    if c.schedule:
        out["schedule"] = c.schedule
    if c.first_night_start:
        out["first_night_start"] = c.first_night_start
    return out


def conditions_to_json(conds: Iterable[Condition]) -> str:
    return json.dumps([condition_to_dict(c) for c in conds], sort_keys=True)


def conditions_from_json(text: str) -> tuple[Condition, ...]:
    return tuple(Condition(d["id"], ConditionKind(d["kind"]), d.get("zone"), d.get("schedule"),
                           d.get("first_night_start")) for d in json.loads(text))


def conditions_checked(items: Iterable[dict[str, Any]], area: ServiceArea = GREAT_BRITAIN) -> tuple[Condition, ...]:
    """New conditions, each validated (:func:`condition_from_dict`), with unique ids."""
    if not isinstance(items, (list, tuple, type({}.values()))):
        raise InputError("conditions must be a JSON list of condition objects")
    conds = tuple(condition_from_dict(d, area) for d in items)
    ids = [c.id for c in conds]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise InputError(f"condition ids must be unique within a version: {', '.join(sorted(dup))}")
    return conds


class Enrolment:
    """A parsed enrolment document (see docs/formats.md)."""

    def __init__(self, subjects, devices, assignments, orders):
        self.subjects: list[Subject] = subjects
        self.devices: list[Device] = devices
        self.assignments: list[Assignment] = assignments
        self.orders: list[Order] = orders


def _opt_ts(v: str | None, what: str) -> int | None:
    return None if v in (None, "") else parse_ts(v, what)


def enrolment_from_dict(doc: dict[str, Any]) -> Enrolment:
    """Model objects from an enrolment document already valid against its JSON Schema."""
    subjects = [Subject(d["id"], d.get("name", ""), RiskLevel(d.get("risk_level", "medium")), d.get("offence", ""),
                        d.get("borough", "")) for d in doc.get("subjects", [])]
    devices = [Device(d["id"], d.get("kind", "gps"), d.get("model", "")) for d in doc.get("devices", [])]
    assignments = [Assignment(d["device_id"], d["subject_id"], parse_ts(d["from"], "assignment from"),
                              _opt_ts(d.get("to"), "assignment to")) for d in doc.get("assignments", [])]
    orders = []
    for d in doc.get("orders", []):
        versions = []
        for i, v in enumerate(sorted(d["versions"], key=lambda v: parse_ts(v["effective_from"])), start=1):
            versions.append(OrderVersion(d["id"], i, parse_ts(v["effective_from"], "effective_from"),
                                         conditions_checked(v.get("conditions", [])), v.get("reason", "")))
        orders.append(Order(d["id"], d["subject_id"], OrderType(d["type"]), parse_ts(d["start"], "order start"),
                            _opt_ts(d.get("end"), "order end"), tuple(versions)))
    return Enrolment(subjects, devices, assignments, orders)
