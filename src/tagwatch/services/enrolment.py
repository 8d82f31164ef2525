"""Use case: bulk enrolment of subjects, devices, assignments and orders (re-loading is harmless)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..codec import Enrolment
from ..store import Store

__all__ = ["EnrolReport", "enrol"]


@dataclass
class EnrolReport:
    added: dict[str, int] = field(default_factory=lambda: {"subjects": 0, "devices": 0, "assignments": 0, "orders": 0})
    skipped: dict[str, int] = field(default_factory=lambda: {"subjects": 0, "devices": 0, "assignments": 0, "orders": 0})


def enrol(store: Store, doc: Enrolment, now_ms: int) -> EnrolReport:
    """Bulk-enrol; entries whose id is already stored are skipped, so a re-load is harmless."""
    rep = EnrolReport()
    have_subjects = {s.id for s in store.subjects()}
    have_devices = store.device_ids()
    have_orders = {o.id for o in store.orders()}
    have_assign = {(a.device_id, a.subject_id, a.from_ms) for a in store.assignments()}
    for s in doc.subjects:
        _count(rep, "subjects", s.id in have_subjects) or store.add_subject(s, now_ms)
    for d in doc.devices:
        _count(rep, "devices", d.id in have_devices) or store.add_device(d, now_ms)
    for a in sorted(doc.assignments, key=lambda a: a.from_ms):
        _count(rep, "assignments", (a.device_id, a.subject_id, a.from_ms) in have_assign) or store.assign(
            a.device_id, a.subject_id, a.from_ms, a.to_ms)
    for o in doc.orders:
        _count(rep, "orders", o.id in have_orders) or store.add_order(o, now_ms)
    return rep


def _count(rep: EnrolReport, what: str, exists: bool) -> bool:
    (rep.skipped if exists else rep.added)[what] += 1
    return exists
