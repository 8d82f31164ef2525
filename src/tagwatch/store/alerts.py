"""Alert records: reconciled with what the rules find, and worked by operators."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import insert, or_, select, update

from ..model import AlertStatus, Episode
from . import schema as s

__all__ = ["AlertRecords", "TRANSITIONS", "plan_reconcile"]

# Which operator actions are allowed from which status.
TRANSITIONS: dict[str, dict[str, str]] = {
    "acknowledge": {"open": "acknowledged"},
    "escalate": {"open": "escalated", "acknowledged": "escalated"},
    "close": {"open": "closed", "acknowledged": "closed", "escalated": "closed"},
    "note": {},  # allowed in any status, changes nothing
}


class AlertRecords:
    engine: Any

    def alerts(self, subject_id: str | None = None, kind: str | None = None, status: str | None = None,
               include_retracted: bool = False, subject_ids: Collection[str] | None = None,
               newest_first: bool = False, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Alerts by start time (``newest_first``: latest first), filtered in SQL; ``subject_ids``
        limits them to those subjects (a caseload); ``limit``/``offset`` page them."""
        a = s.alerts.c
        q = select(s.alerts).order_by(*((a.start_ms.desc(), a.id.desc()) if newest_first else (a.start_ms, a.id)))
        if subject_id:
            q = q.where(a.subject_id == subject_id)
        if subject_ids is not None:
            q = q.where(a.subject_id.in_(sorted(subject_ids)))
        if kind:
            q = q.where(a.kind == kind)
        if status:
            q = q.where(a.status == status)
        if not include_retracted:
            q = q.where(a.retracted_ms.is_(None))
        if limit is not None:
            q = q.limit(limit).offset(offset)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        """One alert by id (retracted ones too), or None."""
        with self.engine.connect() as c:
            row = c.execute(select(s.alerts).where(s.alerts.c.id == alert_id)).mappings().first()
        return None if row is None else dict(row)

    def alerts_updated_since(self, since_ms: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Alerts created or changed at or after ``since_ms`` (by any writer), oldest change first."""
        a = s.alerts.c
        with self.engine.connect() as c:
            q = select(s.alerts).where(a.updated_ms >= since_ms).order_by(a.updated_ms, a.id).limit(limit)
            return [dict(r) for r in c.execute(q).mappings()]

    def alert_scope_start(self, subject_id: str, since_ms: int) -> int:
        """Move ``since`` back to the start of any live alert still going on at it."""
        a = s.alerts.c
        q = select(a.start_ms).where(a.subject_id == subject_id, a.retracted_ms.is_(None),
                                     a.start_ms < since_ms, or_(a.end_ms.is_(None), a.end_ms >= since_ms))
        with self.engine.connect() as c:
            starts = list(c.execute(q).scalars())
        return min([since_ms, *starts])

    def reconcile_alerts(self, subject_id: str, since_ms: int | None, episodes: list[Episode],
                         now_ms: int, kinds: Collection[str] | None = None) -> dict[str, int]:
        """Make the stored alerts of a subject from ``since_ms`` on agree with ``episodes``.

        ``kinds`` limits the stored alerts considered to those kinds (the family of rules
        that produced ``episodes``), so one family never retracts another's alerts.

        An episode overlapping a stored alert of the same kind, order version and
        condition updates it (status and notes stay); others become new alerts; stored
        alerts no episode supports any more are retracted, not deleted.
        """
        counts, _ = self.reconcile_many([(subject_id, since_ms, episodes)], now_ms, kinds)
        return counts

    def reconcile_many(self, items: list[tuple[str, int | None, list[Episode]]], now_ms: int,
                       kinds: Collection[str] | None = None) -> tuple[dict[str, int], list[tuple[str, dict[str, Any]]]]:
        """``reconcile_alerts`` for many subjects in one transaction (one commit for a batch).

        Each subject's stored alerts are read inside the transaction, so another writer of the
        same store (a second process) is never overwritten from a stale copy. Returns the summed
        counts and the rows that changed, as ``(change, row)`` with change new/updated/retracted.
        """
        a = s.alerts.c
        counts = {"new": 0, "updated": 0, "retracted": 0, "unchanged": 0}
        changed: list[tuple[str, dict[str, Any]]] = []
        kind_names = None if kinds is None else sorted(str(k) for k in kinds)
        with self.engine.begin() as c:
            stored_by = self._stored_for(c, items, kind_names)
            for subject_id, since_ms, episodes in items:
                stored = [r for r in stored_by.get(subject_id, ()) if since_ms is None or r["start_ms"] >= since_ms]
                for change, row in plan_reconcile(subject_id, stored, episodes, now_ms):
                    if change == "unchanged":
                        counts["unchanged"] += 1
                        continue
                    counts[change] += 1
                    if change == "new":
                        row["id"] = c.execute(insert(s.alerts).values(**row).returning(a.id)).scalar_one()
                    else:
                        c.execute(update(s.alerts).where(a.id == row["id"]).values(
                            {**{k: row[k] for k in _RECONCILED}, "updated_ms": now_ms}))
                    changed.append((change, row))
        return counts, changed

    @staticmethod
    def _stored_for(c, items, kind_names) -> dict[str, list[dict[str, Any]]]:
        """The stored alerts each item may reconcile with, in one query per 500 subjects."""
        a = s.alerts.c
        out: dict[str, list[dict[str, Any]]] = {}
        whole = sorted({sid for sid, since, _ in items if since is None})
        windowed = sorted({sid for sid, since, _ in items if since is not None} - set(whole))
        lo = min((since for _, since, _ in items if since is not None), default=None)
        for sids, floor in ((whole, None), (windowed, lo)):
            for i in range(0, len(sids), 500):
                q = select(s.alerts).where(a.subject_id.in_(sids[i:i + 500])).order_by(a.start_ms, a.id)
                if floor is not None:
                    q = q.where(a.start_ms >= floor)
                if kind_names is not None:
                    q = q.where(a.kind.in_(kind_names))
                for r in c.execute(q).mappings():
                    out.setdefault(r["subject_id"], []).append(dict(r))
        return out

    def ongoing_alerts(self, subject_ids: list[str], since_ms: int) -> dict[str, list[tuple[int, int | None]]]:
        """(start, end) of each subject's live alerts that end at or after ``since_ms`` or go on:
        what ``alert_scope_start`` needs for any ``since`` at or after it, in one query."""
        a = s.alerts.c
        out: dict[str, list[tuple[int, int | None]]] = {sid: [] for sid in subject_ids}
        with self.engine.connect() as c:
            for i in range(0, len(subject_ids), 500):
                q = select(a.subject_id, a.start_ms, a.end_ms).where(
                    a.subject_id.in_(subject_ids[i:i + 500]), a.retracted_ms.is_(None),
                    or_(a.end_ms.is_(None), a.end_ms >= since_ms))
                for sid, start, end in c.execute(q):
                    out[sid].append((start, end))
        return out

    def act_on_alert(self, alert_id: int, action: str, actor: str, note: str, now_ms: int) -> dict[str, Any]:
        """Acknowledge, escalate, close or annotate an alert; every action is recorded."""
        if action not in TRANSITIONS:
            raise ValueError(f"unknown action {action!r}; use one of {', '.join(TRANSITIONS)}")
        with self.engine.begin() as c:
            row = c.execute(select(s.alerts).where(s.alerts.c.id == alert_id)).mappings().first()
            if row is None:
                raise LookupError(f"no alert {alert_id}")
            status = row["status"]
            if action != "note":
                allowed = TRANSITIONS[action]
                if status not in allowed:
                    raise ValueError(f"alert {alert_id} is {status}; cannot {action} it")
                status = allowed[status]
                c.execute(update(s.alerts).where(s.alerts.c.id == alert_id).values(status=status, updated_ms=now_ms))
            c.execute(insert(s.alert_events).values(alert_id=alert_id, ts_ms=now_ms, actor=actor,
                                                    action=action, note=note))
            return {**dict(row), "status": status}

    def alert_events(self, alert_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            q = select(s.alert_events).where(s.alert_events.c.alert_id == alert_id).order_by(s.alert_events.c.id)
            return [dict(r) for r in c.execute(q).mappings()]


_RECONCILED = ("start_ms", "end_ms", "confirmed_ms", "device_id", "retracted_ms", "retract_reason")


def plan_reconcile(subject_id: str, stored: list[dict[str, Any]], episodes: list[Episode],
                   now_ms: int) -> list[tuple[str, dict[str, Any]]]:
    """What reconciling ``stored`` alert rows with ``episodes`` changes, as ``(change, row)`` pairs.

    Pure: change is ``new`` (a row to insert, without id), ``updated`` or ``retracted`` (the
    stored row with its new values), or ``unchanged``.
    """
    # Live alerts are matched first, so a retracted one is revived only if needed.
    stored = sorted(stored, key=lambda r: (r["retracted_ms"] is not None, r["start_ms"], r["id"]))
    used: set[int] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for ep in episodes:
        match = next((r for r in stored if r["id"] not in used and _same(r, ep)), None)
        if match is None:
            out.append(("new", dict(
                kind=str(ep.kind), subject_id=subject_id, order_id=ep.order_id, order_version=ep.order_version,
                condition_id=ep.condition_id, device_id=ep.device_id, start_ms=ep.start_ms, end_ms=ep.end_ms,
                confirmed_ms=ep.confirmed_ms, severity=str(ep.severity), status=str(AlertStatus.OPEN),
                created_ms=now_ms, updated_ms=now_ms)))
            continue
        used.add(match["id"])
        new = dict(start_ms=ep.start_ms, end_ms=ep.end_ms, confirmed_ms=ep.confirmed_ms,
                   device_id=ep.device_id, retracted_ms=None, retract_reason=None)
        if all(match[k] == v for k, v in new.items()):
            out.append(("unchanged", match))
        else:
            out.append(("updated", {**match, **new, "updated_ms": now_ms}))
    for r in stored:
        if r["id"] not in used and r["retracted_ms"] is None:
            out.append(("retracted", {**r, "retracted_ms": now_ms, "updated_ms": now_ms,
                                      "retract_reason": "later data no longer supports this alert"}))
    return out


def _same(row: dict[str, Any], ep: Episode) -> bool:
    if (row["kind"], row["order_id"], row["order_version"], row["condition_id"]) != (
        str(ep.kind), ep.order_id, ep.order_version, ep.condition_id
    ):
        return False
    far = 2**62
    r_end = far if row["end_ms"] is None else row["end_ms"]
    e_end = far if ep.end_ms is None else ep.end_ms
    return row["start_ms"] <= e_end and ep.start_ms <= r_end
